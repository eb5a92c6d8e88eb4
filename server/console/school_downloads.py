"""Downloading a class's cards: a PDF to print and cut, a CSV for a spreadsheet, a ZIP of
one PNG per code (for a message to one student or a page of one's own).

These files hold live codes, so they are treated like the ballot box's keys: only the
school's own moderators and the community's managers get them (school scoping), no
browser or proxy keeps a copy (`Cache-Control: no-store`), they are always saved as a
file rather than shown, and each download is in the audit log (which class, how many,
in what form; never the codes). Cards already used or revoked are never printed again.
"""

from __future__ import annotations

import io
import re
import zipfile

from flask import Response, abort, current_app, render_template, request, send_file
from flask.typing import ResponseReturnValue

from qr_codes.cards import LAYOUTS, CodeCard, cards_pdf, code_png, codes_csv
from qr_codes.codes import code_url
from server import db
from server.auth.access import SCHOOL_STAFF, roles_required
from server.i18n import _, get_locale
from server.school.codes import IssuedCode, printable_codes
from server.school.contests import Contest
from server.school.keys import app_code_keys
from server.services import audit

from .school_codes import card_address_problem, class_or_404, code_or_404, public_address
from .school_contests import contest_or_404
from .views import bp

CLASS = "/contests/<int:contest_id>/classes/<class_name>"
_UNSAFE_IN_NAME = re.compile(r"[^0-9A-Za-z-]+")
# Class letters in Latin (the national transliteration), so that the file name reads
# "kody-3-6-A.pdf" even where a browser or mail client drops non-ASCII names.
_LATIN = str.maketrans(
    {
        "А": "A", "Б": "B", "В": "V", "Г": "H", "Ґ": "G", "Д": "D", "Е": "E", "Є": "Ye", "Ж": "Zh",
        "З": "Z", "И": "Y", "І": "I", "Ї": "Yi", "Й": "Y", "К": "K", "Л": "L", "М": "M", "Н": "N",
        "О": "O", "П": "P", "Р": "R", "С": "S", "Т": "T", "У": "U", "Ф": "F", "Х": "Kh", "Ц": "Ts",
        "Ч": "Ch", "Ш": "Sh", "Щ": "Shch", "Ю": "Yu", "Я": "Ya",
    }
)  # fmt: skip


@bp.get(CLASS + "/cards.pdf")
@roles_required(*SCHOOL_STAFF)
def codes_pdf(contest_id: int, class_name: str) -> ResponseReturnValue:
    contest = contest_or_404(contest_id)
    name = class_or_404(contest, class_name)
    layout = request.args.get("layout", "10")
    if layout not in LAYOUTS:
        abort(404)
    issued, batch_id = _printable(contest, name)
    return _pdf(contest, issued, name, layout, {"class_name": name, "batch_id": batch_id})


@bp.get(CLASS + "/codes.csv")
@roles_required(*SCHOOL_STAFF)
def codes_csv_file(contest_id: int, class_name: str) -> ResponseReturnValue:
    contest = contest_or_404(contest_id)
    name = class_or_404(contest, class_name)
    issued, batch_id = _printable(contest, name)
    cards = _cards(contest, issued)
    text = io.StringIO(newline="")
    codes_csv(cards, text)
    _record(contest, "csv", len(cards), {"class_name": name, "batch_id": batch_id})
    return _attachment(text.getvalue().encode("utf-8"), "text/csv", _file_name(contest, name, "csv"))


@bp.get(CLASS + "/codes.zip")
@roles_required(*SCHOOL_STAFF)
def codes_png_zip(contest_id: int, class_name: str) -> ResponseReturnValue:
    contest = contest_or_404(contest_id)
    name = class_or_404(contest, class_name)
    issued, batch_id = _printable(contest, name)
    problem = card_address_problem(None)
    if problem:
        return _cannot_print(problem)
    cards = _cards(contest, issued)
    buffer = io.BytesIO()
    # PNGs are already compressed: stored as they are, zipping costs nothing.
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for card in cards:
            archive.writestr(f"{_safe(card.class_name)}-{card.number:03d}.png", code_png(card.url))
    _record(contest, "png", len(cards), {"class_name": name, "batch_id": batch_id})
    return _attachment(buffer.getvalue(), "application/zip", _file_name(contest, name, "zip"))


