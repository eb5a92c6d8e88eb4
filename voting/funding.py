"""Which projects get funded.

THE RULE, per category. Projects are ranked by counted votes, most first; equal votes
are ranked by lower cost first (the same money then funds more), then by the smaller
project id (earlier registered). Going down the ranking, a project is funded when it
has at least the category's minimum votes and its cost fits in what is left of the
category budget; a project that does not fit is skipped and the next ones are still
tried, so the budget is not left idle because one large project missed it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .ballot import BallotProject, CategoryRule


class FundingOutcome(StrEnum):
    FUNDED = "funded"
    OVER_BUDGET = "over_budget"  # would not fit in what was left
    TOO_FEW_VOTES = "too_few_votes"


@dataclass(frozen=True, slots=True)
class FundingLine:
    rank: int
    project_id: int
    votes: int
    cost: int
    outcome: FundingOutcome
    budget_left_after: int

    @property
    def funded(self) -> bool:
        return self.outcome is FundingOutcome.FUNDED


def rank_key(project: BallotProject, votes: int) -> tuple[int, int, int]:
    return (-votes, project.cost, project.project_id)


def allocate(
    category: CategoryRule, projects: Sequence[BallotProject], votes: Mapping[int, int]
) -> list[FundingLine]:
    """The category's ranked table with each project's funding outcome."""
    ranked = sorted(
        (p for p in projects if p.category_id == category.category_id),
        key=lambda p: rank_key(p, votes.get(p.project_id, 0)),
    )
    left = category.budget
    lines = []
    for rank, project in enumerate(ranked, start=1):
        project_votes = votes.get(project.project_id, 0)
        if project_votes < max(category.min_votes_to_fund, 1):
            outcome = FundingOutcome.TOO_FEW_VOTES
        elif project.cost <= left:
            outcome = FundingOutcome.FUNDED
            left -= project.cost
        else:
            outcome = FundingOutcome.OVER_BUDGET
        lines.append(FundingLine(rank, project.project_id, project_votes, project.cost, outcome, left))
    return lines
