"""Sync figures (issue: sync):

- sync_push_20x5000: 20 terminals, 5 000 votes each, pushing at once through gunicorn
  (2 workers) to PostgreSQL; every batch's signature and chain verified.
- sync_server_memory: the gunicorn workers' resident memory before and after.
- sync_catch_up_100k: one terminal with 100 000 unsent votes pushes them all; its peak
  memory compared with a terminal that has 1 000 (the backlog must be streamed).
- sync_push_new_cycle_beside_1m (`python -m bench sync growth`): a new cycle opens in a
  vote table already holding 1 000 000 votes of an earlier one, analysed before the new
  cycle existed (as autovacuum leaves a big table for ~100 000 changes); ten pushes of
  500 votes in a row, no ANALYZE by hand: the last three must be at least 0.9 as fast as
  the first three (a plan that scans the cycle once per voter slows with every push).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from server.db import make_engine
from server.demo import make_cycle
from server.models import Community, Device, Project, utcnow
from server.sync.enrolment import issue_enrolment_code
from sync.client import SyncClient
from sync.clock import datetime_from_ms, system_clock_ms
from sync.device_store import DeviceStore
from sync.packages import open_cycles, simulated_vote

from .pgdb import bulk_votes, fresh_database
from .server_bench import gunicorn

TERMINALS = int(os.environ.get("SPILNO_BENCH_TERMINALS", "20"))
VOTES_EACH = int(os.environ.get("SPILNO_BENCH_VOTES_EACH", "5000"))
CATCH_UP = int(os.environ.get("SPILNO_BENCH_CATCH_UP", "100000"))
GROWTH_TABLE = int(os.environ.get("SPILNO_BENCH_VOTES", "1000000"))
GROWTH_PUSHES, GROWTH_BATCH = 10, 500

# Run in a child process: push everything, print the peak resident memory (KiB).
_PUSH_ALL = """
import json, resource, sys, time
from sync.client import SyncClient
from sync.device_store import DeviceStore
store = DeviceStore(sys.argv[1])
slept = []
def sleep(seconds):  # the client sleeps only before a retry (a 5xx answer or no answer)
    slept.append(seconds)
    time.sleep(seconds)
