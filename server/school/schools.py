"""Schools of a community, added by its moderators."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Community, School
from server.services import audit
from server.services.cycles import apply_changes
from server.services.validation import Refused, clean_text
from server.texts import _l


@dataclass(frozen=True)
class SchoolFields:
    name: str
    address: str = ""


def _clean(session: Session, community_id: int, fields: SchoolFields, school: School | None) -> SchoolFields:
    name = clean_text(fields.name, field="name", max_length=200)
    address = clean_text(fields.address, field="address", max_length=300, required=False)
    taken = session.scalar(
        select(School.id).where(
            School.community_id == community_id,
            School.name == name,
            School.id != (school.id if school else -1),
        )
    )
    if taken is not None:
        raise Refused(
            _l("У громаді вже є школа з такою назвою."),
            field="name",
        )
    return SchoolFields(name, address)


def create_school(session: Session, community: Community, fields: SchoolFields) -> School:
    fields = _clean(session, community.id, fields, None)
    school = School(community_id=community.id, name=fields.name, address=fields.address)
    session.add(school)
    session.flush()
    audit.record(
        session,
        "school.create",
        community_id=community.id,
        target=("school", school.id),
        details={"name": fields.name, "address": fields.address},
    )
    return school


def update_school(session: Session, school: School, fields: SchoolFields) -> None:
    fields = _clean(session, school.community_id, fields, school)
    changes = apply_changes(school, {"name": fields.name, "address": fields.address})
    if changes:
        session.flush()
        audit.record(
            session,
            "school.update",
            community_id=school.community_id,
            target=("school", school.id),
            details=changes,
        )


def schools_of(session: Session, community_id: int) -> list[School]:
    return list(
        session.scalars(select(School).where(School.community_id == community_id).order_by(School.name))
    )
