"""A cycle's ballot and voting window, loaded once and checked against many votes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Category, Cycle, Project, ProjectStatus
from voting import Ballot, BallotProject, CategoryRule, VoteRecord


@dataclass(frozen=True)
class CycleRules:
    cycle_id: int
    community_id: int
    ballot: Ballot
    voting_starts_at: datetime
    voting_ends_at: datetime

    def invalid_reason(self, record: VoteRecord) -> str | None:
        """Why a well-formed vote cannot count, as a message code, or None."""
        if record.cycle_id != self.cycle_id:
            return "vote.cycle_mismatch"
        if not (self.voting_starts_at <= record.cast_at < self.voting_ends_at):
            return "vote.outside_window"
        problems = self.ballot.check(record.selections)
        return problems[0].code if problems else None


def category_rule(category: Category) -> CategoryRule:
    return CategoryRule(
        category_id=category.id,
        name=category.name,
        budget=category.budget,
        min_choices=category.min_choices,
        max_choices=category.max_choices,
        budget_limited=category.budget_limited,
        max_project_cost=category.max_project_cost,
        min_votes_to_fund=category.min_votes_to_fund,
    )


def ballot_for(session: Session, cycle: Cycle) -> Ballot:
    """The ballot of admitted projects, categories in their display order."""
    categories = session.scalars(
        select(Category).where(Category.cycle_id == cycle.id).order_by(Category.position, Category.id)
    ).all()
    projects = session.scalars(
        select(Project)
        .where(Project.cycle_id == cycle.id, Project.status == ProjectStatus.ADMITTED.value)
        .order_by(Project.number)
    ).all()
    return Ballot(
        categories=[category_rule(c) for c in categories],
        projects=[BallotProject(p.id, p.category_id, p.cost, p.title) for p in projects],
        min_total=cycle.min_total,
        max_total=cycle.max_total,
    )


def load_cycle_rules(session: Session, cycle: Cycle) -> CycleRules:
    return CycleRules(
        cycle_id=cycle.id,
        community_id=cycle.community_id,
        ballot=ballot_for(session, cycle),
        voting_starts_at=cycle.voting_starts_at,
        voting_ends_at=cycle.voting_ends_at,
    )
