"""Students' projects of a school's contest: add, change, reject with a reason, admit again.

The projects service does the checking, exactly as for the public budget: the contest's
cycle and its one category are the ballot. These views differ from the community's
project pages in who may open them (school scoping) and where they lead back to.
"""

from __future__ import annotations

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from server import db
from server.auth.access import SCHOOL_STAFF, roles_required, school_scoped_or_404
from server.i18n import _
from server.models import Project
from server.school.contests import Contest, contest_for_cycle
from server.services.cycles import voting_started
from server.services.projects import (
    ProjectFields,
    admit_project,
    create_project,
    reject_project,
    update_project,
)

from .cycles import hryvnias_input
from .forms import FormReader, submit
from .school_contests import contest_or_404
from .views import bp


def _project_and_contest(project_id: int) -> tuple[Project, Contest]:
    project = school_scoped_or_404(Project, project_id)
    contest = contest_for_cycle(db.session(), project.cycle_id)
    assert contest is not None  # school_scoped_or_404 found the project's contest
    return project, contest


@bp.route("/contests/<int:contest_id>/projects/new", methods=["GET", "POST"])
@roles_required(*SCHOOL_STAFF)
def school_project_new(contest_id: int) -> ResponseReturnValue:
    contest = contest_or_404(contest_id)
    reader = FormReader()
    if request.method == "POST":
        fields = _read_project(reader, contest)
        if fields is not None and not reader.errors:
            if saved := submit(
                reader,
                lambda: create_project(db.session(), contest.cycle, fields),
                done=_("Проєкт додано до бюлетеня школи."),
                redirect_to=url_for("console.contest_page", contest_id=contest.id),
            ):
                return saved
        values = reader.values()
    else:
        highest = db.session().scalar(
            select(func.max(Project.number)).where(Project.cycle_id == contest.cycle.id)
        )
        values = {"number": str((highest or 0) + 1)}
    return _form(contest, None, values, reader)


@bp.route("/school-projects/<int:project_id>/edit", methods=["GET", "POST"])
@roles_required(*SCHOOL_STAFF)
def school_project_edit(project_id: int) -> ResponseReturnValue:
    project, contest = _project_and_contest(project_id)
    reader = FormReader()
    if request.method == "POST":
        fields = _read_project(reader, contest)
        if fields is not None and not reader.errors:
            if saved := submit(
                reader,
                lambda: update_project(db.session(), project, fields),
                done=_("Зміни збережено."),
                redirect_to=url_for("console.contest_page", contest_id=contest.id),
            ):
                return saved
        values = reader.values()
    else:
        values = _saved_values(project)
    return _form(contest, project, values, reader)


@bp.route("/school-projects/<int:project_id>/admit", methods=["POST"])
@roles_required(*SCHOOL_STAFF)
def school_project_admit(project_id: int) -> ResponseReturnValue:
    project, contest = _project_and_contest(project_id)
    reader = FormReader()
    return submit(
        reader,
        lambda: admit_project(db.session(), project),
        done=_("Проєкт допущено до голосування."),
        redirect_to=url_for("console.contest_page", contest_id=contest.id),
    ) or _status_refused(project, contest, reader)


@bp.route("/school-projects/<int:project_id>/reject", methods=["POST"])
@roles_required(*SCHOOL_STAFF)
def school_project_reject(project_id: int) -> ResponseReturnValue:
    project, contest = _project_and_contest(project_id)
    reader = FormReader()
    return submit(
        reader,
        lambda: reject_project(db.session(), project, reader.text("reason")),
        done=_("Проєкт відхилено."),
        redirect_to=url_for("console.contest_page", contest_id=contest.id),
    ) or _status_refused(project, contest, reader)


def _saved_values(project: Project) -> dict[str, str]:
    return {
        "number": str(project.number),
        "title": project.title,
        "description": project.description,
        "cost": hryvnias_input(project.cost),
    }


def _status_refused(project: Project, contest: Contest, reader: FormReader) -> tuple[str, int]:
    """The project's page again, with the refusal and the reason as typed."""
    db.session().refresh(project)
    return _form(contest, project, _saved_values(project) | {"reason": reader.text("reason")}, reader)


def _read_project(reader: FormReader, contest: Contest) -> ProjectFields | None:
    number = reader.integer("number")
    cost = reader.money("cost")
    title = reader.text("title", required=True)
    if number is None or cost is None:
        return None
    # A school's ballot has one category and no districts: both are the contest's, never the form's.
    return ProjectFields(
        number=number,
        title=title,
        description=reader.text("description"),
        cost=cost,
        district="",
        category_id=contest.category.id,
    )


def _form(
    contest: Contest, project: Project | None, values: dict[str, str], reader: FormReader
) -> tuple[str, int]:
    return render_template(
        "console/school_project_form.html",
        contest=contest,
        project=project,
        values=values,
        errors=reader.errors,
        started=voting_started(contest.cycle),
    ), (422 if reader.errors else 200)
