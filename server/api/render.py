"""Rows as the API's JSON: moments in ISO 8601 UTC, money in kopiykas, ids as ints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from server.models import Category, HeldVote, Project, Vote
from server.services.ballot_box import StoredVote
from server.services.cycle_catalogue import CycleCatalogue
from voting import format_time


def moment(value: datetime | None) -> str | None:
    """ "2027-05-01T07:00:00.000Z": UTC to the millisecond, as vote records keep it."""
    return format_time(value) if value is not None else None


def render_project(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "number": project.number,
        "title": project.title,
        "cost": project.cost,
        "district": project.district,
    }


def render_category(category: Category, projects: list[Project]) -> dict[str, Any]:
    return {
        "id": category.id,
        "name": category.name,
        "position": category.position,
        "budget": category.budget,
        "min_choices": category.min_choices,
        "max_choices": category.max_choices,
        "budget_limited": category.budget_limited,
        "max_project_cost": category.max_project_cost,
        "district": category.district,
        "projects": [render_project(p) for p in projects if p.category_id == category.id],
    }


def render_cycle(entry: CycleCatalogue) -> dict[str, Any]:
    cycle = entry.cycle
    return {
        "id": cycle.id,
        "slug": cycle.slug,
        "title": cycle.title,
        "timezone": cycle.timezone,
        "voting_starts_at": moment(cycle.voting_starts_at),
        "voting_ends_at": moment(cycle.voting_ends_at),
        "results_published_at": moment(cycle.results_published_at),
        "min_total": cycle.min_total,
        "max_total": cycle.max_total,
        "categories": [render_category(c, entry.projects) for c in entry.categories],
    }


def render_result(stored: StoredVote) -> dict[str, Any]:
    return {
        "id": stored.vote_id,
        "outcome": "accepted",
        "status": stored.status,
        "reason": stored.reason,
        "counted_vote_id": stored.counted_vote_id,
    }


def render_vote(vote: Vote) -> dict[str, Any]:
    return {
        "id": vote.id,
        "cycle_id": vote.cycle_id,
        "status": vote.status,
        "reason": vote.status_reason,
        "counted_vote_id": vote.counted_vote_id,
        "cast_at": moment(vote.cast_at),
        "received_at": moment(vote.received_at),
    }


def render_held_vote(held: HeldVote) -> dict[str, Any]:
    """A pushed vote a moderator has yet to decide on ("held"), or rejected ("invalid")."""
    waiting = held.decision is None
    return {
        "id": held.vote_id,
        "cycle_id": held.cycle_id,
        "status": "held" if waiting else "invalid",
        "reason": f"held.{held.reason}" + ("" if waiting else ".rejected"),
        "counted_vote_id": None,
        "cast_at": moment(held.cast_at),
        "received_at": moment(held.held_at),
    }
