"""The voter's screens: attract, ballot, review, confirm, receipt, refusal; and the
small endpoints every screen uses (/state poll, display choices, activity, cancel)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, request
from werkzeug.wrappers import Response

from kiosk import ballot_page, ballot_view, school_codes
from kiosk.freshness import terminal_data_age
from kiosk.i18n import moment_text
from kiosk.receipt import check_address
from kiosk.terminal import UNAVAILABLE_TEXTS, OpenVoting
from kiosk.visit import Step
from kiosk.web import (
    ShownState,
    action,
    client_gone,
    flow,
    form_int,
    kiosk,
    render,
    screen,
    shown_state,
    step_url,
    to_current_step,
    wait_ms,
)
from sync.wire import HEX64

bp = Blueprint("voter", __name__)
PROJECT_DETAIL_PATH = re.compile(r"/ballot/project/[0-9]{1,9}")


@bp.get("/state")
def state() -> Response | tuple[Response, int]:
    """Where the visit is now, so the page can follow (a card put on or taken off, a
    timeout), and the idle warning. Asked as `/state?wait=MS&path=..&token=..&idle=..`
    (what the page shows) it is a long poll: the answer comes as soon as the page's
    picture is out of date, and after MS milliseconds (at most STATE_WAIT_MAX_MS) if
    nothing changed. Without `wait` it answers at once."""
    wait = wait_ms(request.args.get("wait"))
    if wait is None:
        return jsonify(error="wait must be a whole number of milliseconds (digits only, at most 9)"), 400
    shown = shown_state(request.args)
    wait_s = min(wait, kiosk().state_wait_max_ms) / 1000
    return jsonify(kiosk().watch(_state_now, lambda now: _as_shown(now) == shown, wait_s, client_gone))


def _state_now() -> dict[str, Any]:
    current = flow()
    idle = current.idle_status()
    return {
        "step": str(current.step),
        "path": step_url(current.step),
        "token": current.token,
        "idle": {"warning": idle.warning, "seconds_left": idle.seconds_left},
    }


def _as_shown(state: dict[str, Any]) -> ShownState:
    # The countdown is on screen only while the warning is; before that it ticks unseen.
    idle = state["idle"]
    return ShownState(state["path"], state["token"], idle["seconds_left"] if idle["warning"] else None)


@bp.post("/activity")
@action
def activity() -> Response:
    flow().touch()
    return Response(status=204)


@bp.post("/prefs")
@action
def preferences() -> Response | None:
    choice = request.form.get("choice", "")
    if choice == "contrast":
        flow().toggle_high_contrast()
    elif choice == "large":
        flow().toggle_large_text()
    elif choice.startswith("locale:"):
        flow().set_locale(choice.removeprefix("locale:"))
    # A project's detail is part of the ballot step: the voter stays on it.
    here = request.form.get("here", "")
    if flow().step is Step.BALLOT and PROJECT_DETAIL_PATH.fullmatch(here):
        return redirect(here, code=303)
    return None


@bp.post("/cancel")
@action
def cancel() -> None:
    flow().cancel()


@bp.post("/done")
@action
def done() -> None:
    flow().finish()


@bp.get("/")
@screen(Step.ATTRACT)
def attract() -> str:
    current = flow()
    availability = current.availability()
    camera = kiosk().devices.scanner is not None
    # Codes other than students' cards (invitations) are mentioned only if some handler takes them.
    other_prefixes = [p for p in current.qr_handlers.prefixes() if p not in school_codes.URL_PREFIXES]
    return render(
        "attract.html",
        voting=availability if isinstance(availability, OpenVoting) else None,
        unavailable=None if isinstance(availability, OpenVoting) else availability,
        unavailable_texts=UNAVAILABLE_TEXTS,
        # A school's terminal: students show their code cards to the camera.
        school_contests=current.terminal.open_school_contests(),
        polls=current.terminal.open_polls(),
        camera=camera,
        reader_missing=current.reader_missing,
        staff_ready=current.pin_guard.configured,
        qr_prefixes=other_prefixes if camera else [],
    )


@bp.get("/ballot")
@screen(Step.BALLOT)
def ballot() -> str:
    current = flow()
    assert current.voting is not None
    page = ballot_view.category_page(
        current.voting.ballot, current.voting.cycle, current.selections, current.category_index
    )
    cards = ballot_page.card_views(page.cards, current.prefs.locale)
    return render("ballot.html", voting=current.voting, page=page, cards=cards, **_data_age())


@bp.get("/ballot/project/<int:project_id>")
@screen(Step.BALLOT)
def project_detail(project_id: int) -> str | Response:
    """A project in full, from the package (offline): photos, address, breakdown."""
    current = flow()
    assert current.voting is not None
    detail = ballot_view.project_detail(
        current.voting.ballot, current.voting.cycle, current.selections, current.category_index, project_id
    )
    if detail is None:
        return to_current_step()
    return render("project.html", voting=current.voting, detail=detail)


@bp.get("/photo/<digest>.jpg")
def photo(digest: str) -> Response:
    """A project photo the package names, as the server made it (a plain JPEG)."""
    data = kiosk().store.photo(digest) if HEX64.fullmatch(digest) else None
    if data is None:
        return Response(status=404)
    answer = Response(data, mimetype="image/jpeg")
    # Named by its content: the same name is always the same picture.
    answer.headers["Cache-Control"] = "private, max-age=86400, immutable"
    return answer


@bp.post("/ballot/toggle")
@action
def toggle() -> Response | None:
    project_id = form_int("project")
    if project_id is None:
        return None
    flow().toggle(project_id)
    # Back to the card just tapped, so keyboard focus and scroll stay where they were.
    return to_current_step(f"#project-{project_id}" if flow().step is Step.BALLOT else "")


@bp.post("/ballot/next")
@action
def next_category() -> None:
    flow().next_category()


@bp.post("/ballot/back")
@action
def previous_category() -> None:
    flow().previous_category()


@bp.get("/review")
@screen(Step.REVIEW)
def review() -> str:
    current = flow()
    assert current.voting is not None
    return render(
        "review.html",
        voting=current.voting,
        categories=ballot_view.review(current.voting.ballot, current.selections),
    )


@bp.post("/review/edit")
@action
def edit_category() -> None:
    index = form_int("category")
    if index is not None:
        flow().edit_category(index)


@bp.post("/review/confirm")
@action
def to_confirm() -> None:
    flow().to_confirm()


@bp.get("/confirm")
@screen(Step.CONFIRM)
def confirm() -> str:
    current = flow()
    assert current.voting is not None
    return render("confirm.html", voting=current.voting, chosen=len(current.selections))


@bp.post("/confirm")
@action
def cast() -> None:
    flow().confirm()


@bp.post("/confirm/back")
@action
def back_to_review() -> None:
    flow().back_to_review()


@bp.get("/receipt")
@screen(Step.RECEIPT)
def receipt() -> str:
    identity = flow().terminal.store.identity()
    address = check_address(identity.server_url if identity else None)
    return render("receipt.html", receipt=flow().receipt, check_address=address, **_data_age())


def _data_age() -> dict[str, Any]:
    """Whether to tell the resident that the server will check the vote later, and
    when the terminal last heard from it (kiosk.freshness)."""
    age = terminal_data_age(flow().terminal, float(current_app.config["DATA_STALE_AFTER_MIN"]))
    since = moment_text(age.last_contact, flow().prefs.locale) if age.last_contact else None
    return {"data_stale": age.stale, "last_contact": since}


@bp.get("/refused")
@screen(Step.REFUSED)
def refused() -> str:
    return render("refused.html")
