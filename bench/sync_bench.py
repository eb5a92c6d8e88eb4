"""Sync figures (issue: sync):

- sync_push_20x5000: 20 terminals, 5 000 votes each, pushing at once through gunicorn
  (2 workers) to PostgreSQL; every batch's signature and chain verified. Printed beside
  the COPY limit measured in the same run (sync_push_of_copy, issue #21): COPY of the
  very rows the push stored (a vote row and a device log row per vote), in batches of
  500 of each, every batch committed, into the same tables; removed afterwards.
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
import resource
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
from server.demo_cycles import make_cycle
from server.models import Community, Device, Project, utcnow
from server.sync.enrolment import issue_enrolment_code
from sync.client import SyncClient
from sync.clock import datetime_from_ms, system_clock_ms
from sync.device_store import DeviceStore
from sync.simulated_votes import simulated_vote

from .pgdb import bulk_votes, fresh_database
from .server_bench import gunicorn

TERMINALS = int(os.environ.get("SPILNO_BENCH_TERMINALS", "20"))
VOTES_EACH = int(os.environ.get("SPILNO_BENCH_VOTES_EACH", "5000"))
CATCH_UP = int(os.environ.get("SPILNO_BENCH_CATCH_UP", "100000"))
GROWTH_TABLE = int(os.environ.get("SPILNO_BENCH_VOTES", "1000000"))
GROWTH_PUSHES, GROWTH_BATCH = 10, 500
COPY_BATCHES = int(os.environ.get("SPILNO_BENCH_COPY_BATCHES", "40"))
COPY_BATCH = 500  # as a push: log_batches.MAX_BATCH_ENTRIES
_COPY_SEQ = 10**15  # copied log rows go far beyond any seq a terminal reaches

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


def terminal_codes(session: Session, community: Community, count: int) -> list[str]:
    """`count` terminals of the community (T-0001, ...), each with its enrolment code."""
    codes = []
    for n in range(1, count + 1):
        device = Device(community_id=community.id, kind="terminal", code=f"T-{n:04d}", name=f"Термінал {n}")
        session.add(device)
        session.flush()
        codes.append(issue_enrolment_code(session, device).code)
    return codes


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
        codes = terminal_codes(s, community, devices)
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
    cycle = stored.content.open_cycles(datetime_from_ms(system_clock_ms()))[0]
    rng = random.Random(seed)
    for start in range(0, votes, 1000):
        now = system_clock_ms()
        store.append_votes(
            simulated_vote(
                stored.content,
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


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _database_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving `database`, by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if command.startswith(b"postgres:") and f" {database} ".encode() in command:
                found[int(entry.name)] = _cpu_seconds(int(entry.name))
    return found


class CpuMeter:
    """CPU seconds spent by a run's own processes: the gunicorn workers, the children
    this process waited for (the pushing terminals) and the database's backends. On a
    shared machine the wall clock swings with other people's work; this does far less."""

    def __init__(self, master_pid: int, database: str) -> None:
        self.master_pid, self.database = master_pid, database
        self.workers = {pid: _cpu_seconds(pid) for pid in self._worker_pids()}
        self.children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.backends = _database_cpu(database)

    def _worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.master_pid}/task/{self.master_pid}/children").read_text()
        return [int(pid) for pid in children.split()]

    def seconds(self) -> dict[str, float]:
        workers = sum(_cpu_seconds(pid) - self.workers.get(pid, 0.0) for pid in self._worker_pids())
        now = resource.getrusage(resource.RUSAGE_CHILDREN)
        devices = now.ru_utime + now.ru_stime - self.children.ru_utime - self.children.ru_stime
        backends = sum(cpu - self.backends.get(pid, 0.0) for pid, cpu in _database_cpu(self.database).items())
        return {"server": workers, "devices": devices, "database": backends}


def push_process(store: Path, base_url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", _PUSH_ALL, str(store), base_url], stdout=subprocess.PIPE, text=True
    )


_VOTE_COPY_COLUMNS = (
    "id, community_id, cycle_id, voter_key, code_id, selections, channel, device_id, cast_at, "
    "received_at, content_hash, status, status_reason, counted_vote_id, source"
)
_LOG_COPY_COLUMNS = (
    "community_id, device_id, seq, hash, prev_hash, kind, payload, package_version, clock_offset_ms, "
    "vote_id, received_at"
)