t0 = time.perf_counter()
result = SyncClient(store, sys.argv[2], timeout=120, sleep=sleep).push_all()
print(json.dumps({"seconds": time.perf_counter() - t0, "acked": result.acked_seq, "backlog": result.backlog,
                  "retries": len(slept), "slept_s": sum(slept),
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def _seed(url: str, devices: int) -> tuple[int, list[str]]:
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as s:
        community = Community(slug="bench-sync", name="Громада для вимірювань синхронізації")
        s.add(community)
        s.flush()
        now = utcnow()
        make_cycle(
            s, community, "Цикл для синхронізації", "sync", now - timedelta(days=1), now + timedelta(days=30)
        )
        codes = []
        for n in range(1, devices + 1):
            device = Device(
                community_id=community.id, kind="terminal", code=f"T-{n:04d}", name=f"Термінал {n}"
            )
            s.add(device)
            s.flush()
            codes.append(issue_enrolment_code(s, device).code)
        s.commit()
    engine.dispose()
    return community.id, codes


def _terminal(path: Path, base_url: str, code: str, votes: int, seed: int) -> None:
    """Enrol, pull the package, then cast `votes` votes offline (not timed)."""
    store = DeviceStore(path)
    client = SyncClient(store, base_url)
    client.enrol(code)
    client.pull_package()
    stored = store.package()
    identity = store.require_identity()
    cycle = open_cycles(stored.package, datetime_from_ms(system_clock_ms()))[0]
    rng = random.Random(seed)
    for start in range(0, votes, 1000):
        now = system_clock_ms()
        store.append_votes(
            simulated_vote(
                stored.package,
                cycle,
                device=identity.device,
                kind=identity.kind,
                rng=rng,
                cast_at=datetime_from_ms(now),
            )
            for _ in range(min(1000, votes - start))
        )
    store.close()


def _rss_kib(pid: int) -> int:
    total = 0
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def _push_process(store: Path, base_url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _PUSH_ALL, str(store), base_url], stdout=subprocess.PIPE, text=True
    )


def run(wanted: str = "") -> Iterator[dict]:
    if wanted != "growth":
        yield from bench_push()
    yield from bench_growth()


def bench_growth() -> Iterator[dict]:
    url = fresh_database("spilno_bench_growth")
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as s:
        community = Community(slug="bench-growth", name="Громада з мільйоном голосів")
        s.add(community)
        s.flush()
        now = utcnow()
        old = make_cycle(
            s, community, "Торішній цикл", "old", now - timedelta(days=60), now - timedelta(days=30)
        )
        s.commit()
        projects: dict[int, list[int]] = {}
        for p in s.scalars(select(Project).where(Project.cycle_id == old.id)):
            projects.setdefault(p.category_id, []).append(p.id)
    started = time.perf_counter()
    bulk_votes(url, old, projects, GROWTH_TABLE)
    with engine.connect() as conn:
        conn.execute(text("ANALYZE vote"))  # statistics that know the table, not the new cycle
        conn.commit()
    loaded = time.perf_counter() - started
    with Session(engine, expire_on_commit=False) as s:
        make_cycle(
            s,
            s.get(Community, community.id),
            "Новий цикл",
            "new",
            now - timedelta(hours=1),
            now + timedelta(days=30),
        )
        device = Device(community_id=community.id, kind="terminal", code="T-0001", name="Термінал 1")
        s.add(device)
        s.flush()
        code = issue_enrolment_code(s, device).code
        s.commit()
    engine.dispose()
    with tempfile.TemporaryDirectory() as tmp, gunicorn(url, workers=2) as (port, _master):
        store_path = Path(tmp) / "t.db"
        _terminal(store_path, f"http://127.0.0.1:{port}", code, GROWTH_PUSHES * GROWTH_BATCH, seed=7)
        store = DeviceStore(store_path)
        client = SyncClient(store, f"http://127.0.0.1:{port}", timeout=120)
        times = []
        for _ in range(GROWTH_PUSHES):
            t0 = time.perf_counter()
            result = client.push_once(GROWTH_BATCH)
            times.append(time.perf_counter() - t0)
            assert result.sent == GROWTH_BATCH and not result.gap, result
        store.close()
    # Medians of the first three and the last three: one push's time swings by half on
    # a shared machine, and a plan that scans the cycle per voter slows every later push.
    first = GROWTH_BATCH / statistics.median(times[:3])
    last = GROWTH_BATCH / statistics.median(times[-3:])
    yield {
        "bench": "sync_push_new_cycle_beside_1m",
        "table_votes": GROWTH_TABLE,
        "pushes": GROWTH_PUSHES,
        "votes_each": GROWTH_BATCH,
        "first_three_votes_per_s": round(first),
        "last_three_votes_per_s": round(last),
        "slowest_votes_per_s": round(GROWTH_BATCH / max(times)),
        "last_over_first": round(last / first, 2),
        "each_votes_per_s": [round(GROWTH_BATCH / t) for t in times],
        "target_last_over_first": 0.9,
        "setup_seconds": round(loaded, 1),
    }


def bench_push() -> Iterator[dict]:
    url = fresh_database("spilno_bench_sync")
    _community, codes = _seed(url, TERMINALS + 2)
    with tempfile.TemporaryDirectory() as tmp, gunicorn(url, workers=2) as (port, master_pid):
        base_url = f"http://127.0.0.1:{port}"
        stores = [Path(tmp) / f"t{n}.db" for n in range(TERMINALS)]
        for n, store in enumerate(stores):
            _terminal(store, base_url, codes[n], VOTES_EACH, seed=n)
        memory_before = _rss_kib(master_pid)
        t0 = time.perf_counter()
        pushers = [_push_process(store, base_url) for store in stores]
        peak = memory_before
        while any(p.poll() is None for p in pushers):
            peak = max(peak, _rss_kib(master_pid))
            time.sleep(0.2)
        seconds = time.perf_counter() - t0
        results = [json.loads(p.stdout.read()) for p in pushers]
        acked = sum(r["acked"] for r in results)
        yield {
            "bench": "sync_push_20x5000",
            "terminals": TERMINALS,
            "votes": acked,
            "seconds": round(seconds, 2),
            "votes_per_second": round(acked / seconds),
            "all_acknowledged": acked == TERMINALS * VOTES_EACH,
            # Retries after a 5xx (sync.busy) or no answer, and the seconds spent backing off.
            "retries": sum(r["retries"] for r in results),
            "backoff_seconds": round(sum(r["slept_s"] for r in results), 1),
            "target_votes_per_second": 3000,
        }
        yield {
            "bench": "sync_server_memory",
            "workers_rss_mib_before": round(memory_before / 1024, 1),
            "workers_rss_mib_peak": round(peak / 1024, 1),
            "workers_rss_mib_after": round(_rss_kib(master_pid) / 1024, 1),
        }

        small, big = Path(tmp) / "small.db", Path(tmp) / "big.db"
        _terminal(small, base_url, codes[TERMINALS], 1000, seed=101)
        _terminal(big, base_url, codes[TERMINALS + 1], CATCH_UP, seed=102)
        small_run = json.loads(_push_process(small, base_url).communicate()[0])
        big_run = json.loads(_push_process(big, base_url).communicate()[0])
        yield {
            "bench": "sync_catch_up_100k",
            "votes": big_run["acked"],
            "backlog_left": big_run["backlog"],
            "seconds": round(big_run["seconds"], 1),
            "votes_per_second": round(big_run["acked"] / big_run["seconds"]),
            "device_peak_mib": round(big_run["peak_kib"] / 1024, 1),
            "device_peak_mib_with_1000": round(small_run["peak_kib"] / 1024, 1),
        }
