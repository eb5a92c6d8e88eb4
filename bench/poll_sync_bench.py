"""Poll answers through device sync (issue #18), beside sync_push_20x5000's votes:

- sync_push_answers_4x5000: 4 terminals, 5 000 answers each to a poll of four
  questions (one of each kind), taken offline and then pushed at once through gunicorn
  (2 workers) to PostgreSQL; every batch's signature and chain verified, every answer
  judged by the poll's rule and the server's list and stored once. Answers per second
  and CPU per answer (the push's own processes), and whether every answer counts.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db import make_engine
from server.models import Community, PollAnswer, utcnow
from server.polls.store import create_poll, publish_poll
from sync.client import SyncClient
from sync.clock import datetime_from_ms, system_clock_ms
from sync.cycle_package import PackagedPoll
from sync.device_store import DeviceStore
from voting.polls import PollAnswerRecord, QuestionKind

from .pgdb import ADMIN_DSN, fresh_database
from .server_bench import gunicorn
from .sync_bench import CpuMeter, push_process, terminal_codes

TERMINALS = int(os.environ.get("SPILNO_BENCH_POLL_TERMINALS", "4"))
ANSWERS_EACH = int(os.environ.get("SPILNO_BENCH_ANSWERS_EACH", "5000"))
DATABASE = "spilno_bench_poll_sync"


def _spec() -> dict:
    now = utcnow()
    options = [f"Варіант {n}" for n in range(1, 9)]
    return {
        "title": "Опитування для заміру синхронізації",
        "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat(),
        "questions": [
            {"text": "Одне", "kind": "one", "options": options},
            {"text": "До трьох", "kind": "up_to", "max_choices": 3, "options": options},
            {"text": "Порядок", "kind": "rank", "max_choices": 5, "options": options},
            {"text": "Бали", "kind": "points", "max_points": 5, "options": options},
        ],
    }


def _seed(url: str, devices: int) -> list[str]:
    engine = make_engine(url)
    with Session(engine) as s:
        community = Community(slug="bench-poll-sync", name="Громада для вимірювань опитувань")
        s.add(community)
        s.flush()
        publish_poll(s, create_poll(s, community.id, _spec()))
        codes = terminal_codes(s, community, devices)
        s.commit()
    engine.dispose()
    return codes


def _answers(poll: PackagedPoll, rng: random.Random) -> dict[int, object]:
    """A resident's answers: every question, each within its rule."""
    given: dict[int, object] = {}
    for question in poll.questions:
        ids = [o.id for o in question.options]
        if question.kind is QuestionKind.ONE:
            given[question.id] = [rng.choice(ids)]
        elif question.kind is QuestionKind.UP_TO:
            given[question.id] = rng.sample(ids, rng.randint(1, question.max_choices or 1))
        elif question.kind is QuestionKind.RANK:
            given[question.id] = rng.sample(ids, rng.randint(1, question.max_choices or len(ids)))
        else:
            chosen = rng.sample(ids, rng.randint(1, len(ids)))
            given[question.id] = [[o, rng.randint(0, question.max_points or 0)] for o in chosen]
    return given


def _terminal(path: Path, base_url: str, code: str, answers: int, seed: int) -> None:
    """Enrol, pull the package, then take `answers` answers offline (not timed)."""
    store = DeviceStore(path)
    client = SyncClient(store, base_url)
    client.enrol(code)
    client.pull_package()
    stored = store.package()
    assert stored is not None
    device = store.require_identity().device
    poll = stored.content.open_polls(datetime_from_ms(system_clock_ms()))[0]
    rule = poll.rule()
    rng = random.Random(seed)
    for start in range(0, answers, 1000):
        cast_at = datetime_from_ms(system_clock_ms())
        store.append_poll_answers(
            PollAnswerRecord.create(
                poll=rule,
                answers=_answers(poll, rng),
                channel="kiosk",
                cast_at=cast_at,
                voter_key=f"{rng.getrandbits(256):064x}",
                device_id=device,
            )
            for _ in range(min(1000, answers - start))
        )
    store.close()


def run(wanted: str = "") -> Iterator[dict]:
    url = fresh_database(DATABASE)
    try:
        codes = _seed(url, TERMINALS)
        with tempfile.TemporaryDirectory() as tmp, gunicorn(url, workers=2) as (port, master_pid):
            base_url = f"http://127.0.0.1:{port}"
            stores = [Path(tmp) / f"t{n}.db" for n in range(TERMINALS)]
            for n, store in enumerate(stores):
                _terminal(store, base_url, codes[n], ANSWERS_EACH, seed=n)
            meter = CpuMeter(master_pid, DATABASE)
            t0 = time.perf_counter()
            pushers = [push_process(store, base_url) for store in stores]
            results = [json.loads(p.communicate()[0]) for p in pushers]
            seconds = time.perf_counter() - t0
            cpu = meter.seconds()
        acked = sum(r["acked"] for r in results)
        engine = make_engine(url)
        with Session(engine) as s:
            counted = s.scalar(
                select(func.count()).select_from(PollAnswer).where(PollAnswer.status == "counted")
            )
        engine.dispose()
        total_cpu = sum(cpu.values())
        yield {
            "bench": "sync_push_answers_4x5000",
            "terminals": TERMINALS,
            "answers": acked,
            "seconds": round(seconds, 2),
            "answers_per_second": round(acked / seconds),
            "cpu_us_per_answer": {k: round(v / acked * 1e6) for k, v in cpu.items()}
            | {"total": round(total_cpu / acked * 1e6)},
            "all_counted": counted == TERMINALS * ANSWERS_EACH,
            "retries": sum(r["retries"] for r in results),
        }
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    for line in run():
        print(json.dumps(line), flush=True)
