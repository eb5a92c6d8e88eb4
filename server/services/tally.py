"""Tallies: the running one kept at ingest, and a recount from the raw records."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from server.models import ProjectTally, Vote
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
