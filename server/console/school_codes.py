"""Voting codes of a school's contest: make cards for a class, see how many of each class
have been used, revoke a card, replace a lost one.

A page never shows a code: codes leave the server only as the downloads in
school_downloads, each recorded in the audit log. What a page says about a card is its
number and whether it is active, used or revoked, never what it voted for.
"""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from qr_codes.card_address import CardAddressError, check_card_address
from qr_codes.cards import LAYOUTS
from server import db
from server.auth.access import SCHOOL_STAFF, current_user, roles_required, school_scoped_or_404
from server.i18n import _, get_locale
from server.models import SchoolContest, VotingCode
from server.school.classes import normalise_class_name
from server.school.codes import (
    class_usage,
    codes_of_class,
    issue_codes,
    replace_code,
    revoke_code,
)
from server.school.contests import Contest, load_contest
from server.school.keys import app_code_keys
from server.services.validation import Refused

from .forms import Errors, FormReader, confirmed, submit
from .school_contests import contest_or_404, render_contest_page
from .views import bp

REASON_MAX = 200  # server.school.codes keeps a revoke reason up to this length
# Ten cards a sheet first (the usual print), then eight larger ones, then any other layout.
OFFERED_LAYOUTS = sorted(LAYOUTS, key=lambda name: {"10": 0, "8": 1}.get(name, 2))


def public_address() -> str:
    """What every card's QR code starts with: PUBLIC_URL, else the address the console
    was opened at."""
    return current_app.config.get("PUBLIC_URL") or request.url_root


def card_address_problem(layout: str | None) -> str | None:
    """Why cards of `layout` (None: a PNG per code) cannot be printed with the public
    address, in the visitor's language; None when they can."""
    try:
        check_card_address(public_address(), layout)
    except CardAddressError as exc:
        return exc.message(get_locale())
    return None


def class_or_404(contest: Contest, raw: str) -> str:
    """The class named in the address, as stored ("6-А"), if the contest has its cards."""
    try:
        name, _grade = normalise_class_name(raw)
    except Refused:
        abort(404)
    found = db.session().scalar(
        select(VotingCode.id)
        .where(VotingCode.contest_id == contest.id, VotingCode.class_name == name)
        .limit(1)
    )
    if found is None:
        abort(404)
    return name


def code_or_404(code_id: int) -> tuple[VotingCode, Contest]:
    code = school_scoped_or_404(VotingCode, code_id)
    return code, load_contest(db.session(), db.session().get_one(SchoolContest, code.contest_id))


@bp.route("/contests/<int:contest_id>/codes", methods=["POST"])
@roles_required(*SCHOOL_STAFF)
def codes_issue(contest_id: int) -> ResponseReturnValue:
    contest = contest_or_404(contest_id)
    reader = FormReader()
    class_name = reader.text("class_name", required=True)
    count = reader.integer("count")  # its range is the service's to check
    if not reader.errors:
        # Codes whose cards cannot be printed would be codes no student can get: say so
        # before any is made (the usual 10-a-sheet cards; other sizes are refused on the
        # class page).
        problem = card_address_problem(OFFERED_LAYOUTS[0])
        if problem:
            reader.errors[""] = [problem]
    if not reader.errors:
        if saved := submit(
            reader,
            lambda: issue_codes(
                db.session(), contest, class_name, count, app_code_keys(current_app), user=current_user()
            ),
            done=lambda issued: _(
                "Для класу {name} створено кодів: {count}. Завантажте картки й роздайте їх учням.",
                name=issued[0].class_name,
                count=len(issued),
            ),
            redirect_to=lambda issued: url_for(
                "console.codes_class",
                contest_id=contest.id,
                class_name=issued[0].class_name,
                batch=db.session().get_one(VotingCode, issued[0].code_id).batch_id,
            ),
        ):
            return saved
    # The contest page again, with the problems beside the form's fields.
    return render_contest_page(contest, values=reader.values(), errors=reader.errors), 422


