"""What every kiosk view shares: which URL shows which step, rendering with the voter's
language and display choices, and the two kinds of view.

- A screen (GET) shows only the current step: asked for any other, it redirects to
  the current one. So Back, a bookmark or a restored tab never shows an earlier
  voter's page; the server has already moved on and says where to.
- An action (POST) needs the visit's token from the page's form (a form from an
  earlier visit, or from anywhere else, does nothing), runs one TerminalFlow method and
  redirects to whatever step that left (post/redirect/get: a reload repeats nothing).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from kiosk.i18n import LOCALES, moment_text, money, translate
from kiosk.session import TerminalFlow
from kiosk.visit import Step, WrongStep

if TYPE_CHECKING:
    from kiosk.app import Kiosk

STEP_ENDPOINTS: dict[Step, str] = {
    Step.ATTRACT: "voter.attract",
    Step.BALLOT: "voter.ballot",
    Step.REVIEW: "voter.review",
    Step.CONFIRM: "voter.confirm",
    Step.RECEIPT: "voter.receipt",
    Step.REFUSED: "voter.refused",
    Step.STAFF_PIN: "staff.staff_pin",
    Step.STAFF_DOCUMENT: "staff.staff_document",
    Step.SERVICE_PIN: "staff.service_pin",
    Step.MAINTENANCE: "staff.maintenance",
}


def kiosk() -> Kiosk:
    return current_app.extensions["spilno.kiosk"]


def flow() -> TerminalFlow:
    return kiosk().flow


def step_url(step: Step) -> str:
    return url_for(STEP_ENDPOINTS[step])


def to_current_step(fragment: str = "") -> Response:
    # 303: after a POST the browser asks with GET, and the form is not sent again.
    return redirect(step_url(flow().step) + fragment, code=303)


def screen(step: Step) -> Callable:
    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if flow().step is not step:
                return redirect(step_url(flow().step), code=303)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def action(view: Callable[..., Response | None]) -> Callable[..., Response]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        if request.form.get("token", "") != flow().token:
            return to_current_step()
        try:
            answer = view(*args, **kwargs)
        except WrongStep:
            return to_current_step()
        return answer or to_current_step()

    return wrapper


def form_int(name: str) -> int | None:
    """A small non-negative integer from the form, or None for anything else."""
    value = request.form.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        return None
    return int(value)


def render(template: str, **context: Any) -> str:
    current = flow()
    locale = current.prefs.locale
    notice = current.notice.render(locale) if current.notice else None
    return render_template(
        template,
        flow=current,
        step=current.step,
        path=step_url(current.step),
        locale=locale,
        other_locale=next(code for code in LOCALES if code != locale),
        notice=notice,
        poll_interval_ms=kiosk().poll_interval_ms,
        timing=current.timing,
        **context,
    )


def init_app(app: Flask) -> None:
    def gettext(text: str, **params: Any) -> str:
        return translate(text, flow().prefs.locale, **params)

    app.jinja_env.globals.update(_=gettext, LOCALES=LOCALES)
    app.jinja_env.filters.update(
        money=lambda kopiykas: money(kopiykas, flow().prefs.locale),
        moment=lambda moment: moment_text(moment, flow().prefs.locale),
    )
