"""Communities (administrators only): list, create, rename."""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from server import db
from server.auth.access import roles_required
from server.i18n import _
from server.models import Community, Role
from server.services.communities import create_community, rename_community

from .forms import FormReader, submit
from .views import bp


@bp.route("/communities")
@roles_required(Role.ADMINISTRATOR)
def communities() -> ResponseReturnValue:
    rows = db.session().scalars(select(Community).order_by(Community.name)).all()
    return render_template("console/communities.html", communities=rows)


@bp.route("/communities/new", methods=["GET", "POST"])
@roles_required(Role.ADMINISTRATOR)
def community_new() -> ResponseReturnValue:
    reader = FormReader()
    if request.method == "POST":
        slug, name = reader.text("slug", required=True), reader.text("name", required=True)
        if not reader.errors:
            if saved := submit(
                reader,
                lambda: create_community(db.session(), slug=slug, name=name),
                done=_("Громаду створено."),
                redirect_to=url_for("console.communities"),
            ):
                return saved
    return _form(None, reader)


@bp.route("/communities/<int:community_id>/edit", methods=["GET", "POST"])
@roles_required(Role.ADMINISTRATOR)
def community_edit(community_id: int) -> ResponseReturnValue:
    community = db.session().get(Community, community_id) or abort(404)
    reader = FormReader()
    if request.method == "POST":
        name = reader.text("name", required=True)
        if not reader.errors:
            if saved := submit(
                reader,
                lambda: rename_community(db.session(), community, name=name),
                done=_("Зміни збережено."),
                redirect_to=url_for("console.communities"),
            ):
                return saved
    return _form(community, reader)


def _form(community: Community | None, reader: FormReader) -> tuple[str, int]:
    if request.method == "POST":
        values = reader.values()
    else:
        values = {"name": community.name, "slug": community.slug} if community else {}
    status = 422 if reader.errors else 200
    return render_template(
        "console/community_form.html", community=community, values=values, errors=reader.errors
    ), status
