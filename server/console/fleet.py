"""The fleet page: how every terminal and support point is doing (last contact, votes
received, backlog, clock, chain) and its alarms, which a moderator acknowledges."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from server import db
from server.auth.access import (
    COMMUNITY_MANAGERS,
    MAX_ID,
    current_user,
    roles_required,
    scoped_or_404,
    visible_community_ids,
)
from server.i18n import _, get_locale
from server.models import Device
from server.sync.alarm_texts import alarm_text
from server.sync.fleet import acknowledge_alarms, fleet_state

from .forms import save
from .views import bp, menu_item_after

ENDPOINT = "console.fleet"
MENU_LABEL = "Термінали й пункти: стан"
# A clock further off than this is highlighted: vote times come from the device's clock.
SKEW_WARNING_MS = 5 * 60 * 1000


def skew_text(offset_ms: int | None) -> str:
    """A clock offset for people: «+1 год 02 хв», «−5 хв», «+12 с»."""
    if offset_ms is None:
        return "—"
    seconds = abs(offset_ms) // 1000
    # Under a second is "in step": a sign on zero only makes people look twice.
    sign = "" if seconds == 0 else ("+" if offset_ms > 0 else "−")
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    if hours:
        return _("{sign}{hours} год {minutes} хв", sign=sign, hours=hours, minutes=f"{minutes:02d}")
    if minutes:
        return _("{sign}{minutes} хв", sign=sign, minutes=minutes)
    return _("{sign}{seconds} с", sign=sign, seconds=seconds)


@bp.route("/fleet")
@roles_required(*COMMUNITY_MANAGERS)
def fleet() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    scope = visible_community_ids(user)
    return render_template(
        "console/fleet.html",
        states=fleet_state(db.session(), scope),
        show_community=scope is None,
        skew_text=skew_text,
        skew_warning_ms=SKEW_WARNING_MS,
        alarm_text=lambda alarm: alarm_text(alarm.details, alarm.message, get_locale()),
    )


@bp.route("/devices/<int:device_id>/alarms/acknowledge", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def device_alarms_acknowledge(device_id: int) -> ResponseReturnValue:
    device = scoped_or_404(Device, device_id)
    raw = request.form.get("alarm_id", "")
    alarm_id = int(raw) if raw.isdigit() and 0 < len(raw) <= 10 and int(raw) <= MAX_ID else None
    if raw and alarm_id is None:
        flash(_("Такої тривоги немає."), "error")
        return redirect(url_for(ENDPOINT))
    count = save(lambda: acknowledge_alarms(db.session(), device, current_user(), alarm_id))
    if count:
        flash(
            _("Тривоги пристрою {code} позначено як переглянуті: {count}.", code=device.code, count=count),
            "success",
        )
    else:
        flash(_("Немає відкритих тривог, які можна позначити."), "error")
    return redirect(url_for(ENDPOINT))


# Right after «Пристрої».
bp.record(menu_item_after(("console.devices",), ENDPOINT, MENU_LABEL, COMMUNITY_MANAGERS))
