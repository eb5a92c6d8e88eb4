"""Screens for staff: the service PIN, staff-assisted identification by document, and
the maintenance screen. The PIN form and the document form never echo what was typed."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from kiosk.i18n import N_
from kiosk.identification import STAFF_DOCUMENT_KINDS
from kiosk.maintenance import maintenance_report
from kiosk.terminal import OpenVoting
from kiosk.visit import Step
from kiosk.web import action, flow, kiosk, render, screen

bp = Blueprint("staff", __name__)

DOCUMENT_LABELS = {  # Ukrainian, translated when shown
    "rnokpp": N_("РНОКПП (ідентифікаційний код)"),
    "id_card": N_("Номер ID-картки"),
    "passport": N_("Паспорт-книжечка"),
    "unzr": N_("Запис ЄДДР (УНЗР)"),
}


def _field(name: str, longest: int = 64) -> str:
    # Longer than any PIN or document number: cut, then refused by the rules that check it.
    return request.form.get(name, "")[: longest + 1]


@bp.post("/staff")
@action
def start_staff_assisted() -> None:
    flow().start_staff_assisted()


@bp.get("/staff/pin")
@screen(Step.STAFF_PIN)
def staff_pin() -> str:
    # Where only polls are open, staff help a resident answer rather than vote.
    polls_only = not isinstance(flow().availability(), OpenVoting)
    return render("pin.html", action_endpoint="staff.enter_staff_pin", purpose="staff", polls_only=polls_only)


@bp.post("/staff/pin")
@action
def enter_staff_pin() -> None:
    flow().enter_staff_pin(_field("pin"))


@bp.get("/staff/document")
@screen(Step.STAFF_DOCUMENT)
def staff_document() -> str:
    kinds = [(kind.value, DOCUMENT_LABELS[kind.value]) for kind in STAFF_DOCUMENT_KINDS]
    voting = flow().availability()
    min_age = voting.cycle.min_age if isinstance(voting, OpenVoting) else None
    return render("document.html", kinds=kinds, min_age=min_age)


@bp.post("/staff/document")
@action
def enter_document() -> None:
    confirmed = _field("age_confirmed", 4) == "yes"
    flow().enter_document(_field("kind", 16), _field("number"), age_confirmed=confirmed)


@bp.post("/service")
@action
def start_maintenance() -> None:
    flow().start_maintenance()


@bp.get("/service/pin")
@screen(Step.SERVICE_PIN)
def service_pin() -> str:
    return render("pin.html", action_endpoint="staff.enter_service_pin", purpose="service")


@bp.post("/service/pin")
@action
def enter_service_pin() -> None:
    flow().enter_service_pin(_field("pin"))


@bp.get("/service")
@screen(Step.MAINTENANCE)
def maintenance() -> str:
    current = kiosk()
    report = maintenance_report(
        current.terminal,
        current.devices,
        current.card_state(),
        float(current_app.config["DATA_STALE_AFTER_MIN"]),
    )
    return render("maintenance.html", report=report)


@bp.post("/service/voting")
@action
def switch_voting() -> None:
    flow().set_voting_open(request.form.get("open") == "1")


@bp.post("/service/alarms")
@action
def acknowledge_alarms() -> None:
    flow().acknowledge_alarms()


@bp.post("/service/exit")
@action
def leave_maintenance() -> None:
    flow().leave_maintenance()
