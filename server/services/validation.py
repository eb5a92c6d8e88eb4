"""Refusing a change in the user's language, and the checks every console service applies
to plain text and numbers before it writes anything.

A service raises `Refused` before touching a row, so a refused change leaves the
database as it was. The message comes in Ukrainian and English (like `UserError`), or as
domain problems (voting.messages codes) when a ballot rule would become impossible.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from server.i18n import ngettext_pair
from voting import Problem
from voting import message as domain_message

# 100 billion hryvnias in kopiykas: above any community's budget, far below BIGINT.
MAX_MONEY = 100_000_000_000_00
# C0 controls other than tab and newlines, DEL, and the bidi overrides that can make a
# title display differently from what is stored ("Trojan source").
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class Refused(ValueError):
    """A change the rules do not allow; nothing was saved. str() is the Ukrainian text."""

    def __init__(
        self,
        message_uk: str = "",
        message_en: str = "",
        *,
        field: str | None = None,
        problems: Sequence[Problem] = (),
    ) -> None:
        self.message_uk = message_uk or "; ".join(domain_message(p.code, "uk", **p.params) for p in problems)
        self.message_en = message_en or "; ".join(domain_message(p.code, "en", **p.params) for p in problems)
        self.field = field
        self.problems = list(problems)
        super().__init__(self.message_uk)


def clean_text(
    value: str | None, *, field: str, max_length: int, required: bool = True, multiline: bool = False
) -> str:
    """`value` stripped, or Refused when empty (if required), too long or with control
    characters. Line breaks are kept only where `multiline` allows them."""
    text = (value or "").strip()
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if required and not text:
        raise Refused("Заповніть це поле.", "Fill in this field.", field=field)
    if len(text) > max_length:
        raise Refused(
            *ngettext_pair("Не більше {n} символу.", "Не більше {n} символів.", max_length), field=field
        )
    if _CONTROL.search(text) or (not multiline and ("\n" in text or "\t" in text)):
        raise Refused(
            "Текст містить недопустимі службові символи.",
            "The text contains characters that are not allowed.",
            field=field,
        )
    return text


def clean_slug(value: str | None, *, field: str = "slug", max_length: int = 64) -> str:
    """A web address part: lowercase Latin letters, digits and single hyphens."""
    slug = (value or "").strip()
    if not slug or len(slug) > max_length or not _SLUG.fullmatch(slug):
        raise Refused(
            *ngettext_pair(
                "Адреса: до {n} символу — малі латинські літери, цифри й дефіси (наприклад, gb-2027).",
                "Адреса: до {n} символів — малі латинські літери, цифри й дефіси (наприклад, gb-2027).",
                max_length,
            ),
            field=field,
        )
    return slug


def check_range(value: int | None, *, field: str, minimum: int, maximum: int) -> int:
    if value is None or isinstance(value, bool) or not minimum <= value <= maximum:
        raise Refused(
            f"Має бути число від {minimum} до {maximum}.",
            f"Must be a number from {minimum} to {maximum}.",
            field=field,
        )
    return value


def check_at_most(value: int, *, field: str, maximum: int) -> int:
    """Only the upper bound: negatives are left for the domain rule to explain."""
    if value > maximum:
        raise Refused(f"Не більше {maximum}.", f"At most {maximum}.", field=field)
    return value


def check_money(value: int | None, *, field: str, required: bool = True) -> int | None:
    if value is None:
        if required:
            raise Refused("Вкажіть суму.", "Give an amount.", field=field)
        return None
    if value <= 0 or value > MAX_MONEY:
        raise Refused(
            "Сума має бути більшою за нуль і не більшою за 100 млрд грн.",
            "The amount must be above zero and at most UAH 100 billion.",
            field=field,
        )
    return value
