# ruff: noqa: F811 - the fixtures imported from test_paper_scans are parameters here
"""Storing the ready scanned sheets as votes is a job: a backlog of thousands of sheets
does not fit a web request. The sheets are stored and the job ends in one transaction,
so a run that dies midway stores nothing and the next run stores every sheet once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from server.jobs.kinds import scan_commit
from server.jobs.runner import run_job
from server.models import AuditEvent, Cycle, Job, PaperScanSheet, Vote, utcnow
from server.results.publishing import publish_results
from tests.paper.corpus import MarkKind
from tests.server.test_paper_scans import png, setup, sheet_key, upload  # noqa: F401


def _ready_sheets(session, setup, count: int) -> None:
    files = [
        (f"scan-{n}.png", png(setup, {setup["small"][n % 3]: MarkKind.TICK}, serial=f"S0042-{n + 1:06d}"))
        for n in range(count)
    ]
    upload(session, setup, files)
    session.commit()
    assert (
        session.scalar(
            select(func.count()).select_from(PaperScanSheet).where(PaperScanSheet.state == "ready")
        )
        == count
    )


def _counts(session) -> tuple[int, list[str]]:
    session.expire_all()
    votes = session.scalar(select(func.count()).select_from(Vote).where(Vote.channel == "paper"))
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("%commit%"))).all()
    return votes, actions


def test_a_run_that_died_before_its_commit_stores_nothing_and_the_next_stores_every_sheet_once(
    app, session, setup, monkeypatch
):
    _ready_sheets(session, setup, 3)
    job = scan_commit.start_scan_commit(session, setup["cycle"], user=setup["user"], now=utcnow())
    session.commit()

    class WorkerKilled(BaseException):
        """Stands for SIGKILL: nothing after it runs, no handler sees it."""

    original = scan_commit.JobRun.finish_done_in

    def killed_before_the_commit(self, *args, **kwargs):
        original(self, *args, **kwargs)  # the votes and the end written, not committed
        raise WorkerKilled()

    monkeypatch.setattr(scan_commit.JobRun, "finish_done_in", killed_before_the_commit)
    with app.app_context(), pytest.raises(WorkerKilled):
        run_job(app, job.id)
    assert _counts(session) == (0, [])
    monkeypatch.setattr(scan_commit.JobRun, "finish_done_in", original)
    session.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=utcnow() - timedelta(minutes=5)))
    session.commit()
    with app.app_context():
        assert run_job(app, job.id) == "done"
    session.expire_all()
    done = session.get(Job, job.id)
    assert (done.attempts, done.summary["committed"], done.summary["held"]) == (2, 3, [])
    assert _counts(session) == (3, ["paper_scans.commit"])
    # Run again (a second click): every sheet is committed already, nothing doubles.
    again = scan_commit.start_scan_commit(session, setup["cycle"], user=setup["user"], now=utcnow())
    session.commit()
    with app.app_context():
        assert run_job(app, again.id) == "done"
    assert _counts(session)[0] == 3


def test_published_results_stop_the_job_with_the_reason_and_nothing_stored(app, session, setup):
    _ready_sheets(session, setup, 2)
    job = scan_commit.start_scan_commit(session, setup["cycle"], user=setup["user"], now=utcnow())
    publish_results(session, session.get(Cycle, setup["cycle"].id), user=None)
    session.commit()
    with app.app_context():
        assert run_job(app, job.id) == "failed"
    session.expire_all()
    assert [p["code"] for p in session.get(Job, job.id).problems] == ["paper_tally.results_published"]
    assert _counts(session) == (0, [])
