"""Budget cycles and their categories, set up by moderators without ever saving a rule
that voters could not satisfy or a budget could not fund (projects: services.projects).

Every change is checked before any row is touched: the new state of the ballot is built
in memory and put through the domain's rule checks (voting.check_category_rule and
voting.check_ballot_rule). A change is refused when it adds a problem; problems already
there (rows made some other way) do not block fixing something else.

Once voting has started, votes are judged against the ballot as published, so whatever
decides which votes are valid (the rule, which projects are on the ballot, their numbers,
costs and categories, the start) is frozen. Texts can still be corrected.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Category, Community, Cycle, CycleKind, utcnow
from server.services import audit
from server.services.cycle_rules import ballot_for, parse_exclusive_groups
from server.services.validation import (
    MAX_MONEY,
    Refused,
    check_at_most,
    check_money,
    check_range,
    clean_slug,
    clean_text,
)
from server.texts import _l
from voting import Ballot, CategoryRule, Problem, TieBreak, check_ballot_rule, check_category_rule
from voting.district import DistrictError, clean_district
from voting.eligibility import MIN_AGE_LIMITS
from voting.record import MAX_SELECTIONS

# A category and a cycle may allow as many choices as a vote record can carry, no more.
MAX_CHOICES = MAX_SELECTIONS
MAX_MIN_VOTES = 10_000_000
MAX_POSITION = 10_000


@dataclass(frozen=True)
class CycleFields:
    title: str
    slug: str
    kind: str
    voting_starts_at: datetime  # aware
    voting_ends_at: datetime  # aware
    min_total: int
    max_total: int | None
    min_age: int | None = None  # residents younger on the day they vote may not vote


@dataclass(frozen=True)
class CategoryFields:
    name: str
    budget: int  # kopiykas
    min_choices: int
    max_choices: int
    budget_limited: bool
    max_project_cost: int | None  # kopiykas
    min_votes_to_fund: int
    position: int
    # How the category funds projects (voting.funding_rules); the defaults are the rule
    # every category had before they existed.
    funding_method: str = "greedy"
    tie_break: str = "cheaper"
    min_votes_share: int = 0  # hundredths of a per cent of the category's valid ballots
    min_project_cost: int | None = None  # kopiykas
    leftover_to_id: int | None = None
    exclusive_groups: str = ""  # project numbers, "3,7; 12,14"
    completion_step: int = 100  # kopiykas
    # Only residents of this district may vote in the category ("": all residents).
    district: str = ""


def voting_started(cycle: Cycle, now: datetime | None = None) -> bool:
    return cycle.voting_starts_at <= (now or utcnow())


# --- cycles ---------------------------------------------------------------------------


def create_cycle(
    session: Session, *, community_id: int, fields: CycleFields, now: datetime | None = None
) -> Cycle:
    community = session.get(Community, community_id)
    if community is None:
        raise Refused(_l("Оберіть громаду."), field="community_id")
    fields = _clean_cycle(session, community_id, fields, cycle=None)
    if fields.voting_starts_at <= (now or utcnow()):
        # A cycle that has already started could never get its categories and projects.
        raise Refused(
            _l("Початок голосування має бути в майбутньому: після початку бюлетень уже не змінити."),
            field="voting_starts_at",
        )
    refuse_new_problems(Ballot([], [], 1, None), Ballot([], [], fields.min_total, fields.max_total))
    cycle = Cycle(community_id=community_id, timezone=community.timezone, **_cycle_values(fields))
    session.add(cycle)
    session.flush()
    audit.record(
        session,
        "cycle.create",
        community_id=community_id,
        target=("cycle", cycle.id),
        details={k: jsonable(v) for k, v in _cycle_values(fields).items()},
    )
    return cycle


def update_cycle(session: Session, cycle: Cycle, fields: CycleFields, now: datetime | None = None) -> None:
    now = now or utcnow()
    fields = _clean_cycle(session, cycle.community_id, fields, cycle=cycle)
    if voting_started(cycle, now):
        # The minimum age too: the votes already cast were judged by it.
        frozen = ("kind", "voting_starts_at", "min_total", "max_total", "min_age")
        if any(getattr(cycle, name) != getattr(fields, name) for name in frozen):
            raise Refused(
                _l(
                    "Голосування вже почалося: тип циклу, його початок, загальні обмеження "
                    "і мінімальний вік змінити не можна."
                ),
            )
        if fields.voting_ends_at != cycle.voting_ends_at and fields.voting_ends_at <= now:
            raise Refused(
                _l("Голосування триває: новий кінець не може бути в минулому."),
                field="voting_ends_at",
            )
    ballot = ballot_for(session, cycle)
    refuse_new_problems(ballot, replace(ballot, min_total=fields.min_total, max_total=fields.max_total))
    changes = apply_changes(cycle, _cycle_values(fields))
    if changes:
        session.flush()
        audit.record(
            session,
            "cycle.update",
            community_id=cycle.community_id,
            target=("cycle", cycle.id),
            details=changes,
        )


def _clean_cycle(
    session: Session, community_id: int, fields: CycleFields, cycle: Cycle | None
) -> CycleFields:
    title = clean_text(fields.title, field="title", max_length=200)
    slug = clean_slug(fields.slug)
    taken = session.scalar(
        select(Cycle.id).where(
            Cycle.community_id == community_id,
            Cycle.slug == slug,
            Cycle.id != (cycle.id if cycle else -1),
        )
    )
    if taken is not None:
        raise Refused(
            _l("У громаді вже є цикл з такою адресою."),
            field="slug",
        )
    if fields.kind not in {k.value for k in CycleKind}:
        raise Refused(_l("Оберіть тип циклу."), field="kind")
    if fields.voting_starts_at.tzinfo is None or fields.voting_ends_at.tzinfo is None:
        raise ValueError("voting window must be given as aware datetimes")
    if fields.voting_ends_at <= fields.voting_starts_at:
        raise Refused(field="voting_ends_at", problems=[Problem("rule.window_order")])
    check_at_most(fields.min_total, field="min_total", maximum=MAX_CHOICES)
    if fields.max_total is not None:
        check_at_most(fields.max_total, field="max_total", maximum=MAX_CHOICES)
    if fields.min_age is not None and not MIN_AGE_LIMITS[0] <= fields.min_age <= MIN_AGE_LIMITS[1]:
        raise Refused(
            _l(
                "Мінімальний вік — від {lowest} до {highest} років.",
                lowest=MIN_AGE_LIMITS[0],
                highest=MIN_AGE_LIMITS[1],
            ),
            field="min_age",
        )
    return replace(fields, title=title, slug=slug)


def _cycle_values(fields: CycleFields) -> dict[str, Any]:
    return {
        "title": fields.title,
        "slug": fields.slug,
        "kind": fields.kind,
        "voting_starts_at": fields.voting_starts_at,
        "voting_ends_at": fields.voting_ends_at,
        "min_total": fields.min_total,
        "max_total": fields.max_total,
        "min_age": fields.min_age,
    }


# --- categories -----------------------------------------------------------------------


def save_category(
    session: Session,
    cycle: Cycle,
    fields: CategoryFields,
    category: Category | None = None,
    now: datetime | None = None,
) -> Category:
    """Add a category to `cycle` (when `category` is None) or change it."""
    name = clean_text(fields.name, field="name", max_length=200)
    taken = session.scalar(
        select(Category.id).where(
            Category.cycle_id == cycle.id,
            Category.name == name,
            Category.id != (category.id if category else -1),
        )
    )
    if taken is not None:
        raise Refused(
            _l("У циклі вже є категорія з такою назвою."),
            field="name",
        )
    check_at_most(fields.budget, field="budget", maximum=MAX_MONEY)
    check_at_most(fields.min_choices, field="min_choices", maximum=MAX_CHOICES)
    check_at_most(fields.max_choices, field="max_choices", maximum=MAX_CHOICES)
    check_at_most(fields.min_votes_to_fund, field="min_votes_to_fund", maximum=MAX_MIN_VOTES)
    check_range(fields.position, field="position", minimum=0, maximum=MAX_POSITION)
    check_money(fields.max_project_cost, field="max_project_cost", required=False)
    check_money(fields.min_project_cost, field="min_project_cost", required=False)
    check_money(fields.completion_step, field="completion_step")
    try:
        district = clean_district(fields.district) or None
    except DistrictError as error:
        raise Refused(field="district", problems=[Problem(error.code, dict(error.params))]) from None
    fields = replace(fields, name=name)
    ballot = ballot_for(session, cycle)
    groups, id_groups = _exclusive_groups(fields.exclusive_groups, ballot, category)
    _check_leftover_target(session, cycle, fields.leftover_to_id, category)
    values: dict[str, Any] = {
        "name": fields.name,
        "budget": fields.budget,
        "min_choices": fields.min_choices,
        "max_choices": fields.max_choices,
        "budget_limited": fields.budget_limited,
        "max_project_cost": fields.max_project_cost,
        "min_votes_to_fund": fields.min_votes_to_fund,
        "position": fields.position,
        "funding_method": fields.funding_method[:32],
        "tie_break": fields.tie_break[:16],
        "min_votes_share": fields.min_votes_share,
        "min_project_cost": fields.min_project_cost,
        "leftover_to_id": fields.leftover_to_id,
        "exclusive_groups": groups,
        "completion_step": fields.completion_step,
        "district": district,
    }
    # A lot's seed is drawn once, when the lot is chosen, before any vote exists, and
    # published with the rule: nobody can pick a seed that favours a known result.
    seed = category.lot_seed if category is not None and category.lot_seed else ""
    if fields.tie_break == TieBreak.LOT and not seed:
        seed = secrets.token_hex(16)
    values["lot_seed"] = seed
    if voting_started(cycle, now):
        if category is None or any(getattr(category, k) != v for k, v in values.items() if k != "name"):
            raise Refused(
                _l("Голосування вже почалося: категорії та їхні правила змінити не можна, лише назву."),
            )
    candidate = CategoryRule(
        category_id=category.id if category else 0,
        name=fields.name,
        budget=fields.budget,
        min_choices=fields.min_choices,
        max_choices=fields.max_choices,
        budget_limited=fields.budget_limited,
        max_project_cost=fields.max_project_cost,
        min_votes_to_fund=fields.min_votes_to_fund,
        method=values["funding_method"],
        tie_break=values["tie_break"],
        lot_seed=seed,
        min_votes_share=fields.min_votes_share,
        min_project_cost=fields.min_project_cost,
        leftover_to=fields.leftover_to_id,
        exclusive_groups=id_groups,
        completion_step=fields.completion_step,
        district=district or "",
    )
    own_projects = [p for p in ballot.projects if category is not None and p.category_id == category.id]
    own = check_category_rule(candidate, [p.cost for p in own_projects], [p.project_id for p in own_projects])
    others = [c for c in ballot.categories if c.category_id != candidate.category_id]
    refuse_new_problems(ballot, replace(ballot, categories=[*others, candidate]), always=own)

    if category is None:
        category = Category(community_id=cycle.community_id, cycle_id=cycle.id, **values)
        session.add(category)
        session.flush()
        audit.record(
            session,
            "category.create",
            community_id=cycle.community_id,
            target=("category", category.id),
            details={"cycle_id": cycle.id, **values},
        )
        return category
    changes = apply_changes(category, values)
    if changes:
        session.flush()
        audit.record(
            session,
            "category.update",
            community_id=cycle.community_id,
            target=("category", category.id),
            details=changes,
        )
    return category


def _exclusive_groups(
    text: str, ballot: Ballot, category: Category | None
) -> tuple[str, tuple[tuple[int, ...], ...]]:
    """The groups in their written form, tidied, and as project ids; Refused naming the
    first number that is not an admitted project of this category."""
    try:
        groups = parse_exclusive_groups(text)
    except ValueError:
        raise Refused(
            _l(
                "Запишіть групи номерами проєктів: номери групи через кому, групи через крапку з комою, "
                "наприклад «3, 7; 12, 14»."
            ),
            field="exclusive_groups",
        ) from None
    own = {
        p.number: p.project_id
        for p in ballot.projects
        if category is not None and p.category_id == category.id and p.number is not None
    }
    for group in groups:
        for number in group:
            if number not in own:
                raise Refused(
                    _l("У цій категорії немає допущеного проєкту № {number}.", number=number),
                    field="exclusive_groups",
                )
    written = "; ".join(", ".join(str(n) for n in group) for group in groups)
    return written, tuple(tuple(own[n] for n in group) for group in groups)


def _check_leftover_target(
    session: Session, cycle: Cycle, target_id: int | None, category: Category | None
) -> None:
    if target_id is None:
        return
    target = session.get(Category, target_id) if 0 < target_id <= 2**31 - 1 else None
    if target is None or target.cycle_id != cycle.id or (category is not None and target.id == category.id):
        raise Refused(
            _l("Залишок можна передати лише іншій категорії цього циклу."),
            field="leftover_to_id",
        )


# --- checking and recording a change (also used by services.projects) -----------------


def refuse_new_problems(before: Ballot, after: Ballot, always: list[Problem] | None = None) -> None:
    """Refuse when `after` breaks the rule in a way `before` did not (or `always` is set)."""
    problems = list(always or [])
    existing = check_ballot_rule(before)
    problems += [p for p in check_ballot_rule(after) if p not in existing and p not in problems]
    if problems:
        raise Refused(problems=problems)


def apply_changes(obj: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set the values that differ; return them as {name: [old, new]} for the audit log."""
    changes = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changes[name] = [jsonable(old), jsonable(new)]
            setattr(obj, name, new)
    return changes


def jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
