"""Reading submitted console forms into typed values, and saving a change in one
transaction that is either committed whole or not at all.

Each field's problem is kept under the field's name so the page can show it beside the
field; "" holds messages about the form as a whole.

A console POST handler reads its form with `FormReader`, then hands the change to
`submit`: saved, the user is sent on with a success message; refused, the refusal joins
the reader's errors and the handler shows its page again with what was typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, request
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from server import db
from server.auth.access import current_user, visible_community_ids
from server.i18n import _, get_locale, problem_text
from server.i18n import money as money_text
from server.models import Community
from server.services.api_clients import ApiClientError
from server.services.users import UserError
from server.services.validation import Refused
from server.texts import _l
from voting import Problem

T = TypeVar("T")

_INTEGER = re.compile(r"[+-]?[0-9]+")
# Hryvnias with optional kopiykas: "150000", "150 000", "150000,50", "150000.5".
_MONEY = re.compile(r"([0-9]+)(?:[.,]([0-9]{1,2}))?")
_GROUP_SPACES = re.compile(r"[ \u00a0\u202f']")
_MAX_DIGITS = 15  # anything longer is a typo or an attack, not a budget
_DATETIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")
# Money fields whose values domain problems carry in kopiykas.
_MONEY_PARAMS = ("budget", "cheapest", "cost", "cap")

Errors = dict[str, list[str]]
# What services raise to refuse a change; each carries its message in both languages.
REFUSALS = (Refused, UserError, ApiClientError)


class FormReader:
    """Typed values from a submitted form; `errors` collects what could not be read."""

    def __init__(self, form: Mapping[str, str] | None = None) -> None:
        self.form = form if form is not None else request.form
        self.errors: Errors = {}

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def text(self, name: str, *, required: bool = False) -> str:
        """Raw text: the service decides what is acceptable. Only a missing required
        value is noted here, so it is reported together with the other fields' problems."""
        value = self.form.get(name, "")
        if required and not value.strip():
            self.add_error(name, _("Заповніть це поле."))
        return value

    def integer(self, name: str, *, required: bool = True) -> int | None:
        raw = self.form.get(name, "").strip()
        if not raw:
            if required:
                self.add_error(name, _("Заповніть це поле."))
            return None
        if not _INTEGER.fullmatch(raw):
            self.add_error(name, _("Введіть ціле число."))
            return None
        if len(raw.lstrip("+-")) > _MAX_DIGITS:
            self.add_error(name, _("Число завелике."))
            return None
        return int(raw)

    def money(self, name: str, *, required: bool = True) -> int | None:
        """Kopiykas from an amount typed in hryvnias."""
        raw = _GROUP_SPACES.sub("", self.form.get(name, "").strip())
        if not raw:
            if required:
                self.add_error(name, _("Заповніть це поле."))
            return None
        if raw.startswith("-"):
            self.add_error(name, _("Сума не може бути від’ємною."))
            return None
        match = _MONEY.fullmatch(raw)
        if not match:
            self.add_error(name, _("Введіть суму в гривнях, наприклад 150000 або 150000,50."))
            return None
        hryvnias, kopiykas = match.groups()
        if len(hryvnias) > _MAX_DIGITS:
            self.add_error(name, _("Число завелике."))
            return None
        return int(hryvnias) * 100 + int((kopiykas or "0").ljust(2, "0"))

    def local_datetime(self, name: str, timezone: str) -> datetime | None:
        """A moment typed as local date and time in `timezone`, returned in UTC."""
        raw = self.form.get(name, "").strip()
        if not raw:
            self.add_error(name, _("Заповніть це поле."))
            return None
        for fmt in _DATETIME_FORMATS:
            try:
                naive = datetime.strptime(raw, fmt)
                break
            except ValueError:
                continue
        else:
            self.add_error(name, _("Введіть дату й час, наприклад 2027-05-01 09:00."))
            return None
        if not 2000 <= naive.year <= 2100:
            self.add_error(name, _("Рік має бути від 2000 до 2100."))
            return None
        zone = ZoneInfo(timezone)
        moment = naive.replace(tzinfo=zone).astimezone(UTC)
        # A time skipped when clocks go forward (e.g. 03:30 on the last Sunday of March)
        # does not exist; converting back shows it, and guessing an hour is not ours to do.
        if moment.astimezone(zone).replace(tzinfo=None) != naive:
            self.add_error(name, _("Такого часу цього дня немає: годинники переводять на літній час."))
            return None
        return moment

    def choice(self, name: str, options: Iterable[str]) -> str | None:
        raw = self.form.get(name, "")
        if raw not in set(options):
            self.add_error(name, _("Оберіть один із варіантів."))
            return None
        return raw

    def flag(self, name: str) -> bool:
        return self.form.get(name) in ("1", "on", "true", "yes")

    def values(self) -> dict[str, str]:
        """What was submitted, to show the form again as the user left it."""
        return {k: v for k, v in self.form.items() if k != "csrf_token"}


