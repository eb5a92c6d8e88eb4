"""What a support-point operator's workspace («Мій пункт») shows: their community's
support points as the fleet page sees them (last contact, backlog, open alarms), the
public-budget cycles whose paper is accepted now (scans waiting, tally sheets entered),
the ones about to open, and the latest paper jobs. Plain data from a session; the
console page (server/console/my_point.py) renders it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.jobs.kinds.paper_votes import KIND as PAPER_VOTES
from server.jobs.kinds.scan_commit import KIND as SCAN_COMMIT
from server.jobs.kinds.scan_upload import KIND as SCAN_UPLOAD
from server.jobs.kinds.tally_sheet import KIND as TALLY_SHEET
from server.models import Cycle, CycleKind, DeviceKind, DeviceStatus, Job, PaperTally
from server.paper.scan_store import ServerSheetStore
from server.services.cycle_rules import PAPER_SCAN_GRACE
from server.sync.fleet import DeviceState, fleet_state

# The background jobs of a support point's paper work: an operator follows these only.
PAPER_JOB_KINDS = (SCAN_UPLOAD, SCAN_COMMIT, TALLY_SHEET, PAPER_VOTES)
RECENT_JOBS = 10


@dataclass
class CycleWork:
    """One cycle whose paper is accepted now, and how far its paper has come."""

    cycle: Cycle
    accepted_until: datetime
    sheets: dict[str, int]  # scanned sheets by state: review, ready, spoiled, committed
    tallies_entered: int  # support points with a tally sheet in force


@dataclass
class Workspace:
    points: list[DeviceState]
    open_cycles: list[CycleWork]
    upcoming_cycles: list[Cycle]
    recent_jobs: list[Job] = field(default_factory=list)


def support_points(session: Session, community_id: int) -> list[DeviceState]:
    """The community's working support points, with what the fleet page knows of each."""
    wanted = (DeviceKind.SUPPORT_POINT.value, DeviceStatus.ACTIVE.value)
    return [s for s in fleet_state(session, [community_id]) if (s.device.kind, s.device.status) == wanted]


def paper_cycles(session: Session, community_id: int, now: datetime) -> tuple[list[CycleWork], list[Cycle]]:
    """Public-budget cycles still taking paper (results not published, the grace after
    the close not over): those open now with their progress, and those yet to open."""
    cycles = session.scalars(
        select(Cycle)
        .where(
            Cycle.community_id == community_id,
            Cycle.kind == CycleKind.PUBLIC.value,
            Cycle.results_published_at.is_(None),
            Cycle.voting_ends_at > now - PAPER_SCAN_GRACE,
        )
        .order_by(Cycle.voting_starts_at, Cycle.id)
    ).all()
    started = [c for c in cycles if c.voting_starts_at <= now]
    entered = dict(
        session.execute(
            select(PaperTally.cycle_id, func.count())
            .where(
                PaperTally.community_id == community_id,
                PaperTally.cycle_id.in_([c.id for c in started]),
                PaperTally.replaced_at.is_(None),
            )
            .group_by(PaperTally.cycle_id)
        ).all()
    )
    open_cycles = [
        CycleWork(
            cycle=c,
            accepted_until=c.voting_ends_at + PAPER_SCAN_GRACE,
            sheets=ServerSheetStore(session, community_id=community_id, cycle_id=c.id).counts(),
            tallies_entered=entered.get(c.id, 0),
        )
        for c in started
    ]
    return open_cycles, [c for c in cycles if c.voting_starts_at > now]


def recent_paper_jobs(session: Session, community_id: int) -> list[Job]:
    return list(
        session.scalars(
            select(Job)
            .where(Job.community_id == community_id, Job.kind.in_(PAPER_JOB_KINDS))
            .order_by(Job.id.desc())
            .limit(RECENT_JOBS)
        )
    )


def workspace(session: Session, community_id: int, now: datetime) -> Workspace:
    open_cycles, upcoming = paper_cycles(session, community_id, now)
    return Workspace(
        points=support_points(session, community_id),
        open_cycles=open_cycles,
        upcoming_cycles=upcoming,
        recent_jobs=recent_paper_jobs(session, community_id),
    )
