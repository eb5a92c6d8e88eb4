"""«Видати бюлетень»: the review app's page for issuing personal ballot sheets.

Thin views over support_point.issue, behind the review app's PIN and operator name,
with its CSRF check on every POST and its no-store, no-external-assets headers. The
operator picks the cycle (when several are open), then either reads the resident's card
from the reader or types their document. A typed number is used for the voter key and
dropped: it is never put back into a page, a notice, the session or a log. A refusal is
a notice; an issued sheet is offered as a PDF to download and print. Today's sheets are
listed with «Зіпсований: скасувати й видати новий».
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from hardware.card_reader import CardError, CardPresent, NoCard, NoReader
from paper.review import ReviewError
from support_point.issue import DOCUMENT_KINDS, CardIdentity, DocumentIdentity, IssueRefused, IssueResult
from support_point.review_context import form_int, notify, review, signed_in

__all__ = ["bp"]

bp = Blueprint("issue", __name__, url_prefix="/issue")

_CARD_REFUSALS = {NoReader: "issue.no_reader", NoCard: "issue.no_card", CardError: "issue.card_error"}


def _back() -> Response:
    return redirect(url_for("issue.page"), code=303)


def _cycle_id() -> int:
    try:
        return form_int("cycle_id")
    except ReviewError as exc:
        raise IssueRefused(exc.code) from None


def _issued(result: IssueResult) -> None:
    session["issued"] = result.sheet.serial  # the page offers this sheet's PDF first
    if result.cancelled is not None:
        notify("issue.reissued", "good", old=result.cancelled.serial, serial=result.sheet.serial)
    else:
        notify("issue.issued", "good", serial=result.sheet.serial)


@bp.get("")
@signed_in
def page() -> str:
    desk = review().desk
    cycles = desk.open_cycles()
    rows = desk.issued_today()
    just = next((r for r in rows if r.sheet.serial == session.get("issued") and r.status == "live"), None)
    return render_template(
        "issue.html",
        cycles=cycles,
        rows=rows,
        just=just,
        has_reader=review().card_reader is not None,
        kinds=[kind.value for kind in DOCUMENT_KINDS],
        any_min_age=any(c.min_age for c in cycles),
    )


@bp.post("/card")
@signed_in
def by_card() -> Response:
    context = review()
    try:
        cycle_id = _cycle_id()
        if context.card_reader is None:
            raise IssueRefused("issue.reader_off")
        card = context.card_reader.state()
        if not isinstance(card, CardPresent):
            raise IssueRefused(_CARD_REFUSALS.get(type(card), "issue.card_error"))
        result = context.desk.issue_sheet(cycle_id, CardIdentity(card.card_id), operator=session["operator"])
    except IssueRefused as exc:
        notify(exc.code, **exc.params)
    else:
        _issued(result)
    return _back()


@bp.post("/document")
@signed_in
def by_document() -> Response:
    identity = DocumentIdentity(
        request.form.get("kind", ""),
        request.form.get("number", ""),
        age_confirmed=request.form.get("age_confirmed") == "yes",
    )
    try:
        result = review().desk.issue_sheet(_cycle_id(), identity, operator=session["operator"])
    except IssueRefused as exc:
        notify(exc.code, **exc.params)  # codes and limits only: never the number
    else:
        _issued(result)
    return _back()


@bp.post("/<serial>/cancel")
@signed_in
def cancel(serial: str) -> Response:
    desk, reason, then = review().desk, request.form.get("reason", ""), request.form.get("then", "")
    try:
        if then == "reissue":
            _issued(desk.reissue(serial, reason, operator=session["operator"]))
        elif then == "cancel":
            cancelled = desk.cancel_sheet(serial, reason, operator=session["operator"])
            notify("issue.cancelled", "good", serial=cancelled.serial)
        else:
            raise IssueRefused("review.bad_form")
    except IssueRefused as exc:
        notify(exc.code, **exc.params)
    return _back()


@bp.get("/<serial>.pdf")
@signed_in
def sheet_pdf(serial: str) -> Response:
    try:
        sheet, pdf = review().desk.sheet_pdf(serial)
    except IssueRefused:
        abort(404)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="ballot-{sheet.serial}.pdf"'},
    )
