"""Projects of a cycle: add, change, admit to the ballot or reject with a reason."""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from server import db
from server.auth.access import COMMUNITY_MANAGERS, roles_required, scoped_or_404
from server.i18n import _
from server.models import Category, Cycle, Project
from server.services.cycles import voting_started
from server.services.photo_images import UPLOAD_BYTES
from server.services.project_details import MAX_PHOTOS, budget_text, parse_budget_lines, photos_of
from server.services.projects import (
    ProjectFields,
    admit_project,
    create_project,
    reject_project,
    update_project,
)

from .cycles import hryvnias_input
from .forms import REFUSALS, FormReader, refusal_errors, submit
from .views import bp


@bp.route("/cycles/<int:cycle_id>/projects/new", methods=["GET", "POST"])
@roles_required(*COMMUNITY_MANAGERS)
def project_new(cycle_id: int) -> ResponseReturnValue:
    cycle = scoped_or_404(Cycle, cycle_id)
    reader = FormReader()
    if request.method == "POST":
        fields = _read_project(reader)
        if fields is not None and not reader.errors:
            if saved := submit(
                reader,
                lambda: create_project(db.session(), cycle, fields),
                done=_("Проєкт додано до бюлетеня."),
                redirect_to=url_for("console.cycle_detail", cycle_id=cycle.id),
            ):
                return saved
        values = reader.values()
    else:
        highest = db.session().scalar(select(func.max(Project.number)).where(Project.cycle_id == cycle.id))
        values = {"number": str((highest or 0) + 1)}
    return _project_form(cycle, None, values, reader)


@bp.route("/projects/<int:project_id>/edit", methods=["GET", "POST"])
@roles_required(*COMMUNITY_MANAGERS)
def project_edit(project_id: int) -> ResponseReturnValue:
    project = scoped_or_404(Project, project_id)
    cycle = db.session().get(Cycle, project.cycle_id) or abort(404)
    reader = FormReader()
    if request.method == "POST":
        fields = _read_project(reader)
        if fields is not None and not reader.errors:
            if saved := submit(
                reader,
                lambda: update_project(db.session(), project, fields),
                done=_("Зміни збережено."),
                redirect_to=url_for("console.cycle_detail", cycle_id=cycle.id),
            ):
                return saved
        values = reader.values()
    else:
        values = project_values(project)
    return _project_form(cycle, project, values, reader)


@bp.route("/projects/<int:project_id>/admit", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def project_admit(project_id: int) -> ResponseReturnValue:
    project = scoped_or_404(Project, project_id)
    reader = FormReader()
    return submit(
        reader,
        lambda: admit_project(db.session(), project),
        done=_("Проєкт допущено до голосування."),
        redirect_to=url_for("console.project_edit", project_id=project.id),
    ) or _status_refused(project, reader)


@bp.route("/projects/<int:project_id>/reject", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def project_reject(project_id: int) -> ResponseReturnValue:
    project = scoped_or_404(Project, project_id)
    reader = FormReader()
    return submit(
        reader,
        lambda: reject_project(db.session(), project, reader.text("reason")),
        done=_("Проєкт відхилено."),
        redirect_to=url_for("console.project_edit", project_id=project.id),
    ) or _status_refused(project, reader)


def _status_refused(project: Project, reader: FormReader) -> tuple[str, int]:
    """The project page again, with the refusal and the reason as typed."""
    db.session().refresh(project)
    cycle = db.session().get_one(Cycle, project.cycle_id)
    values = {**project_values(project), "reason": reader.text("reason")}
    return _project_form(cycle, project, values, reader)


def project_values(project: Project) -> dict[str, str]:
    """The saved project as its form shows it."""
    return {
        "number": str(project.number),
        "title": project.title,
        "description": project.description,
        "cost": hryvnias_input(project.cost),
        "district": project.district,
        "category_id": str(project.category_id),
        "address": project.address,
        "budget": budget_text(project.budget_lines or []),
    }


def _read_project(reader: FormReader) -> ProjectFields | None:
    number = reader.integer("number")
    cost = reader.money("cost")
    category_id = reader.integer("category_id")
    title = reader.text("title", required=True)
    try:
        budget_lines = tuple(parse_budget_lines(reader.text("budget")))
    except REFUSALS as exc:
        reader.errors.update(refusal_errors(exc))
        return None
    if number is None or cost is None or category_id is None:
        return None
    return ProjectFields(
        number=number,
        title=title,
        description=reader.text("description"),
        cost=cost,
        district=reader.text("district"),
        category_id=category_id,
        address=reader.text("address"),
        budget_lines=budget_lines,
    )


def _project_form(
    cycle: Cycle,
    project: Project | None,
    values: dict[str, str],
    reader: FormReader,
    photo_values: dict[str, str] | None = None,
    photo_errors: dict[str, list[str]] | None = None,
) -> tuple[str, int]:
    categories = db.session().scalars(
        select(Category).where(Category.cycle_id == cycle.id).order_by(Category.position, Category.id)
    )
    return render_template(
        "console/project_form.html",
        cycle=cycle,
        project=project,
        values=values,
        errors=reader.errors,
        category_options=[(c.id, c.name) for c in categories],
        started=voting_started(cycle),
        photos=photos_of(db.session(), project.id) if project is not None else [],
        max_photos=MAX_PHOTOS,
        upload_mb=UPLOAD_BYTES // 2**20,
        photo_values=photo_values or {},
        photo_errors=photo_errors or {},
    ), (422 if reader.errors or photo_errors else 200)


from . import project_photos  # noqa: E402, F401  (its routes join this blueprint)
