"""The job worker (`spilno server jobs-worker`): Huey's consumer running jobs, and a
sweeper that hands the queue every job that should be running and is not.

Huey takes a message off the queue when a worker starts it: a worker killed mid-job
(kill -9, a power cut) takes the message with it. The job table remembers: the sweeper
finds running jobs whose heartbeat is older than the lease (their worker is gone) and
enqueues them again, and at the worker's start every queued job too (a message lost
with a Redis restart, or never sent). A job enqueued twice runs once: only one run can
claim it (server.jobs.store.claim).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask
from sqlalchemy.orm import Session

from server.models import utcnow

from . import store
from .queue import enqueue, queue_of, set_worker_app

__all__ = ["InProcessWorker", "run_worker", "sweep"]

log = logging.getLogger(__name__)


def sweep(app: Flask, *, queued_too: bool) -> list[int]:
    """Enqueue the jobs that need a worker; their ids."""
    lease = float(app.config["JOBS_LEASE_SECONDS"])
    with Session(app.extensions["spilno.engine"]) as session:
        ids = store.stale_job_ids(session, lease_s=lease, now=utcnow(), queued_too=queued_too)
    for job_id in ids:
        log.info("job %s handed to the queue again", job_id)
        enqueue(app, job_id)
    return ids


class Sweeper(threading.Thread):
    def __init__(self, app: Flask, every: float) -> None:
        super().__init__(name="job-sweeper", daemon=True)
        self.app, self.every = app, every
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                sweep(self.app, queued_too=False)
            except Exception:  # the database away for a moment: sweep again later
                log.exception("job sweep failed")


def run_worker(app: Flask, workers: int = 1) -> None:
    """Run jobs until stopped (SIGINT/SIGTERM: the job in hand is left to the lease)."""
    huey = queue_of(app)
    if huey.immediate:
        raise RuntimeError("SPILNO_JOBS_IMMEDIATE is set: jobs run in the request, no worker is needed")
    set_worker_app(app)
    sweep(app, queued_too=True)
    lease = float(app.config["JOBS_LEASE_SECONDS"])
    sweeper = Sweeper(app, max(lease / 2, 1.0))
    sweeper.start()
    # Threads, not processes: a job waits on the database and on the reader's C code
    # (OpenCV releases the GIL); max_delay bounds how long a SQLite queue goes unpolled.
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=False, max_delay=1.0)
    try:
        consumer.run()
    finally:
        sweeper.stopped.set()


class InProcessWorker(threading.Thread):
    """Jobs run by a thread of this process: the demo, which is one process on SQLite.
    Huey's own calls (dequeue, execute), without the consumer's signal handling, which
    only a main thread may have."""

    def __init__(self, app: Flask, poll_s: float = 0.5) -> None:
        super().__init__(name="job-worker", daemon=True)
        self.app, self.poll_s = app, poll_s
        self.stopped = threading.Event()

    def run(self) -> None:
        huey = queue_of(self.app)
        set_worker_app(self.app)
        sweep(self.app, queued_too=True)
        lease = float(self.app.config["JOBS_LEASE_SECONDS"])
        next_sweep = 0.0
        clock = 0.0
        while not self.stopped.is_set():
            try:
                task = huey.dequeue()
                if task is None:
                    self.stopped.wait(self.poll_s)
                    clock += self.poll_s
                    if clock >= next_sweep:
                        sweep(self.app, queued_too=False)
                        next_sweep = clock + lease / 2
                    continue
                huey.execute(task)
            except Exception:
                log.exception("in-process job worker")
                self.stopped.wait(self.poll_s)
