# ruff: noqa: F811 - the fixture imported from test_console_paper_import is a parameter here
"""The paper-vote spreadsheet as a job: stored sealed (it holds document numbers) and
answered at once with the job's page; the job checks the rows with progress and stores
the votes and its own end in one transaction, so a run that dies midway stores nothing
and the next run stores every vote once, with one audit record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from server.jobs import store
from server.jobs.kinds import paper_votes
from server.jobs.runner import JobRun, run_job
from server.models import AuditEvent, Job, JobFile, Vote, utcnow
from server.paper import vote_csv as paper_csv
from tests.conftest import both_databases
from tests.factories import CSRF_TOKEN
from tests.server.test_console_paper_import import DOC_A, DOC_B, DOC_C, HEADER, csv_bytes, setup, words  # noqa: F401

FILE_NAME = "votes.csv"


def actions(session) -> list[str]:
    session.expire_all()
    return session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()


def vote_count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Vote))


def good_file(setup) -> bytes:
    number = setup["small"][0].number
    return csv_bytes(HEADER, *(f"rnokpp,{doc},{number}" for doc in (DOC_A, DOC_B, DOC_C)))


def started(app, session, setup, data: bytes, *, only_good_rows: bool = False) -> Job:
    """A job as the console starts it, not run yet."""
    job = paper_votes.start_paper_votes(
        session,
        setup["cycle"],
        setup["point"],
        FILE_NAME,
        data,
        master_secret=app.config["VOTER_KEY_SECRET_BYTES"],
        only_good_rows=only_good_rows,
        user=None,
        now=utcnow(),
    )
    session.commit()
    return job


@both_databases
def test_a_good_file_is_a_job_that_stores_every_vote_once(client, session, setup):
    import io

    answer = client.post(
        f"/console/cycles/{setup['cycle'].id}/paper-import",
        data={
            "csrf_token": CSRF_TOKEN,
            "device_id": str(setup["point"].id),
            "file": (io.BytesIO(good_file(setup)), FILE_NAME),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 303
    job = session.scalar(select(Job))
    assert answer.headers["Location"].endswith(f"/console/jobs/{job.id}")
    assert (job.kind, job.state, job.progress_unit, job.progress_done, job.progress_total) == (
        "votes.paper_import",
        "done",
        "rows",
        3,
        3,
    )
    assert job.summary["stored"] == 3 and job.summary["counted"] == 3
    assert vote_count(session) == 3
    assert actions(session) == ["votes.paper_import", "job.done"]
    assert session.scalars(select(JobFile.data)).all() == [None]
    page = words(client.get(answer.headers["Location"]))
    assert "Перевірено рядків: 3 з 3" in page and "Нових голосів збережено 3" in page
    assert "Import paper votes" in words(client.get(answer.headers["Location"] + "?lang=en"))
    import_page = client.get(f"/console/cycles/{setup['cycle'].id}/paper-import?lang=uk").get_data(
        as_text=True
    )
    assert f'href="/console/jobs/{job.id}"' in import_page


def test_the_waiting_file_is_sealed_and_opens_only_for_its_job(app, session, setup):
    job = started(app, session, setup, good_file(setup))
    stored = session.scalar(select(JobFile.data).where(JobFile.job_id == job.id))
    for document in (DOC_A, DOC_B, DOC_C):
        assert document.encode() not in stored
    from server.jobs.sealed import open_sealed

    secret = app.config["VOTER_KEY_SECRET_BYTES"]
    assert open_sealed(secret, job.id, stored) == good_file(setup)
    with pytest.raises(ValueError):
        open_sealed(secret, job.id + 1, stored)


@both_databases
def test_a_run_that_died_after_checking_stores_nothing_and_the_next_stores_all_once(
    app, session, setup, monkeypatch
):
    """kill -9 while the votes were being stored: the transaction never committed."""
    job = started(app, session, setup, good_file(setup))

    class WorkerKilled(BaseException):
        """Stands for SIGKILL: nothing after it runs, no handler sees it."""

    original = paper_votes.store.finish

    def killed_before_the_commit(*args, **kwargs):
        original(*args, **kwargs)  # the votes and the end are written, not committed
        raise WorkerKilled()

    monkeypatch.setattr(paper_votes.store, "finish", killed_before_the_commit)
    with app.app_context(), pytest.raises(WorkerKilled):
        run_job(app, job.id)
    assert vote_count(session) == 0 and actions(session) == []
    assert session.get(Job, job.id).state == "running"
    monkeypatch.setattr(paper_votes.store, "finish", original)
    session.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=utcnow() - timedelta(minutes=5)))
    session.commit()
    with app.app_context():
        assert run_job(app, job.id) == "done"
    session.expire_all()
    done = session.get(Job, job.id)
    assert (done.attempts, done.summary["stored"], done.summary["already_stored"]) == (2, 3, 0)
    assert vote_count(session) == 3
    assert actions(session) == ["votes.paper_import", "job.done"]


def test_a_cancel_while_rows_are_checked_stores_nothing(app, session, setup, monkeypatch):
    monkeypatch.setattr(paper_csv, "PROGRESS_EVERY", 1)
    job = started(app, session, setup, good_file(setup))
    original = JobRun.report

    def moderator_cancels_after_the_first_row(run, done, total):
        if done == 1:
            from sqlalchemy.orm import Session

            with Session(app.extensions["spilno.engine"]) as other:
                store.request_cancel(other, other.get_one(Job, job.id), user=None, now=utcnow())
                other.commit()
        original(run, done, total)

    monkeypatch.setattr(JobRun, "report", moderator_cancels_after_the_first_row)
    with app.app_context():
        assert run_job(app, job.id) == "cancelled"
    assert vote_count(session) == 0
    assert actions(session) == ["job.cancel_requested", "job.cancelled"]
    assert session.scalars(select(JobFile.data)).all() == [None]
