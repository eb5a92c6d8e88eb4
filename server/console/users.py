"""People who use the console: list, create, deactivate and reactivate.

Administrators manage everyone; a community moderator manages the staff of their own
community and can never create an administrator or reach another community. A school
moderator is given one school of their community when created.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from server import db
from server.auth.access import (
    COMMUNITY_MANAGERS,
    current_user,
    roles_required,
    scoped_or_404,
    visible_community_ids,
)
from server.i18n import _
from server.models import Community, Role, School, User
from server.services.users import assignable_roles, create_user_as, may_manage, set_user_active

from .forms import FormReader, confirmed, flash_errors, managed_communities, submit
from .views import bp


@bp.route("/users")
@roles_required(*COMMUNITY_MANAGERS)
def users() -> ResponseReturnValue:
    actor = current_user()
    assert actor is not None
    query = (
        select(User, Community, School)
        .outerjoin(Community, Community.id == User.community_id)
        .outerjoin(School, School.id == User.school_id)
        .order_by(Community.name.nulls_first(), User.login)
    )
    scope = visible_community_ids(actor)
    if scope is not None:
        query = query.where(User.community_id.in_(scope))
    rows = [
        (user, community, school, may_manage(actor, user) and user.id != actor.id)
        for user, community, school in db.session().execute(query)
    ]
    return render_template("console/users.html", rows=rows, show_community=scope is None)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(*COMMUNITY_MANAGERS)
def user_new() -> ResponseReturnValue:
    actor = current_user()
    assert actor is not None
    reader = FormReader()
    choose_community = visible_community_ids(actor) is None
    if request.method == "POST":
        community_id = (
            reader.integer("community_id", required=False) if choose_community else actor.community_id
        )
        if reader.form.get("password", "") != reader.form.get("password_repeated", ""):
            reader.add_error("password_repeated", _("Паролі не збігаються."))
        if not reader.errors:
            if saved := submit(
                reader,
                lambda: create_user_as(
                    db.session(),
                    actor,
                    login=reader.text("login"),
                    display_name=reader.text("display_name"),
                    password=reader.text("password"),
                    role=reader.text("role"),
                    community_id=community_id,
                    school_id=_chosen_school(reader),
                ),
                done=lambda user: _("Користувача {login} створено.", login=user.login),
                redirect_to=url_for("console.users"),
            ):
                return saved
    values = reader.values() if request.method == "POST" else {}
    return render_template(
        "console/user_form.html",
        values=values,
        errors=reader.errors,
        roles=[role.value for role in assignable_roles(actor)],
        choose_community=choose_community,
        community_options=[(c.id, c.name) for c in managed_communities()],
        school_options=_school_options(choose_community),
        school_moderator=Role.SCHOOL_MODERATOR.value,
    ), (422 if reader.errors else 200)


def _chosen_school(reader: FormReader) -> int | None:
    """The school picked in the form, if it is a number at all; the service checks that
    it is a school of the new user's community and says so when it is not."""
    raw = reader.form.get("school_id", "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else None


def _school_options(choose_community: bool) -> list[tuple[int, str]]:
    """Schools a new school moderator can be given: of the signed-in user's community, or
    of every community (named with it) for an administrator."""
    communities = {c.id: c.name for c in managed_communities()}
    schools = db.session().scalars(
        select(School).where(School.community_id.in_(communities)).order_by(School.name)
    )
    if choose_community:
        return sorted(
            ((s.id, f"{communities[s.community_id]} — {s.name}") for s in schools), key=lambda o: o[1]
        )
    return [(s.id, s.name) for s in schools]


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def user_deactivate(user_id: int) -> ResponseReturnValue:
    return _set_active(user_id, active=False)


@bp.route("/users/<int:user_id>/activate", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def user_activate(user_id: int) -> ResponseReturnValue:
    return _set_active(user_id, active=True)


def _set_active(user_id: int, *, active: bool) -> ResponseReturnValue:
    actor = current_user()
    assert actor is not None
    # Administrators belong to no community, so a moderator gets 404 for them here.
    target = scoped_or_404(User, user_id)
    if not active and not confirmed():  # switching someone off is confirmed; back on is not
        return redirect(url_for("console.users"))
    if active:
        done = _("Користувача {login} знову ввімкнено.", login=target.login)
    else:
        done = _("Користувача {login} вимкнено: увійти він більше не зможе.", login=target.login)
    reader = FormReader()
    if saved := submit(
        reader,
        lambda: set_user_active(db.session(), actor, target, active),
        done=done,
        redirect_to=url_for("console.users"),
    ):
        return saved
    flash_errors(reader.errors)  # the list has no form to show them beside
    return redirect(url_for("console.users"))
