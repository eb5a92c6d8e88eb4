# ruff: noqa: F811 - the fixtures imported from test_sync_bundle_import are parameters here
"""A USB bundle as a job: each batch's commit carries the job's progress, and the
import's last commit (its audit record) ends the job, so a worker killed between two
batches leaves only whole batches, and the next run stores every vote once with one
audit record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from server.jobs.kinds import bundle_import as bundle_job
from server.jobs.runner import run_job
from server.models import AuditEvent, Job, utcnow
from server.sync import bundle_import
from tests.server.test_sync_bundle_import import community, moderator, terminal, text_of, upload  # noqa: F401
from tests.server.test_sync_support import stored_counts


def actions(session) -> list[str]:
    """What the import and its job wrote to the audit log (the terminal's enrolment aside)."""
    session.expire_all()
    query = (
        select(AuditEvent.action).where(AuditEvent.action.not_like("device.enrol%")).order_by(AuditEvent.id)
    )
    return session.scalars(query).all()


def started(app, session, terminal, tmp_path, moderator) -> Job:
    terminal.vote(5)
    path = terminal.bundle(tmp_path / "T.spilno", batch_size=2)  # three batches
    job = bundle_job.start_bundle_import(
        session,
        moderator.community_id,
        "T.spilno",
        path.read_bytes(),
        batches=3,
        max_bytes=10**8,
        user=moderator,
        now=utcnow(),
    )
    session.commit()
    return job


def test_a_bundle_is_a_job_with_its_batches_as_progress(client, session, terminal, moderator, tmp_path):
    terminal.vote(5)
    response = upload(client, terminal.bundle(tmp_path / "T-0001.spilno", batch_size=2))
    assert response.status_code == 200
    job = session.scalar(select(Job))
    assert (job.kind, job.state, job.progress_unit, job.progress_done, job.progress_total) == (
        "device.bundle_import",
        "done",
        "batches",
        3,
        3,
    )
    assert job.summary["stored"] == 5 and job.community_id == moderator.community_id
    page = text_of(response)
    assert "Прочитано пакетів: 3 з 3" in page and 'Нових голосів збережено</th><td class="num">5' in page
    assert actions(session) == ["device.bundle_import", "job.done"]


def test_a_worker_killed_between_batches_keeps_whole_batches_and_the_next_run_stores_each_vote_once(
    app, session, terminal, moderator, tmp_path, monkeypatch
):
    job = started(app, session, terminal, tmp_path, moderator)

    class WorkerKilled(BaseException):
        """Stands for SIGKILL: nothing after it runs, no handler sees it."""

    original, calls = bundle_import.apply_batch, []

    def killed_at_the_third_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise WorkerKilled()
        return original(*args, **kwargs)

    monkeypatch.setattr(bundle_import, "apply_batch", killed_at_the_third_batch)
    with app.app_context(), pytest.raises(WorkerKilled):
        run_job(app, job.id)
    session.expire_all()
    dead = session.get(Job, job.id)
    assert (dead.state, dead.progress_done) == ("running", 2)  # two batches, each with its progress
    assert stored_counts(session)[2] == 4 and actions(session) == []

    monkeypatch.setattr(bundle_import, "apply_batch", original)
    session.execute(update(Job).where(Job.id == job.id).values(heartbeat_at=utcnow() - timedelta(minutes=5)))
    session.commit()
    with app.app_context():
        assert run_job(app, job.id) == "done"
    session.expire_all()
    done = session.get(Job, job.id)
    assert (done.attempts, done.progress_done, done.summary["stored"], done.summary["already_known"]) == (
        2,
        3,
        1,
        4,
    )
    assert stored_counts(session)[2] == 5
    assert actions(session) == ["device.bundle_import", "job.done"]
