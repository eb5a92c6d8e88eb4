"""The ballot and its rule: what a voter may choose, checked the same way everywhere.

Money is in kopiykas (integers), never floats: 300 000 грн is 30_000_000.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .funding_rules import FundingMethod, TieBreak
from .record import MAX_SELECTIONS

SHARE_SCALE = 10_000  # min_votes_share is in hundredths of a per cent


@dataclass(frozen=True, slots=True)
class Problem:
    """A broken rule: a message code (see voting.messages) and its parameters."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, **self.params}


@dataclass(frozen=True, slots=True)
class CategoryRule:
    category_id: int
    name: str
    budget: int  # kopiykas available to fund this category's projects
    min_choices: int = 0
    max_choices: int = 1
    # When set, a voter's choices in this category may not cost more than `budget`.
    budget_limited: bool = False
    # Most a single project in the category may cost (e.g. "малі проєкти до 300 000 грн").
    max_project_cost: int | None = None
    # Fewest votes a project needs to be funded at all.
    min_votes_to_fund: int = 1
    # How votes become funded projects (voting.funding_rules.FundingMethod) and who wins
    # equal votes (TieBreak); the lot's seed is fixed and published with the rule.
    method: str = "greedy"
    tie_break: str = "cheaper"
    lot_seed: str = ""
    # Fewest votes as a share of the category's valid ballots, in hundredths of a per
    # cent (1 000 = 10 %); 0: none. Applies together with min_votes_to_fund.
    min_votes_share: int = 0
    # Least a single project in the category may cost.
    min_project_cost: int | None = None
    # Money left unspent moves to this category (its id) before that one is counted;
    # None: it stays unspent.
    leftover_to: int | None = None
    # Groups of mutually exclusive projects (their ids): at most one of each is funded.
    exclusive_groups: tuple[tuple[int, ...], ...] = ()
    # Equal Shares' completion raises every voter's budget by this much each time
    # (kopiykas; 100 = 1 грн, the "one unit" cities use).
    completion_step: int = 100
    # Only residents of this district (as the community's voter list names it) may vote
    # in the category; "": every resident (voting.district).
    district: str = ""


@dataclass(frozen=True, slots=True)
class BallotProject:
    project_id: int
    category_id: int
    cost: int  # kopiykas
    title: str = ""
    number: int | None = None  # the number printed on ballots (order of registration)


@dataclass(frozen=True, slots=True)
class CategoryStatus:
    """Live feedback for a voter choosing in one category."""

    category_id: int
    chosen: int
    choices_left: int
    budget_left: int | None  # None when the category is not budget-limited


@dataclass(frozen=True)
class Ballot:
    """One cycle's admitted projects and its rule."""

    categories: Sequence[CategoryRule]
    projects: Sequence[BallotProject]
    min_total: int = 1
    max_total: int | None = None  # None: only the per-category limits apply

    def __post_init__(self) -> None:
        object.__setattr__(self, "_projects", {p.project_id: p for p in self.projects})
        object.__setattr__(self, "_categories", {c.category_id: c for c in self.categories})

    def project(self, project_id: int) -> BallotProject | None:
        projects: dict[int, BallotProject] = self.__dict__["_projects"]  # set in __post_init__
        return projects.get(project_id)

    def check(self, selections: Iterable[int]) -> list[Problem]:
        """Every way `selections` breaks the rule; an empty list means a valid vote."""
        chosen = list(selections)
        problems: list[Problem] = []
        if len(set(chosen)) != len(chosen):  # the common case skips counting
            for project_id, times in Counter(chosen).items():
                if times > 1:
                    problems.append(Problem("ballot.repeated_project", {"project": project_id}))
        known = [self.project(p) for p in dict.fromkeys(chosen)]
        for project_id, project in zip(dict.fromkeys(chosen), known, strict=True):
            if project is None:
                problems.append(Problem("ballot.unknown_project", {"project": project_id}))
        valid = [p for p in known if p is not None]
        if not chosen:
            problems.append(Problem("ballot.empty"))
        for category in self.categories:
            in_category = [p for p in valid if p.category_id == category.category_id]
            params = {"category": category.name}
            if len(in_category) < category.min_choices:
                problems.append(
                    Problem(
                        "ballot.too_few_in_category",
                        params | {"limit": category.min_choices},
                    )
                )
            if len(in_category) > category.max_choices:
                problems.append(
                    Problem(
                        "ballot.too_many_in_category",
                        params | {"limit": category.max_choices},
                    )
                )
            if category.budget_limited and sum(p.cost for p in in_category) > category.budget:
                problems.append(Problem("ballot.over_category_budget", params))
        if chosen and len(valid) < self.min_total:
            problems.append(Problem("ballot.too_few_total", {"limit": self.min_total}))
        limit = self.total_limit
        if len(valid) > limit or len(chosen) > MAX_SELECTIONS:
            problems.append(Problem("ballot.too_many_total", {"limit": limit}))
        return problems

    @property
    def total_limit(self) -> int:
        """The most projects one vote may choose: the cycle's limit, never above what a
        vote record can carry (voting.record.MAX_SELECTIONS)."""
        return MAX_SELECTIONS if self.max_total is None else min(self.max_total, MAX_SELECTIONS)

    def status(self, selections: Iterable[int]) -> list[CategoryStatus]:
        """How many more a voter may choose (and spend) per category, for live feedback."""
        valid = [p for p in (self.project(s) for s in set(selections)) if p is not None]
        total_left = self.total_limit - len(valid)
        result = []
        for category in self.categories:
            in_category = [p for p in valid if p.category_id == category.category_id]
            left = category.max_choices - len(in_category)
            left = min(left, total_left)
            budget_left = None
            if category.budget_limited:
                budget_left = category.budget - sum(p.cost for p in in_category)
            result.append(CategoryStatus(category.category_id, len(in_category), max(left, 0), budget_left))
        return result


