"""Tallies: the running one kept at ingest, and a recount from the raw records.

Both count vote rows only. Support points' tally sheets (server.models.paper_tally) add
their per-project totals on top: `published_tally` is what the results show, and
`recount_with_paper_tallies` what a recount from the records must find.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from server.models import PaperTally, PaperTallyLine, ProjectTally, Vote
from voting import VoteStatus


def running_tally(session: Session, cycle_id: int) -> dict[int, int]:
    """Counted votes per project, as kept beside every insert."""
    rows = session.execute(
        select(ProjectTally.project_id, ProjectTally.votes).where(
            ProjectTally.cycle_id == cycle_id, ProjectTally.votes != 0
        )
    )
    return {project_id: votes for project_id, votes in rows}


def recount_from_records(session: Session, cycle_id: int) -> dict[int, int]:
    """Counted votes per project, recomputed from the vote rows themselves."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        rows = session.execute(
            text(
                "SELECT p, count(*) FROM vote, unnest(vote.selections) AS p "
                "WHERE cycle_id = :cycle AND status = 'counted' GROUP BY p"
            ),
            {"cycle": cycle_id},
        )
    else:
        rows = session.execute(
            text(
                "SELECT CAST(j.value AS INTEGER), count(*) FROM vote, json_each(vote.selections) AS j "
                "WHERE cycle_id = :cycle AND status = 'counted' GROUP BY 1"
            ),
            {"cycle": cycle_id},
        )
    return {int(project_id): votes for project_id, votes in rows}


def status_counts(session: Session, cycle_id: int) -> dict[str, int]:
    rows = session.execute(
        select(Vote.status, func.count()).where(Vote.cycle_id == cycle_id).group_by(Vote.status)
    )
    counts = {status.value: 0 for status in VoteStatus}
    counts.update({status: n for status, n in rows})
    return counts


def paper_tally_votes(session: Session, cycle_id: int) -> dict[int, int]:
    """Votes per project on the cycle's current tally sheets (replaced sheets excluded)."""
    rows = session.execute(
        select(PaperTallyLine.project_id, func.sum(PaperTallyLine.votes))
        .join(PaperTally, PaperTally.id == PaperTallyLine.tally_id)
        .where(PaperTally.cycle_id == cycle_id, PaperTally.replaced_at.is_(None))
        .group_by(PaperTallyLine.project_id)
    )
    return {project_id: int(votes) for project_id, votes in rows if votes}


def add_counts(*counts: Mapping[int, int]) -> dict[int, int]:
    """Per-project counts added together; projects at 0 left out, as in every tally here."""
    total: Counter[int] = Counter()
    for count in counts:
        total.update(count)
    return {project_id: n for project_id, n in total.items() if n}


def published_tally(session: Session, cycle_id: int) -> dict[int, int]:
    """What the results show per project: counted votes plus tally sheets."""
    return add_counts(running_tally(session, cycle_id), paper_tally_votes(session, cycle_id))


def recount_with_paper_tallies(session: Session, cycle_id: int) -> dict[int, int]:
    """The recount from the vote rows plus tally sheets: must equal `published_tally`."""
    return add_counts(recount_from_records(session, cycle_id), paper_tally_votes(session, cycle_id))
