"""The students' voting pages (/s/...): a code from a card's QR link or typed by hand,
the ballot, a look at the choice, the vote, and thanks.

The code is in an address only once, in the card's QR link: the student is sent on at
once, so later addresses, the browser's history and Referer headers never carry it. The
session cookie (signed, not encrypted: readable by whoever holds it) keeps only the
code's row id; the code itself is opened from its sealed copy on the server when needed.
Every page is sent with `no-store`: a phone passed to a friend must not show someone's
ballot from its cache.

Steps after a POST redirect (303) to a page that can be reloaded or shown in the other
language without sending anything twice. The school's polls (student_polls) are offered
on the thanks page and beside the refusal of a code that can no longer vote.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from qr_codes.codes import normalise
from server import db
from server.auth.access import MAX_ID
from server.i18n import _, get_locale
from server.models import School, SchoolContest, VotingCode, utcnow
from server.services.cycle_rules import ballot_for

from .code_polls import OfferedPoll, PollRefused, open_polls, poll_code, poll_code_by_verifier
from .code_throttle import (
    CodeLimits,
    Guesser,
    before_looking,
    client_hash,
    new_client_id,
    not_a_guess,
    wrong_code,
)
from .code_votes import CodeBallot, CodeRefused, cast_by_code, find_code
from .contests import load_contest
from .student_ballot import TamperedForm, ballot_projects, choice_problems, parse_selections, rule_text
from .student_shell import (
    CHOICE,
    CLIENT,
    CODE,
    POLL_CODE,
    SCHOOL,
    THANKS,
    bp,
    code_keys,
    entry_url,
    see_other,
    session_school,
    shown_back,
)

# A real code refused for these may still answer its school's polls.
POLLS_STILL_OPEN_TO = {"code.spent", "code.not_yet", "code.closed"}

# HTTP status of each refusal: the page says why; the status tells tools and tests.
STATUS = {
    "code.format": 400,
    "code.unknown": 404,
    "code.revoked": 410,
    "code.spent": 409,
    "code.not_yet": 403,
    "code.closed": 403,
    "code.other_school": 403,
    "code.too_many_attempts": 429,
    "code.ballot": 400,
}


def _heading(refused: CodeRefused) -> str:
    if refused.code == "code.spent":
        return _("Код уже використано")
    if refused.code == "code.revoked":
        return _("Код відкликано")
    if refused.code == "code.not_yet":
        return _("Голосування ще не почалося")
    if refused.code == "code.closed":
        return _("Голосування завершено")
    if refused.code == "code.other_school":
        return _("Код іншої школи")
    if refused.code == "code.too_many_attempts":
        return _("Забагато спроб")
    return _("Код не підходить")


def _guesser() -> Guesser:
    client = session.get(CLIENT)
    if not isinstance(client, str):
        client = session[CLIENT] = new_client_id()
    return Guesser(client=client_hash(client), ip=request.remote_addr or "")


def _too_many(wait_seconds: int) -> CodeRefused:
    g.retry_after = wait_seconds
    return CodeRefused("code.too_many_attempts")


def _check_code(raw: str, school: School | None) -> CodeBallot | CodeRefused:
    """The code's ballot, remembered in the session; or why not (a wrong code counted
    against the guessing limits, see code_throttle)."""
    s = db.session()
    now = utcnow()
    limits = CodeLimits.from_config(current_app.config)
    guesser = _guesser()
    # Counted before the code is looked at and committed at once, so simultaneous
    # tries from one browser cannot slip past its limit.
    verdict = before_looking(s, limits, guesser, now)
    s.commit()
    if not verdict.allowed:
        _forget_code()
        return _too_many(verdict.wait_seconds)
    try:
        found = find_code(s, code_keys(), raw, now=now, school_id=school.id if school else None)
    except CodeRefused as refused:
        s.rollback()
        # A code voted with earlier on this phone must not come back after this one fails.
        _forget_code()
        if not refused.counts_as_guess:
            not_a_guess(s, limits, guesser, now)
            s.commit()
            _remember_for_polls(raw, refused)
            return refused
        verdict = wrong_code(s, limits, guesser, now)
        s.commit()
        return refused if verdict.allowed else _too_many(verdict.wait_seconds)
    # A right code: the browser gets its try back, and the address is not asked at all.
    not_a_guess(s, limits, guesser, now)
    s.commit()
    session[CODE] = session[POLL_CODE] = found.code.id
    session[SCHOOL] = school.id if school else None
    session.pop(CHOICE, None)
    session.pop(THANKS, None)
    return found


def _forget_code() -> None:
    session.pop(CODE, None)
    session.pop(CHOICE, None)
    session.pop(POLL_CODE, None)


def _remember_for_polls(raw: str, refused: CodeRefused) -> None:
    """A real code that can no longer vote (or not yet) may answer its school's polls."""
    if refused.code not in POLLS_STILL_OPEN_TO:
        return
    code = poll_code_by_verifier(db.session(), code_keys().verifier(normalise(raw)))
    if code is not None:
        session[POLL_CODE] = code.code_id


def _offered_polls() -> list[OfferedPoll]:
    """The school's open polls for the code in the session (none without one)."""
    code_id = session.get(POLL_CODE)
    if not isinstance(code_id, int) or not 0 < code_id < 2**63:
        return []
    try:
        return open_polls(db.session(), poll_code(db.session(), code_id))
    except (LookupError, PollRefused):
        session.pop(POLL_CODE, None)
        return []