def check_funding_rule(category: CategoryRule, project_ids: Sequence[int] | None = None) -> list[Problem]:
    """Problems in how a category funds projects: method, tie-break, thresholds, groups."""
    problems: list[Problem] = []
    params = {"category": category.name}
    if category.method not in set(FundingMethod):
        problems.append(Problem("rule.unknown_method", params | {"method": str(category.method)[:40]}))
    if category.tie_break not in set(TieBreak):
        named = {"tie_break": str(category.tie_break)[:40]}
        problems.append(Problem("rule.unknown_tie_break", params | named))
    elif category.tie_break == TieBreak.LOT and not category.lot_seed:
        problems.append(Problem("rule.lot_seed_missing", params))
    if not 0 <= category.min_votes_share <= SHARE_SCALE:
        problems.append(Problem("rule.share_range", params))
    if category.completion_step <= 0:
        problems.append(Problem("rule.negative"))
    if category.leftover_to is not None and category.leftover_to == category.category_id:
        problems.append(Problem("rule.leftover_to_self", params))
    low, high = category.min_project_cost, category.max_project_cost
    if low is not None and (low < 0 or (high is not None and low > high)):
        problems.append(Problem("rule.cost_bounds_order", params))
    seen: set[int] = set()
    known = None if project_ids is None else set(project_ids)
    for group in category.exclusive_groups:
        members = set(group)
        if len(members) < 2 or len(members) != len(group) or members & seen:
            problems.append(Problem("rule.exclusive_group", params))
        elif known is not None and not members <= known:
            problems.append(Problem("rule.exclusive_group_unknown", params))
        seen |= members
    return problems


