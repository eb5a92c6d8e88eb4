"""The job table's rules, with no queue in sight: create a job with its input, claim it
for one run, record progress, finish it, cancel it, find the ones to run again.

Every write a run makes is *fenced*: conditional on the job still being in the run's
hands (state running, `attempts` equal to the run's). A run that lost its lease (its
worker was slow to beat and another took the job over) changes nothing more: its next
write finds no row, and the run stops (LeaseLost). So work committed together with a
fenced write is committed by exactly one run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.orm import Session

from server.models import Job, JobFile, User
from server.models.job import FINISHED_STATES
from server.services import audit

__all__ = [
    "OUTPUT_KEPT",
    "OUTPUT_POSITION",
    "LeaseLost",
    "add_file",
    "beat",
    "claim",
    "create_job",
    "drop_old_outputs",
    "finish",
    "keep_output",
    "output_of",
    "release",
    "request_cancel",
    "save_progress",
    "stale_job_ids",
]

MAX_FILE_NAME = 255
# What a job made for people to download (a PDF of code cards) is a job_file too, at a
# negative position: the input (positions 0, 1, ...) is dropped when the job ends, the
# output is kept for OUTPUT_KEPT after it (then dropped by the next job of its kind).
OUTPUT_POSITION = -1
OUTPUT_KEPT = timedelta(hours=24)


class LeaseLost(Exception):
    """Another run holds the job now: this run must stop and commit nothing."""


def create_job(
    session: Session,
    *,
    community_id: int,
    kind: str,
    user: User | None,
    unit: str,
    params: dict[str, Any],
    files: Iterable[tuple[str, bytes]],
    target: tuple[str, int | None],
    now: datetime,
    total: int | None = None,
) -> Job:
    """A queued job with its input stored beside it, in the caller's transaction: commit,
    then enqueue (a job committed but never enqueued is found at the worker's start).
    `files` may be a generator: each file is written and let go before the next is
    read, so a request holds one upload's bytes at a time, not the whole stack's."""
    job = Job(
        community_id=community_id,
        kind=kind,
        state="queued",
        created_by=user.id if user else None,
        created_at=now,
        attempts=0,
        worker="",
        cancel_requested=False,
        progress_done=0,
        progress_total=total,
        progress_unit=unit,
        params=params,
        summary={},
        problems=[],
        target_type=target[0],
        target_id=target[1],
    )
    session.add(job)
    session.flush()
    for position, (name, data) in enumerate(files):
        add_file(session, job, position, name, data)
    return job


def add_file(session: Session, job: Job, position: int, name: str, data: bytes) -> None:
    """One file of the job, written at once (a job's input, position 0, 1, ...; or its
    output, OUTPUT_POSITION). The caller commits."""
    stored = JobFile(
        job_id=job.id,
        position=position,
        community_id=job.community_id,
        name=name[:MAX_FILE_NAME],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
    )
    session.add(stored)
    session.flush()
    session.expunge(stored)  # its bytes are in the transaction now, not kept here too


def _fence(job_id: int, attempt: int) -> Any:
    return (Job.id == job_id) & (Job.attempts == attempt) & (Job.state == "running")


def claim(session: Session, job_id: int, *, worker: str, lease_s: float, now: datetime) -> Job | None:
    """Take the job for one run: a queued job, or a running one whose worker has not
    been heard from for the lease (presumed dead). None when it is not to be run (done,
    cancelled, or alive in another worker). The caller commits at once."""
    stale = now - timedelta(seconds=lease_s)
    taken = session.execute(
        update(Job)
        .where(
            Job.id == job_id,
            (Job.state == "queued") | ((Job.state == "running") & (Job.heartbeat_at < stale)),
        )
        .values(state="running", attempts=Job.attempts + 1, heartbeat_at=now, worker=worker[:100])
        .returning(Job.attempts)
        .execution_options(synchronize_session=False)
    ).first()
    if taken is None:
        return None
    job = session.get_one(Job, job_id, populate_existing=True)
    if job.started_at is None:
        job.started_at = now
    return job


def beat(connection: Connection, job_id: int, attempt: int, now: datetime) -> bool:
    """The run's heartbeat (its own short transaction): False when the job left its hands."""
    done = connection.execute(update(Job).where(_fence(job_id, attempt)).values(heartbeat_at=now)).rowcount
    return bool(done)


def save_progress(
    session: Session,
    job: Job,
    attempt: int,
    *,
    done: int,
    total: int | None,
    now: datetime,
    summary: dict | None = None,
    problems: list | None = None,
) -> None:
    """Progress in the caller's transaction (committed with the work it counts)."""
    values: dict[str, Any] = {"progress_done": done, "progress_total": total, "heartbeat_at": now}
    if summary is not None:
        values["summary"] = summary
    if problems is not None:
        values["problems"] = problems
    found = session.execute(  # type: ignore[attr-defined]  # DML gives a CursorResult
        update(Job)
        .where(_fence(job.id, attempt))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not found:
        raise LeaseLost(job.id)


def finish(
    session: Session,
    job: Job,
    attempt: int | None,
    state: str,
    *,
    now: datetime,
    user: User | None,
    summary: dict | None = None,
    problems: list | None = None,
    done: int | None = None,
) -> None:
    """End the job (done, failed or cancelled) in the caller's transaction, drop its input
    and write the outcome to the audit log. `attempt` None: the job was never run (a
    queued job cancelled, a job given up), so no run's fence applies."""
    if state not in FINISHED_STATES:
        raise ValueError(f"a job ends done, failed or cancelled, not {state!r}")
    values: dict[str, Any] = {"state": state, "finished_at": now}
    if summary is not None:
        values["summary"] = summary
    if problems is not None:
        values["problems"] = problems
    if done is not None:
        values["progress_done"] = done
        if state == "done":
            values["progress_total"] = done
    where = _fence(job.id, attempt) if attempt is not None else (Job.id == job.id) & (Job.state == job.state)
    found = session.execute(  # type: ignore[attr-defined]  # DML gives a CursorResult
        update(Job).where(where).values(**values).execution_options(synchronize_session=False)
    ).rowcount
    if not found:
        raise LeaseLost(job.id)
    session.execute(
        update(JobFile)
        .where(JobFile.job_id == job.id, JobFile.position >= 0)
        .values(data=None)
        .execution_options(synchronize_session=False)
    )
    audit.record(
        session,
        f"job.{state}",
        user=user,
        community_id=job.community_id,
        target=("job", job.id),
        details={
            "kind": job.kind,
            "attempts": job.attempts,
            "progress": values.get("progress_done", job.progress_done),
            "problems": [p.get("code") for p in (problems or [])][:20],
            **{k: v for k, v in (summary or {}).items() if isinstance(v, int | str | bool)},
        },
    )
    session.expire(job)


def keep_output(session: Session, job: Job, name: str, data: bytes) -> None:
    """What the job made, in the caller's transaction (commit it with the job's end, so
    a run that dies first leaves none, and the next run makes it once)."""
    session.execute(delete(JobFile).where(JobFile.job_id == job.id, JobFile.position == OUTPUT_POSITION))
    add_file(session, job, OUTPUT_POSITION, name, data)


def output_of(session: Session, job: Job, now: datetime) -> tuple[str, bytes] | None:
    """The job's output (name, bytes) while it is kept; None once dropped or too old."""
    if job.state != "done" or job.finished_at is None or job.finished_at < now - OUTPUT_KEPT:
        return None
    row = session.execute(
        select(JobFile.name, JobFile.data).where(
            JobFile.job_id == job.id, JobFile.position == OUTPUT_POSITION
        )
    ).first()
    if row is None or row.data is None:
        return None
    return row.name, row.data


def drop_old_outputs(session: Session, kind: str, now: datetime) -> int:
    """Drop the outputs of jobs of `kind` that ended more than OUTPUT_KEPT ago."""
    old = select(Job.id).where(Job.kind == kind, Job.finished_at < now - OUTPUT_KEPT)
    return session.execute(  # type: ignore[attr-defined]  # DML gives a CursorResult
        update(JobFile)
        .where(JobFile.position == OUTPUT_POSITION, JobFile.data.is_not(None), JobFile.job_id.in_(old))
        .values(data=None)
        .execution_options(synchronize_session=False)
    ).rowcount


def release(session: Session, job: Job, attempt: int) -> None:
    """Give a job back to the queue after an unexpected error (the queue retries it)."""
    session.execute(
        update(Job)
        .where(_fence(job.id, attempt))
        .values(state="queued")
        .execution_options(synchronize_session=False)
    )


def request_cancel(session: Session, job: Job, *, user: User | None, now: datetime) -> str:
    """ "cancelled" (a queued job ends at once), "requested" (a running job stops at its
    next page or chunk) or "finished" (too late). The caller commits."""
    if job.state == "queued":
        try:
            finish(session, job, None, "cancelled", now=now, user=user)
        except LeaseLost:
            session.rollback()  # a worker took it meanwhile: ask that run to stop instead
            job = session.get_one(Job, job.id, populate_existing=True)
        else:
            return "cancelled"
    if job.state == "running":
        session.execute(
            update(Job)
            .where(Job.id == job.id, Job.state == "running")
            .values(cancel_requested=True)
            .execution_options(synchronize_session=False)
        )
        audit.record(
            session,
            "job.cancel_requested",
            user=user,
            community_id=job.community_id,
            target=("job", job.id),
            details={"kind": job.kind},
        )
        return "requested"
    return "finished"


def stale_job_ids(session: Session, *, lease_s: float, now: datetime, queued_too: bool) -> list[int]:
    """Jobs to hand to the queue again: running ones whose worker went quiet for the
    lease, and (at a worker's start) queued ones, whose message may have been lost."""
    stale = (Job.state == "running") & (Job.heartbeat_at < now - timedelta(seconds=lease_s))
    if queued_too:
        stale = stale | (Job.state == "queued")
    return list(session.scalars(select(Job.id).where(stale).order_by(Job.id)))
