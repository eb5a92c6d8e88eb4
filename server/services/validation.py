"""Refusing a change in the user's language, and the checks every console service applies
to plain text and numbers before it writes anything.

A service raises `Refused` before touching a row, so a refused change leaves the
database as it was. The message is a `Text` read in the reader's language (server/texts.py), or
domain problems (voting.messages codes) when a ballot rule would become impossible.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from server.texts import Explained, Readable, _l, _nl
from voting import Problem
from voting import message as domain_message

# 100 billion hryvnias in kopiykas: above any community's budget, far below BIGINT.
MAX_MONEY = 100_000_000_000_00
# C0 controls other than tab and newlines, DEL, and the bidi overrides that can make a
# title display differently from what is stored ("Trojan source").
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class Refused(Explained, ValueError):
    """A change the rules do not allow; nothing was saved. str() is the Ukrainian text."""

    def __init__(
        self, text: Readable | None = None, *, field: str | None = None, problems: Sequence[Problem] = ()
    ) -> None:
        super().__init__(text if text is not None else ProblemList(tuple(problems)))
        self.field = field
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class ProblemList:
    """Domain problems (voting.messages codes) read as one message."""

    problems: tuple[Problem, ...]

    def render(self, locale: str) -> str:
        return "; ".join(domain_message(p.code, locale, **p.params) for p in self.problems)


def clean_text(
    value: str | None, *, field: str, max_length: int, required: bool = True, multiline: bool = False
) -> str:
    """`value` stripped, or Refused when empty (if required), too long or with control
    characters. Line breaks are kept only where `multiline` allows them."""
    text = (value or "").strip()
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if required and not text:
        raise Refused(_l("Заповніть це поле."), field=field)
    if len(text) > max_length:
        raise Refused(_nl("Не більше {n} символу.", "Не більше {n} символів.", max_length), field=field)
    if _CONTROL.search(text) or (not multiline and ("\n" in text or "\t" in text)):
        raise Refused(
            _l("Текст містить недопустимі службові символи."),
            field=field,
        )
    return text


def clean_slug(value: str | None, *, field: str = "slug", max_length: int = 64) -> str:
    """A web address part: lowercase Latin letters, digits and single hyphens."""
    slug = (value or "").strip()
    if not slug or len(slug) > max_length or not _SLUG.fullmatch(slug):
        raise Refused(
            _nl(
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
            _l("Має бути число від {minimum} до {maximum}.", minimum=minimum, maximum=maximum),
            field=field,
        )
    return value


def check_at_most(value: int, *, field: str, maximum: int) -> int:
    """Only the upper bound: negatives are left for the domain rule to explain."""
    if value > maximum:
        raise Refused(_l("Не більше {maximum}.", maximum=maximum), field=field)
    return value


def check_money(value: int | None, *, field: str, required: bool = True) -> int | None:
    if value is None:
        if required:
            raise Refused(_l("Вкажіть суму."), field=field)
        return None
    if value <= 0 or value > MAX_MONEY:
        raise Refused(
            _l("Сума має бути більшою за нуль і не більшою за 100 млрд грн."),
            field=field,
        )
    return value
