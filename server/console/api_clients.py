"""Clients of the integration API (the online e-democracy platform): list, create,
revoke. A new client's token is shown once, in the response to the creation, and is
never stored or shown again (not even in the flash cookie)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
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
from server.models import ApiClient, Community
from server.services.api_clients import create_api_client, revoke_api_client

from .forms import (
    REFUSALS,
    FormReader,
    community_for_new_object,
    confirmed,
    managed_communities,
    refusal_errors,
    save,
)
from .views import bp


@bp.route("/api-clients")
@roles_required(*COMMUNITY_MANAGERS)
def api_clients() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    query = (
        select(ApiClient, Community)
        .join(Community, Community.id == ApiClient.community_id)
        .order_by(Community.name, ApiClient.created_at.desc())
    )
    scope = visible_community_ids(user)
    if scope is not None:
        query = query.where(ApiClient.community_id.in_(scope))
    return render_template(
        "console/api_clients.html", rows=db.session().execute(query).all(), show_community=scope is None
    )


@bp.route("/api-clients/new", methods=["GET", "POST"])
@roles_required(*COMMUNITY_MANAGERS)
def api_client_new() -> ResponseReturnValue:
    reader = FormReader()
    if request.method == "POST":
        community_id = community_for_new_object(reader)
        if community_id is not None and not reader.errors:
            try:
                client, token = save(
                    lambda: create_api_client(
                        db.session(), community_id=community_id, name=reader.text("name")
                    )
                )
            except REFUSALS as exc:
                reader.errors.update(refusal_errors(exc))
            else:
                return render_template("console/api_client_created.html", client=client, token=token)
    actor = current_user()
    assert actor is not None  # roles_required
    return render_template(
        "console/api_client_form.html",
        values=reader.values() if request.method == "POST" else {},
        errors=reader.errors,
        choose_community=visible_community_ids(actor) is None,
        community_options=[(c.id, c.name) for c in managed_communities()],
    ), (422 if reader.errors else 200)


@bp.route("/api-clients/<int:client_id>/revoke", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def api_client_revoke(client_id: int) -> ResponseReturnValue:
    client = scoped_or_404(ApiClient, client_id)
    if not confirmed():
        return redirect(url_for("console.api_clients"))
    save(lambda: revoke_api_client(db.session(), client))
    flash(_("Доступ клієнта «{name}» відкликано.", name=client.name), "success")
    return redirect(url_for("console.api_clients"))
