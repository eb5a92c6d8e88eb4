"""The job queue: Huey, on Redis in production (and in the tests), on a SQLite file
for the demo (no extra server). The queue carries only job ids; everything about a job
is in the job table (server.jobs.store), so a lost message loses nothing: the worker
hands queued and stale jobs to the queue again (server.jobs.worker)."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey
from redis.exceptions import RedisError

__all__ = ["enqueue", "make_huey", "queue_of", "set_worker_app"]

# Set by the worker command: the app its threads run jobs in (a thread of the consumer
# has no app context of its own).
_worker_app: Flask | None = None
# An unexpected error (the database gone for a moment) is tried again after this pause;
# the job's own attempt count stops a job that keeps failing (runner.MAX_ATTEMPTS).
RETRIES = 2
RETRY_DELAY_S = 10


def make_huey(app: Flask) -> tuple[Huey, Any]:
    """The app's queue and its one task, run_job(job_id)."""
    name = app.config["JOBS_QUEUE"]
    immediate = bool(app.config["JOBS_IMMEDIATE"])
    url = app.config["JOBS_URL"] or os.path.join(app.instance_path, "jobs.sqlite")
    if url.startswith(("redis://", "rediss://", "unix://")):
        huey: Huey = RedisHuey(name, url=url, immediate=immediate, results=False)
    else:
        path = url.removeprefix("sqlite:///")
        if not immediate:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        huey = SqliteHuey(name, filename=path, immediate=immediate, results=False)
    task = huey.task(retries=RETRIES, retry_delay=RETRY_DELAY_S, name="spilno.run_job")(_run_job)
    return huey, task


def _run_job(job_id: int) -> None:
    from .runner import run_job

    if has_app_context():  # immediate mode: inside the request that started the job
        run_job(current_app._get_current_object(), job_id)  # type: ignore[attr-defined]
        return
    if _worker_app is None:
        raise RuntimeError("a job reached a process that is not a job worker (spilno server jobs-worker)")
    with _worker_app.app_context():
        run_job(_worker_app, job_id)


def set_worker_app(app: Flask) -> None:
    global _worker_app
    _worker_app = app


def queue_of(app: Flask) -> Huey:
    """The app's queue, made on first use (a SQLite queue creates its file)."""
    if "spilno.huey" not in app.extensions:
        app.extensions["spilno.huey"], app.extensions["spilno.run_job"] = make_huey(app)
    return app.extensions["spilno.huey"]


def enqueue(app: Flask, job_id: int) -> None:
    """Hand the (committed) job to the queue. A queue that cannot be reached leaves the
    job queued; the next worker to start hands it over (the job's page says queued)."""
    try:
        queue_of(app)
        app.extensions["spilno.run_job"](job_id)
    except (RedisError, sqlite3.Error, OSError) as error:
        app.logger.warning("job %s stays queued: the queue is unreachable (%s)", job_id, error)