def refusal_errors(exc: Exception) -> Errors:
    """The messages of a refusal, keyed by the field they concern ("" for the form)."""
    field = getattr(exc, "field", None) or ""
    problems: list[Problem] = getattr(exc, "problems", [])
    if problems:
        return {field: [problem_message(p) for p in problems]}
    english = get_locale() == "en"
    text = getattr(exc, "message_en" if english else "message_uk", None) or str(exc)
    return {field: [text]}


def problem_message(problem: Problem) -> str:
    """A domain problem in the user's language, with money shown as money."""
    params = {
        k: money_text(v) if k in _MONEY_PARAMS and isinstance(v, int) else v
        for k, v in problem.params.items()
    }
    return problem_text(problem.code, **params)


def confirmed() -> bool:
    """Whether a destructive or public action was confirmed (the required checkbox of
    _forms.confirm_post, sent as confirm=yes). A post without it (a page from an older
    version, a script, a slip) changes nothing and says why."""
    if request.form.get("confirm") == "yes":
        return True
    flash(_("Нічого не змінено: підтвердьте дію, позначивши пункт «Так, …»."), "error")
    return False


def save(change: Callable[[], T]) -> T:
    """Run `change` and commit. Refused (or a unique index that a simultaneous request
    won) rolls the whole transaction back and is raised as Refused."""
    s = db.session()
    try:
        result = change()
        s.commit()
        return result
    except Refused:
        s.rollback()
        raise
    except IntegrityError:
        s.rollback()
        raise Refused(_l("Ці дані щойно змінив хтось інший. Перевірте їх і спробуйте ще раз.")) from None
    except Exception:
        s.rollback()
        raise


def submit(
    reader: FormReader,
    change: Callable[[], T],
    *,
    done: str | Callable[[T], str],
    redirect_to: str | Callable[[T], str],
) -> Response | None:
    """Save `change` (see `save`). Saved: flash `done` as a success and return the
    redirect to `redirect_to`; either may be worked out from what `change` returned.
    Refused: nothing is saved, the refusal's messages join `reader.errors` under their
    field, and None comes back so the caller shows its page again with them."""
    try:
        result = save(change)
    except REFUSALS as exc:
        reader.errors.update(refusal_errors(exc))
        return None
    flash(done(result) if callable(done) else done, "success")
    return redirect(redirect_to(result) if callable(redirect_to) else redirect_to)


def flash_errors(errors: Errors) -> None:
    """Messages for a page with no form to show them beside, as error flashes."""
    for messages in errors.values():
        for message in messages:
            flash(message, "error")


def managed_communities() -> list[Community]:
    """The communities the signed-in user may manage, by name."""
    from sqlalchemy import select

    user = current_user()
    assert user is not None
    query = select(Community).order_by(Community.name)
    scope = visible_community_ids(user)
    if scope is not None:
        query = query.where(Community.id.in_(scope))
    return list(db.session().scalars(query))


def community_for_new_object(reader: FormReader) -> int | None:
    """The community a new object goes into: a moderator's own, or the one an
    administrator chose (checked against what they may see, never taken on trust)."""
    user = current_user()
    assert user is not None
    scope = visible_community_ids(user)
    if scope is not None:
        if not scope:
            abort(403)
        return scope[0]
    chosen = reader.integer("community_id")
    if chosen is None:
        return None
    if db.session().get(Community, chosen) is None:
        reader.add_error("community_id", _("Оберіть громаду."))
        return None
    return chosen


def page_number(raw: str | None, last: int = 100_000) -> int:
    """A page number from the query string; anything odd is the first page."""
    if raw and re.fullmatch(r"[0-9]{1,6}", raw):
        return max(1, min(int(raw), last))
    return 1
