"""The community's voter list (eligibility):

- eligibility_upload: a register of residents (CSV of РНОКПП) read, turned into voter
  keys and applied to the list on PostgreSQL, as the console and
  `spilno server eligibility load` do it.
- eligibility_catch_up: a terminal that holds nothing reads the whole list, page by
  page from the server's service, into its device store.
- eligibility_check: the lookup a terminal makes when a card is tapped, p95.
"""

from __future__ import annotations

import os
import random
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.orm import Session

from server.db import make_engine
from server.models import Community
from server.services import eligibility
from sync.device_store import DeviceStore
from voting import community_voter_secret
from voting.identity import rnokpp_check_digit

from .pgdb import fresh_database

RESIDENTS = int(os.environ.get("SPILNO_BENCH_RESIDENTS", "200000"))


def _register(count: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    numbers = set()
    while len(numbers) < count:
        first_nine = f"{rng.randrange(10**9):09d}"
        numbers.add(first_nine + str(rnokpp_check_digit(first_nine)))
    return ("document_kind,document_number\n" + "".join(f"rnokpp,{n}\n" for n in numbers)).encode()


def run(wanted: str = "") -> Iterator[dict]:
    url = fresh_database("spilno_bench_eligibility")
    engine = make_engine(url)
    data = _register(RESIDENTS)
    with Session(engine) as session:
        community = Community(slug="bench", name="Громада для вимірів")
        session.add(community)
        session.commit()
        secret = community_voter_secret(secrets.token_bytes(32), community.key_id)
        started = time.perf_counter()
        check, change = eligibility.apply_list_file(
            session, community, data, eligibility.ListMode.REPLACE, voter_secret=secret
        )
        session.commit()
        seconds = time.perf_counter() - started
        assert change is not None and change.added == RESIDENTS, (check.problems[:3], change)
        eligibility.set_enabled(session, community, True)
        session.commit()
        yield {
            "bench": "eligibility_upload",
            "rows": RESIDENTS,
            "file_mb": round(len(data) / 2**20, 1),
            "seconds": round(seconds, 2),
            "rows_per_s": round(RESIDENTS / seconds),
            "target_rows_per_s": 20000,
        }

        with tempfile.TemporaryDirectory() as folder:
            store = DeviceStore(Path(folder) / "terminal.db")
            try:
                started = time.perf_counter()
                cursor, pages, keys = "", 0, []
                while True:
                    page = eligibility.changes_since(session, community.id, cursor)
                    session.commit()
                    store.eligibility.apply_page(
                        enabled=page.enabled,
                        version=page.version,
                        listed=page.listed,
                        unlisted=page.unlisted,
                        cursor=page.cursor,
                        more=page.more,
                    )
                    keys += page.listed[:5]
                    cursor, pages = page.cursor, pages + 1
                    if not page.more:
                        break
                seconds = time.perf_counter() - started
                assert store.eligibility.applies() and store.eligibility.state().listed_count == RESIDENTS
                yield {
                    "bench": "eligibility_catch_up",
                    "keys": RESIDENTS,
                    "pages": pages,
                    "seconds": round(seconds, 2),
                    "keys_per_s": round(RESIDENTS / seconds),
                }
                rng = random.Random(3)
                probes = [rng.choice(keys) if i % 2 else secrets.token_hex(32) for i in range(2000)]
                timings = []
                for key in probes:
                    started = time.perf_counter()
                    store.eligibility.applies()
                    store.eligibility.is_listed(key)
                    timings.append(time.perf_counter() - started)
                timings.sort()
                yield {
                    "bench": "eligibility_check",
                    "listed": RESIDENTS,
                    "ms_p95": round(timings[int(len(timings) * 0.95)] * 1000, 3),
                    "target_ms": 5,
                }
            finally:
                store.close()
    engine.dispose()
