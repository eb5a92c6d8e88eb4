"""Communities (громади): each runs its own budgets and sees only its own data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Community
from server.services import audit
from server.services.validation import Refused, clean_slug, clean_text
from server.texts import _l


def create_community(session: Session, *, slug: str, name: str) -> Community:
    """A new community. The slug is permanent in practice: it appears in addresses."""
    slug = clean_slug(slug)
    name = clean_text(name, field="name", max_length=200)
    if session.scalar(select(Community.id).where(Community.slug == slug)) is not None:
        raise Refused(_l("Громада з такою адресою вже є."), field="slug")
    community = Community(slug=slug, name=name)
    session.add(community)
    session.flush()
    audit.record(
        session,
        "community.create",
        community_id=community.id,
        target=("community", community.id),
        details={"slug": slug, "name": name},
    )
    return community


def rename_community(session: Session, community: Community, *, name: str) -> None:
    name = clean_text(name, field="name", max_length=200)
    if name == community.name:
        return
    old = community.name
    community.name = name
    session.flush()
    audit.record(
        session,
        "community.update",
        community_id=community.id,
        target=("community", community.id),
        details={"name": [old, name]},
    )
