"""Terminals and support points: register them, see their codes, give them one-time
enrolment codes, revoke them. Their sync state is on the fleet page (fleet.py)."""

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
from server.models import Community, Device, DeviceKind
from server.services.devices import register_device, revoke_device
from server.sync.enrolment import issue_enrolment_code

from .forms import (
    REFUSALS,
    FormReader,
    community_for_new_object,
    confirmed,
    flash_errors,
    managed_communities,
    refusal_errors,
    save,
    submit,
)
from .views import bp


@bp.route("/devices")
@roles_required(*COMMUNITY_MANAGERS)
def devices() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    query = (
        select(Device, Community)
        .join(Community, Community.id == Device.community_id)
        .order_by(Community.name, Device.code)
    )
    scope = visible_community_ids(user)
    if scope is not None:
        query = query.where(Device.community_id.in_(scope))
    return render_template(
        "console/devices.html", rows=db.session().execute(query).all(), show_community=scope is None
    )


@bp.route("/devices/new", methods=["GET", "POST"])
@roles_required(*COMMUNITY_MANAGERS)
def device_new() -> ResponseReturnValue:
    reader = FormReader()
    if request.method == "POST":
        community_id = community_for_new_object(reader)
        kind, name = reader.text("kind"), reader.text("name", required=True)
        if community_id is not None and not reader.errors:
            if saved := submit(
                reader,
                lambda: register_device(
                    db.session(),
                    community_id=community_id,
                    kind=kind,
                    name=name,
                    location=reader.text("location"),
                ),
                done=lambda device: _("Пристрій зареєстровано з кодом {code}.", code=device.code),
                redirect_to=url_for("console.devices"),
            ):
                return saved
    values = reader.values() if request.method == "POST" else {"kind": DeviceKind.TERMINAL.value}
    user = current_user()
    assert user is not None  # roles_required
    return render_template(
        "console/device_form.html",
        values=values,
        errors=reader.errors,
        choose_community=visible_community_ids(user) is None,
        community_options=[(c.id, c.name) for c in managed_communities()],
    ), (422 if reader.errors else 200)


@bp.route("/devices/<int:device_id>/revoke", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def device_revoke(device_id: int) -> ResponseReturnValue:
    device = scoped_or_404(Device, device_id)
    if not confirmed():
        return redirect(url_for("console.devices"))
    save(lambda: revoke_device(db.session(), device))
    flash(
        _(
            "Пристрій {code} відкликано: нових голосів він не прийматиме. Те, що він уже записав,"
            " надійде на сторінку «Голоси на розгляді» для вашого рішення.",
            code=device.code,
        ),
        "success",
    )
    return redirect(url_for("console.devices"))


@bp.route("/devices/<int:device_id>/enrolment-code", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def device_enrolment_code(device_id: int) -> ResponseReturnValue:
    """A one-time code, shown in this response only: the server keeps just its hash."""
    device = scoped_or_404(Device, device_id)
    try:
        issued = save(lambda: issue_enrolment_code(db.session(), device, current_user()))
    except REFUSALS as exc:
        # Not `submit`: what a success shows is the code itself, once, not a message.
        flash_errors(refusal_errors(exc))
        return redirect(url_for("console.devices"))
    return render_template("console/device_enrolment_code.html", device=device, issued=issued)


# The fleet page belongs with the devices; importing it attaches its routes.
from . import fleet as _fleet  # noqa: E402,F401
from . import held_votes as _held_votes  # noqa: E402,F401
