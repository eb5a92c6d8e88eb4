"""Packages: what a community's devices need to run its votes offline, signed by the server.

A package holds the community's cycles whose voting has not ended, with their
categories and admitted projects, the server's public key and the community's voter-key
secret (so a terminal can turn a card or document into a voter key with no network).

Versions: the body without its version and issue time is hashed; a new version is
made only when that hash differs from the newest version's. Every change to a cycle,
category or project (and a cycle whose voting ends) thus gives a higher version, and
nothing else does, however often devices ask.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.models import Category, Community, Cycle, Project, ProjectStatus, SyncPackage
from sync import protocol
from voting import community_voter_secret, format_time


@dataclass(frozen=True)
class Package:
    version: int
    issued_at: datetime
    body: dict  # everything but "version" and "issued_at"

    def as_dict(self) -> dict:
        return {**self.body, "version": self.version, "issued_at": format_time(self.issued_at)}

    def envelope(self, key: Ed25519PrivateKey) -> dict:
        return protocol.sign_package(key, self.as_dict())


def _cycle(cycle: Cycle, categories: list[Category], projects: list[Project]) -> dict:
    return {
        "id": cycle.id,
        "title": cycle.title,
        "slug": cycle.slug,
        "kind": cycle.kind,
        "voting_starts_at": format_time(cycle.voting_starts_at),
        "voting_ends_at": format_time(cycle.voting_ends_at),
        "timezone": cycle.timezone,
        "min_total": cycle.min_total,
        "max_total": cycle.max_total,
        "categories": [
            {
                "id": c.id,
                "name": c.name,
                "budget": c.budget,
                "min_choices": c.min_choices,
                "max_choices": c.max_choices,
                "budget_limited": c.budget_limited,
                "max_project_cost": c.max_project_cost,
                "min_votes_to_fund": c.min_votes_to_fund,
                "position": c.position,
            }
            for c in categories
        ],
        "projects": [
            {
                "id": p.id,
                "number": p.number,
                "title": p.title,
                "description": p.description,
                "cost": p.cost,
                "district": p.district,
                "category_id": p.category_id,
            }
            for p in projects
        ],
    }


def package_body(
    session: Session, community: Community, *, server_key: str, master_secret: bytes, now: datetime
) -> dict:
    """The package's content for `community` at `now` (three queries)."""
    cycles = session.scalars(
        select(Cycle)
        .where(Cycle.community_id == community.id, Cycle.voting_ends_at > now)
        .order_by(Cycle.voting_starts_at, Cycle.id)
    ).all()
    ids = [c.id for c in cycles]
    categories: dict[int, list[Category]] = {i: [] for i in ids}
    projects: dict[int, list[Project]] = {i: [] for i in ids}
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
    return {
        "format": protocol.PROTOCOL_VERSION,
        "community": {"id": community.id, "slug": community.slug, "name": community.name},
        "server_key": server_key,
        "voter_key_secret": community_voter_secret(master_secret, community.key_id).hex(),
        "cycles": [_cycle(c, categories[c.id], projects[c.id]) for c in cycles],
    }


def body_hash(body: dict) -> str:
    return hashlib.sha256(protocol.canonical_json(body)).hexdigest()


def _newest(session: Session, community_id: int) -> SyncPackage | None:
    return session.scalar(
        select(SyncPackage)
        .where(SyncPackage.community_id == community_id)
        .order_by(SyncPackage.version.desc())
        .limit(1)
    )


def current_package(
    session: Session,
    community: Community,
    *,
    signing_key: Ed25519PrivateKey,
    master_secret: bytes,
    now: datetime,
) -> Package:
    """The community's newest package, making a new version first if the content changed.
    Flushes a new version into the caller's transaction; the caller commits."""
    body = package_body(
        session,
        community,
        server_key=protocol.public_key_b64(signing_key),
        master_secret=master_secret,
        now=now,
    )
    digest = body_hash(body)
    newest = _newest(session, community.id)
    if newest is not None and newest.body_hash == digest:
        return Package(newest.version, newest.issued_at, body)
    if session.get_bind().dialect.name == "postgresql":
        # Devices of one community asking at the same moment must agree on one new
        # version, not race for the next number: one makes it, the others then read it.
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('sync_package'), :c)"), {"c": community.id}
        )
        newest = _newest(session, community.id)
        if newest is not None and newest.body_hash == digest:
            return Package(newest.version, newest.issued_at, body)
    version = (newest.version if newest is not None else 0) + 1
    try:
        with session.begin_nested():
            session.add(
                SyncPackage(community_id=community.id, version=version, body_hash=digest, issued_at=now)
            )
    except IntegrityError:
        # SQLite has no advisory locks: another writer took this number; use theirs.
        newest = _newest(session, community.id)
        assert newest is not None
        return Package(newest.version, newest.issued_at, body)
    return Package(version, now, body)
