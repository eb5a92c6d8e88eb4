"""Ukrainian first, English on request, for one voter at a time.

Texts are written in Ukrainian in the code and templates; English lives in
`translations/en/*.po`; a text with a count in it goes through `ntranslate` (gettext's
`ngettext`), its Ukrainian "few" form in `translations/uk/` (see voting/po_catalog.py).
Unlike the server there is no cookie: the language is a
preference of the voter at the screen now (kept in the terminal's session) and goes
back to Ukrainian when the next person walks up. Domain problems (voting.messages)
come through `problem_text` so a resident reads the same words on every channel, and
a mistyped school code through `code_error_text`, the words the phone page shows.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal

from qr_codes.codes import CodeError
from voting import message as domain_message
from voting.po_catalog import Catalog, read_translations

LOCALES = ("uk", "en")
DEFAULT_LOCALE = "uk"
KYIV = ZoneInfo("Europe/Kyiv")
TRANSLATIONS = Path(__file__).parent / "translations"
_catalogs: dict[str, Catalog] = {}


def N_(text: str) -> str:
    """Mark a Ukrainian text kept in Python for translation when it is shown."""
    return text


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


def translate(text: str, locale: str, **params: Any) -> str:
    """`text` (Ukrainian) in `locale`, with {params} filled in."""
    translated = catalog(locale).get(text, text) if locale in LOCALES else text
    return translated.format(**params) if params else translated


def ntranslate(singular: str, plural: str, n: int, locale: str, /, **params: Any) -> str:
    """A counted text in `locale`, in the form for `n` (gettext's ngettext): «2 проєкти»."""
    return translations(locale if locale in LOCALES else DEFAULT_LOCALE).ngettext(
        singular, plural, n, **params
    )


def both(text: str, /, **params: Any) -> str:
    """«Ukrainian / English»: a text as the kiosk's CLI prints it, to staff of either language."""
    return " / ".join(translations(locale).gettext(text, **params) for locale in LOCALES)


def both_counted(singular: str, plural: str, n: int, /, **params: Any) -> str:
    """«5 голосів / 5 votes»: a counted text as the kiosk's CLI prints it."""
    return " / ".join(ntranslate(singular, plural, n, locale, **params) for locale in LOCALES)


def problem_text(code: str, locale: str, **params: Any) -> str:
    """A domain message code (voting.messages) in `locale`."""
    return domain_message(code, locale, **params)


def code_error_text(code: str, locale: str, **params: Any) -> str:
    """A school code's format error (qr_codes.codes.CodeError.code) in `locale`."""
    return CodeError(code, **params).message(locale)


def money(kopiykas: int | None, locale: str) -> str:
    """250 000 грн (Ukrainian) / UAH 250,000 (English)."""
    if kopiykas is None:
        return "—"
    amount = kopiykas / 100 if kopiykas % 100 else kopiykas // 100
    number = _grouped(amount, "uk_UA" if locale == "uk" else "en_GB")
    return f"{number} грн" if locale == "uk" else f"UAH {number}"


@lru_cache(maxsize=8192, typed=True)
def _grouped(amount: int | float, locale: str) -> str:
    # Babel's formatter is most of a ballot page's time (200 cards: 40 % of the page);
    # a cycle's costs are a few hundred numbers, shown again on every page.
    return format_decimal(amount, format="#,##0.##", locale=locale)


def moment_text(moment: datetime | None, locale: str, fmt: str = "d MMMM y, HH:mm") -> str:
    """A moment in Kyiv time, e.g. «1 травня 2027, 09:00»."""
    if moment is None:
        return "—"
    return format_datetime(moment, fmt, tzinfo=KYIV, locale="uk_UA" if locale == "uk" else "en_GB")
