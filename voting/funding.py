"""Which projects get funded, and why each one was or was not.

THE DEFAULT RULE, per category. Projects are ranked by counted votes, most first; equal
votes are ranked by lower cost first (the same money then funds more), then by the
smaller project id (earlier registered). Going down the ranking, a project is funded
when it has at least the category's minimum votes and its cost fits in what is left of
the category budget; a project that does not fit is skipped and the next ones are still
tried, so the budget is not left idle because one large project missed it.

A category may choose another method (voting.funding_rules.FundingMethod): stop at the
first project that does not fit, or the Method of Equal Shares (voting.equal_shares);
another tie-break (lower number first, or a lot with a published seed); a minimum share
of the category's valid ballots; cost bounds; groups of mutually exclusive projects.
Every line of the result says why: funded, too few votes, did not fit (and how much was
left), stopped, excluded by another project, cost outside the bounds, or (Equal Shares)
its supporters had too little money left.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypedDict

from .ballot import SHARE_SCALE, BallotProject, CategoryRule
from .funding_rules import FundingMethod, TieBreak, rank_key


class FundingOutcome(StrEnum):
    FUNDED = "funded"
    OVER_BUDGET = "over_budget"  # would not fit in what was left
    TOO_FEW_VOTES = "too_few_votes"  # below the category's threshold
    STOPPED = "stopped"  # after the first project that did not fit (no-skip method)
    EXCLUDED = "excluded"  # a project of its exclusive group was funded first
    COST_OUT_OF_BOUNDS = "cost_out_of_bounds"  # costs less or more than the category allows
    SUPPORTERS_SHORT = "supporters_short"  # Equal Shares: its voters' money left was too little


@dataclass(frozen=True, slots=True)
class FundingLine:
    rank: int
    project_id: int
    votes: int
    cost: int
    outcome: FundingOutcome
    budget_left_after: int  # kopiykas left in the category after this line
    threshold: int = 1  # the fewest votes the category required
    excluded_by: int | None = None  # EXCLUDED: the funded project of its group
    stopped_at: int | None = None  # STOPPED: the project that did not fit and ended the count
    round: int | None = None  # Equal Shares: the round in which it was funded
    price: float | None = None  # Equal Shares: the most one supporter paid (kopiykas)
    supporters_money: int | None = None  # SUPPORTERS_SHORT: what its supporters had left

    @property
    def funded(self) -> bool:
        return self.outcome is FundingOutcome.FUNDED


@dataclass(frozen=True, slots=True)
class EqualSharesRound:
    """One project bought by its supporters' equal shares."""

    round: int
    project_id: int
    cost: int
    price: float  # the most one supporter paid, kopiykas (the equal share)
    full_payers: int  # supporters who paid the whole share
    partial_payers: int  # supporters who paid all they had left, less than the share
    supporters: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """Equal Shares against the greedy rule: whom more voters prefer (Wieliczka)."""

    prefer_equal_shares: int  # voters whose chosen projects got more money from Equal Shares
    prefer_greedy: int
    chosen: FundingMethod  # EQUAL_SHARES unless more voters prefer GREEDY


@dataclass(frozen=True)
class CategoryFunding:
    """A category's funding decision with everything needed to explain and redo it."""

    category_id: int
    method: FundingMethod
    tie_break: TieBreak
    lot_seed: str
    budget: int  # the category's own budget
    moved_in: int  # leftover moved here from other categories
    threshold: int  # the fewest votes a project needed
    valid_ballots: int | None  # counted ballots choosing in this category, when known
    lines: tuple[FundingLine, ...]
    rounds: tuple[EqualSharesRound, ...] = ()
    voter_budget: float | None = None  # Equal Shares: each voter's budget in the final run
    completion_steps: int = 0  # Equal Shares: how many times voters' budgets were raised
    completion_capped: bool = False  # Equal Shares: the raises stopped at MAX_RAISES
    comparison: Comparison | None = None
    moved_to: int | None = field(default=None)  # the category receiving the leftover

    @property
    def available(self) -> int:
        return self.budget + self.moved_in

    @property
    def spent(self) -> int:
        return sum(line.cost for line in self.lines if line.funded)

    @property
    def leftover(self) -> int:
        return self.available - self.spent

    @property
    def funded(self) -> list[int]:
        return [line.project_id for line in self.lines if line.funded]


