"""A text for a person, kept until it is shown: the Ukrainian original (the catalogs'
key), its plural when it counts something, and its parameters.

Services decide *what* to say before anyone knows who will read it: a moderator's page
in English, a CLI printing both languages, a log. So a refusal carries a `Text`, not a
sentence, and each reader renders it in their language from `translations/*/*.po`, with
the right Ukrainian form for a count (1 рядок, 2 рядки, 5 рядків). Mark one with
`_l("…", name=value)` or `_nl("… {n} …", "… {n} …", n)`; a test checks every marked text
has its English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from flask import has_request_context

from server.i18n import DEFAULT_LOCALE, get_locale, gettext_in, ngettext_in


@dataclass(frozen=True, slots=True)
class Text:
    msgid: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    plural: str | None = None
    n: int = 0

    def render(self, locale: str) -> str:
        """The text in `locale` (uk or en); parameters that are texts themselves are
        rendered in the same language."""
        params = {k: v.render(locale) if isinstance(v, Text) else v for k, v in self.params.items()}
        if self.plural is not None:
            return ngettext_in(locale, self.msgid, self.plural, self.n, **params)
        return gettext_in(locale, self.msgid, **params)

    @property
    def uk(self) -> str:
        return self.render("uk")

    @property
    def en(self) -> str:
        return self.render("en")

    def __str__(self) -> str:
        """In the visitor's language inside a request, else Ukrainian."""
        return self.render(get_locale() if has_request_context() else DEFAULT_LOCALE)


def lazy_gettext(msgid: str, /, **params: Any) -> Text:
    return Text(msgid, MappingProxyType(params))


def lazy_ngettext(singular: str, plural: str, n: int, /, **params: Any) -> Text:
    """A counted text; {n} is `n` unless given."""
    return Text(singular, MappingProxyType(params), plural, n)


_l = lazy_gettext
_nl = lazy_ngettext


class Readable(Protocol):
    """Anything a person can read in either language: a `Text`, a list of domain problems."""

    def render(self, locale: str) -> str: ...


class Explained(Exception):
    """An error that explains itself to a person: `text` in either language.
    str() is the Ukrainian text (logs and tracebacks read the original)."""

    def __init__(self, text: Readable) -> None:
        super().__init__(text.render("uk"))
        self.text = text

    @property
    def message_uk(self) -> str:
        return self.text.render("uk")

    @property
    def message_en(self) -> str:
        return self.text.render("en")

    def in_language(self, locale: str) -> str:
        return self.text.render(locale)
