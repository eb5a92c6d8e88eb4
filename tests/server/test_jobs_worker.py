# ruff: noqa: F811 - the fixtures imported from test_paper_scans are parameters here
"""A real job worker (`spilno server jobs-worker`: Huey's consumer on Redis, in a process
of its own) runs the console's uploads, end to end; killed with SIGKILL in the middle
of a job and started again, it finishes the job with every page and every row stored
exactly once, and one audit record of the outcome."""

from __future__ import annotations

import io
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.models import AuditEvent, Community, EligibleVoter, Job, PaperScanPage, PaperScanSheet, Role
from tests.factories import CSRF_TOKEN, sign_in
from tests.paper.corpus import MarkKind
from tests.server.test_eligibility import list_csv, rnokpp
from tests.server.test_paper_scans import png, setup, sheet_key  # noqa: F401 - fixtures

SPILNO = str(Path(sys.executable).parent / "spilno")
LEASE_S = 2  # a killed worker's job is taken over 2-3 s later


@pytest.fixture
def queue_app(app, redis_url):
    """The app with jobs on a Redis queue of this test's own (no immediate mode)."""
    app.config.update(
        JOBS_IMMEDIATE=False,
        JOBS_URL=redis_url,
        JOBS_QUEUE=f"spilno-test-{secrets.token_hex(4)}",
        JOBS_LEASE_SECONDS=LEASE_S,
    )
    yield app
    huey = app.extensions.get("spilno.huey")
    if huey is not None:
        huey.flush()


class Worker:
    """`spilno server jobs-worker` for the app's database and queue, in its own process."""

    def __init__(self, app, log: Path) -> None:
        self.env = {
            **os.environ,
            "SPILNO_DATABASE_URL": app.config["DATABASE_URL"],
            "SPILNO_SECRET_KEY": app.config["SECRET_KEY"],
            "SPILNO_VOTER_KEY_SECRET": app.config["VOTER_KEY_SECRET"],
            "SPILNO_SIGNING_KEY": app.config["SIGNING_KEY"],
            "SPILNO_JOBS_URL": app.config["JOBS_URL"],
            "SPILNO_JOBS_QUEUE": app.config["JOBS_QUEUE"],
            "SPILNO_JOBS_LEASE_SECONDS": str(LEASE_S),
            "SPILNO_JOBS_IMMEDIATE": "false",
        }
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [SPILNO, "server", "jobs-worker"], env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.fixture
def worker(queue_app, tmp_path):
    worker = Worker(queue_app, tmp_path / "worker.log")
    yield worker
    worker.stop()


def wait_for(session, job_id: int, ready, timeout: float, log: Path) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session.expire_all()
        job = session.get(Job, job_id)
        if job is not None and ready(job):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never got there; worker log:\n{log.read_text()[-3000:]}")


def job_id_of(answer) -> int:
    assert answer.status_code == 303, answer.status_code
    return int(answer.headers["Location"].rsplit("/", 1)[1])


def audited(session, action: str) -> list[dict]:
    return session.scalars(select(AuditEvent.details).where(AuditEvent.action == action)).all()


def test_a_worker_killed_mid_upload_resumes_and_keeps_every_page_once(client, session, setup, worker):
    pages = 24
    files = [
        (f"scan-{n:02d}.png", png(setup, {setup["small"][n % 3]: MarkKind.TICK}, serial=f"S0042-{n + 1:06d}"))
        for n in range(pages)
    ]
    sign_in(client, setup["user"])
    with client.session_transaction() as sess:
        sess["csrf"] = CSRF_TOKEN
    worker.start()
    answer = client.post(
        f"/console/cycles/{setup['cycle'].id}/paper-scans",
        data={
            "csrf_token": CSRF_TOKEN,
            "device_id": str(setup["point"].id),
            "files": [(io.BytesIO(content), name) for name, content in files],
        },
        content_type="multipart/form-data",
    )
    job_id = job_id_of(answer)
    wait_for(session, job_id, lambda job: job.progress_done >= 3, 20, worker.log)
    worker.kill()
    session.expire_all()
    cut = session.get(Job, job_id)
    kept = session.scalar(select(func.count()).select_from(PaperScanPage))
    # Each page was committed with the count of pages done: nothing half-done.
    assert cut.state == "running" and kept == cut.progress_done < pages

    worker.start()  # takes the job over once its lease has run out
    job = wait_for(session, job_id, lambda job: job.state == "done", 25, worker.log)
    assert job.attempts == 2 and job.progress_done == pages
    assert job.summary["accepted"] == pages and job.summary["duplicate"] == 0
    assert session.scalar(select(func.count()).select_from(PaperScanPage)) == pages
    assert session.scalar(select(func.count(func.distinct(PaperScanPage.image_sha256)))) == pages
    assert session.scalar(select(func.count()).select_from(PaperScanSheet)) == pages
    [upload] = audited(session, "paper_scans.upload")
    assert upload["pages"] == pages and upload["accepted"] == pages
    assert len(audited(session, "job.done")) == 1
    page = client.get(f"/console/jobs/{job_id}").get_data(as_text=True)
    assert 'data-state="done"' in page and f'max="{pages}" value="{pages}"' in page


def test_a_worker_killed_mid_list_restarts_it_and_keeps_every_row_once(client, session, make, worker):
    rows = 60_000
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    sign_in(client, make.user(Role.COMMUNITY_MODERATOR, community))
    with client.session_transaction() as sess:
        sess["csrf"] = CSRF_TOKEN
    data = list_csv(rnokpp(100_000_000 + n) for n in range(rows))
    worker.start()
    answer = client.post(
        f"/console/communities/{community.id}/eligibility/upload",
        data={"csrf_token": CSRF_TOKEN, "mode": "replace", "file": (io.BytesIO(data), "list.csv")},
        content_type="multipart/form-data",
    )
    job_id = job_id_of(answer)
    wait_for(session, job_id, lambda job: job.progress_done > 0, 20, worker.log)
    worker.kill()
    session.expire_all()
    assert session.get(Job, job_id).state == "running"
    # The list changes in one transaction: a killed run left nothing of it.
    assert session.scalar(select(func.count()).select_from(EligibleVoter)) == 0

    worker.start()
    job = wait_for(session, job_id, lambda job: job.state == "done", 30, worker.log)
    assert job.attempts == 2 and job.summary["added"] == rows and job.progress_done == rows
    assert session.scalar(select(func.count()).select_from(EligibleVoter)) == rows
    [upload] = audited(session, "eligibility.upload")
    assert upload["added"] == rows and upload["version"] == 1
    assert len(audited(session, "job.done")) == 1
