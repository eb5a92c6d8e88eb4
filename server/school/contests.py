"""A school's contest within the community's school budget: its window, budget, rule,
voting grades and projects.

The contest votes as a cycle of its own (see server/models/school.py), so the cycle and
category services do the checking: the rule is never impossible, and once voting starts
the ballot freezes exactly as it does for the public budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from server.models import Category, Cycle, CycleKind, School, SchoolContest, utcnow
from server.services import audit
from server.services.cycles import (
    CategoryFields,
    CycleFields,
    save_category,
    update_cycle,
    voting_started,
)
from server.services.validation import Refused, check_money, check_range
from server.texts import _l

MAX_CHOICES = 20  # projects a student may choose; a school ballot has a handful
CATEGORY_NAME = "Проєкти школи"


@dataclass(frozen=True)
class ContestFields:
    budget: int  # kopiykas
    max_choices: int
    voting_starts_at: datetime  # aware
    voting_ends_at: datetime  # aware
    grades: list[int]


@dataclass(frozen=True)
class Contest:
    """A contest with the rows every page about it needs."""

    contest: SchoolContest
    school: School
    cycle: Cycle
    category: Category
    programme: Cycle

    @property
    def id(self) -> int:
        return self.contest.id


def programmes(session: Session, community_id: int) -> list[Cycle]:
    """The community's school-budget cycles, newest first."""
    return list(
        session.scalars(
            select(Cycle)
            .where(Cycle.community_id == community_id, Cycle.kind == CycleKind.SCHOOL.value)
            .order_by(Cycle.voting_starts_at.desc())
        )
    )


def load_contest(session: Session, contest: SchoolContest) -> Contest:
    """The contest with its school, cycles and category, in one query (a code check on
    the students' page runs this for every code typed)."""
    programme = aliased(Cycle)
    row = session.execute(
        select(School, Cycle, Category, programme)
        .select_from(School)
        .join(Cycle, Cycle.id == contest.cycle_id)
        .join(Category, Category.cycle_id == Cycle.id)
        .join(programme, programme.id == contest.programme_cycle_id)
        .where(School.id == contest.school_id)
        .order_by(Category.position, Category.id)
        .limit(1)
    ).first()
    if row is None:  # the category is made together with the contest
        raise LookupError(f"school contest {contest.id} has no category")
    school, cycle, category, programme_cycle = row
    return Contest(contest=contest, school=school, cycle=cycle, category=category, programme=programme_cycle)


def contest_for_cycle(session: Session, cycle_id: int) -> Contest | None:
    contest = session.scalar(select(SchoolContest).where(SchoolContest.cycle_id == cycle_id))
    return load_contest(session, contest) if contest is not None else None


def contests_of_school(session: Session, school_id: int) -> list[Contest]:
    rows = session.scalars(
        select(SchoolContest).where(SchoolContest.school_id == school_id).order_by(SchoolContest.id.desc())
    )
    return [load_contest(session, c) for c in rows]


def contests_of_programme(session: Session, programme_id: int) -> list[Contest]:
    rows = session.scalars(select(SchoolContest).where(SchoolContest.programme_cycle_id == programme_id))
    return sorted((load_contest(session, c) for c in rows), key=lambda c: c.school.name)


def _check(programme: Cycle, fields: ContestFields) -> None:
    check_money(fields.budget, field="budget")
    check_range(fields.max_choices, field="max_choices", minimum=1, maximum=MAX_CHOICES)
    if not fields.grades:
        raise Refused(_l("Оберіть класи, що голосують."), field="grades")
    if fields.voting_starts_at.tzinfo is None or fields.voting_ends_at.tzinfo is None:
        raise ValueError("voting window must be given as aware datetimes")
    if not (
        programme.voting_starts_at <= fields.voting_starts_at
        and fields.voting_ends_at <= programme.voting_ends_at
    ):
        raise Refused(
            _l("Голосування школи має відбуватися в межах шкільного бюджету громади."),
            field="voting_starts_at",
        )


