"""A batch's new vote rows written: the vote table's columns in the order COPY takes
them, and the table's statistics read again as a cycle grows past each mark.
"""

from __future__ import annotations

import typing
from collections import defaultdict

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from server.models import TurnoutTally, Vote

from .pg_batch import insert_rows

# The vote table as Core sees it (the ORM types __table__ as any FROM clause).
VOTE_TABLE = typing.cast(Table, Vote.__table__)

INSERT_COLUMNS = (
    "id",
    "community_id",
    "cycle_id",
    "voter_key",
    "code_id",
    "selections",
    "channel",
    "device_id",
    "cast_at",
    "received_at",
    "content_hash",
    "status",
    "status_reason",
    "counted_vote_id",
    "source",
)


# A cycle's votes at which the vote table's statistics are read again (ANALYZE): a new
# cycle in a big table is unknown to the planner, which then believes it holds a row
# or two and may look a voter up through the cycle's arrival index, reading every vote
# of the cycle per voter: 0.7 ms a voter at 9 000 votes, growing with every push
# (bench: sync_push_new_cycle_beside_1m). Autovacuum comes back to a million-row table
# only after ~100 000 changes, and may be off. Six ANALYZEs take a cycle to a million.
STATISTICS_AT = (1_000, 4_000, 16_000, 64_000, 256_000, 1_024_000)


def refresh_statistics_as_cycles_grow(session: Session, new_rows: list[dict]) -> None:
    """ANALYZE the vote table when this batch takes a cycle past one of STATISTICS_AT
    (its votes so far from the turnout tally, a few rows a cycle)."""
    adding: dict[int, int] = defaultdict(int)
    for row in new_rows:
        adding[row["cycle_id"]] += 1
    stored = dict(
        session.execute(
            select(TurnoutTally.cycle_id, func.sum(TurnoutTally.votes))
            .where(TurnoutTally.cycle_id.in_(sorted(adding)))
            .group_by(TurnoutTally.cycle_id)
        ).all()
    )
    for cycle_id, count in adding.items():
        before = int(stored.get(cycle_id) or 0)
        if any(before < mark <= before + count for mark in STATISTICS_AT):
            # In this transaction, before the insert: the sample is the table as it
            # stood, which already holds the cycle's votes past the previous mark.
            session.execute(text("ANALYZE vote"))
            return


def insert_votes(session: Session, rows: list[dict]) -> None:
    # The rows carry exactly these columns (bulk_insert refuses rows that differ).
    assert rows[0].keys() == set(INSERT_COLUMNS), sorted(rows[0])
    values = [[row[c] for c in INSERT_COLUMNS] for row in rows]
    if session.get_bind().dialect.name == "postgresql":
        # The project ids in PostgreSQL's text form of an array, as COPY reads it:
        # psycopg's list adapter is Python code, element by element.
        at = INSERT_COLUMNS.index("selections")
        for row in values:
            row[at] = "{" + ",".join(map(str, row[at])) + "}"
    insert_rows(session, VOTE_TABLE, INSERT_COLUMNS, values)
