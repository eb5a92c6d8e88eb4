"""The students' poll pages (/s/polls...): a school's open polls, answered with the code
the student came in with (docs/polls.md, "School polls").

The code reaches these pages as it reaches the ballot: from the card's link or the code
form, never in an address. The session keeps only the code's row id (POLL_CODE), set
when the code is checked (whether it may still vote or has voted, or its contest is not
open) and kept after the vote, so the thanks page can offer the polls. Every request
checks the code again (revoked since? another school's poll?), and every page is
`no-store`, as the ballot's.

    GET  /s/polls               the school's open polls, those answered marked
    GET  /s/polls/<id>          the poll's form
    POST /s/polls/<id>          the answers: stored, or the form again with the problems
    GET  /s/polls/done          thanks, and the polls still to answer
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from server import db
from server.i18n import _, get_locale
from server.models import Poll
from server.polls.store import QuestionView, questions_of
from voting.polls import PollAnswerRefused

from .code_polls import PollCode, PollRefused, answer_by_code, open_polls, poll_code, poll_for_code
from .student_poll_form import (
    PollFormAnswers,
    TamperedPollForm,
    field_name,
    place_problems,
    places,
    read_poll_form,
    rule_text,
)
from .student_shell import POLL_CODE, bp, entry_url, see_other

POLL_DONE = "s_poll_done"  # the poll just answered, for the thanks page


def _refusal(refused: PollRefused) -> tuple[str, int]:
    revoked = refused.code == "poll.code_revoked"
    return render_template(
        "student/refused.html",
        heading=refused.heading(get_locale()),
        message=refused.message(get_locale()),
        used=revoked,
        again_url=entry_url() if revoked else url_for(".polls"),
        again_label=None if revoked else _("До опитувань школи"),
    ), refused.status


def _current_code() -> PollCode | Response | tuple[str, int]:
    """The code in the session that may answer polls, or the page to show instead."""
    code_id = session.get(POLL_CODE)
    if not isinstance(code_id, int) or not 0 < code_id < 2**63:
        return redirect(entry_url(), 303)
    try:
        return poll_code(db.session(), code_id)
    except LookupError:
        session.pop(POLL_CODE, None)
        return redirect(entry_url(), 303)
    except PollRefused as refused:
        session.pop(POLL_CODE, None)
        return _refusal(refused)


@bp.route("/polls")
def polls() -> ResponseReturnValue:
    code = _current_code()
    if not isinstance(code, PollCode):
        return code
    return render_template(
        "student/polls.html", school=code.school, offered=open_polls(db.session(), code), done=None
    )


@bp.route("/polls/done")
def polls_done() -> ResponseReturnValue:
    code = _current_code()
    if not isinstance(code, PollCode):
        return code
    poll_id = session.get(POLL_DONE)
    done = db.session().get(Poll, poll_id) if isinstance(poll_id, int) and 0 < poll_id < 2**31 else None
    if done is None or done.school_id != code.school.id:
        return see_other(".polls")
    return render_template(
        "student/polls.html", school=code.school, offered=open_polls(db.session(), code), done=done
    )


def _poll_page(
    code: PollCode,
    poll: Poll,
    questions: list[QuestionView],
    reading: PollFormAnswers | None = None,
    status: int = 200,
) -> tuple[str, int]:
    return render_template(
        "student/poll.html",
        school=code.school,
        poll=poll,
        questions=questions,
        reading=reading or PollFormAnswers(),
        rule_text=rule_text,
        places=places,
        field_name=field_name,
    ), status


@bp.route("/polls/<int:poll_id>", methods=["GET", "POST"])
def poll(poll_id: int) -> ResponseReturnValue:
    code = _current_code()
    if not isinstance(code, PollCode):
        return code
    s = db.session()
    try:
        found = poll_for_code(s, code, poll_id)
    except PollRefused as refused:
        return _refusal(refused)
    questions = questions_of(s, found)
    if request.method == "GET":
        return _poll_page(code, found, questions)
    damaged = _(
        "Форму пошкоджено. Нічого не збережено: дайте відповіді ще раз і натисніть «Надіслати відповіді»."
    )
    try:
        reading = read_poll_form(request.form, questions)
    except TamperedPollForm:
        return _poll_page(code, found, questions, PollFormAnswers(top_errors=[damaged]), 400)
    if reading.errors:
        return _poll_page(code, found, questions, reading, 400)
    answers: dict[int, Any] = dict(reading.answers)
    try:
        answer_by_code(s, code, found.id, answers)
    except PollRefused as refused:
        s.rollback()
        return _refusal(refused)
    except PollAnswerRefused as refused:
        s.rollback()
        place_problems(reading, questions, refused.problems)
        return _poll_page(code, found, questions, reading, 400)
    except ValueError:  # not shaped as answers: our form cannot send it
        s.rollback()
        return _poll_page(code, found, questions, PollFormAnswers(top_errors=[damaged]), 400)
    s.commit()
    session[POLL_DONE] = found.id
    return see_other(".polls_done")