def _copy_rate(url: str, batches: int = COPY_BATCHES, size: int = COPY_BATCH) -> tuple[float, float]:
    """Votes per second of COPY of the rows a push stored, as a push stores them, and
    its CPU seconds per vote (this process and its backend): per vote its vote row and
    its device log row, `size` of each a batch, each batch one committed transaction;
    the floor no push on this PostgreSQL beats. The rows are the pushed ones (read back
    in arrival order, as text, so nothing is re-encoded on the way) under new vote ids
    and log positions; deleted again afterwards."""
    import uuid

    import psycopg

    wanted = batches * size
    with psycopg.connect(url) as conn:
        vote_columns = ", ".join(
            f"v.{c}::text" if c == "selections" else f"v.{c}" for c in _VOTE_COPY_COLUMNS.split(", ")
        )
        log_columns = ", ".join(
            f"l.{c}::text" if c == "payload" else f"l.{c}" for c in _LOG_COPY_COLUMNS.split(", ")
        )
        rows = conn.execute(
            f"SELECT {vote_columns}, {log_columns} FROM device_log_entry l "
            "JOIN vote v ON v.community_id = l.community_id AND v.id = l.vote_id ORDER BY l.id LIMIT %s",
            (wanted,),
        ).fetchall()
        conn.commit()
        split = len(_VOTE_COPY_COLUMNS.split(", "))
        pairs = []
        for n, row in enumerate(rows):
            new_id = str(uuid.UUID(int=n + 1, version=4))
            vote, log = row[:split], row[split:]
            pairs.append(
                ((new_id, *vote[1:-1], "bench-copy"), (*log[:2], _COPY_SEQ + n, *log[3:9], new_id, log[10]))
            )
        backend = conn.info.backend_pid
        started, cpu_started = time.perf_counter(), time.process_time() + _cpu_seconds(backend)
        for start in range(0, len(pairs), size):
            with conn.transaction(), conn.cursor() as cur:
                with cur.copy(f"COPY vote ({_VOTE_COPY_COLUMNS}) FROM STDIN") as copy:
                    for vote, _log in pairs[start : start + size]:
                        copy.write_row(vote)
                with cur.copy(f"COPY device_log_entry ({_LOG_COPY_COLUMNS}) FROM STDIN") as copy:
                    for _vote, log in pairs[start : start + size]:
                        copy.write_row(log)
        seconds = time.perf_counter() - started
        cpu = time.process_time() + _cpu_seconds(backend) - cpu_started
        # The log's append-only trigger guards real entries; a replica session (the bench
        # connects as the superuser) fires no ordinary triggers, so the copies can go.
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("DELETE FROM device_log_entry WHERE seq >= %s", (_COPY_SEQ,))
        conn.execute("DELETE FROM vote WHERE source = 'bench-copy'")
        conn.commit()
    return len(pairs) / seconds, cpu / len(pairs)


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
        meter = CpuMeter(master_pid, url.rsplit("/", 1)[1])
        t0 = time.perf_counter()
        pushers = [push_process(store, base_url) for store in stores]
        peak = memory_before
        while any(p.poll() is None for p in pushers):
            peak = max(peak, _rss_kib(master_pid))
            time.sleep(0.2)
        seconds = time.perf_counter() - t0
        cpu = meter.seconds()
        results = [json.loads(p.stdout.read()) for p in pushers]
        acked = sum(r["acked"] for r in results)
        memory_after = _rss_kib(master_pid)
        # After the push, so it takes no part in it; on the rows the push stored.
        copy_rate, copy_cpu = _copy_rate(url)
        push_cpu = sum(cpu.values())
        yield {
            "bench": "sync_push_20x5000",
            "terminals": TERMINALS,
            "votes": acked,
            "seconds": round(seconds, 2),
            "votes_per_second": round(acked / seconds),
            "copy_votes_per_second": round(copy_rate),
            "sync_push_of_copy": round(acked / seconds / copy_rate, 2),
            # CPU per vote (microseconds) of the push's own processes, and of COPY (the
            # copying process and its backend): what the push costs beside the floor,
            # steadier than the rates while other work shares the machine.
            "cpu_us_per_vote": {k: round(v / acked * 1e6) for k, v in cpu.items()}
            | {"total": round(push_cpu / acked * 1e6)},
            "copy_cpu_us_per_vote": round(copy_cpu * 1e6),
            "copy_cpu_of_push_cpu": round(copy_cpu / (push_cpu / acked), 2),
            "all_acknowledged": acked == TERMINALS * VOTES_EACH,
            # Retries after a 5xx (sync.busy) or no answer, and the seconds spent backing off.
            "retries": sum(r["retries"] for r in results),
            "backoff_seconds": round(sum(r["slept_s"] for r in results), 1),
            "target_votes_per_second": 3000,
            "target_of_copy": 0.3,
        }
        yield {
            "bench": "sync_server_memory",
            "workers_rss_mib_before": round(memory_before / 1024, 1),
            "workers_rss_mib_peak": round(peak / 1024, 1),
            "workers_rss_mib_after": round(memory_after / 1024, 1),
        }

        small, big = Path(tmp) / "small.db", Path(tmp) / "big.db"
        _terminal(small, base_url, codes[TERMINALS], 1000, seed=101)
        _terminal(big, base_url, codes[TERMINALS + 1], CATCH_UP, seed=102)
        small_run = json.loads(push_process(small, base_url).communicate()[0])
        big_run = json.loads(push_process(big, base_url).communicate()[0])
        yield {
            "bench": "sync_catch_up_100k",
            "votes": big_run["acked"],
            "backlog_left": big_run["backlog"],
            "seconds": round(big_run["seconds"], 1),
            "votes_per_second": round(big_run["acked"] / big_run["seconds"]),
            "device_peak_mib": round(big_run["peak_kib"] / 1024, 1),
            "device_peak_mib_with_1000": round(small_run["peak_kib"] / 1024, 1),
        }
