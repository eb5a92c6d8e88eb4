# ruff: noqa: F811 - the fixture imported from test_paper_tally_console is a parameter here
"""A tally sheet file as a job: answered at once with the job's page; the sheet and the
job's end are committed together, so a run that dies midway stores nothing and the
next run stores the sheet once, with one audit record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from server.jobs.kinds import tally_sheet
from server.jobs.runner import run_job
from server.models import AuditEvent, Job, PaperTally, utcnow
from tests.conftest import both_databases
from tests.server.test_paper_tally_console import good_file, page, setup, upload, words  # noqa: F401


def actions(session) -> list[str]:
    session.expire_all()
    return session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def sheets(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(PaperTally))


def test_a_tally_file_is_a_job_and_its_page_speaks_english_too(client, session, setup):
    response = upload(client, setup, good_file(setup), lang="en")
    assert response.status_code == 200
    job = session.scalar(select(Job))
    assert (job.kind, job.state, job.summary["outcome"], job.summary["votes"]) == (
        "paper_tally.import",
        "done",
        "stored",
        125,
    )
    text = words(response)
    assert "Import a tally sheet" in text and "sheet entered" in text and "To the tally sheets" in text
    assert f'href="/console/jobs/{job.id}"' in client.get(page(setup) + "?lang=uk").get_data(as_text=True)
    assert actions(session) == ["paper_tally.import", "job.done"]


@both_databases
def test_a_run_that_died_before_its_commit_stores_nothing_and_the_next_stores_once(
    app, session, setup, monkeypatch
):
    job = tally_sheet.start_tally_sheet(
        session,
        setup["cycle"],
        setup["point"],
        "tally.csv",
        good_file(setup),
        typed={},
        replace=False,
        user=setup["moderator"],
        now=utcnow(),
    )
    session.commit()

    class WorkerKilled(BaseException):
        """Stands for SIGKILL: nothing after it runs, no handler sees it."""

    original = tally_sheet.store.finish

    def killed_before_the_commit(*args, **kwargs):
        original(*args, **kwargs)
        raise WorkerKilled()

    monkeypatch.setattr(tally_sheet.store, "finish", killed_before_the_commit)
    with app.app_context(), pytest.raises(WorkerKilled):
        run_job(app, job.id)
    assert sheets(session) == 0 and actions(session) == []
    monkeypatch.setattr(tally_sheet.store, "finish", original)
    session.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=utcnow() - timedelta(minutes=5)))
    session.commit()
    with app.app_context():
        assert run_job(app, job.id) == "done"
    assert sheets(session) == 1
    assert actions(session) == ["paper_tally.import", "job.done"]