@bp.get("/codes/<int:code_id>/card.pdf")
@roles_required(*SCHOOL_STAFF)
def code_card_pdf(code_id: int) -> ResponseReturnValue:
    """One card: the replacement of a lost one, or a single card printed again."""
    code, contest = code_or_404(code_id)
    issued = printable_codes(db.session(), contest, app_code_keys(current_app), code_ids=[code.id])
    if not issued:
        abort(404)  # used or revoked: such a card is never printed again
    label = f"{code.class_name}-{code.number:03d}"
    return _pdf(contest, issued, label, "10", {"class_name": code.class_name, "code_id": code.id})


def _printable(contest: Contest, class_name: str) -> tuple[list[IssuedCode], int | None]:
    """The class's active cards, or only those of one batch (`?batch=`: the cards just made)."""
    raw = request.args.get("batch", "")
    batch_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else None
    if raw and batch_id is None:
        abort(404)
    issued = printable_codes(
        db.session(), contest, app_code_keys(current_app), class_name=class_name, batch_id=batch_id
    )
    if not issued:
        abort(404)  # nothing left to print (all used or revoked), or not this class's batch
    return issued, batch_id


def _cards(contest: Contest, issued: list[IssuedCode]) -> list[CodeCard]:
    base = public_address()
    return [
        CodeCard(
            code=i.code,
            url=code_url(base, i.code),
            school=contest.school.name,
            class_name=i.class_name,
            contest=contest.programme.title,
            number=i.number,
        )
        for i in issued
    ]


def _pdf(
    contest: Contest, issued: list[IssuedCode], label: str, layout: str, details: dict
) -> ResponseReturnValue:
    problem = card_address_problem(layout)
    if problem:
        return _cannot_print(problem)
    cards = _cards(contest, issued)
    buffer = io.BytesIO()
    pages = cards_pdf(
        cards, buffer, layout=layout, title=f"{contest.school.name}, {label}", locale=get_locale()
    )
    _record(contest, "pdf", len(cards), details | {"layout": layout, "pages": pages})
    return _attachment(buffer.getvalue(), "application/pdf", _file_name(contest, label, "pdf"))


def _cannot_print(problem: str) -> ResponseReturnValue:
    """The public address makes no readable card: a page that says why (nothing is
    downloaded, nothing goes into the audit log), not a server error."""
    title = _("Картки не можна надрукувати")
    return render_template("error.html", code=409, title=title, detail=problem), 409


def _record(contest: Contest, form: str, count: int, details: dict) -> None:
    """Who took which cards out, in the audit log (a batch, if given, says which ones)."""
    details = {k: v for k, v in details.items() if v is not None}
    audit.record(
        db.session(),
        "school_codes.download",
        community_id=contest.contest.community_id,
        target=("school_contest", contest.id),
        details={"format": form, "count": count, **details},
    )
    db.session().commit()


def _safe(text: str) -> str:
    return _UNSAFE_IN_NAME.sub("-", text.upper().translate(_LATIN)).strip("-") or "class"


def _file_name(contest: Contest, label: str, extension: str) -> str:
    return f"kody-{contest.id}-{_safe(label)}.{extension}"


def _attachment(data: bytes, mimetype: str, file_name: str) -> Response:
    response = send_file(
        io.BytesIO(data),
        mimetype=mimetype,
        as_attachment=True,
        download_name=file_name,
        etag=False,
        max_age=0,
    )
    # Live codes: no browser, proxy or shared office computer may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response
