"""Central server figures (issue: foundation):

- tally_1m: tally and funding recomputed from 1 000 000 raw vote rows on PostgreSQL.
- results_from_running_tally_1m: the same results as the console shows them.
- api_ingest / api_repush: integration API pushes of online votes, batches of 500,
  through gunicorn (2 workers) on PostgreSQL, new and then the same again.
- console_p95: every console page (GET, no query) with 1 000 000 votes stored.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import make_engine
from server.demo_cycles import make_cycle
from server.models import Community, Cycle, Project, School, utcnow
from server.services.cycle_rules import load_cycle_rules
from server.services.tally import recount_from_records
from server.services.users import create_user
from sync.signing import generate_private_key, private_key_to_pem
from voting import allocate

from .pgdb import bulk_votes, fresh_database

MILLION = int(os.environ.get("SPILNO_BENCH_VOTES", "1000000"))
PASSWORD = "bench-password-2027"
SIGNING_KEY_PEM = private_key_to_pem(generate_private_key()).decode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _world(url: str) -> dict:
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as s:
        community = Community(slug="bench", name="Громада для вимірювань")
        s.add(community)
        s.flush()
        create_user(s, login="admin", display_name="Адміністратор", password=PASSWORD, role="administrator")
        create_user(
            s,
            login="moderator",
            display_name="Модератор",
            password=PASSWORD,
            role="community_moderator",
            community_id=community.id,
        )
        # The console walk opens each page as a role that may: a school's own pages
        # need a school moderator (an administrator is refused them, by design).
        school = School(community_id=community.id, name="Ліцей № 1", address="")
        s.add(school)
        s.flush()
        create_user(
            s,
            login="school",
            display_name="Модератор школи",
            password=PASSWORD,
            role="school_moderator",
            community_id=community.id,
            school_id=school.id,
        )
        now = utcnow()
        big = make_cycle(
            s,
            community,
            "Цикл з мільйоном голосів",
            "million",
            now - timedelta(days=30),
            now + timedelta(days=30),
        )
        s.commit()
        projects: dict[int, list[int]] = {}
        for p in s.scalars(select(Project).where(Project.cycle_id == big.id)):
            projects.setdefault(p.category_id, []).append(p.id)
    engine.dispose()
    return {"community": community, "cycle": big, "projects": projects}


def bench_tally(url: str, world: dict) -> Iterator[dict]:
    started = time.perf_counter()
    bulk_votes(url, world["cycle"], world["projects"], MILLION)
    yield {"bench": "load_votes", "votes": MILLION, "seconds": round(time.perf_counter() - started, 2)}
    engine = make_engine(url)
    timings = []
    with Session(engine) as s:
        cycle = s.get(Cycle, world["cycle"].id)
        for _ in range(3):
            t0 = time.perf_counter()
            counts = recount_from_records(s, cycle.id)
            ballot = load_cycle_rules(s, cycle).ballot
            funded = [allocate(c, ballot.projects, counts) for c in ballot.categories]
            timings.append(time.perf_counter() - t0)
        assert sum(sum(line.votes for line in lines) for lines in funded) > MILLION
        yield {
            "bench": "tally_1m",
            "votes": MILLION,
            "seconds": round(min(timings), 3),
            "seconds_max": round(max(timings), 3),
            "target_seconds": 2.0,
        }
        try:
            from server.services.results import cycle_results
        except ImportError:
            return
        timings = []
        for _ in range(20):
            t0 = time.perf_counter()
            cycle_results(s, cycle)
            timings.append(time.perf_counter() - t0)
        yield {
            "bench": "results_from_running_tally_1m",
            "ms_median": round(statistics.median(timings) * 1000, 2),
        }
    engine.dispose()


@contextlib.contextmanager
def gunicorn(url: str, workers: int = 2) -> Iterator[tuple[int, int]]:
    port = _free_port()
    env = os.environ | {
        "SPILNO_DATABASE_URL": url,
        "SPILNO_SECRET_KEY": secrets.token_hex(32),
        "SPILNO_VOTER_KEY_SECRET": secrets.token_hex(32),
        "SPILNO_SIGNING_KEY": SIGNING_KEY_PEM,
        "SPILNO_SESSION_COOKIE_SECURE": "false",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "server.wsgi:app",
        ],
        env=env,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            time.sleep(0.1)
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _push(port: int, token: str, bodies: list[bytes], threads: int) -> tuple[float, list[int]]:
    statuses: list[int] = []
    lock = threading.Lock()
    queue = list(enumerate(bodies))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                _i, body = queue.pop()
            conn.request(
                "POST",
                "/api/v1/votes",
                body=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            response = conn.getresponse()
            response.read()
            with lock:
                statuses.append(response.status)
        conn.close()

    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - t0, statuses


def _api_bodies(world: dict, first: int, batches: int, batch_size: int) -> list[bytes]:
    """`batches` request bodies of `batch_size` new online votes, voters from `first` on."""
    cycle = world["cycle"]
    small, large = list(world["projects"].values())
    now = datetime.now(UTC)
    bodies = []
    n = first
    for _b in range(batches):
        votes = []
        for _ in range(batch_size):
            n += 1
            votes.append(
                {
                    "id": str(uuid.uuid4()),
                    "cycle_id": cycle.id,
                    "voter_key": f"{10**9 + n:064x}",
                    "selections": [small[n % len(small)], large[n % len(large)]],
                    "cast_at": (now - timedelta(seconds=n)).isoformat(),
                }
            )
        bodies.append(json.dumps({"votes": votes}).encode())
    return bodies


def _copy_rate(url: str, world: dict, bodies: list[bytes]) -> float:
    """Rows per second of COPY of the same votes (as the vote table holds them), one
    COPY per batch, each committed: the floor no ingest path on this PostgreSQL beats.
    Run in a transaction that is rolled back at the end, so the table is as before."""
    import psycopg

    cycle = world["cycle"]
    batches = [json.loads(body)["votes"] for body in bodies]
    at = datetime.now(UTC)
    rows = 0
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for votes in batches:
            with conn.transaction(), conn.cursor() as cur:
                with cur.copy(
                    "COPY vote (id, community_id, cycle_id, voter_key, selections, channel, device_id, "
                    "cast_at, received_at, content_hash, status, source) FROM STDIN"
                ) as copy:
                    for vote in votes:
                        copy.write_row(
                            (
                                str(uuid.uuid4()),
                                cycle.community_id,
                                cycle.id,
                                vote["voter_key"].replace("0", "c", 1),
                                vote["selections"],
                                "web",
                                None,
                                at,
                                at,
                                "0" * 64,
                                "counted",
                                "bench-copy",
                            )
                        )
                rows += len(votes)
        seconds = time.perf_counter() - started
        conn.execute("DELETE FROM vote WHERE source = 'bench-copy'")
        conn.commit()
    return rows / seconds


def bench_api(url: str, world: dict, batches: int = 40, batch_size: int = 500) -> Iterator[dict]:
    """Pushes of new online votes through gunicorn: the first pass meets freshly started
    workers (cold), a second pass of other new votes the same workers warmed up (warm);
    then the first pass's bodies again (repush: every vote already stored). Each figure
    is printed beside COPY of the same rows into the same table in the same run."""
    try:
        from server.services.api_clients import create_api_client
    except ImportError:
        return
    engine = make_engine(url)
    with Session(engine) as s:
        _client, token = create_api_client(s, community_id=world["community"].id, name="Платформа")
        s.commit()
    engine.dispose()
    cold = _api_bodies(world, 0, batches, batch_size)
    warm = _api_bodies(world, batches * batch_size, batches, batch_size)
    copy_rate = _copy_rate(url, world, cold)
    with gunicorn(url) as (port, _pid):
        for label, payload in (("api_ingest", cold), ("api_ingest_warm", warm), ("api_repush", cold)):
            seconds, statuses = _push(port, token, payload, threads=4)
            ok = sum(1 for code in statuses if code == 200)
            rate = ok * batch_size / seconds
            yield {
                "bench": label,
                "votes": ok * batch_size,
                "batch": batch_size,
                "votes_per_second": round(rate),
                "copy_rows_per_second": round(copy_rate),
                "ratio_to_copy": round(rate / copy_rate, 2),
                "errors": len(statuses) - ok,
                "target_votes_per_second": 5000,
                "target_ratio_to_copy": 0.5 if label != "api_repush" else None,
            }


# Who opens a page in the walk: the first of these its route admits.
WALKERS = {"administrator": "admin", "community_moderator": "moderator", "school_moderator": "school"}


def _console_urls(world: dict) -> list[tuple[str, str]]:
    """Every console GET page that needs no query, with the login of a user allowed
    to open it (the route's own roles, server.auth.access.roles_required)."""
    from server import create_app

    app = create_app(
        {
            "SECRET_KEY": "x",
            "VOTER_KEY_SECRET": "00" * 32,
            "DATABASE_URL": "sqlite://",
            "SIGNING_KEY": SIGNING_KEY_PEM,
        }
    )
    values = {"cycle_id": world["cycle"].id, "community_id": world["community"].id}
    urls = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/console") or "GET" not in rule.methods:
            continue
        if rule.rule.endswith((".csv", ".json")) or not set(rule.arguments) <= set(values):
            continue
        roles = [str(r) for r in getattr(app.view_functions[rule.endpoint], "required_roles", WALKERS)]
        walker = next((WALKERS[r] for r in WALKERS if r in roles), None)
        if walker is None:
            continue  # a page for a support-point operator alone
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<[^>]*:?{name}>", str(values[name]), url)
        urls[url] = walker
    return sorted(urls.items())


def _sign_in(conn: http.client.HTTPConnection, login: str) -> str:
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie", "").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"login": login, "password": PASSWORD, "csrf_token": token})
    conn.request(
        "POST",
        "/login",
        body=form,
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    response.read()
    assert response.status in (302, 303), f"{login} could not sign in: {response.status}"
    return response.getheader("Set-Cookie", cookie).split(";")[0]


def bench_console(url: str, world: dict, rounds: int = 30) -> Iterator[dict]:
    urls = _console_urls(world)
    with gunicorn(url, workers=2) as (port, _pid):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        cookies = {login: _sign_in(conn, login) for login in set(WALKERS.values())}
        timings: dict[str, list[float]] = {u: [] for u, _ in urls}
        failures: dict[str, int] = {}
        for _ in range(rounds):
            for u, login in urls:
                t0 = time.perf_counter()
                conn.request("GET", u, headers={"Cookie": cookies[login]})
                response = conn.getresponse()
                response.read()
                timings[u].append(time.perf_counter() - t0)
                # A page that leads on (a school moderator's /console/my-school opens
                # their school) is timed as its own answer, not a failure.
                leads_on = response.status in (302, 303) and response.getheader("Location", "").startswith(
                    "/console"
                )
                if response.status != 200 and not leads_on:
                    failures[u] = response.status
        every = sorted(t for ts in timings.values() for t in ts)
        p95 = every[int(len(every) * 0.95) - 1]

        def page_p95(u: str) -> float:
            return sorted(timings[u])[int(rounds * 0.95) - 1]

        slowest = max(timings, key=page_p95)
        yield {
            "bench": "console_p95",
            "votes": MILLION,
            "pages": len(urls),
            "requests": len(every),
            "ms_p95": round(p95 * 1000, 1),
            "slowest_page": slowest,
            "slowest_page_ms_p95": round(page_p95(slowest) * 1000, 1),
            # The target is every page's p95 under 100 ms: these are the ones over.
            "pages_over_target": {u: round(page_p95(u) * 1000, 1) for u in timings if page_p95(u) >= 0.1},
            "target_ms": 100,
            "failed_pages": failures,
        }


def run(wanted: str = "") -> Iterator[dict]:
    url = fresh_database()
    world = _world(url)
    yield from bench_tally(url, world)
    if not wanted or "api" in wanted:
        yield from bench_api(url, world)
    if not wanted or "console" in wanted:
        yield from bench_console(url, world)
