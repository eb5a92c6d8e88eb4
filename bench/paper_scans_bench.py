"""Scanned paper sheets read on the server, into PostgreSQL.

- paper_scan_upload: pages a second through server.paper.scans.import_scans,
  one core, from 200 dpi JPEG scans (quality 85) of filled sheets: QR to verdict, the
  preview JPEG, the review core and one PostgreSQL transaction per page, as the console
  upload and `spilno server paper-scans import` do. A scanner feeds 1–2 sheets a second.
- paper_scan_commit: ready sheets stored as paper votes, one transaction for the lot.

Sheets come from the tests' corpus generator (tests/paper/corpus.py), printed
with the bench community's own form key.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator

import cv2
from sqlalchemy.orm import Session

from .pgdb import fresh_database

SHEETS = int(os.environ.get("SPILNO_BENCH_SCAN_SHEETS", "120"))
MASTER_SECRET = b"b" * 32


def _sheets(body: dict, key: bytes, count: int) -> list[tuple[str, bytes]]:
    from tests.paper import corpus

    corpus.TEST_FORM_KEY = key  # the corpus prints with its module's key
    corpus._RENDERS.clear()
    rng = random.Random(5)
    by_category: dict[int, list[int]] = {}
    for project in body["projects"]:
        by_category.setdefault(project["category_id"], []).append(project["id"])
    files = []
    for n in range(count):
        marks = {rng.choice(ids): corpus.MarkKind.TICK for ids in by_category.values()}
        image, _answer = corpus.make_sheet(
            body, marks, corpus.random_distortion(rng), dpi=200, seed=n, serial=f"S0042-{n + 1:06d}"
        )
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        assert ok
        files.append((f"scan-{n:04d}.jpg", data.tobytes()))
    return files


def run(wanted: str = "") -> Iterator[dict]:
    from paper.serials import form_key
    from server.db import make_engine
    from server.models import Community, utcnow
    from server.paper.scan_rows import ms
    from server.paper.scans import commit_ready, import_scans
    from server.sync.packages import cycle_body
    from tests.factories import Factories
    from voting import community_voter_secret

    url = fresh_database("spilno_bench_scans")
    engine = make_engine(url)
    with Session(engine) as session:
        make = Factories(session)
        cycle = make.ballot_cycle()
        community = session.get(Community, cycle.community_id)
        point = make.device(community, kind="support_point", code="S-0042", name="Пункт")
        body = cycle_body(session, cycle)
        key = form_key(community_voter_secret(MASTER_SECRET, community.key_id))
        files = _sheets(body, key, SHEETS)
        started = time.perf_counter()
        cpu = time.process_time()
        result = import_scans(
            session, cycle, point, files, master_secret=MASTER_SECRET, user=None, now_ms=ms(utcnow())
        )
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu
        outcomes = {o: result.count(o) for o in ("accepted", "needs_review", "rejected")}
        yield {
            "bench": "paper_scan_upload",
            "pages": len(result.pages),
            "pages_per_s": round(len(result.pages) / seconds, 1),
            "cpu_ms_per_page": round(1000 * cpu_seconds / len(result.pages), 1),
            "outcomes": outcomes,
            "dpi": 200,
            "format": "jpeg q85",
        }
        started = time.perf_counter()
        outcome = commit_ready(session, cycle, user=None, now=utcnow())
        seconds = time.perf_counter() - started
        yield {
            "bench": "paper_scan_commit",
            "votes": len(outcome.committed),
            "held": len(outcome.held),
            "seconds": round(seconds, 3),
        }
    engine.dispose()
