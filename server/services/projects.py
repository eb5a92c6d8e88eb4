"""Projects of a cycle: adding them to the ballot, changing them, admitting and
rejecting them, each refused when it would break the cycle's rule (see services.cycles
for how a change is checked, and why the ballot freezes once voting starts)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Category, Cycle, Project, ProjectStatus
from server.services import audit
from server.services.cycle_rules import ballot_for
from server.services.cycles import apply_changes, refuse_new_problems, voting_started
from server.services.project_details import BudgetLine, clean_address, clean_budget_lines
from server.services.validation import Refused, check_money, check_range, clean_text
from server.texts import _l
from voting import BallotProject, Problem

MAX_PROJECT_NUMBER = 99_999
MAX_DESCRIPTION = 10_000


@dataclass(frozen=True)
class ProjectFields:
    number: int
    title: str
    description: str
    cost: int  # kopiykas
    district: str
    category_id: int
    address: str = ""
    budget_lines: tuple[BudgetLine, ...] = ()  # empty: no breakdown given


def create_project(
    session: Session, cycle: Cycle, fields: ProjectFields, now: datetime | None = None
) -> Project:
    """A new project, admitted to the ballot."""
    fields, category = _clean_project(session, cycle, fields, project=None)
    if voting_started(cycle, now):
        raise Refused(
            _l("Голосування вже почалося: нові проєкти до бюлетеня не додаються."),
        )
    _refuse_unfit(session, cycle, category, project_id=None, cost=fields.cost)
    project = Project(
        community_id=cycle.community_id,
        cycle_id=cycle.id,
        status=ProjectStatus.ADMITTED.value,
        **_project_values(fields),
    )
    session.add(project)
    session.flush()
    audit.record(
        session,
        "project.create",
        community_id=cycle.community_id,
        target=("project", project.id),
        details={"cycle_id": cycle.id, "number": fields.number, "title": fields.title, "cost": fields.cost},
    )
    return project


def update_project(
    session: Session, project: Project, fields: ProjectFields, now: datetime | None = None
) -> None:
    cycle = session.get_one(Cycle, project.cycle_id)
    fields, category = _clean_project(session, cycle, fields, project=project)
    on_ballot = ("number", "cost", "category_id")
    if voting_started(cycle, now) and any(getattr(project, k) != getattr(fields, k) for k in on_ballot):
        raise Refused(
            _l("Голосування вже почалося: номер, вартість і категорію проєкту змінити не можна."),
        )
    if project.status == ProjectStatus.ADMITTED.value:
        _refuse_unfit(session, cycle, category, project_id=project.id, cost=fields.cost)
    changes = apply_changes(project, _project_values(fields))
    if changes:
        session.flush()
        audit.record(
            session,
            "project.update",
            community_id=project.community_id,
            target=("project", project.id),
            details=changes,
        )


def admit_project(session: Session, project: Project, now: datetime | None = None) -> None:
    if project.status == ProjectStatus.ADMITTED.value:
        return
    cycle = session.get_one(Cycle, project.cycle_id)
    _refuse_if_ballot_frozen(cycle, now)
    category = session.get_one(Category, project.category_id)
    _refuse_unfit(session, cycle, category, project_id=project.id, cost=project.cost)
    project.status = ProjectStatus.ADMITTED.value
    project.rejection_reason = ""
    session.flush()
    audit.record(
        session,
        "project.admit",
        community_id=project.community_id,
        target=("project", project.id),
        details={"number": project.number},
    )


def reject_project(session: Session, project: Project, reason: str, now: datetime | None = None) -> None:
    """Take a project off the ballot, saying why (the reason is shown to residents)."""
    reason = clean_text(reason, field="reason", max_length=2000, multiline=True)
    cycle = session.get_one(Cycle, project.cycle_id)
    if project.status == ProjectStatus.ADMITTED.value:
        _refuse_if_ballot_frozen(cycle, now)
        ballot = ballot_for(session, cycle)
        remaining = [p for p in ballot.projects if p.project_id != project.id]
        refuse_new_problems(ballot, replace(ballot, projects=remaining))
    project.status = ProjectStatus.REJECTED.value
    project.rejection_reason = reason
    session.flush()
    audit.record(
        session,
        "project.reject",
        community_id=project.community_id,
        target=("project", project.id),
        details={"number": project.number, "reason": reason},
    )


def _clean_project(
    session: Session, cycle: Cycle, fields: ProjectFields, project: Project | None
) -> tuple[ProjectFields, Category]:
    check_range(fields.number, field="number", minimum=1, maximum=MAX_PROJECT_NUMBER)
    taken = session.scalar(
        select(Project.id).where(
            Project.cycle_id == cycle.id,
            Project.number == fields.number,
            Project.id != (project.id if project else -1),
        )
    )
    if taken is not None:
        raise Refused(
            _l("У циклі вже є проєкт з номером {number}.", number=fields.number),
            field="number",
        )
    title = clean_text(fields.title, field="title", max_length=200)
    description = clean_text(
        fields.description, field="description", max_length=MAX_DESCRIPTION, required=False, multiline=True
    )
    district = clean_text(fields.district, field="district", max_length=200, required=False)
    check_money(fields.cost, field="cost")
    address = clean_address(fields.address)
    budget_lines = tuple(clean_budget_lines(list(fields.budget_lines), fields.cost))
    category = session.get(Category, fields.category_id)
    if category is None or category.cycle_id != cycle.id:
        raise Refused(_l("Оберіть категорію цього циклу."), field="category_id")
    cleaned = replace(
        fields,
        title=title,
        description=description,
        district=district,
        address=address,
        budget_lines=budget_lines,
    )
    return cleaned, category


def _project_values(fields: ProjectFields) -> dict[str, Any]:
    return {
        "number": fields.number,
        "title": fields.title,
        "description": fields.description,
        "cost": fields.cost,
        "district": fields.district,
        "category_id": fields.category_id,
        "address": fields.address,
        "budget_lines": [line.as_dict() for line in fields.budget_lines],
    }


def _refuse_unfit(
    session: Session, cycle: Cycle, category: Category, *, project_id: int | None, cost: int
) -> None:
    """Refuse an admitted project with this cost in `category` if it breaks the rule."""
    cap_problem = []
    if category.max_project_cost is not None and cost > category.max_project_cost:
        cap_problem = [
            Problem(
                "rule.project_over_cap",
                {"category": category.name, "cost": cost, "cap": category.max_project_cost},
            )
        ]
    ballot = ballot_for(session, cycle)
    others = [p for p in ballot.projects if p.project_id != project_id]
    candidate = BallotProject(project_id or 0, category.id, cost)
    refuse_new_problems(ballot, replace(ballot, projects=[*others, candidate]), always=cap_problem)


def _refuse_if_ballot_frozen(cycle: Cycle, now: datetime | None) -> None:
    if voting_started(cycle, now):
        raise Refused(
            _l("Голосування вже почалося: склад бюлетеня змінити не можна."),
        )
