"""Publishing a cycle's results, and checking them against the raw records first.

Both are recorded in the audit log. Publishing needs no recomputation: the public
pages read the same running tallies as the console.

The check recomputes each category's funding from the recounted totals too (a recount
must reproduce every funding method, not only the votes). It covers support points'
tally sheets too: the published figures are the
running tally plus the sheets, so the recount adds the same sheets, each re-checked
against the content hash made when it was entered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import Cycle, Project, TurnoutTally, User, utcnow
from server.paper.tally import TallyFinding, verify_stored_tallies
from server.services import audit
from server.services.funding_recount import FundingDifference, recount_funding
from server.services.results_shape import iso_utc
from server.services.tally import published_tally, recount_with_paper_tallies, status_counts
from voting import VoteStatus


def publish_results(session: Session, cycle: Cycle, user: User | None = None) -> bool:
    """Make the results public; False (and nothing recorded) when they already are."""
    if cycle.results_published_at is not None:
        return False
    cycle.results_published_at = utcnow()
    audit.record(
        session, "results.publish", user=user, community_id=cycle.community_id, target=("cycle", cycle.id)
    )
    return True


def unpublish_results(session: Session, cycle: Cycle, user: User | None = None) -> bool:
    """Hide the results again; False when they were not public."""
    if cycle.results_published_at is None:
        return False
    published_at = cycle.results_published_at
    cycle.results_published_at = None
    audit.record(
        session,
        "results.unpublish",
        user=user,
        community_id=cycle.community_id,
        target=("cycle", cycle.id),
        details={"published_at": iso_utc(published_at)},
    )
    return True


@dataclass(frozen=True, slots=True)
class ProjectDifference:
    project_id: int
    number: int | None  # None for a project id no longer in the cycle
    title: str
    tallied: int
    recounted: int


@dataclass(frozen=True)
class Verification:
    """The running tallies against a recount of the raw vote rows."""

    projects: tuple[ProjectDifference, ...]
    tallied_statuses: dict[str, int]
    recounted_statuses: dict[str, int]
    tally_findings: tuple[TallyFinding, ...] = ()  # tally sheets changed or broken since entry
    funding: tuple[FundingDifference, ...] = ()  # categories funded differently by the recount

    @property
    def agrees(self) -> bool:
        return (
            not self.projects
            and self.tallied_statuses == self.recounted_statuses
            and not self.tally_findings
            and not self.funding
        )


VERIFY_STEPS = 4  # the recount, the statuses, the tally sheets, the funding


def verify_against_records(
    session: Session,
    cycle: Cycle,
    user: User | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> Verification:
    """Recount from the raw records (slow: reads every vote row) and compare.
    `on_step(steps_done, VERIFY_STEPS)` is told after each of the slow steps (a job
    shows it; it may raise to stop: nothing is recorded then)."""
    step = on_step or (lambda _done, _total: None)
    tallied = published_tally(session, cycle.id)
    recounted = recount_with_paper_tallies(session, cycle.id)
    step(1, VERIFY_STEPS)
    titles = {
        p.id: (p.number, p.title)
        for p in session.scalars(select(Project).where(Project.cycle_id == cycle.id))
    }
    differences = tuple(
        ProjectDifference(
            project_id=pid,
            number=titles.get(pid, (None, ""))[0],
            title=titles.get(pid, (None, ""))[1],
            tallied=tallied.get(pid, 0),
            recounted=recounted.get(pid, 0),
        )
        for pid in sorted(set(tallied) | set(recounted))
        if tallied.get(pid, 0) != recounted.get(pid, 0)
    )
    tallied_statuses = {s.value: 0 for s in VoteStatus}
    for status, votes in session.execute(
        select(TurnoutTally.status, func.sum(TurnoutTally.votes))
        .where(TurnoutTally.cycle_id == cycle.id)
        .group_by(TurnoutTally.status)
    ):
        tallied_statuses[status] = int(votes)
    recounted_statuses = status_counts(session, cycle.id)
    step(2, VERIFY_STEPS)
    findings = tuple(verify_stored_tallies(session, cycle))
    step(3, VERIFY_STEPS)
    verification = Verification(
        differences,
        tallied_statuses,
        recounted_statuses,
        findings,
        # Every category's rule again, from the recounted totals: the same projects funded.
        recount_funding(session, cycle, recounted),
    )
    step(4, VERIFY_STEPS)
    audit.record(
        session,
        "results.verify",
        user=user,
        community_id=cycle.community_id,
        target=("cycle", cycle.id),
        details={
            "agrees": verification.agrees,
            "differences": len(differences),
            "tally_findings": len(verification.tally_findings),
            "funding_differences": len(verification.funding),
        },
    )
    return verification


def verification_as_dict(verification: Verification) -> dict:
    """The verification as JSON values (a job keeps it as its outcome)."""
    return {
        "agrees": verification.agrees,
        "projects": [
            [d.project_id, d.number, d.title, d.tallied, d.recounted] for d in verification.projects
        ],
        "tallied_statuses": dict(verification.tallied_statuses),
        "recounted_statuses": dict(verification.recounted_statuses),
        "tally_findings": [[f.device, f.tally_id, f.problem] for f in verification.tally_findings],
        "funding": [
            [d.category_id, d.name, list(d.published), list(d.recounted)] for d in verification.funding
        ],
    }


def verification_from_dict(data: dict) -> Verification:
    """verification_as_dict's inverse."""
    return Verification(
        tuple(ProjectDifference(*row) for row in data.get("projects", [])),
        dict(data.get("tallied_statuses", {})),
        dict(data.get("recounted_statuses", {})),
        tuple(TallyFinding(*row) for row in data.get("tally_findings", [])),
        tuple(FundingDifference(c, n, tuple(p), tuple(r)) for c, n, p, r in data.get("funding", [])),
    )
