"""How a batch of votes moves the running tallies (ProjectTally, TurnoutTally).

The ballot box (server.services.ballot_box) adds every vote it stores or decides anew
to one TallyDelta, which moves the tally rows by the difference in one sorted round.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.models import ProjectTally, TurnoutTally
from voting import VoteStatus

from .pg_batch import array_literal


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


class TallyDelta:
    """How a batch moves the running tallies, written by `apply` in one sorted round.

    The project tally rows are shared by every channel and device of a cycle, so
    concurrent batches queue on them: a caller with more work in its transaction
    collects the delta (store_votes(..., tally=delta)) and applies it last, just before
    its commit, so those rows stay locked for the commit only."""

    def __init__(self) -> None:
        self.projects: dict[tuple[int, int, int], int] = defaultdict(int)
        self.turnout: dict[tuple[int, int, datetime, str, str, str], int] = defaultdict(int)

    def add(self, row: Mapping, status: str, sign: int) -> None:
        community, cycle = row["community_id"], row["cycle_id"]
        key = (
            community,
            cycle,
            _hour(row["cast_at"]),
            row["channel"],
            row["device_id"] or "",
            status,
        )
        self.turnout[key] += sign
        if status == VoteStatus.COUNTED:
            for project_id in row["selections"]:
                self.projects[(community, cycle, project_id)] += sign

    def merge(self, other: TallyDelta) -> None:
        for project, change in other.projects.items():
            self.projects[project] += change
        for turnout, change in other.turnout.items():
            self.turnout[turnout] += change

    def apply(self, session: Session) -> None:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            self._apply_postgres(session)
            return
        insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
        projects = [
            {"community_id": c, "cycle_id": y, "project_id": p, "votes": d}
            for (c, y, p), d in sorted(self.projects.items())
            if d
        ]
        if projects:
            stmt = insert_fn(ProjectTally)
            stmt = stmt.on_conflict_do_update(
                index_elements=["cycle_id", "project_id"],
                set_={"votes": ProjectTally.votes + stmt.excluded.votes},
            )
            session.execute(stmt, projects)
        turnout = [
            {
                "community_id": c,
                "cycle_id": y,
                "hour": h,
                "channel": ch,
                "device_id": dev,
                "status": st,
                "votes": d,
            }
            for (c, y, h, ch, dev, st), d in sorted(self.turnout.items())
            if d
        ]
        if turnout:
            stmt = insert_fn(TurnoutTally)
            stmt = stmt.on_conflict_do_update(
                index_elements=["cycle_id", "hour", "channel", "device_id", "status"],
                set_={"votes": TurnoutTally.votes + stmt.excluded.votes},
            )
            session.execute(stmt, turnout)

    def _apply_postgres(self, session: Session) -> None:
        """As `apply`, each table's rows in one statement over arrays, in sorted order
        (the order they lock in): the ORM building a statement's parameters row by row
        cost more than the database's work for a batch's whole tally change."""
        projects = [(c, y, p, d) for (c, y, p), d in sorted(self.projects.items()) if d]
        if projects:
            session.execute(_PROJECT_TALLY_ADD, _arrays("cypd", projects))
        turnout = [(*key, d) for key, d in sorted(self.turnout.items()) if d]
        if turnout:
            if any(row[2].tzinfo is None for row in turnout):
                raise ValueError("naive datetime given where an aware one is required")
            rows = [(c, y, h.isoformat(), *rest) for c, y, h, *rest in turnout]
            session.execute(_TURNOUT_TALLY_ADD, _arrays(("c", "y", "h", "ch", "dev", "st", "d"), rows))


def _arrays(names: Sequence[str], rows: list[tuple]) -> dict[str, str]:
    """Each column of `rows` as one array parameter (see array_literal), by name."""
    return {name: array_literal(column) for name, column in zip(names, zip(*rows, strict=True), strict=True)}


_PROJECT_TALLY_ADD = text(
    "INSERT INTO project_tally (community_id, cycle_id, project_id, votes) "
    "SELECT c, y, p, d FROM unnest(CAST(:c AS integer[]), CAST(:y AS integer[]), "
    "CAST(:p AS integer[]), CAST(:d AS integer[])) WITH ORDINALITY AS t(c, y, p, d, n) ORDER BY n "
    "ON CONFLICT (cycle_id, project_id) DO UPDATE SET votes = project_tally.votes + excluded.votes"
)
_TURNOUT_TALLY_ADD = text(
    "INSERT INTO turnout_tally (community_id, cycle_id, hour, channel, device_id, status, votes) "
    "SELECT c, y, h, ch, dev, st, d FROM unnest(CAST(:c AS integer[]), CAST(:y AS integer[]), "
    "CAST(:h AS timestamptz[]), CAST(:ch AS text[]), CAST(:dev AS text[]), CAST(:st AS text[]), "
    "CAST(:d AS integer[])) WITH ORDINALITY AS t(c, y, h, ch, dev, st, d, n) ORDER BY n "
    "ON CONFLICT (cycle_id, hour, channel, device_id, status) "
    "DO UPDATE SET votes = turnout_tally.votes + excluded.votes"
)