def vote_threshold(category: CategoryRule, valid_ballots: int | None) -> int:
    """The fewest votes a project needs: the number, and the share of valid ballots."""
    threshold = max(category.min_votes_to_fund, 1)
    if category.min_votes_share:
        if valid_ballots is None:
            raise ValueError(f"category {category.category_id}: a share threshold needs the ballots count")
        # ceil(ballots * share), in integers: no float decides who is in.
        by_share = -(-valid_ballots * category.min_votes_share // SHARE_SCALE)
        threshold = max(threshold, by_share)
    return threshold


def in_cost_bounds(category: CategoryRule, cost: int) -> bool:
    if category.min_project_cost is not None and cost < category.min_project_cost:
        return False
    return category.max_project_cost is None or cost <= category.max_project_cost


def exclusive_partners(category: CategoryRule) -> dict[int, tuple[int, ...]]:
    """Each grouped project's partners: funding it rules them out."""
    partners: dict[int, tuple[int, ...]] = {}
    for group in category.exclusive_groups:
        for project_id in group:
            partners[project_id] = tuple(p for p in group if p != project_id)
    return partners


class FundingCommon(TypedDict):
    """The fields of a CategoryFunding that every method fills the same way."""

    category_id: int
    method: FundingMethod
    tie_break: TieBreak
    lot_seed: str
    budget: int
    moved_in: int
    threshold: int
    valid_ballots: int | None
    moved_to: int | None


def ranked(
    category: CategoryRule, projects: Iterable[BallotProject], votes: Mapping[int, int]
) -> list[BallotProject]:
    """The category's projects, most votes first, ties by the category's tie-break."""
    return sorted(
        (p for p in projects if p.category_id == category.category_id),
        key=lambda p: rank_key(p, votes.get(p.project_id, 0), category.tie_break, category.lot_seed),
    )


def greedy_lines(
    category: CategoryRule,
    order: Sequence[BallotProject],
    votes: Mapping[int, int],
    budget: int,
    threshold: int,
    *,
    skip: bool = True,
) -> list[FundingLine]:
    """Down the ranking, fund what fits; skip what does not, or (skip=False) stop there."""
    partners = exclusive_partners(category)
    excluded: dict[int, int] = {}
    stopped_at: int | None = None
    left = budget
    lines = []
    for rank, project in enumerate(order, start=1):
        project_votes = votes.get(project.project_id, 0)
        extra: dict[str, Any] = {}
        if project_votes < threshold:
            outcome = FundingOutcome.TOO_FEW_VOTES
        elif not in_cost_bounds(category, project.cost):
            outcome = FundingOutcome.COST_OUT_OF_BOUNDS
        elif project.project_id in excluded:
            outcome, extra = FundingOutcome.EXCLUDED, {"excluded_by": excluded[project.project_id]}
        elif stopped_at is not None:
            outcome, extra = FundingOutcome.STOPPED, {"stopped_at": stopped_at}
        elif project.cost <= left:
            outcome = FundingOutcome.FUNDED
            left -= project.cost
            for partner in partners.get(project.project_id, ()):
                excluded.setdefault(partner, project.project_id)
        else:
            outcome = FundingOutcome.OVER_BUDGET
            if not skip:
                stopped_at = project.project_id
        lines.append(
            FundingLine(
                rank, project.project_id, project_votes, project.cost, outcome, left, threshold, **extra
            )
        )
    return lines


def allocate(
    category: CategoryRule,
    projects: Sequence[BallotProject],
    votes: Mapping[int, int],
    *,
    ballots: Sequence[Iterable[int]] | None = None,
    valid_ballots: int | None = None,
) -> list[FundingLine]:
    """The category's ranked table with each project's funding outcome."""
    return list(fund_category(category, projects, votes, ballots=ballots, valid_ballots=valid_ballots).lines)


def fund_category(
    category: CategoryRule,
    projects: Sequence[BallotProject],
    votes: Mapping[int, int],
    *,
    ballots: Sequence[Iterable[int]] | None = None,
    valid_ballots: int | None = None,
    moved_in: int = 0,
) -> CategoryFunding:
    """Fund one category by its rule. `votes`: counted votes per project (what the table
    shows); `ballots`: every counted ballot's selections (Equal Shares and a share
    threshold need them); `moved_in`: leftover received from other categories."""
    method = FundingMethod(category.method)
    own_ids = {p.project_id for p in projects if p.category_id == category.category_id}
    category_ballots = None
    if ballots is not None:
        category_ballots = [own_ids.intersection(b) for b in ballots]
        category_ballots = [b for b in category_ballots if b]
        if valid_ballots is None:
            valid_ballots = len(category_ballots)
    threshold = vote_threshold(category, valid_ballots)
    order = ranked(category, projects, votes)
    budget = category.budget + moved_in
    common = FundingCommon(
        category_id=category.category_id,
        method=method,
        tie_break=TieBreak(category.tie_break),
        lot_seed=category.lot_seed,
        budget=category.budget,
        moved_in=moved_in,
        threshold=threshold,
        valid_ballots=valid_ballots,
        moved_to=category.leftover_to,
    )
    if not method.needs_ballots:
        lines = greedy_lines(category, order, votes, budget, threshold, skip=method is FundingMethod.GREEDY)
        return CategoryFunding(lines=tuple(lines), **common)
    if category_ballots is None:
        raise ValueError(f"category {category.category_id}: Equal Shares needs every counted ballot")
    from .equal_shares import fund_by_equal_shares  # here: equal_shares imports this module

    return fund_by_equal_shares(category, order, votes, category_ballots, budget, threshold, common)
