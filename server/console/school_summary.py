"""A contest in figures, for the school's page and the community's programme page:
its state, projects, cards issued and used, votes counted and (on request) winners.

No vote is ever tied to a card here: "used" counts cards whose code has a counted vote,
read in aggregate by `class_usage`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.i18n import _
from server.models import Project, ProjectStatus, TurnoutTally
from server.school.codes import class_usage
from server.school.contests import Contest, contest_state
from server.services.results import cycle_results
from server.services.results_funding import ProjectResult
from voting import VoteStatus


def state_label(state: str) -> str:
    """A contest's state (server.school.contests.contest_state) in the visitor's language."""
    if state == "setup":
        return _("до голосування")
    if state == "voting":
        return _("голосування триває")
    return _("голосування завершено")


@dataclass(frozen=True)
class ContestSummary:
    contest: Contest
    state: str  # "setup" | "voting" | "closed"
    projects: int  # admitted to the ballot
    cards: int  # cards in students' hands: issued, less the revoked ones
    revoked: int
    used: int  # cards whose code has a counted vote
    votes: int  # counted votes in the contest, whatever the channel
    winners: tuple[ProjectResult, ...] = ()

    @property
    def turnout(self) -> float | None:
        """Used cards among valid cards. A revoked card was replaced by a new one for
        the same student, so counting it too would count that student twice."""
        return self.used / self.cards if self.cards else None


def summarise(
    session: Session, contest: Contest, now: datetime, *, with_winners: bool = False
) -> ContestSummary:
    usage = class_usage(session, contest)
    projects = session.scalar(
        select(func.count())
        .select_from(Project)
        .where(Project.cycle_id == contest.cycle.id, Project.status == ProjectStatus.ADMITTED.value)
    )
    votes = session.scalar(
        select(func.coalesce(func.sum(TurnoutTally.votes), 0)).where(
            TurnoutTally.cycle_id == contest.cycle.id, TurnoutTally.status == VoteStatus.COUNTED.value
        )
    )
    winners: tuple[ProjectResult, ...] = ()
    if with_winners:
        results = cycle_results(session, contest.cycle)
        winners = tuple(p for category in results.categories for p in category.projects if p.funded)
    revoked = sum(u.revoked for u in usage)
    return ContestSummary(
        contest=contest,
        state=contest_state(contest, now),
        projects=int(projects or 0),
        cards=sum(u.issued for u in usage) - revoked,
        revoked=revoked,
        used=sum(u.used for u in usage),
        votes=int(votes or 0),
        winners=winners,
    )
