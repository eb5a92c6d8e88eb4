"""Cycles with their categories and admitted projects: what a ballot is built from. The
one loader of them for many cycles at once, for the platform (GET /api/v1/cycles:
community_catalogue) and the devices' packages (server.sync.packages)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Category, Cycle, CycleKind, Project, ProjectStatus


@dataclass(frozen=True)
class CycleCatalogue:
    """What the platform needs to build its ballot: a cycle, its categories in display
    order, and its admitted projects by number."""

    cycle: Cycle
    categories: list[Category]
    projects: list[Project]


def cycles_catalogue(session: Session, cycles: Sequence[Cycle]) -> list[CycleCatalogue]:
    """Each of `cycles`, in their order, with its categories in display order and its
    admitted projects by number (two queries, none for no cycles)."""
    ids = [cycle.id for cycle in cycles]
    categories: dict[int, list[Category]] = {cycle_id: [] for cycle_id in ids}
    projects: dict[int, list[Project]] = {cycle_id: [] for cycle_id in ids}
    if ids:
        for category in session.scalars(
            select(Category).where(Category.cycle_id.in_(ids)).order_by(Category.position, Category.id)
        ):
            categories[category.cycle_id].append(category)
        for project in session.scalars(
            select(Project)
            .where(Project.cycle_id.in_(ids), Project.status == ProjectStatus.ADMITTED.value)
            .order_by(Project.number, Project.id)
        ):
            projects[project.cycle_id].append(project)
    return [CycleCatalogue(cycle, categories[cycle.id], projects[cycle.id]) for cycle in cycles]


def community_catalogue(session: Session, community_id: int) -> list[CycleCatalogue]:
    """The community's public-budget cycles, newest voting first (three queries in all)."""
    cycles = session.scalars(
        select(Cycle)
        .where(Cycle.community_id == community_id, Cycle.kind == CycleKind.PUBLIC.value)
        .order_by(Cycle.voting_starts_at.desc(), Cycle.id)
    ).all()
    return cycles_catalogue(session, cycles)
