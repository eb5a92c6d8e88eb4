"""The background-job drill of issue #15, exactly as the README runs the server:
gunicorn (2 workers, default 30 s timeout) on PostgreSQL, Redis, one
`spilno server jobs-worker`. A moderator signs in over HTTP and uploads 300 scanned
pages in ONE request; the worker is killed with SIGKILL in the middle of the job and
started again. Then a 1 000 000-row voter list (SPILNO_DRILL_ROWS), the same way.
Printed: the answer times (no 500, no timeout), the job page's live progress as seen
while it ran, and what is stored: every page and row once, one audit record each.

`python -m bench jobs drill` (not part of the default `make bench`: ~5 minutes).
"""

from __future__ import annotations

import contextlib
import http.client
import io
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

PAGES = int(os.environ.get("SPILNO_DRILL_PAGES", "300"))
ROWS = int(os.environ.get("SPILNO_DRILL_ROWS", "1000000"))
LEASE_S = 5


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _multipart(
    fields: dict[str, str], files: list[tuple[str, bytes]], field: str = "files"
) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for filename, data in files:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


class _Browser:
    """A moderator's browser, as far as the drill needs one: a cookie and the CSRF token."""

    def __init__(self, port: int) -> None:
        self.port, self.cookie, self.token = port, "", ""

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> tuple:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if content_type:
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        answer = conn.getresponse()
        text = answer.read().decode("utf-8", "replace")
        seconds = time.perf_counter() - started
        cookie = answer.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";")[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', text)
        if token:
            self.token = token.group(1)
        return answer.status, answer.getheader("Location", ""), text, seconds

    def sign_in(self, login: str, password: str) -> None:
        self.request("GET", "/login")
        form = urllib.parse.urlencode({"login": login, "password": password, "csrf_token": self.token})
        status, *_ = self.request("POST", "/login", form.encode(), "application/x-www-form-urlencoded")
        assert status in (302, 303), status


@contextlib.contextmanager
def _server(env: dict) -> Iterator[int]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "server.wsgi:app"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _worker(env: dict, log: Path) -> subprocess.Popen:
    spilno = str(Path(sys.executable).parent / "spilno")
    with log.open("ab") as out:
        return subprocess.Popen(
            [spilno, "server", "jobs-worker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _watch(browser: _Browser, job_path: str, until, timeout: float) -> tuple[str, list[str]]:
    """Poll the job's page as the console's script does; the progress seen on the way."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, _location, page, _seconds = browser.request("GET", job_path)
        assert status == 200, status
        state = re.search(r'data-state="(\w+)"', page).group(1)
        progress = re.search(r'<progress[^>]*max="(\d+)"[^>]*value="(\d+)"', page)
        if progress:
            seen.append(f"{progress.group(2)}/{progress.group(1)}")
        if until(state, page):
            return state, seen
        time.sleep(0.5)
    raise RuntimeError(f"{job_path} did not get there in {timeout} s")


def _audited(session, action: str) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from server.models import AuditEvent

    return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def _upload_kill_restart(
    browser: _Browser,
    engine,  # type: ignore[no-untyped-def]
    env: dict,
    log: Path,
    *,
    page: str,
    fields: dict[str, str],
    files: list[tuple[str, bytes]],
    field: str,
    kill_when: str,
    at_kill,  # type: ignore[no-untyped-def]
    timeout: float,
    post_to: str | None = None,
) -> dict:
    """The drill for one upload: a worker up, the form sent as the browser sends it,
    the job page watched until `kill_when` matches it, the worker killed with SIGKILL
    (`at_kill` says what was stored then), another started, the page watched to the
    job's end. The figures for the bench's line."""
    from sqlalchemy.orm import Session

    from server.models import Job

    worker = _worker(env, log)
    browser.request("GET", page)  # the form, and its CSRF token
    body, content_type = _multipart({"csrf_token": browser.token, **fields}, files, field=field)
    status, location, _page, seconds = browser.request("POST", post_to or page, body, content_type)
    assert status == 303 and "/console/jobs/" in location, (status, location)
    job_id = int(location.rstrip("/").rsplit("/", 1)[1])
    _state, seen = _watch(browser, location, lambda s, p: bool(re.search(kill_when, p)), timeout)
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    with Session(engine) as session:
        killed = at_kill(session, job_id)
    worker = _worker(env, log)
    state, seen_after = _watch(
        browser, location, lambda s, p: s in ("done", "failed", "cancelled"), 2 * timeout
    )
    worker.terminate()
    worker.wait(10)
    with Session(engine) as session:
        attempts = session.get(Job, job_id).attempts
    return {
        "upload_bytes": len(body),
        "answer_s": round(seconds, 2),
        "answer_status": status,
        "progress_seen": [*seen[:3], "…", *seen_after[-2:]],
        **killed,
        "state": state,
        "attempts": attempts,
    }


def run(wanted: str = "") -> Iterator[dict]:
    import cv2
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from paper.serials import form_key
    from server.db import make_engine
    from server.models import Community, EligibleVoter, Job, PaperScanPage
    from tests.factories import PASSWORD, Factories
    from tests.paper import corpus
    from tests.paper.corpus import Distortion, make_sheet
    from tests.server.test_eligibility import list_csv, rnokpp
    from voting.identity import community_voter_secret

    from .pgdb import fresh_database
    from .server_bench import SIGNING_KEY_PEM

    url = fresh_database("spilno_jobs_drill")
    engine = make_engine(url)
    voter_secret = secrets.token_hex(32)
    queue = f"spilno-drill-{secrets.token_hex(4)}"
    env = os.environ | {
        "SPILNO_DATABASE_URL": url,
        "SPILNO_SECRET_KEY": secrets.token_hex(32),
        "SPILNO_VOTER_KEY_SECRET": voter_secret,
        "SPILNO_SIGNING_KEY": SIGNING_KEY_PEM,
        "SPILNO_SESSION_COOKIE_SECURE": "false",
        "SPILNO_JOBS_URL": os.environ.get("SPILNO_BENCH_REDIS", "redis://127.0.0.1:6379/0"),
        "SPILNO_JOBS_QUEUE": queue,
        "SPILNO_JOBS_IMMEDIATE": "false",
        "SPILNO_JOBS_LEASE_SECONDS": str(LEASE_S),
    }
    with Session(engine, expire_on_commit=False) as session:
        make = Factories(session)
        cycle = make.ballot_cycle()
        community = session.get(Community, cycle.community_id)
        point = make.device(community, kind="support_point", code="S-0042", name="Пункт")
        moderator = make.user("community_moderator", community)
        key_id = community.key_id
    from server.sync.packages import cycle_body

    with Session(engine) as session:
        body = cycle_body(session, session.get(type(cycle), cycle.id))
    corpus.TEST_FORM_KEY = form_key(community_voter_secret(bytes.fromhex(voter_secret), key_id))
    files = []
    for n in range(PAGES):
        image, _answer = make_sheet(body, {}, Distortion(), dpi=150, seed=n, serial=f"S0042-{n + 1:06d}")
        ok, data = cv2.imencode(".png", image)
        assert ok
        files.append((f"scan-{n + 1:03d}.png", data.tobytes()))

    with tempfile.TemporaryDirectory() as tmp, _server(env) as port:
        log = Path(tmp) / "worker.log"
        browser = _Browser(port)
        browser.sign_in(moderator.login, PASSWORD)

        def scans_at_kill(session: Session, job_id: int) -> dict:
            return {
                "killed_at_pages": session.get(Job, job_id).progress_done,
                "kept_at_kill": session.scalar(select(func.count()).select_from(PaperScanPage)),
            }

        scans = _upload_kill_restart(
            browser,
            engine,
            env,
            log,
            page=f"/console/cycles/{cycle.id}/paper-scans",
            fields={"device_id": str(point.id)},
            files=files,
            field="files",
            kill_when=r'value="([3-9]\d|\d{3})"',  # 30 pages read or more
            at_kill=scans_at_kill,
            timeout=300,
        )
        with Session(engine) as session:
            yield {
                "bench": "jobs_drill_scan_upload",
                "pages": PAGES,
                **scans,
                "pages_stored": session.scalar(select(func.count()).select_from(PaperScanPage)),
                "distinct_images": session.scalar(
                    select(func.count(func.distinct(PaperScanPage.image_sha256)))
                ),
                "upload_audit_records": _audited(session, "paper_scans.upload"),
            }
        if "scan" in wanted:
            return

        def listed_at_kill(session: Session, _job_id: int) -> dict:
            return {"listed_at_kill": session.scalar(select(func.count()).select_from(EligibleVoter))}

        voters = _upload_kill_restart(
            browser,
            engine,
            env,
            log,
            page="/console/eligibility",
            post_to=f"/console/communities/{community.id}/eligibility/upload",
            fields={"mode": "replace"},
            files=[("list.csv", list_csv(rnokpp(100_000_000 + n) for n in range(ROWS)))],
            field="file",
            kill_when=r'value="[1-9]\d{4,}"',  # 10 000 rows checked or more
            at_kill=listed_at_kill,
            timeout=600,
        )
        with Session(engine) as session:
            yield {
                "bench": "jobs_drill_voter_list",
                "rows": ROWS,
                **voters,
                "rows_listed": session.scalar(select(func.count()).select_from(EligibleVoter)),
                "upload_audit_records": _audited(session, "eligibility.upload"),
            }
