"""What every student page shares (server.school.student_views, the vote; server.school.
student_polls, the school's polls): the blueprint, what the session cookie keeps, the
way back to the code form, and the pages' common behaviour: every page `no-store` (a
phone passed to a friend must not show someone's ballot from its cache), a 429 with its
Retry-After, errors on the students' own page, a link to the same page in the other
language.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from qr_codes.codes import MAX_INPUT_LENGTH
from server.i18n import _

from .keys import CodeKeys, app_code_keys

bp = Blueprint("student", __name__, url_prefix="/s")

# What the session cookie keeps for these pages.
CODE = "s_code_id"  # the row id of the code being voted with (never the code)
SCHOOL = "s_school"  # the school entry page it came through, if any
CHOICE = "s_choice"  # the project ids ticked, until confirmed
THANKS = "s_thanks"  # the contest just voted in, for the thanks page
CLIENT = "s_client"  # this browser's random id, for the guessing limits
POLL_CODE = "s_poll_code"  # the row id of the code answering its school's polls


def code_keys() -> CodeKeys:
    return app_code_keys(current_app)


def session_school() -> int | None:
    """The school entry page the code came through (its codes only), or None."""
    school_id = session.get(SCHOOL)
    return school_id if isinstance(school_id, int) else None


def entry_url() -> str:
    school_id = session_school()
    if school_id is not None:
        return url_for(".school_entry", school_id=school_id)
    return url_for(".code_form")


def see_other(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), 303)


def shown_back(text: str) -> str:
    """What the student typed, safe to put back into the field: no control or
    direction-changing characters, no more than a code field holds."""
    return "".join(c for c in text[:MAX_INPUT_LENGTH] if c.isprintable())


@bp.context_processor
def student_helpers() -> dict:
    def student_lang_url(locale: str) -> str:
        # The same page in the other language; the vote itself is only ever a POST,
        # so its refusal page switches over on the code form instead.
        path = url_for("student.code_form") if request.endpoint == "student.confirm" else request.path
        return f"{path}?lang={locale}"

    return {"student_lang_url": student_lang_url}


@bp.errorhandler(HTTPException)
def student_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    if code == 400 and error.description == "csrf":
        detail = _("Сторінка застаріла. Почніть знову: відкрийте посилання з картки або введіть код.")
    elif code == 404:
        detail = _("Такої сторінки немає. Перевірте адресу або введіть код з картки.")
    elif code == 413:
        detail = _("Надіслано забагато даних.")
    else:
        detail = _("Запит не вдалося обробити.")
    return render_template("student/error.html", detail=detail, again_url=entry_url()), code


@bp.after_request
def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    if response.status_code == 429 and g.get("retry_after"):
        response.headers["Retry-After"] = str(g.retry_after)
    return response
