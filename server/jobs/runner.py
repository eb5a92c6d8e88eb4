"""One run of a job: claim it, beat while working, hand it to its kind's handler, and
end it (done, failed, cancelled) with an audit record, whatever happens.

A handler gets a JobRun: its input, the job's parameters, a session for its work, and
the calls to report progress and to finish. It commits its own work, each commit
together with a fenced progress write (store.save_progress), so a run that crashes
leaves only whole steps done, each counted once, and the next run resumes after them.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from server.models import Job, JobFile, User, utcnow

from . import store
from .store import LeaseLost

__all__ = ["HANDLERS", "MAX_ATTEMPTS", "JobCancelled", "JobFailed", "JobRun", "run_job", "worker_name"]

log = logging.getLogger(__name__)
# A job that killed its worker this many times is not tried again (a file that makes
# the reader run out of memory must not take every worker down in turn).
MAX_ATTEMPTS = 3
MAX_PROBLEMS = 200


class JobCancelled(Exception):
    """A moderator cancelled the job: stop at this step."""


class JobFailed(Exception):
    """The input is bad: the job ends failed with these problems and changes nothing."""

    def __init__(self, problems: list[dict], summary: dict | None = None) -> None:
        super().__init__(", ".join(p.get("code", "?") for p in problems[:3]))
        self.problems = problems[:MAX_PROBLEMS]
        self.summary = summary or {}


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class JobRun:
    app: Flask
    session: Session
    job: Job
    attempt: int
    user: User | None
    side: Callable[[], Any]  # a connection of its own, for progress outside the work's transaction
    _cancel_checked: float = field(default=0.0)

    @property
    def params(self) -> dict:
        return dict(self.job.params)

    def files(self) -> Iterator[tuple[str, bytes]]:
        """The uploaded files, one at a time, in the order they came."""
        positions = self.session.scalars(
            select(JobFile.position)
            .where(JobFile.job_id == self.job.id, JobFile.position >= 0)  # not an output
            .order_by(JobFile.position)
        ).all()
        for position in positions:
            name, data = self.session.execute(
                select(JobFile.name, JobFile.data).where(
                    JobFile.job_id == self.job.id, JobFile.position == position
                )
            ).one()
            if data is None:
                raise JobFailed([{"code": "job.input_gone"}])
            yield name, data

    def file_count(self) -> int:
        """How many files the job was given (without reading them)."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(JobFile)
                .where(JobFile.job_id == self.job.id, JobFile.position >= 0)
            )
            or 0
        )

    def save_progress(self, done: int, total: int | None, **outcome: Any) -> None:
        """Progress in the work's own transaction: commit it with the step it counts."""
        store.save_progress(
            self.session, self.job, self.attempt, done=done, total=total, now=utcnow(), **outcome
        )

    def report(self, done: int, total: int | None) -> None:
        """Progress of work not yet committed (a voter list is one transaction), on a
        connection of its own; then stop if a moderator cancelled. The demo's SQLite
        lets one writer at a time: there the bar jumps at the end."""
        if self.session.get_bind().dialect.name != "sqlite":
            with self.side() as connection, connection.begin():
                found = connection.execute(
                    update(Job)
                    .where(Job.id == self.job.id, Job.attempts == self.attempt, Job.state == "running")
                    .values(progress_done=done, progress_total=total, heartbeat_at=utcnow())
                ).rowcount
            if not found:
                raise LeaseLost(self.job.id)
        self.check_cancel()

    @contextmanager
    def one_transaction(self) -> Iterator[Session]:
        """A session for work whose service commits its own transaction (paper_csv,
        paper_tally): its commit releases a savepoint of an outer transaction, which is
        committed when the block ends, so the work and the job's end (store.finish in
        this session, at the end of the block) are committed together or not at all."""
        with self.side() as connection:
            outer = connection.begin()
            if connection.dialect.name == "sqlite":
                # pysqlite begins a transaction only at the first write, so the first
                # savepoint would be the outermost, and its release a commit.
                connection.exec_driver_sql("BEGIN")
            with Session(
                connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            ) as work:
                yield work
                work.commit()
            outer.commit()

    def finish_done_in(
        self, work: Session, summary: dict, problems: list | None = None, done: int | None = None
    ) -> None:
        """End the job done in `work` (a one_transaction session)."""
        store.finish(
            work,
            work.get_one(Job, self.job.id),
            self.attempt,
            "done",
            now=utcnow(),
            user=work.get(User, self.user.id) if self.user is not None else None,
            summary=summary,
            problems=(problems or [])[:MAX_PROBLEMS],
            done=done,
        )

    def check_cancel(self) -> None:
        with self.side() as connection:
            asked = connection.scalar(select(Job.cancel_requested).where(Job.id == self.job.id))
        if asked:
            raise JobCancelled()

    def finish_done(self, summary: dict, problems: list | None = None, done: int | None = None) -> None:
        """End the job done, in the work's transaction: the caller commits both at once."""
        store.finish(
            self.session,
            self.job,
            self.attempt,
            "done",
            now=utcnow(),
            user=self.user,
            summary=summary,
            problems=(problems or [])[:MAX_PROBLEMS],
            done=done,
        )


