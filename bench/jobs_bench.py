"""Background jobs end to end, through the production queue (docs/jobs.md):

- job_scan_upload: a stack of scans stored as a job as the console's upload stores it
  (server.jobs.kinds.scan_upload), handed to Huey on Redis, and read by a real
  `spilno server jobs-worker` process (one thread, as the systemd unit runs it) into
  PostgreSQL, one transaction a page with the job's fenced progress.
- job_voter_list: a register of residents stored as a voter-list job and applied by the
  same worker, progress written on a side connection as it reads.

`seconds` runs from the hand-over to the queue to the job's end as the job table shows
it (what a moderator's page waits for); `queue_wait_ms` is the part before a worker
claimed it, `store_s` the request's part (storing the input, before its answer). Compare
with paper_scan_upload and eligibility_upload: the same work without a queue.

Sizes: SPILNO_BENCH_JOB_PAGES (default 60) and SPILNO_BENCH_JOB_ROWS (default 200 000);
the queue is SPILNO_BENCH_REDIS (default redis://127.0.0.1:6379/14), a queue name of
this run's own.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from .pgdb import fresh_database

PAGES = int(os.environ.get("SPILNO_BENCH_JOB_PAGES", "60"))
ROWS = int(os.environ.get("SPILNO_BENCH_JOB_ROWS", "200000"))
REDIS_URL = os.environ.get("SPILNO_BENCH_REDIS", "redis://127.0.0.1:6379/14")
MASTER_SECRET = b"j" * 32
POLL_S = 0.02
TIMEOUT_S = 600


class _Worker:
    """`spilno server jobs-worker` for the bench's database and queue, a process of its own."""

    def __init__(self, config: dict, log: Path) -> None:
        self.env = {
            **os.environ,
            **{f"SPILNO_{name}": str(value) for name, value in config.items()},
            "SPILNO_JOBS_IMMEDIATE": "false",
        }
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        spilno = str(Path(sys.executable).parent / "spilno")
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [spilno, "server", "jobs-worker"], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def _run(app, engine, job_id: int, log: Path) -> tuple[float, dict]:
    """Hand the committed job to the queue and wait for its end: seconds from the
    hand-over, and the job's row as it ended."""
    from server.jobs.queue import enqueue
    from server.models import Job, utcnow

    handed_at = utcnow()
    started = time.perf_counter()
    enqueue(app, job_id)
    with Session(engine) as session:
        while time.perf_counter() - started < TIMEOUT_S:
            job = session.get(Job, job_id)
            if job is not None and job.state in ("done", "failed", "cancelled"):
                seconds = time.perf_counter() - started
                wait = (job.started_at - handed_at).total_seconds() if job.started_at else None
                return seconds, {
                    "state": job.state,
                    "done": job.progress_done,
                    "summary": dict(job.summary),
                    "problems": list(job.problems)[:3],
                    "queue_wait_ms": None if wait is None else round(max(wait, 0) * 1000),
                    "attempts": job.attempts,
                }
            session.expire_all()
            time.sleep(POLL_S)
    raise RuntimeError(f"job {job_id} did not end in {TIMEOUT_S} s; worker log:\n{log.read_text()[-3000:]}")


def run(wanted: str = "") -> Iterator[dict]:
    if "drill" in wanted:  # through gunicorn, with a kill -9: bench/jobs_drill.py
        from . import jobs_drill

        yield from jobs_drill.run(wanted)
        return
    import redis

    from paper.serials import form_key
    from server import create_app
    from server.jobs.kinds.scan_upload import start_scan_upload
    from server.jobs.kinds.voter_list import start_voter_list
    from server.models import Community, utcnow
    from server.services import eligibility
    from server.sync.packages import cycle_body
    from sync.signing import generate_private_key, private_key_to_pem
    from tests.factories import Factories
    from voting import community_voter_secret

    from .eligibility_bench import _register
    from .paper_scans_bench import _sheets

    redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()  # a clear error first
    config = {
        "DATABASE_URL": fresh_database("spilno_bench_jobs"),
        "SECRET_KEY": secrets.token_hex(32),
        "VOTER_KEY_SECRET": MASTER_SECRET.hex(),
        "SIGNING_KEY": private_key_to_pem(generate_private_key()).decode(),
        "JOBS_URL": REDIS_URL,
        "JOBS_QUEUE": f"spilno-bench-{secrets.token_hex(4)}",
    }
    app = create_app({**config, "JOBS_IMMEDIATE": False})
    engine = app.extensions["spilno.engine"]
    with tempfile.TemporaryDirectory(prefix="spilno-bench-jobs-") as folder:
        log = Path(folder) / "worker.log"
        worker = _Worker(config, log)
        try:
            with Session(engine, expire_on_commit=False) as session:
                make = Factories(session)
                cycle = make.ballot_cycle()
                community = session.get_one(Community, cycle.community_id)
                point = make.device(community, kind="support_point", code="S-0042", name="Пункт")
                key = form_key(community_voter_secret(MASTER_SECRET, community.key_id))
                files = _sheets(cycle_body(session, cycle), key, PAGES)
                register = _register(ROWS)
                session.commit()

                started = time.perf_counter()
                worker.start()
                # A one-row list first: the worker is up and polling, its imports done.
                warm = start_voter_list(
                    session,
                    community,
                    "warm.csv",
                    _register(1, seed=99),
                    mode=eligibility.ListMode.ADD,
                    default_kind=None,
                    skip_bad_rows=False,
                    user=None,
                    now=utcnow(),
                )
                session.commit()
                _run(app, engine, warm.id, log)
                worker_ready_s = time.perf_counter() - started

                if wanted in "job_scan_upload":
                    started = time.perf_counter()
                    job = start_scan_upload(session, cycle, point, files, user=None, now=utcnow())
                    session.commit()
                    store_s = time.perf_counter() - started
                    seconds, end = _run(app, engine, job.id, log)
                    assert end["state"] == "done" and end["done"] == PAGES, end
                    summary = end["summary"]
                    yield {
                        "bench": "job_scan_upload",
                        "pages": end["done"],
                        "seconds": round(seconds, 2),
                        "pages_per_s": round(end["done"] / seconds, 1),
                        "store_s": round(store_s, 2),
                        "queue_wait_ms": end["queue_wait_ms"],
                        "outcomes": {o: summary.get(o, 0) for o in ("accepted", "needs_review", "rejected")},
                        "upload_mb": round(sum(len(data) for _name, data in files) / 2**20, 1),
                        "worker_ready_s": round(worker_ready_s, 2),
                        "dpi": 200,
                        "format": "jpeg q85",
                    }

                if wanted in "job_voter_list":
                    started = time.perf_counter()
                    job = start_voter_list(
                        session,
                        community,
                        "register.csv",
                        register,
                        mode=eligibility.ListMode.REPLACE,
                        default_kind=None,
                        skip_bad_rows=False,
                        user=None,
                        now=utcnow(),
                    )
                    session.commit()
                    store_s = time.perf_counter() - started
                    seconds, end = _run(app, engine, job.id, log)
                    assert end["state"] == "done" and end["summary"].get("added") == ROWS, end
                    yield {
                        "bench": "job_voter_list",
                        "rows": ROWS,
                        "file_mb": round(len(register) / 2**20, 1),
                        "seconds": round(seconds, 2),
                        "rows_per_s": round(ROWS / seconds),
                        "store_s": round(store_s, 2),
                        "queue_wait_ms": end["queue_wait_ms"],
                    }
        finally:
            worker.stop()
            huey = app.extensions.get("spilno.huey")
            if huey is not None:
                huey.flush()
            engine.dispose()
