"""Ukrainian first, English selectable.

Texts are written in Ukrainian in the code and templates; English translations live in
`translations/en/*.po` (one file per area of the site). A text with a count in it is
marked `ngettext(singular, plural, n, **params)`, its forms in `translations/en/` and, for
the Ukrainian "few" form, `translations/uk/` (see voting/po_catalog.py). `_()` picks the
visitor's language: `?lang=` (remembered in a cookie), else the cookie, else the signed-in user's
preference, else Ukrainian. Dates and money follow the language's conventions (Babel).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_decimal
from flask import Flask, Response, current_app, g, request

from voting import channel_label
from voting import message as domain_message
from voting.po_catalog import Catalog, read_translations

LOCALES = ("uk", "en")
DEFAULT_LOCALE = "uk"
KYIV = ZoneInfo("Europe/Kyiv")
TRANSLATIONS = Path(__file__).parent / "translations"
_catalogs: dict[str, Catalog] = {}


def load_catalog(locale: str) -> dict[str, str]:
    """The plain texts of `locale`: {Ukrainian text: translation}."""
    return read_translations(TRANSLATIONS, locale).texts


def translations(locale: str) -> Catalog:
    """`locale`'s catalog, read once (Ukrainian: only the forms of counted texts)."""
    if locale not in _catalogs:
        _catalogs[locale] = read_translations(TRANSLATIONS, locale)
    return _catalogs[locale]


def catalog(locale: str) -> dict[str, str]:
    return translations(locale).texts


def get_locale() -> str:
    if "locale" in g:
        return g.locale
    chosen = request.args.get("lang") or request.cookies.get("lang")
    if chosen not in LOCALES:
        user = g.get("user")
        chosen = getattr(user, "locale", None) if user is not None else None
    g.locale = chosen if chosen in LOCALES else DEFAULT_LOCALE
    return g.locale


def gettext(text: str, **params: Any) -> str:
    """`text` (Ukrainian) in the visitor's language, with {params} filled in."""
    translated = catalog(get_locale()).get(text, text)
    return translated.format(**params) if params else translated


_ = gettext


def ngettext(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """A counted text in the visitor's language, in the form for `n`: «2 голоси», «5 голосів».

    {n} is `n` unless given (pass n=number(n) to group digits)."""
    return translations(get_locale()).ngettext(singular, plural, n, **params)


def gettext_in(locale: str, text: str, /, **params: Any) -> str:
    """`text` (Ukrainian) in a given language with {params} filled in: the texts of code
    tables (a problem code names its Ukrainian text), read in the reader's language."""
    found = translations(locale if locale in LOCALES else DEFAULT_LOCALE).texts.get(text, text)
    return found.format(**params)


def ngettext_in(locale: str, singular: str, plural: str, n: int, /, **params: Any) -> str:
    """`ngettext` in a given language (CLIs print Ukrainian and English side by side)."""
    return translations(locale if locale in LOCALES else DEFAULT_LOCALE).ngettext(
        singular, plural, n, **params
    )


def both(text: str, /, **params: Any) -> str:
    """«Ukrainian / English»: a text as the CLIs print it, to staff of either language."""
    return " / ".join(translations(locale).gettext(text, **params) for locale in LOCALES)


def both_counted(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """«5 голосів / 5 votes»: a counted text as the CLIs print it, Ukrainian then English."""
    return " / ".join(translations(locale).ngettext(singular, plural, n, **params) for locale in LOCALES)


def problem_text(code: str, **params: Any) -> str:
    """A domain message code (voting.messages) in the visitor's language."""
    return domain_message(code, get_locale(), **params)


def money(kopiykas: int | None, with_kopiykas: bool = False) -> str:
    """300 000 грн (Ukrainian) / UAH 300,000 (English)."""
    if kopiykas is None:
        return "—"
    locale = get_locale()
    amount = kopiykas / 100 if with_kopiykas or kopiykas % 100 else kopiykas // 100
    number = _grouped(amount, "uk_UA" if locale == "uk" else "en_GB")
    return f"{number} грн" if locale == "uk" else f"UAH {number}"


@lru_cache(maxsize=8192, typed=True)
def _grouped(amount: int | float, locale: str) -> str:
    # Babel's formatter costs ~45 µs a number; results and project pages show the same
    # few hundred costs and budgets on every request.
    return format_decimal(amount, format="#,##0.##", locale=locale)


def number(value: int | float) -> str:
    return _number(value, "uk_UA" if get_locale() == "uk" else "en_GB")


@lru_cache(maxsize=8192, typed=True)
def _number(value: int | float, locale: str) -> str:
    # A results page writes some 150 counts (tables and chart labels), most of them
    # small numbers seen again on every page: Babel's ~40 µs each was a tenth of it.
    return format_decimal(value, locale=locale)


def datetime_text(moment: datetime | None, fmt: str = "d MMMM y, HH:mm") -> str:
    """A moment shown in Kyiv time, e.g. «1 травня 2027, 09:00»."""
    if moment is None:
        return "—"
    locale = "uk_UA" if get_locale() == "uk" else "en_GB"
    return babel_datetime(moment, fmt, tzinfo=KYIV, locale=locale)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        _=gettext,
        ngettext=ngettext,
        get_locale=get_locale,
        problem_text=problem_text,
        channel_label=lambda c: channel_label(c, get_locale()),
        LOCALES=LOCALES,
    )
    app.jinja_env.filters.update(money=money, number=number, datetime=datetime_text)

    @app.after_request
    def remember_language(response: Response) -> Response:
        chosen = request.args.get("lang")
        # The API takes no cookies, so it sets none either.
        if chosen in LOCALES and not request.path.startswith("/api/"):
            response.set_cookie(
                "lang",
                chosen,
                max_age=365 * 24 * 3600,
                samesite="Lax",
                httponly=True,
                # As the session cookie: Secure unless the server is set up for plain HTTP.
                secure=bool(current_app.config.get("SESSION_COOKIE_SECURE", True)),
            )
        return response
