"""Public project pages: a public cycle's projects, and each one in full with its photos,
address and budget breakdown, for residents deciding before they vote. No sign-in.

Only admitted projects of cycles of kind `public` are shown (school contests have their
own pages); a photo is served only as part of such a project.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.wrappers import Response

from server import db
from server.i18n import get_locale
from server.models import Category, Community, Cycle, CycleKind, Project, ProjectPhoto, ProjectStatus
from server.services.project_details import photos_of

bp = Blueprint("projects", __name__)

MAX_DB_INT = 2**31 - 1  # an id beyond PostgreSQL's integer matches nothing (404), not an error


def _public_cycle(community_slug: str, cycle_slug: str) -> tuple[Community, Cycle]:
    row = (
        db.session()
        .execute(
            select(Community, Cycle)
            .join(Cycle, Cycle.community_id == Community.id)
            .where(
                Community.slug == community_slug,
                Cycle.slug == cycle_slug,
                Cycle.kind == CycleKind.PUBLIC.value,
            )
        )
        .first()
    )
    if row is None:
        abort(404)
    return row[0], row[1]


@bp.get("/projects/<community_slug>/<cycle_slug>")
def cycle_projects(community_slug: str, cycle_slug: str) -> ResponseReturnValue:
    community, cycle = _public_cycle(community_slug, cycle_slug)
    session = db.session()
    categories = session.scalars(
        select(Category).where(Category.cycle_id == cycle.id).order_by(Category.position, Category.id)
    ).all()
    projects = session.scalars(
        select(Project)
        .where(Project.cycle_id == cycle.id, Project.status == ProjectStatus.ADMITTED.value)
        .order_by(Project.number, Project.id)
    ).all()
    first_photos: dict[int, ProjectPhoto] = {}
    for photo in session.scalars(
        select(ProjectPhoto)
        .where(ProjectPhoto.project_id.in_([p.id for p in projects]))
        .order_by(ProjectPhoto.position.desc(), ProjectPhoto.id.desc())
    ):
        first_photos[photo.project_id] = photo  # the last one seen is the first in order
    by_category = [(c, [p for p in projects if p.category_id == c.id]) for c in categories]
    return render_template(
        "public/projects.html",
        community=community,
        cycle=cycle,
        by_category=[(c, ps) for c, ps in by_category if ps],
        first_photos=first_photos,
        alt=_alt,
    )


@bp.get("/projects/<community_slug>/<cycle_slug>/<int:number>")
def project_page(community_slug: str, cycle_slug: str, number: int) -> ResponseReturnValue:
    community, cycle = _public_cycle(community_slug, cycle_slug)
    session = db.session()
    project = session.scalar(
        select(Project).where(
            Project.cycle_id == cycle.id,
            Project.number == number,
            Project.status == ProjectStatus.ADMITTED.value,
        )
    )
    if project is None:
        abort(404)
    category = session.get_one(Category, project.category_id)
    return render_template(
        "public/project.html",
        community=community,
        cycle=cycle,
        project=project,
        category=category,
        photos=photos_of(session, project.id),
        alt=_alt,
    )


@bp.get("/project-photos/<int:project_id>/<int:photo_id>.jpg")
def public_photo(project_id: int, photo_id: int) -> Response:
    if project_id > MAX_DB_INT or photo_id > MAX_DB_INT:
        abort(404)
    public = db.session().scalar(
        select(Project.id)
        .join(Cycle, Cycle.id == Project.cycle_id)
        .where(
            Project.id == project_id,
            Project.status == ProjectStatus.ADMITTED.value,
            Cycle.kind == CycleKind.PUBLIC.value,
        )
    )
    if public is None:
        abort(404)
    return photo_response(project_id, photo_id)


def photo_response(project_id: int, photo_id: int) -> Response:
    """A project's photo (a JPEG the server made), 404 for any other id."""
    if project_id > MAX_DB_INT or photo_id > MAX_DB_INT:
        abort(404)
    data = db.session().scalar(
        select(ProjectPhoto.data).where(ProjectPhoto.id == photo_id, ProjectPhoto.project_id == project_id)
    )
    if data is None:
        abort(404)
    answer = Response(data, mimetype="image/jpeg")
    answer.headers["Cache-Control"] = "public, max-age=3600"
    answer.headers["X-Content-Type-Options"] = "nosniff"
    return answer


def _alt(photo: ProjectPhoto) -> str:
    return (photo.alt_en if get_locale() == "en" else "") or photo.alt_uk