# kind -> handler(run); each kind's module adds itself (server.jobs.kinds).
HANDLERS: dict[str, Callable[[JobRun], None]] = {}


class Heartbeat(threading.Thread):
    """Beats every `every` seconds while the run lasts, on a connection of its own."""

    def __init__(self, engine: Any, job_id: int, attempt: int, every: float) -> None:
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.engine, self.job_id, self.attempt, self.every = engine, job_id, attempt, every
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                with self.engine.begin() as connection:
                    if not store.beat(connection, self.job_id, self.attempt, utcnow()):
                        return
            except OperationalError:  # SQLite busy with the work itself: the next beat
                log.debug("job %s: heartbeat skipped", self.job_id)

    def stop(self) -> None:
        self.stopped.set()
        self.join(5)


def run_job(app: Flask, job_id: int) -> str | None:
    """Run the job if it is to be run; its final state, or None when this run did not
    take it (finished, or alive in another worker). Must run in `app`'s context."""
    from . import kinds  # noqa: F401 - the handlers register themselves

    engine = app.extensions["spilno.engine"]
    lease = float(app.config["JOBS_LEASE_SECONDS"])
    with Session(engine, expire_on_commit=False) as session:
        job = store.claim(session, job_id, worker=worker_name(), lease_s=lease, now=utcnow())
        session.commit()
        if job is None:
            return None
        attempt = job.attempts
        user = session.get(User, job.created_by) if job.created_by else None
        if attempt > MAX_ATTEMPTS:
            return _end(session, job, attempt, user, "failed", [{"code": "job.gave_up", "params": {}}])
        if job.cancel_requested:
            return _end(session, job, attempt, user, "cancelled")
        handler = HANDLERS.get(job.kind)
        if handler is None:
            return _end(session, job, attempt, user, "failed", [{"code": "job.unknown_kind", "params": {}}])
        run = JobRun(app, session, job, attempt, user, engine.connect)
        heartbeat = Heartbeat(engine, job.id, attempt, max(lease / 3, 0.2))
        heartbeat.start()
        try:
            handler(run)
            session.commit()
            # Done, or (a bundle refused) failed: the handler ended it with its work.
            return session.scalar(select(Job.state).where(Job.id == job_id))
        except JobCancelled:
            session.rollback()
            return _end(session, job, attempt, user, "cancelled")
        except JobFailed as failure:
            session.rollback()
            return _end(session, job, attempt, user, "failed", failure.problems, failure.summary)
        except LeaseLost:
            session.rollback()
            log.warning("job %s: taken over by another worker; this run stops", job_id)
            return None
        except Exception:
            session.rollback()
            log.exception("job %s failed unexpectedly (attempt %s)", job_id, attempt)
            if attempt < MAX_ATTEMPTS:
                store.release(session, job, attempt)
                session.commit()
                raise  # the queue tries again after a pause
            return _end(session, job, attempt, user, "failed", [{"code": "job.internal_error", "params": {}}])
        finally:
            heartbeat.stop()


def _end(
    session: Session,
    job: Job,
    attempt: int,
    user: User | None,
    state: str,
    problems: list | None = None,
    summary: dict | None = None,
) -> str | None:
    current = session.get_one(Job, job.id, populate_existing=True)
    try:
        store.finish(
            session,
            current,
            attempt,
            state,
            now=utcnow(),
            user=user,
            # What was done before the end stays counted (a cancelled upload keeps the
            # pages it read); problems say why it ended.
            summary={**current.summary, **(summary or {})},
            problems=[*current.problems, *(problems or [])][:MAX_PROBLEMS],
        )
    except LeaseLost:
        session.rollback()
        return None
    session.commit()
    return state
