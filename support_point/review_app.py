"""`create_review_app(config)`: the support point's review page, on 127.0.0.1 only.

Thin views over paper.review: they parse the form, call the core, and redirect
(post/redirect/get). Behind the operator's PIN (appkit.service_pin: scrypt hash, slowed
down after wrong tries), with the operator's name asked once per session and recorded
with every decision. Every POST carries the session's CSRF token; every page is
`no-store` (a ballot's picture must not stay in a browser cache). Ukrainian first, with
an English switch; texts come from paper.messages (and issue_messages).

The same PIN opens «Видати бюлетень» (support_point.issue_app): personal sheets issued
by card (the card reader chosen by READER, see hardware.factory) or by a typed document.

What the views share with issue_app's (the Review context, the session's locale and
notice, the sign-in guard) is in support_point.review_context.

Configuration: DEFAULTS, then `SPILNO_REVIEW_*` environment variables, then `config`.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, abort, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from appkit.service_pin import PinGuard
from hardware.card_reader import CardReader
from paper.poll_layout import PollSheet
from paper.review import (
    ReviewError,
    choose_page,
    clean_operator,
    decide_box,
    restore_sheet,
    spoil_sheet,
)
from paper.serials import is_serial
from paper.sheet_state import evaluate
from paper.sheet_store import SheetStore, sheets_path_for
from support_point.commit import CommitError, commit_ready_sheets, cycles_of
from support_point.issue import IssueDesk
from support_point.issue_app import bp as issue_bp
from support_point.issue_messages import message, ui_text
from support_point.review_context import Review, form_int, locale, notify, review, signed_in
from sync.clock import system_clock_ms
from sync.device_store import DeviceStore
from sync.store_file import StoreError
from sync.wire import ProtocolError

__all__ = ["create_review_app", "pin_hash_looks_valid"]

DEFAULTS: dict[str, Any] = {
    "STORE_PATH": None,  # required: the support point's device file
    "SHEETS_PATH": None,  # default: "<store>.sheets.db"
    "PIN_HASH": None,  # required: from `spilno kiosk hash-pin`
    "CLOCK": None,  # device clock in ms (tests); default: the system clock
    # The card reader for issuing sheets by card: "none" (type documents only), "pcsc" or
    # "fake" (hardware.factory); READER_NAME picks one of several PC/SC readers.
    "READER": "none",
    "READER_NAME": None,
    "CARD_READER": None,  # a CardReader object instead (tests: hardware.fakes.FakeCardReader)
    "MONOTONIC": None,  # seconds, for the PIN lock-out (tests)
    # Only the operator's own browser on this machine: refuse other Host headers (DNS rebinding).
    "TRUSTED_HOSTS": ["127.0.0.1", "localhost"],
    "MAX_CONTENT_LENGTH": 16 * 1024,  # the biggest form carries a reason (300 characters)
    "MAX_FORM_MEMORY_SIZE": 8 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Strict",
}
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none';"
    " frame-ancestors 'none'"
)


def pin_hash_looks_valid(pin_hash: object) -> bool:
    """Whether a setting has the shape appkit.service_pin.hash_pin writes."""
    if not isinstance(pin_hash, str):
        return False
    parts = pin_hash.split("$")
    return len(parts) == 6 and parts[0] == "scrypt" and all(parts[1:])


bp = Blueprint("review", __name__)


@bp.get("/")
def home() -> str:
    if not session.get("unlocked"):
        return render_template("pin.html")
    if not session.get("operator"):
        return render_template("operator.html")
    store, cycles = review().sheet_store, cycles_of(review().package())
    return render_template("queue.html", sheets=store.sheets("review"), counts=store.counts(), cycles=cycles)


@bp.post("/pin")
def pin() -> Response:
    with review().pin_lock:  # PinGuard counts failures: one try at a time
        answer = review().pin_guard.try_pin(request.form.get("pin", "")[:64])
    if answer.accepted:
        session.clear()  # a fresh session (and CSRF token) once the PIN is right
        session["unlocked"] = True
    elif answer.wait_s:
        notify("review.pin_locked", seconds=answer.wait_s)
    else:
        notify("review.pin_wrong")
    return redirect(url_for("review.home"), code=303)


@bp.post("/operator")
def operator() -> Response:
    if not session.get("unlocked"):
        return redirect(url_for("review.home"), code=303)
    try:
        session["operator"] = clean_operator(request.form.get("operator", ""))
    except ReviewError as exc:
        notify(exc.code)
    return redirect(url_for("review.home"), code=303)


@bp.post("/locale")
def switch_locale() -> Response:
    session["locale"] = "en" if locale() == "uk" else "uk"
    target = request.form.get("next", "")
    # Only our own paths: the form's "next" must not send the operator elsewhere.
    if not target.startswith("/") or target.startswith("//") or "\\" in target or len(target) > 200:
        target = url_for("review.home")
    return redirect(target, code=303)


@bp.post("/sign-out")
def sign_out() -> Response:
    chosen = locale()
    session.clear()
    session["locale"] = chosen
    return redirect(url_for("review.home"), code=303)


def _sheet_or_404(cycle_id: int, serial: str):
    if not is_serial(serial):
        abort(404)
    sheet = review().sheet_store.sheet(cycle_id, serial)
    if sheet is None:
        abort(404)
    return sheet


@bp.get("/sheet/<int(signed=True):cycle_id>/<serial>")
@signed_in
def sheet_page(cycle_id: int, serial: str) -> str:
    sheet = _sheet_or_404(cycle_id, serial)
    store = review().sheet_store
    cycle = cycles_of(review().package()).get(cycle_id)
    state = evaluate(sheet, store.pages_of(cycle_id, serial), store.decisions(cycle_id, serial), cycle)
    if isinstance(cycle, PollSheet):  # a poll sheet's box says what a mark in it gives
        labels = {box_id: cycle.box_label(box_id, locale()) for box_id in cycle.boxes}
    else:
        labels = {p.id: f"№ {p.number} «{p.title}»" for p in cycle.projects} if cycle else {}
    # Which boxes have a zoomed crop: the reader makes one for every marginal box, and for
    # every box of a page needing review; any other box points to the whole page instead.
    cropped = store.cropped_boxes({box.page_id for box in state.boxes})
    return render_template(
        "sheet.html",
        sheet=sheet,
        state=state,
        labels=labels,
        poll=isinstance(cycle, PollSheet),
        cycle=cycle,
        cropped=cropped,
    )


def _decision_view(action: Callable[..., Any]) -> Callable[[int, str], Response]:
    """A POST about one sheet: parse, call the core, report, back to the sheet."""

    @functools.wraps(action)
    def view(cycle_id: int, serial: str) -> Response:
        _sheet_or_404(cycle_id, serial)
        context = review()
        try:
            action(
                context.sheet_store,
                cycle_id,
                serial,
                operator=session["operator"],
                cycles=cycles_of(context.package()),
                now_ms=context.now_ms(),
            )
        except ReviewError as exc:
            notify(exc.code, who=exc.detail)
        else:
            notify("review.saved", "good")
        return redirect(url_for("review.sheet_page", cycle_id=cycle_id, serial=serial), code=303)

    return view


def _box(store: SheetStore, cycle_id: int, serial: str, **kw: Any) -> None:
    verdict = request.form.get("verdict", "")
    decide_box(
        store,
        cycle_id,
        serial,
        page_id=form_int("page_id"),
        project_id=form_int("project_id"),
        verdict=verdict,
        seen=form_int("seen"),
        reason=request.form.get("reason"),  # the core says when one is needed
        **kw,
    )


def _page(store: SheetStore, cycle_id: int, serial: str, **kw: Any) -> None:
    choose_page(store, cycle_id, serial, page_id=form_int("page_id"), seen=form_int("seen"), **kw)


def _spoil(store: SheetStore, cycle_id: int, serial: str, **kw: Any) -> None:
    reason = request.form.get("reason", "")
    spoil_sheet(store, cycle_id, serial, reason=reason, seen=form_int("seen"), **kw)


def _restore(store: SheetStore, cycle_id: int, serial: str, **kw: Any) -> None:
    restore_sheet(store, cycle_id, serial, seen=form_int("seen"), **kw)


for _name, _action in (("box", _box), ("page", _page), ("spoil", _spoil), ("restore", _restore)):
    bp.add_url_rule(
        f"/sheet/<int(signed=True):cycle_id>/<serial>/{_name}",
        endpoint=f"decide_{_name}",
        view_func=signed_in(_decision_view(_action)),
        methods=["POST"],
    )


@bp.post("/commit")
@signed_in
def commit() -> Response:
    context = review()
    try:
        result = commit_ready_sheets(
            context.sheet_store, context.device_store, context.package(), now_ms=context.now_ms()
        )
    except CommitError as exc:
        notify(exc.code)
    except StoreError:
        notify("review.device_error")
    else:
        count = len(result.committed) + len(result.recovered)
        notify("review.committed_now", "good", count=count, held=len(result.held))
    return redirect(url_for("review.home"), code=303)


@bp.get("/image/<int:page_id>")
@signed_in
def page_image(page_id: int) -> Response:
    data = review().sheet_store.preview(page_id)
    if data is None:
        abort(404)
    return Response(data, mimetype="image/jpeg")


@bp.get("/crop/<int:page_id>/<int:project_id>")
@signed_in
def crop_image(page_id: int, project_id: int) -> Response:
    data = review().sheet_store.crop(page_id, project_id)
    if data is None:
        abort(404)
    return Response(data, mimetype="image/png")


def _moment(epoch_ms: int | None) -> str:
    if epoch_ms is None:
        return "—"
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _build_review(config: Mapping[str, Any]) -> Review:
    if not pin_hash_looks_valid(config["PIN_HASH"]):
        raise RuntimeError(message("review.no_pin_hash", "en"))
    if not config["STORE_PATH"] or not Path(config["STORE_PATH"]).is_file():
        raise RuntimeError(f"no device file at {config['STORE_PATH']!r}: enrol the support point first")
    device_store = DeviceStore(config["STORE_PATH"])
    identity = device_store.identity()
    if identity is None or identity.kind != "support_point":
        device_store.close()
        raise RuntimeError(message("sheets.not_support_point", "en"))
    try:
        device_store.package()  # read once now: a package this release cannot read stops the start
    except ProtocolError as exc:
        device_store.close()
        raise RuntimeError(f"package refused: {exc.detail or exc.code}") from None
    sheet_store = SheetStore(config["SHEETS_PATH"] or sheets_path_for(config["STORE_PATH"]))
    guard = PinGuard(config["PIN_HASH"], monotonic=config["MONOTONIC"] or time.monotonic)
    clock = config["CLOCK"] or system_clock_ms
    desk = IssueDesk(device_store, sheet_store, clock=clock)
    return Review(device_store, sheet_store, guard, threading.Lock(), clock, desk, _card_reader(config))


def _card_reader(config: Mapping[str, Any]) -> CardReader | None:
    if config["CARD_READER"] is not None:
        return config["CARD_READER"]
    if str(config["READER"] or "none").strip().lower() == "none":
        return None
    from hardware.factory import HardwareConfigError, get_card_reader

    try:
        return get_card_reader({"reader": config["READER"], "reader_name": config["READER_NAME"]})
    except HardwareConfigError as exc:
        raise RuntimeError(str(exc)) from None


def create_review_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("SPILNO_REVIEW")
    app.config.from_mapping(config or {})
    # A new key on every start: a restart signs every operator out, which is fine for
    # one machine's local page, and no key is ever written anywhere.
    app.secret_key = secrets.token_bytes(32)
    app.extensions["spilno.review"] = _build_review(app.config)
    app.register_blueprint(bp)
    app.register_blueprint(issue_bp)

    @app.before_request
    def check_csrf() -> Response | None:
        token = session.setdefault("csrf", secrets.token_urlsafe(32))
        if request.method == "POST" and not hmac.compare_digest(
            request.form.get("csrf", "").encode(), token.encode()
        ):
            notify("review.csrf")
            return redirect(url_for("review.home"), code=303)
        return None

    @app.context_processor
    def texts() -> dict[str, Any]:
        current = locale()
        notice = session.pop("notice", None)
        shown = None
        if isinstance(notice, dict):
            shown = {"text": message(notice["code"], current, **notice["params"]), "kind": notice["kind"]}
        return {
            "t": lambda key, **params: ui_text(key, current, **params),
            "m": lambda code, **params: message(code, current, **params),
            "locale": current,
            "csrf": session.get("csrf", ""),
            "notice": shown,
            "operator": session.get("operator"),
            "moment": _moment,
        }

    @app.after_request
    def add_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    return app
