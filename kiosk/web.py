"""What every kiosk view shares: which URL shows which step, rendering with the voter's
language and display choices, and the two kinds of view.

- A screen (GET) shows only the current step: asked for any other, it redirects to
  the current one. So Back, a bookmark or a restored tab never shows an earlier
  voter's page; the server has already moved on and says where to.
- An action (POST) needs the visit's token from the page's form (a form from an
  earlier visit, or from anywhere else, does nothing), runs one TerminalFlow method and
  redirects to whatever step that left (post/redirect/get: a reload repeats nothing).

And what the /state long poll reads from its request: how long to wait, what the
page shows, whether the browser is still there.
"""

from __future__ import annotations

import functools
import select
import socket
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from flask import Flask, current_app, redirect, render_template, request, url_for
from jinja2 import pass_context
from jinja2.runtime import Context
from werkzeug.wrappers import Response

from kiosk.i18n import LOCALES, moment_text, money, ntranslate, translate
from kiosk.session import TerminalFlow
from kiosk.visit import Step, WrongStep

if TYPE_CHECKING:
    from kiosk.app import Kiosk

STEP_ENDPOINTS: dict[Step, str] = {
    Step.ATTRACT: "voter.attract",
    Step.CHOOSE: "polls.choose",
    Step.POLL: "polls.question",
    Step.POLL_REVIEW: "polls.review",
    Step.POLL_CONFIRM: "polls.confirm",
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


def wait_ms(value: str | None) -> int | None:
    """/state's `wait`: 0 when absent, a whole number of milliseconds (digits only, at
    most 9 of them; the view caps it), or None for anything else."""
    if value is None:
        return 0
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        return None
    return int(value)


class ShownState(NamedTuple):
    """What a page shows of the visit: its step's path, the visit's token, and the idle
    countdown's seconds while the warning is on (None when it is not)."""

    path: str
    token: str
    idle_seconds: int | None


# Matches no state: a page whose picture cannot be read gets the state at once.
_UNKNOWN = ShownState("", "", -1)


def shown_state(args: Mapping[str, str]) -> ShownState:
    path, token, idle = args.get("path", ""), args.get("token", ""), args.get("idle", "")
    if len(path) > 100 or len(token) > 100:
        return _UNKNOWN  # longer than any path or token of ours
    if idle == "":
        return ShownState(path, token, None)
    if idle.isascii() and idle.isdigit() and len(idle) <= 5:
        return ShownState(path, token, int(idle))
    return _UNKNOWN


def client_gone() -> bool:
    """Has the browser closed the connection of the request being answered? A page that
    navigates away abandons its waiting /state poll; the wait then stops at once.
    Known only under werkzeug's server (`spilno kiosk run`); elsewhere never."""
    connection = request.environ.get("werkzeug.socket")
    if connection is None:
        return False
    try:
        readable = select.poll()
        readable.register(connection, select.POLLIN)
        if not readable.poll(0):
            return False
        # Nothing more is sent on a connection awaiting its answer: readable means closed
        # (or, were the browser to pipeline a request, data: then it is not gone).
        return connection.recv(1, socket.MSG_PEEK) == b""
    except (OSError, ValueError):  # reset, or already closed on our side
        return True


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


def _locale_of(context: Context) -> str:
    # A screen's locale is in its context (render() puts it there); a macro imported
    # without context asks the flow. Reading the context spares a ballot page of 50
    # cards some 150 lookups through the application proxy.
    locale = context.get("locale")
    return locale if locale is not None else flow().prefs.locale


def init_app(app: Flask) -> None:
    @pass_context
    def gettext(context: Context, text: str, **params: Any) -> str:
        return translate(text, _locale_of(context), **params)

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, n: int, /, **params: Any) -> str:
        return ntranslate(singular, plural, n, _locale_of(context), **params)

    @pass_context
    def money_filter(context: Context, kopiykas: int | None) -> str:
        return money(kopiykas, _locale_of(context))

    @pass_context
    def moment_filter(context: Context, moment: datetime | None) -> str:
        return moment_text(moment, _locale_of(context))

    app.jinja_env.globals.update(_=gettext, ngettext=ngettext, LOCALES=LOCALES)
    app.jinja_env.filters.update(money=money_filter, moment=moment_filter)