@bp.route("/contests/<int:contest_id>/classes/<class_name>")
@roles_required(*SCHOOL_STAFF)
def codes_class(contest_id: int, class_name: str) -> ResponseReturnValue:
    contest = contest_or_404(contest_id)
    return _class_page(contest, class_or_404(contest, class_name))


def _class_page(
    contest: Contest,
    name: str,
    *,
    failed_code: int | None = None,
    errors: Errors | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The class's cards; a refused revoke or replace comes back beside its card."""
    s = db.session()
    cards = codes_of_class(s, contest, name)
    usage = next((u for u in class_usage(s, contest) if u.class_name == name), None)
    replaced = _one_of(cards, request.args.get("replaced"))
    batch = request.args.get("batch", "")
    return render_template(
        "console/school_class.html",
        contest=contest,
        class_name=name,
        cards=cards,
        usage=usage,
        replaced=replaced,
        batch=batch if batch.isascii() and batch.isdigit() and len(batch) <= 10 else "",
        layouts=OFFERED_LAYOUTS,
        layout_problems={layout: card_address_problem(layout) for layout in OFFERED_LAYOUTS},
        png_problem=card_address_problem(None),
        address_notice=_address_notice(OFFERED_LAYOUTS[0]),
        failed_code=failed_code,
        errors=errors or {},
        values=values or {},
        reason_max=REASON_MAX,
    ), status


def _address_notice(layout: str) -> str | None:
    """That the public address makes the QR modules smaller than the cards were drawn
    for (readable, but from closer), in the visitor's language."""
    try:
        return check_card_address(public_address(), layout).notice(get_locale())
    except CardAddressError:
        return None  # the page shows the refusal instead


def _one_of(cards: list[tuple[VotingCode, bool]], raw: str | None) -> VotingCode | None:
    """The card with this id among the class's active cards (the replacement just made)."""
    for code, used in cards:
        if raw == str(code.id) and not used and code.revoked_at is None:
            return code
    return None


@bp.route("/codes/<int:code_id>/revoke", methods=["POST"])
@roles_required(*SCHOOL_STAFF)
def code_revoke(code_id: int) -> ResponseReturnValue:
    code, contest = code_or_404(code_id)
    if not confirmed():
        return redirect(url_for("console.codes_class", contest_id=contest.id, class_name=code.class_name))
    reader = FormReader()
    return submit(
        reader,
        lambda: revoke_code(db.session(), contest, code, reader.text("reason"), user=current_user()),
        done=_(
            "Картку № {number} класу {name} відкликано: її код більше не діє.",
            number=code.number,
            name=code.class_name,
        ),
        redirect_to=url_for("console.codes_class", contest_id=contest.id, class_name=code.class_name),
    ) or _refused(contest, code, reader)


@bp.route("/codes/<int:code_id>/replace", methods=["POST"])
@roles_required(*SCHOOL_STAFF)
def code_replace(code_id: int) -> ResponseReturnValue:
    code, contest = code_or_404(code_id)
    if not confirmed():
        return redirect(url_for("console.codes_class", contest_id=contest.id, class_name=code.class_name))
    reader = FormReader()
    return submit(
        reader,
        lambda: replace_code(
            db.session(),
            contest,
            code,
            reader.text("reason"),
            app_code_keys(current_app),
            user=current_user(),
        ),
        done=_(
            "Стару картку № {number} відкликано, нову створено. Завантажте її й передайте учневі.",
            number=code.number,
        ),
        redirect_to=lambda issued: url_for(
            "console.codes_class", contest_id=contest.id, class_name=code.class_name, replaced=issued.code_id
        ),
    ) or _refused(contest, code, reader)


def _refused(contest: Contest, code: VotingCode, reader: FormReader) -> tuple[str, int]:
    """The class page again with the refusal beside that card, and the reason as typed."""
    db.session().refresh(code)
    return _class_page(
        contest,
        code.class_name,
        failed_code=code.id,
        errors=reader.errors,
        values={"reason": reader.text("reason")},
        status=422,
    )
