"""Votes held for a decision (server.sync.held): late votes for published results, a
revoked device's votes, votes for another district's category (also pushed online). A
moderator sees each group (device or source, cycle, why) with its count and cast times,
and counts or rejects it with a note; both are audited."""

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
from server.i18n import _, ngettext
from server.models import Cycle, Device
from server.sync.held import (
    DEVICE_REVOKED,
    MAX_NOTE,
    REASONS,
    WRONG_DISTRICT,
    DecisionRefused,
    decide,
    open_groups,
)

from .views import bp, menu_item_after

ENDPOINT = "console.held_votes"
MENU_LABEL = "Голоси на розгляді"


@bp.route("/held-votes")
@roles_required(*COMMUNITY_MANAGERS)
def held_votes() -> ResponseReturnValue:
    user = current_user()
    assert user is not None
    return render_template(
        "console/held_votes.html",
        groups=open_groups(db.session(), visible_community_ids(user)),
        revoked_reason=DEVICE_REVOKED,
        max_note=MAX_NOTE,
    )


@bp.route("/devices/<int:device_id>/held-votes", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def held_votes_decide(device_id: int) -> ResponseReturnValue:
    device = scoped_or_404(Device, device_id)
    raw_cycle = request.form.get("cycle_id", "")
    reason = request.form.get("reason", "")
    cycle_id = int(raw_cycle) if raw_cycle.isdigit() and len(raw_cycle) <= 10 else 0
    cycle = db.session().get(Cycle, cycle_id) if 0 < cycle_id <= MAX_ID else None
    if cycle is None or cycle.community_id != device.community_id or reason not in REASONS:
        flash(_("Такої групи голосів на розгляді немає."), "error")
        return redirect(url_for(ENDPOINT))
    return _decide(device, cycle, reason, device.code)


def _decide(device: Device | None, cycle: Cycle, reason: str, source: str) -> ResponseReturnValue:
    choice = request.form.get("decision", "")
    if choice not in ("count", "reject"):
        flash(_("Оберіть: зарахувати чи відхилити."), "error")
        return redirect(url_for(ENDPOINT))
    session = db.session()
    try:
        decision = decide(
            session,
            device=device,
            cycle=cycle,
            reason=reason,
            count=choice == "count",
            note=request.form.get("note", "")[: MAX_NOTE + 1],
            user=current_user(),
            source=source,
        )
        session.commit()
    except DecisionRefused as refused:
        session.rollback()
        if refused.code == "held.note_required":
            flash(
                ngettext(
                    "Напишіть, чому ви так вирішили (до {n} знака): це потрапить до журналу дій.",
                    "Напишіть, чому ви так вирішили (до {n} знаків): це потрапить до журналу дій.",
                    MAX_NOTE,
                ),
                "error",
            )
        else:
            flash(_("Ці голоси вже розглянуто."), "error")
        return redirect(url_for(ENDPOINT))
    flash(
        _(
            "Голоси пристрою {code}: зараховано {counted}, відхилено {rejected}.",
            code=source,
            counted=decision.counted,
            rejected=decision.rejected,
        ),
        "success",
    )
    return redirect(url_for(ENDPOINT))


@bp.route("/held-votes/pushed", methods=["POST"])
@roles_required(*COMMUNITY_MANAGERS)
def held_votes_decide_pushed() -> ResponseReturnValue:
    """A group of votes the online platform pushed ("api:<client id>"): held only for the
    wrong district (server.sync.held.WRONG_DISTRICT)."""
    user = current_user()
    assert user is not None
    source = request.form.get("source", "")[:64]
    raw_cycle = request.form.get("cycle_id", "")
    cycle_id = int(raw_cycle) if raw_cycle.isdigit() and len(raw_cycle) <= 10 else 0
    cycle = db.session().get(Cycle, cycle_id) if 0 < cycle_id <= MAX_ID else None
    visible = visible_community_ids(user)
    if (
        cycle is None
        or (visible is not None and cycle.community_id not in visible)
        or not source.startswith("api:")
        or request.form.get("reason") != WRONG_DISTRICT
    ):
        flash(_("Такої групи голосів на розгляді немає."), "error")
        return redirect(url_for(ENDPOINT))
    return _decide(None, cycle, WRONG_DISTRICT, source)


# Right after the fleet page, where the alarm about held votes shows.
bp.record(menu_item_after(("console.fleet",), ENDPOINT, MENU_LABEL, COMMUNITY_MANAGERS))
