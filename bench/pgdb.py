"""A fresh PostgreSQL database for a benchmark run, and bulk loading of votes."""

from __future__ import annotations

import os
import random
import uuid
from datetime import timedelta

import psycopg
from sqlalchemy import text

from server.db import make_engine, upgrade

ADMIN_DSN = os.environ.get("SPILNO_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def fresh_database(name: str = "spilno_bench") -> str:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def bulk_votes(
    url: str, cycle, project_ids_by_category: dict[int, list[int]], count: int, seed: int = 1
) -> None:
    """COPY `count` counted votes (distinct voters) into the cycle, then bring the running
    tallies in line with an aggregate over them, as the ballot box would have."""
    rng = random.Random(seed)
    categories = list(project_ids_by_category.values())
    start = cycle.voting_starts_at
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            with cur.copy(
                "COPY vote (id, community_id, cycle_id, voter_key, selections, channel, device_id, "
                "cast_at, received_at, content_hash, status, source) FROM STDIN"
            ) as copy:
                for i in range(count):
                    picks = [rng.choice(categories[0]), rng.choice(categories[-1])]
                    if rng.random() < 0.5:
                        picks.append(rng.choice(categories[0]))
                    at = start + timedelta(seconds=rng.randrange(20 * 24 * 3600))
                    copy.write_row(
                        (
                            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                            cycle.community_id,
                            cycle.id,
                            f"{i:064x}",
                            sorted(set(picks)),
                            rng.choice(["web", "web", "kiosk", "paper"]),
                            None,
                            at,
                            at,
                            "0" * 64,
                            "counted",
                            "bench",
                        )
                    )
        conn.execute(
            "INSERT INTO project_tally (cycle_id, project_id, community_id, votes) "
            "SELECT cycle_id, p, community_id, count(*) FROM vote, unnest(selections) p "
            "WHERE cycle_id = %s GROUP BY cycle_id, p, community_id",
            (cycle.id,),
        )
        conn.execute(
            "INSERT INTO turnout_tally (cycle_id, hour, channel, device_id, status, community_id, votes) "
            "SELECT cycle_id, date_trunc('hour', cast_at), channel, coalesce(device_id, ''), status, "
            "community_id, count(*) FROM vote WHERE cycle_id = %s GROUP BY 1, 2, 3, 4, 5, 6",
            (cycle.id,),
        )
        conn.commit()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
