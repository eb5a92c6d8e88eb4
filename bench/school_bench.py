"""School-code figures (issue: school budget and QR codes):

- school_code_check: checking a typed or scanned code (`find_code`: check symbol,
  keyed hash, lookup, contest window, spent?) with 1 000 000 codes in PostgreSQL and
  a quarter of the sampled codes already used. Target p95 < 20 ms.
- school_code_page: the same through the students' page (GET /s/<code>, the Flask app
  in process: session cookie, template or redirect). Target p95 < 20 ms.
"""

from __future__ import annotations

import os
import random
import secrets
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.db import make_engine
from server.models import Community, Cycle, CycleKind, Project, School
from server.school.code_votes import CodeRefused, cast_by_code, find_code
from server.school.codes import issue_codes
from server.school.contests import ContestFields, create_contest
from server.school.keys import CodeKeys
from server.services.projects import ProjectFields, create_project
from sync.signing import generate_private_key, private_key_to_pem

from .pgdb import fresh_database

CODES = int(os.environ.get("SPILNO_BENCH_CODES", "1000000"))
SAMPLE = 1000  # real codes looked up (the rest of the million are stored rows alike)


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[94]


def _world(url: str, keys: CodeKeys) -> tuple[int, list[str]]:
    engine = make_engine(url)
    now = datetime.now(UTC)
    with Session(engine, expire_on_commit=False) as s:
        community = Community(slug="bench-schools", name="Громада для вимірювань")
        s.add(community)
        s.flush()
        school = School(community_id=community.id, name="Ліцей № 1")
        s.add(school)
        programme = Cycle(
            community_id=community.id,
            kind=CycleKind.SCHOOL.value,
            title="Шкільний бюджет",
            slug="sb",
            voting_starts_at=now + timedelta(days=1),
            voting_ends_at=now + timedelta(days=60),
        )
        s.add(programme)
        s.flush()
        contest = create_contest(
            s,
            programme,
            school,
            ContestFields(50_000_00, 2, now + timedelta(days=2), now + timedelta(days=30), [5, 6, 7, 8, 9]),
        )
        for i in range(5):
            create_project(
                s,
                contest.cycle,
                ProjectFields(
                    i + 1, f"Проєкт {i + 1}", "", (5_000 + i * 1_000) * 100, "", contest.category.id
                ),
            )
        programme.voting_starts_at = contest.cycle.voting_starts_at = now - timedelta(days=1)
        s.commit()
        codes: list[str] = []
        for start in range(0, SAMPLE, 200):
            codes += [c.code for c in issue_codes(s, contest, "5-А", min(200, SAMPLE - start), keys)]
            s.commit()
        contest_id = contest.id
    # The rest of the million: rows like real ones (random verifiers are what stored codes
    # look like), loaded by COPY.
    rng = random.Random(7)
    with psycopg.connect(url) as conn:
        batch_id = conn.execute("SELECT min(id) FROM code_batch").fetchone()[0]
        community_id = conn.execute("SELECT id FROM community").fetchone()[0]
        with conn.cursor() as cur:
            with cur.copy(
                "COPY voting_code (community_id, contest_id, batch_id, class_name, number, verifier, sealed, "
                "revoke_reason, created_at) FROM STDIN"
            ) as copy:
                for i in range(CODES - SAMPLE):
                    copy.write_row(
                        (
                            community_id,
                            contest_id,
                            batch_id,
                            f"{5 + i % 5}-{'АБВГД'[i % 5]}",
                            i,
                            f"{rng.getrandbits(128):032x}",
                            b"\x00" * 40,
                            "",
                            now,
                        )
                    )
        conn.commit()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return contest_id, codes


def run(wanted: str = "") -> Iterator[dict]:
    url = fresh_database("spilno_bench_school")
    master = secrets.token_bytes(32)
    keys = CodeKeys.from_master(master)
    started = time.perf_counter()
    _contest_id, codes = _world(url, keys)
    load_seconds = time.perf_counter() - started
    engine = make_engine(url)
    rng = random.Random(3)
    with Session(engine) as s:
        projects = list(
            s.scalars(
                select(Project.id).where(
                    Project.cycle_id.in_(select(Cycle.id).where(Cycle.kind == CycleKind.SCHOOL_CONTEST.value))
                )
            )
        )
        spent = codes[: len(codes) // 4]
        for code in spent:
            cast_by_code(s, keys, code, projects[:1])
            s.commit()
    count = int(
        Session(engine).scalar(text("SELECT count(*) FROM voting_code")) or 0  # type: ignore[arg-type]
    )
    if not wanted or "check" in wanted:
        samples = []
        outcomes = {"ok": 0, "refused": 0}
        with Session(engine) as s:
            for code in rng.sample(codes, len(codes)) * 2:
                t0 = time.perf_counter()
                try:
                    find_code(s, keys, code)
                    outcomes["ok"] += 1
                except CodeRefused:
                    outcomes["refused"] += 1
                samples.append((time.perf_counter() - t0) * 1000)
                s.rollback()
        yield {
            "bench": "school_code_check",
            "codes_stored": count,
            "lookups": len(samples),
            "spent_refused": outcomes["refused"],
            "p50_ms": round(statistics.median(samples), 2),
            "p95_ms": round(_p95(samples), 2),
            "target_p95_ms": 20,
            "load_seconds": round(load_seconds, 1),
        }
    if not wanted or "page" in wanted:
        yield from _page(url, master, codes, rng, count)
    engine.dispose()


def _page(url: str, master: bytes, codes: list[str], rng: random.Random, count: int) -> Iterator[dict]:
    from server import create_app

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_hex(32),
            "VOTER_KEY_SECRET": master.hex(),  # the codes' keys derive from it
            "SIGNING_KEY": private_key_to_pem(generate_private_key()).decode(),
            "SESSION_COOKIE_SECURE": False,
            "CODE_MAX_FAILURES_PER_CLIENT": 10**9,
            "CODE_MAX_FAILURES_PER_IP": 10**9,
        }
    )
    try:
        samples = []
        statuses: dict[int, int] = {}
        for code in rng.sample(codes, len(codes)):
            client = app.test_client()
            t0 = time.perf_counter()
            response = client.get(f"/s/{code}")
            samples.append((time.perf_counter() - t0) * 1000)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        yield {
            "bench": "school_code_page",
            "codes_stored": count,
            "requests": len(samples),
            "statuses": statuses,
            "p50_ms": round(statistics.median(samples), 2),
            "p95_ms": round(_p95(samples), 2),
            "target_p95_ms": 20,
        }
    finally:
        app.extensions["spilno.engine"].dispose()
