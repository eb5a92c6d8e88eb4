"""Schools of a community: the list and the add/edit form (community managers), and each
school's own page (its moderator and the community's managers).

Every route that names a school loads it with `school_scoped_or_404`, so a moderator of
another school, of this community or another, gets "not found".
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from server import db
from server.auth.access import (
    COMMUNITY_MANAGERS,
    SCHOOL_STAFF,
    current_user,
    roles_required,
    school_scoped_or_404,
    visible_community_ids,
)
from server.i18n import _
from server.models import Community, Role, School, User, utcnow
from server.school.contests import contests_of_school
from server.school.schools import SchoolFields, create_school, update_school

from .forms import FormReader, community_for_new_object, managed_communities, submit
from .school_contests import open_programmes
from .school_summary import state_label, summarise
from .views import bp


@bp.route("/schools")
@roles_required(*COMMUNITY_MANAGERS)
def schools() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    query = (
        select(School, Community)
        .join(Community, Community.id == School.community_id)
        .order_by(Community.name, School.name)
    )
    scope = visible_community_ids(user)
    if scope is not None:
        query = query.where(School.community_id.in_(scope))
    return render_template(
        "console/schools.html", rows=db.session().execute(query).all(), show_community=scope is None
    )


@bp.route("/schools/new", methods=["GET", "POST"])
@roles_required(*COMMUNITY_MANAGERS)
def school_new() -> ResponseReturnValue:
    reader = FormReader()
    if request.method == "POST":
        community_id = community_for_new_object(reader)
        fields = SchoolFields(reader.text("name", required=True), reader.text("address"))
        if community_id is not None and not reader.errors:
            community = db.session().get_one(Community, community_id)
            if saved := submit(
                reader,
                lambda: create_school(db.session(), community, fields),
                done=lambda school: _("Школу «{name}» додано.", name=school.name),
                redirect_to=lambda school: url_for("console.school_page", school_id=school.id),
            ):
                return saved
    return _school_form(None, reader.values() if request.method == "POST" else {}, reader)


@bp.route("/schools/<int:school_id>/edit", methods=["GET", "POST"])
@roles_required(*SCHOOL_STAFF)
def school_edit(school_id: int) -> ResponseReturnValue:
    # Scope first: another school's moderator learns nothing, not even that it exists.
    school = school_scoped_or_404(School, school_id)
    if not _manages_schools():
        abort(403)  # a school's own moderator: its name and address are the community's
    reader = FormReader()
    if request.method == "POST":
        fields = SchoolFields(reader.text("name", required=True), reader.text("address"))
        if not reader.errors:
            if saved := submit(
                reader,
                lambda: update_school(db.session(), school, fields),
                done=_("Зміни збережено."),
                redirect_to=url_for("console.school_page", school_id=school.id),
            ):
                return saved
        values = reader.values()
    else:
        values = {"name": school.name, "address": school.address}
    return _school_form(school, values, reader)


def _manages_schools() -> bool:
    user = current_user()
    return user is not None and user.role_enum in COMMUNITY_MANAGERS


def _school_form(school: School | None, values: dict[str, str], reader: FormReader) -> tuple[str, int]:
    user = current_user()
    assert user is not None
    return render_template(
        "console/school_form.html",
        school=school,
        values=values,
        errors=reader.errors,
        choose_community=school is None and visible_community_ids(user) is None,
        community_options=[(c.id, c.name) for c in managed_communities()] if school is None else [],
    ), (422 if reader.errors else 200)


@bp.route("/schools/<int:school_id>")
@roles_required(*SCHOOL_STAFF)
def school_page(school_id: int) -> ResponseReturnValue:
    school = school_scoped_or_404(School, school_id)
    s = db.session()
    contests = contests_of_school(s, school.id)
    now = utcnow()
    moderators = s.scalars(
        select(User)
        .where(User.school_id == school.id, User.role == Role.SCHOOL_MODERATOR.value)
        .order_by(User.login)
    ).all()
    return render_template(
        "console/school.html",
        school=school,
        community=s.get(Community, school.community_id),
        summaries=[summarise(s, c, now) for c in contests],
        open_programmes=open_programmes(school),
        moderators=moderators,
        can_edit=_manages_schools(),
        state_label=state_label,
    )


@bp.route("/my-school")
@roles_required(Role.SCHOOL_MODERATOR)
def my_school() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    if user.school_id is None:
        # Made before schools had moderators, or the school was never chosen: say who can fix it.
        return render_template("console/school_missing.html"), 403
    return redirect(url_for("console.school_page", school_id=user.school_id))