def _cycle_fields(programme: Cycle, school: School, fields: ContestFields) -> CycleFields:
    return CycleFields(
        title=f"{programme.title} — {school.name}"[:200],
        slug=f"{programme.slug}-school-{school.id}"[:64],
        kind=CycleKind.SCHOOL_CONTEST.value,
        voting_starts_at=fields.voting_starts_at,
        voting_ends_at=fields.voting_ends_at,
        min_total=1,
        max_total=None,
    )


def _category_fields(fields: ContestFields) -> CategoryFields:
    return CategoryFields(
        name=CATEGORY_NAME,
        budget=fields.budget,
        min_choices=1,
        max_choices=fields.max_choices,
        budget_limited=False,
        max_project_cost=None,
        min_votes_to_fund=1,
        position=0,
    )


def create_contest(
    session: Session, programme: Cycle, school: School, fields: ContestFields, now: datetime | None = None
) -> Contest:
    now = now or utcnow()
    if programme.kind != CycleKind.SCHOOL.value or programme.community_id != school.community_id:
        raise Refused(
            _l("Оберіть шкільний бюджет цієї громади."),
            field="programme",
        )
    taken = session.scalar(
        select(SchoolContest.id).where(
            SchoolContest.school_id == school.id, SchoolContest.programme_cycle_id == programme.id
        )
    )
    if taken is not None:
        raise Refused(
            _l("Ця школа вже має конкурс у цьому шкільному бюджеті."),
            field="programme",
        )
    _check(programme, fields)
    if fields.voting_starts_at <= now:
        raise Refused(
            _l("Початок голосування має бути в майбутньому: після початку бюлетень уже не змінити."),
            field="voting_starts_at",
        )
    if fields.voting_ends_at <= fields.voting_starts_at:
        raise Refused(
            _l("Кінець голосування має бути пізніше за початок."),
            field="voting_ends_at",
        )
    values = _cycle_fields(programme, school, fields)
    cycle = Cycle(
        community_id=school.community_id,
        timezone=programme.timezone,
        title=values.title,
        slug=values.slug,
        kind=values.kind,
        voting_starts_at=values.voting_starts_at,
        voting_ends_at=values.voting_ends_at,
        min_total=values.min_total,
        max_total=values.max_total,
    )
    session.add(cycle)
    session.flush()
    category = save_category(session, cycle, _category_fields(fields), now=now)
    contest = SchoolContest(
        community_id=school.community_id,
        school_id=school.id,
        programme_cycle_id=programme.id,
        cycle_id=cycle.id,
        grades=sorted(set(fields.grades)),
    )
    session.add(contest)
    session.flush()
    audit.record(
        session,
        "school_contest.create",
        community_id=school.community_id,
        target=("school_contest", contest.id),
        details={
            "school_id": school.id,
            "programme_cycle_id": programme.id,
            "cycle_id": cycle.id,
            "budget": fields.budget,
            "max_choices": fields.max_choices,
            "grades": contest.grades,
        },
    )
    return Contest(contest, school, cycle, category, programme)


def update_contest(
    session: Session, contest: Contest, fields: ContestFields, now: datetime | None = None
) -> None:
    """Change the window, budget, rule or grades; after voting starts only the end
    (and the grades, which only decide for which classes codes can still be made)."""
    now = now or utcnow()
    _check(contest.programme, fields)
    update_cycle(session, contest.cycle, _cycle_fields(contest.programme, contest.school, fields), now=now)
    save_category(session, contest.cycle, _category_fields(fields), contest.category, now=now)
    grades = sorted(set(fields.grades))
    if grades != contest.contest.grades:
        old = contest.contest.grades
        contest.contest.grades = grades
        session.flush()
        audit.record(
            session,
            "school_contest.update",
            community_id=contest.contest.community_id,
            target=("school_contest", contest.id),
            details={"grades": [old, grades]},
        )


def contest_state(contest: Contest, now: datetime | None = None) -> str:
    """ "setup" before voting starts, "voting" while it runs, "closed" after."""
    now = now or utcnow()
    if not voting_started(contest.cycle, now):
        return "setup"
    return "voting" if now < contest.cycle.voting_ends_at else "closed"
