"""Polls on PostgreSQL (issue #18: a poll with 20 options and 1 000 000 answers counted in
under 2 s).

- poll_count_1m: a published poll whose one question ("one": choose one of 20 options)
  has 1 000 000 counted answers, loaded by COPY as the answer store writes them (an
  answer row, an item for the question answered, an item for the option); then
  server.polls.count.count_poll, the same call the API's results and the CLI make,
  timed cold (first call) and warm (median of three).
- poll_count_1m_rank: the same with a ranking question (up to 5 of 20 ranked): five
  items an answer, 6 000 000 rows.
- sync_push_answers_4x5000 (`python -m bench polls sync`, bench/poll_sync_bench.py):
  answers taken offline at terminals, pushed through device sync.
"""

from __future__ import annotations

import json
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy.orm import Session

from server.db import make_engine
from server.models import Community
from server.polls.count import count_poll
from server.polls.store import create_poll, poll_rule, publish_poll

from .pgdb import fresh_database

ANSWERS = 1_000_000
OPENS = datetime(2027, 5, 1, 6, 0, tzinfo=UTC)


def _spec(kind: str) -> dict:
    question = {"text": "Питання", "kind": kind, "options": [f"Варіант {i}" for i in range(1, 21)]}
    if kind == "rank":
        question["max_choices"] = 5
    return {
        "title": "Опитування для заміру",
        "opens_at": OPENS.isoformat(),
        "closes_at": (OPENS + timedelta(days=30)).isoformat(),
        "questions": [question],
    }


def _load(
    url: str, community_id: int, poll_id: int, question_id: int, options: list[int], kind: str
) -> float:
    rng = random.Random(18)
    weights = [1 / (n + 1) for n in range(len(options))]  # a realistic skew: a few options lead
    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        answer_ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(ANSWERS)]
        with cur.copy(
            "COPY poll_answer (id, community_id, poll_id, voter, channel, cast_at, received_at, "
            "content_hash, body, source, status) FROM STDIN"
        ) as copy:
            for n, answer_id in enumerate(answer_ids):
                at = OPENS + timedelta(seconds=n % (29 * 86400))
                copy.write_row(
                    (
                        answer_id,
                        community_id,
                        poll_id,
                        f"key:{n:064x}",
                        "web",
                        at,
                        at,
                        "0" * 64,
                        "{}",
                        "api:1",
                        "counted",
                    )
                )
        with cur.copy(
            "COPY poll_answer_item (community_id, answer_id, poll_id, question_id, option_id, "
            "value, counted) FROM STDIN"
        ) as copy:
            for answer_id in answer_ids:
                copy.write_row((community_id, answer_id, poll_id, question_id, None, 0, True))
                if kind == "rank":
                    for position, option in enumerate(rng.sample(options, 5), start=1):
                        copy.write_row(
                            (community_id, answer_id, poll_id, question_id, option, position, True)
                        )
                else:
                    option = rng.choices(options, weights)[0]
                    copy.write_row((community_id, answer_id, poll_id, question_id, option, 1, True))
        conn.commit()
        conn.execute("ANALYZE poll_answer_item")
        conn.commit()
    return time.perf_counter() - started


def _bench(url: str, kind: str, name: str) -> dict:
    engine = make_engine(url)
    with Session(engine) as session:
        community = Community(name="Громада для заміру", slug=f"bench-{kind}")
        session.add(community)
        session.flush()
        poll = create_poll(session, community.id, _spec(kind))
        publish_poll(session, poll)
        session.commit()
        rule = poll_rule(session, poll)
        question = rule.questions[0]
        load_s = _load(url, community.id, poll.id, question.question_id, list(question.option_ids), kind)
        started = time.perf_counter()
        (result,) = count_poll(session, rule)
        cold = time.perf_counter() - started
        warm = []
        for _ in range(3):
            started = time.perf_counter()
            count_poll(session, rule)
            warm.append(time.perf_counter() - started)
    engine.dispose()
    assert result.respondents == ANSWERS, result.respondents
    return {
        "bench": name,
        "answers": ANSWERS,
        "options": len(question.option_ids),
        "item_rows": ANSWERS * (6 if kind == "rank" else 2),
        "count_s_cold": round(cold, 3),
        "count_s_warm": round(statistics.median(warm), 3),
        "target_s": 2.0,
        "load_s": round(load_s, 1),
        "top_option_chosen": result.options[0].chosen,
    }


def run(wanted: str = "") -> Iterator[dict]:
    if not wanted or "sync" in wanted:
        from . import poll_sync_bench

        yield from poll_sync_bench.run()
    if wanted == "sync":
        return
    url = fresh_database("spilno_bench_polls")
    try:
        if not wanted or "rank" not in wanted:
            yield _bench(url, "one", "poll_count_1m")
        if not wanted or "rank" in wanted:
            yield _bench(url, "rank", "poll_count_1m_rank")
    finally:
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS spilno_bench_polls WITH (FORCE)")


if __name__ == "__main__":
    for line in run():
        print(json.dumps(line), flush=True)