def _refusal_page(refused: CodeRefused, again_url: str | None = None) -> tuple[str, int]:
    """The refusal, with a way on: the form the student came from, or the code form."""
    return render_template(
        "student/refused.html",
        heading=_heading(refused),
        message=refused.message(get_locale()),
        used=refused.code in {"code.spent", "code.revoked", "code.other_school"},
        again_url=again_url or entry_url(),
        offered=_offered_polls() if refused.code in POLLS_STILL_OPEN_TO else [],
    ), STATUS.get(refused.code, 400)


def _school_or_404(school_id: int) -> School:
    school = db.session().get(School, school_id) if school_id <= MAX_ID else None
    if school is None:
        raise NotFound()
    return school


def _code_form(school: School | None) -> Any:
    if request.method == "GET":
        return render_template("student/code_form.html", school=school, value="", error=None)
    raw = request.form.get("code", "")
    result = _check_code(raw, school)
    if isinstance(result, CodeRefused):
        error = result.message(get_locale())
        offered = _offered_polls() if result.code in POLLS_STILL_OPEN_TO else []
        page = render_template(
            "student/code_form.html", school=school, value=shown_back(raw), error=error, offered=offered
        )
        return page, STATUS.get(result.code, 400)
    return see_other(".ballot")


@bp.route("/", methods=["GET", "POST"])
def code_form() -> ResponseReturnValue:
    return _code_form(None)


@bp.route("/school/<int:school_id>", methods=["GET", "POST"])
def school_entry(school_id: int) -> ResponseReturnValue:
    return _code_form(_school_or_404(school_id))


@bp.route("/<code>")
def by_link(code: str) -> ResponseReturnValue:
    result = _check_code(code, None)
    if isinstance(result, CodeRefused):
        return _refusal_page(result, url_for(".code_form"))
    return see_other(".ballot")


def _session_code() -> str | None:
    """The code being voted with, opened from the server's sealed copy of the code whose
    row id the session keeps; None when there is none (or it no longer opens)."""
    code_id = session.get(CODE)
    if not isinstance(code_id, int) or not 0 < code_id < 2**63:
        return None
    row = db.session().get(VotingCode, code_id)
    if row is None:
        return None
    try:
        return code_keys().unseal(row.sealed)
    except ValueError:
        return None


def _current() -> CodeBallot | Response | tuple[str, int]:
    """The ballot of the code in the session, or the page to show instead."""
    code = _session_code()
    if code is None:
        session.pop(CODE, None)
        if session.get(THANKS) is not None:
            return see_other(".thanks")
        return redirect(entry_url(), 303)
    try:
        return find_code(db.session(), code_keys(), code, school_id=session_school())
    except CodeRefused as refused:
        _forget_code()
        _remember_for_polls(code, refused)
        return _refusal_page(refused)


def _ballot_page(
    found: CodeBallot, chosen: list[int], errors: list[str], status: int = 200
) -> tuple[str, int]:
    category = found.contest.category
    return render_template(
        "student/ballot.html",
        contest=found.contest,
        projects=ballot_projects(db.session(), found.contest),
        chosen=chosen,
        errors=errors,
        rule=rule_text(category.min_choices, category.max_choices),
        max_choices=category.max_choices,
    ), status


def _saved_choice() -> list[int]:
    chosen = session.get(CHOICE)
    if isinstance(chosen, list) and all(isinstance(p, int) for p in chosen):
        return chosen
    return []


@bp.route("/ballot", methods=["GET", "POST"])
def ballot() -> ResponseReturnValue:
    found = _current()
    if not isinstance(found, CodeBallot):
        return found
    if request.method == "GET":
        return _ballot_page(found, _saved_choice(), [])
    try:
        chosen = parse_selections(request.form.getlist("project"))
    except TamperedForm:
        return _ballot_page(
            found, [], [_("Форму пошкоджено. Позначте проєкти ще раз і натисніть «Далі».")], 400
        )
    category = found.contest.category
    problems = choice_problems(
        ballot_for(db.session(), found.contest.cycle), chosen, category.min_choices, category.max_choices
    )
    if problems:
        return _ballot_page(found, chosen, problems, 400)
    session[CHOICE] = chosen
    return see_other(".review")


@bp.route("/review")
def review() -> ResponseReturnValue:
    found = _current()
    if not isinstance(found, CodeBallot):
        return found
    chosen = _saved_choice()
    if not chosen:
        return see_other(".ballot")
    projects = [p for p in ballot_projects(db.session(), found.contest) if p.id in chosen]
    return render_template("student/review.html", contest=found.contest, projects=projects)


@bp.route("/confirm", methods=["POST"])
def confirm() -> ResponseReturnValue:
    found = _current()
    if not isinstance(found, CodeBallot):
        return found
    chosen = _saved_choice()
    if not chosen:
        return see_other(".ballot")
    s = db.session()
    try:
        cast_by_code(s, code_keys(), _session_code() or "", chosen, school_id=session_school())
    except CodeRefused as refused:
        s.rollback()
        if refused.code == "code.ballot":
            category = found.contest.category
            problems = choice_problems(
                ballot_for(s, found.contest.cycle), chosen, category.min_choices, category.max_choices
            )
            return _ballot_page(found, chosen, problems or [refused.message(get_locale())], 400)
        _forget_code()
        return _refusal_page(refused)
    s.commit()
    _forget_code()
    session[POLL_CODE] = found.code.id
    session[THANKS] = found.contest.id
    return see_other(".thanks")


@bp.route("/thanks")
def thanks() -> ResponseReturnValue:
    contest_id = session.get(THANKS)
    row = db.session().get(SchoolContest, contest_id) if isinstance(contest_id, int) else None
    if row is None:
        return redirect(entry_url(), 303)
    return render_template(
        "student/thanks.html", contest=load_contest(db.session(), row), offered=_offered_polls()
    )


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


from . import student_polls as _student_polls  # noqa: E402,F401  (its routes join bp)
