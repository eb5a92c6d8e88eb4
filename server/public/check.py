"""«Перевірити свій голос» (/check): a resident types the code from a terminal's receipt
and learns whether the vote has reached the server and counts, waits for a moderator,
or is not known here yet; never what was chosen.

Public, no sign-in. The form posts (with the CSRF token), so the code stays out of
addresses, browser history and logs. Every lookup counts against the visitor's network
address (server.auth.throttle): a few in a row are free, then each waits a little
longer. Text that is not a receipt code is answered without a lookup and not counted.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template, request
from flask.typing import ResponseReturnValue

from qr_codes.receipt_codes import MAX_INPUT_LENGTH, ReceiptCodeError, receipt_numbers
from server import db
from server.auth.throttle import Rule, address_subject, take
from server.i18n import _, get_locale
from server.models import utcnow
from server.services.receipt_check import find_votes

bp = Blueprint("check", __name__)


def _limit() -> Rule:
    return Rule.from_config("receipt.address", current_app.config, "RECEIPT_CHECK", "RECEIPT_CHECKS_PER_IP")


def _too_many_text(wait: int) -> str:
    if wait < 120:
        return _("Забагато перевірок поспіль. Спробуйте знову через {seconds} с.", seconds=wait)
    return _("Забагато перевірок поспіль. Спробуйте знову через {minutes} хв.", minutes=-(-wait // 60))


def _page(value: str, *, error: str | None = None, found: list | None = None) -> str:
    return render_template("public/check.html", value=value, error=error, found=found)


@bp.get("/check")
def check_form() -> ResponseReturnValue:
    return _page("")


@bp.post("/check")
def check_code() -> ResponseReturnValue:
    typed = request.form.get("code", "")
    shown = typed[:MAX_INPUT_LENGTH]  # echoed into the field; a flood is not sent back
    try:
        numbers = receipt_numbers(typed)
    except ReceiptCodeError as refused:
        return _page(shown, error=refused.message(get_locale())), 400
    s = db.session()
    verdict = take(s, [(_limit(), address_subject(request.remote_addr or ""))], utcnow())
    s.commit()  # counted before the lookup, so simultaneous requests cannot all slip in
    if not verdict.allowed:
        return (
            _page(shown, error=_too_many_text(verdict.wait_seconds)),
            429,
            {"Retry-After": str(verdict.wait_seconds)},
        )
    return _page(shown, found=find_votes(s, numbers))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
