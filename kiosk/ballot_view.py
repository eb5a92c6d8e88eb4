"""The ballot as a voter sees it: one category per screen, each project a card that
can be chosen or not, and what the rule still allows. Pure: data in, data out.

Every choice goes through the same rule as everywhere else (voting.Ballot): a choice
that would break a limit is refused with the domain's own message, whether it came
from a tap on a card the screen offered or from a request crafted to get around it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.i18n import N_
from sync.cycle_package import NO_DETAILS, PackagedCycle, PackagedProject, ProjectDetails
from voting import Ballot, BallotProject, CategoryRule, CategoryStatus, Problem

# Problems that adding a project can cause; "too few" ones are for leaving a screen.
_OVER_LIMIT = frozenset(
    {
        "ballot.unknown_project",
        "ballot.repeated_project",
        "ballot.too_many_in_category",
        "ballot.over_category_budget",
        "ballot.too_many_total",
    }
)
BLOCKED_CATEGORY_FULL = N_("Обрано найбільшу кількість у цій категорії")
BLOCKED_TOTAL_FULL = N_("Обрано найбільшу кількість проєктів загалом")
BLOCKED_OVER_BUDGET = N_("Перевищує залишок бюджету")


@dataclass(frozen=True, slots=True)
class ProjectCard:
    project_id: int
    number: int | None
    title: str
    description: str
    district: str | None
    cost: int
    chosen: bool
    blocked: str | None  # why it cannot be chosen now (Ukrainian), None if it can


@dataclass(frozen=True, slots=True)
class CategoryPage:
    index: int  # 0-based position among the ballot's categories
    count: int
    rule: CategoryRule
    status: CategoryStatus
    cards: list[ProjectCard]

    @property
    def is_first(self) -> bool:
        return self.index == 0

    @property
    def is_last(self) -> bool:
        return self.index == self.count - 1


@dataclass(frozen=True, slots=True)
class ReviewCategory:
    index: int
    rule: CategoryRule
    chosen: list[BallotProject]

    @property
    def total_cost(self) -> int:
        return sum(p.cost for p in self.chosen)


def _details(cycle: PackagedCycle) -> dict[int, PackagedProject]:
    return {p.id: p for p in cycle.projects}


def category_page(ballot: Ballot, cycle: PackagedCycle, selections: list[int], index: int) -> CategoryPage:
    """Category number `index` (clamped to the ballot) with every project as a card."""
    index = max(0, min(index, len(ballot.categories) - 1))
    rule = ballot.categories[index]
    status = next(s for s in ballot.status(selections) if s.category_id == rule.category_id)
    details = _details(cycle)
    cards = []
    for project in ballot.projects:
        if project.category_id != rule.category_id:
            continue
        chosen = project.project_id in selections
        blocked = None
        if not chosen:
            if status.choices_left == 0:
                full_here = status.chosen >= rule.max_choices
                blocked = BLOCKED_CATEGORY_FULL if full_here else BLOCKED_TOTAL_FULL
            elif status.budget_left is not None and project.cost > status.budget_left:
                blocked = BLOCKED_OVER_BUDGET
        extra = details.get(project.project_id)
        cards.append(
            ProjectCard(
                project_id=project.project_id,
                number=extra.number if extra else None,
                title=project.title,
                description=extra.description if extra else "",
                district=extra.district if extra else None,
                cost=project.cost,
                chosen=chosen,
                blocked=blocked,
            )
        )
    return CategoryPage(index, len(ballot.categories), rule, status, cards)


@dataclass(frozen=True, slots=True)
class ProjectDetailPage:
    """One project of the ballot in full (the card's "More about the project")."""

    project_id: int
    number: int | None
    title: str
    description: str
    district: str | None
    cost: int
    category: str
    details: ProjectDetails
    card: ProjectCard | None  # on the category page shown now: it can be chosen from here


def project_detail(
    ballot: Ballot, cycle: PackagedCycle, selections: list[int], index: int, project_id: int
) -> ProjectDetailPage | None:
    """The detail of a project on the voter's ballot; None for any other (one of a
    category not offered to this voter, or no project at all)."""
    project = ballot.project(project_id)
    if project is None:
        return None
    extra = _details(cycle).get(project_id)
    rule = next(c for c in ballot.categories if c.category_id == project.category_id)
    page = category_page(ballot, cycle, selections, index)
    return ProjectDetailPage(
        project_id=project_id,
        number=extra.number if extra else None,
        title=project.title,
        description=extra.description if extra else "",
        district=extra.district if extra else None,
        cost=project.cost,
        category=rule.name,
        details=extra.details if extra else NO_DETAILS,
        card=next((c for c in page.cards if c.project_id == project_id), None),
    )


def toggle(ballot: Ballot, selections: list[int], project_id: int, category_id: int) -> list[int] | Problem:
    """The selection with `project_id` chosen or unchosen, or the Problem that stops it.
    Only projects of the category on screen (`category_id`) can be toggled."""
    project = ballot.project(project_id)
    if project is None or project.category_id != category_id:
        return Problem("ballot.unknown_project", {"project": project_id})
    if project_id in selections:
        return [p for p in selections if p != project_id]
    chosen = [*selections, project_id]
    for problem in ballot.check(chosen):
        if problem.code in _OVER_LIMIT:
            return problem
    return chosen


def leaving_problems(ballot: Ballot, selections: list[int], index: int) -> list[Problem]:
    """What must be fixed before leaving category `index` forward (its minimum)."""
    rule = ballot.categories[index]
    return [
        p
        for p in ballot.check(selections)
        if p.code == "ballot.too_few_in_category" and p.params.get("category") == rule.name
    ]


def review(ballot: Ballot, selections: list[int]) -> list[ReviewCategory]:
    chosen = [ballot.project(p) for p in selections]
    return [
        ReviewCategory(
            index,
            rule,
            sorted(
                (p for p in chosen if p is not None and p.category_id == rule.category_id),
                key=lambda p: p.project_id,
            ),
        )
        for index, rule in enumerate(ballot.categories)
    ]