def check_category_rule(
    category: CategoryRule, project_costs: Sequence[int], project_ids: Sequence[int] | None = None
) -> list[Problem]:
    """Problems that make a category's rule impossible to satisfy or to fund."""
    problems: list[Problem] = check_funding_rule(category, project_ids)
    if category.min_choices < 0 or category.max_choices < 0 or category.min_votes_to_fund < 0:
        problems.append(Problem("rule.negative"))
    if category.max_choices == 0:
        problems.append(Problem("rule.max_zero"))
    if category.district and category.min_choices > 0:
        # Residents of other districts never see it: a minimum there would make every
        # one of their votes invalid.
        problems.append(Problem("rule.district_min_choices", {"category": category.name}))
    if category.max_choices > MAX_SELECTIONS:
        limits = {"max": category.max_choices, "limit": MAX_SELECTIONS}
        problems.append(Problem("rule.max_above_limit", limits))
    if category.max_choices < category.min_choices:
        problems.append(
            Problem(
                "rule.max_below_min",
                {"min": category.min_choices, "max": category.max_choices},
            )
        )
    if category.budget <= 0:
        problems.append(Problem("rule.budget_not_positive"))
    elif project_costs and category.budget < min(project_costs):
        problems.append(
            Problem(
                "rule.budget_below_cheapest",
                {
                    "category": category.name,
                    "budget": category.budget,
                    "cheapest": min(project_costs),
                },
            )
        )
    if project_costs and category.min_choices > len(project_costs):
        problems.append(
            Problem(
                "rule.min_above_projects",
                {"min": category.min_choices, "count": len(project_costs)},
            )
        )
    if category.max_project_cost is not None:
        for cost in project_costs:
            if cost > category.max_project_cost:
                problems.append(
                    Problem(
                        "rule.project_over_cap",
                        {
                            "category": category.name,
                            "cost": cost,
                            "cap": category.max_project_cost,
                        },
                    )
                )
                break
    if category.min_project_cost is not None:
        for cost in project_costs:
            if cost < category.min_project_cost:
                problems.append(
                    Problem(
                        "rule.project_under_floor",
                        {"category": category.name, "cost": cost, "floor": category.min_project_cost},
                    )
                )
                break
    return problems


def check_ballot_rule(ballot: Ballot) -> list[Problem]:
    """Problems that make a whole cycle's rule impossible (checked when a moderator saves)."""
    problems: list[Problem] = []
    for category in ballot.categories:
        own = [p for p in ballot.projects if p.category_id == category.category_id]
        problems.extend(check_category_rule(category, [p.cost for p in own], [p.project_id for p in own]))
    problems.extend(check_leftover_chain(ballot.categories))
    if ballot.min_total < 0 or (ballot.max_total is not None and ballot.max_total < 0):
        problems.append(Problem("rule.negative"))
    if ballot.min_total > MAX_SELECTIONS or (ballot.max_total or 0) > MAX_SELECTIONS:
        problems.append(
            Problem(
                "rule.max_above_limit",
                {"max": max(ballot.min_total, ballot.max_total or 0), "limit": MAX_SELECTIONS},
            )
        )
    if ballot.max_total is not None and ballot.max_total < ballot.min_total:
        problems.append(Problem("rule.max_below_min", {"min": ballot.min_total, "max": ballot.max_total}))
    reachable = sum(c.max_choices for c in ballot.categories)
    if ballot.categories and ballot.min_total > reachable:
        problems.append(
            Problem(
                "rule.total_min_above_categories",
                {"min": ballot.min_total, "reachable": reachable},
            )
        )
    problems.extend(_district_reach(ballot))
    return problems


def _district_reach(ballot: Ballot) -> list[Problem]:
    """A resident sees the categories open to all and their own district's (none, for a
    resident the list places nowhere). The server judges every vote by the whole
    cycle's minimum, so whoever can choose anything at all must be able to reach it;
    otherwise their terminal's vote would be found invalid later."""
    from voting.district import district_key  # voting.district builds on this module

    if not any(c.district for c in ballot.categories):
        return []
    open_to_all = sum(c.max_choices for c in ballot.categories if not c.district)
    reach = {"": open_to_all}
    for c in ballot.categories:
        if c.district:
            key = district_key(c.district)
            reach[key] = reach.get(key, open_to_all) + c.max_choices
    short = min((r for r in reach.values() if r > 0), default=None)
    if short is None or ballot.min_total <= short:
        return []
    return [Problem("rule.total_min_above_open_categories", {"min": ballot.min_total, "reachable": short})]


def check_leftover_chain(categories: Sequence[CategoryRule]) -> list[Problem]:
    """Leftover money may only move to a category of the same cycle, and never round in
    a circle (each category is counted after every category whose money it receives)."""
    by_id = {c.category_id: c for c in categories}
    problems = []
    for category in categories:
        if category.leftover_to is None or category.leftover_to == category.category_id:
            continue
        if category.leftover_to not in by_id:
            problems.append(Problem("rule.leftover_unknown", {"category": category.name}))
            continue
        seen, step = {category.category_id}, by_id[category.leftover_to]
        while step.leftover_to is not None and step.leftover_to in by_id:
            if step.category_id in seen:
                problems.append(Problem("rule.leftover_cycle", {"category": category.name}))
                break
            seen.add(step.category_id)
            step = by_id[step.leftover_to]
    return problems
