"""Reading translations: every `*.po` file of a language folder, merged into one catalog.
The server and the kiosk each keep their own folders (one file per area), the domain
its own (voting/translations/), and all read them this way.

Counted texts (gettext plurals)
-------------------------------
A text with a number in it is marked with `ngettext(singular, plural, n, **params)`, as in
gettext: `ngettext("{n} голос", "{n} голосів", n)`. The catalog picks the form with the
`Plural-Forms` rule in its files' header: English has two forms (1 vote / 2 votes),
Ukrainian three:

    one  (1, 21, 31, 101 …)           {n} голос      msgstr[0]
    few  (2–4, 22–24, 102 …)          {n} голоси     msgstr[1]
    many (0, 5–20, 11–14, 25–30 …)    {n} голосів    msgstr[2]

    Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 &&
    (n%100<10 || n%100>=20) ? 1 : 2);

The code is written in Ukrainian, and a gettext call carries only two forms, so the
convention is: **msgid is the "one" form and msgid_plural the "many" form; the "few" form
lives in the Ukrainian catalog** (`translations/uk/*.po`), which holds only the counted
texts, with all three forms (msgstr[0] = msgid, msgstr[2] = msgid_plural). The English
catalog gives msgstr[0] (one) and msgstr[1] (other). tests/test_plurals.py checks that
every `ngettext` in code and templates has all its forms in both languages.

After «до», «не більше», «з» (з 21 року) Ukrainian takes the genitive, where the "few"
form is the "many" one: «до 1 проєкту», «до 2 проєктів», «до 5 проєктів». A sentence with
two counts puts each count's words in its own ngettext and fills them into a plain text:
`_("Протокол пункту внесено: {cast}, {votes}.", cast=ngettext("{n} бюлетень у скриньці", …))`.

Where the calls are:
- templates: `ngettext(...)` beside `_` (server: the visitor's language; kiosk: the voter's);
- server Python: `server.i18n.ngettext`; `ngettext_in(locale, …)` / `gettext_in(locale, …)`
  for a given language; `_l(...)` / `_nl(...)` (server/texts.py) for a text decided now
  and read later, such as a `Refused`; `both` / `both_counted` for CLI lines «5 голосів / 5 votes»;
- kiosk Python: `kiosk.i18n.ntranslate(singular, plural, n, locale)`;
- code tables (a problem code names its Ukrainian text; a counted one its "one" and "many"
  forms) read their language from the catalogs too: the domain's messages
  (voting/messages.py, its own catalog in voting/translations/), the tally sheet's, the
  paper CSV's and the voter list's problems, the school code page's refusals.

This module sits below every layer (it needs only the standard library's gettext rules
and Babel's .po reader) so that the domain's own messages can live in a catalog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from .plurals import UKRAINIAN_PLURAL_FORMS, plural_rule

__all__ = [
    "UKRAINIAN_PLURAL_FORMS",
    "Catalog",
    "Catalogs",
    "plural_rule",
    "read_catalog",
    "read_translations",
]


@dataclass
class Catalog:
    """One language's translations: {Ukrainian text: translation} and counted texts."""

    locale: str
    texts: dict[str, str] = field(default_factory=dict)
    # Keyed by the Ukrainian singular (msgid): the forms in the order of `plural_index`.
    counted: dict[str, tuple[str, ...]] = field(default_factory=dict)
    plural_index: Callable[[int], int] = field(default=lambda n: 0 if n == 1 else 1)

    def gettext(self, text: str, **params: Any) -> str:
        translated = self.texts.get(text, text)
        return translated.format(**params) if params else translated

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """The form of a counted text for `n`, with {n} (unless given) and {params} filled in.

        A text missing from the catalog falls back as gettext does: singular for the
        first form, plural for the others."""
        index = self.plural_index(abs(int(n)))
        forms = self.counted.get(singular)
        if forms and index < len(forms) and forms[index]:
            chosen = forms[index]
        else:
            chosen = singular if index == 0 else plural
        return chosen.format(**{"n": n, **params})

    def general_form(self, singular: str, plural: str) -> str:
        """A counted text read without its number (a table of codes, a log line): its
        last form, the general one («голосів», "votes"), unformatted."""
        forms = self.counted.get(singular)
        return forms[-1] if forms and forms[-1] else plural


def read_translations(folder: Path, locale: str) -> Catalog:
    """Every `*.po` of `folder/locale`; an absent folder is an empty catalog."""
    found = Catalog(locale, plural_index=plural_rule(get_plural(locale).plural_expr))
    rules = set()
    for po_file in sorted((folder / locale).glob("*.po")):
        with po_file.open("rb") as handle:
            po = read_po(handle, locale=locale)
        rules.add(po.plural_expr)
        for entry in po:
            if not entry.id or not entry.string:
                continue
            if entry.pluralizable:
                forms = tuple(str(form) for form in entry.string)
                if any(forms):
                    found.counted[str(entry.id[0])] = forms
            else:
                found.texts[str(entry.id)] = str(entry.string)
    if len(rules) > 1:
        raise ValueError(f"{folder / locale}: the files disagree on Plural-Forms: {sorted(rules)}")
    if rules:
        found.plural_index = plural_rule(rules.pop())
    return found


class Catalogs:
    """One folder's catalogs, each language read once on first use: `catalogs("en")` is
    the English catalog; any locale not starting with "en" reads Ukrainian. The code
    tables of the domain, the paper library, the support point and the code cards, and
    the CLIs, read their texts through one of these."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._read: dict[str, Catalog] = {}

    def __call__(self, locale: str) -> Catalog:
        language = "en" if locale.lower().startswith("en") else "uk"
        if language not in self._read:
            self._read[language] = read_translations(self.folder, language)
        return self._read[language]

    def both(self, text: str, /, **params: Any) -> str:
        """«Ukrainian / English»: how a CLI says it, to staff of either language."""
        return f"{self('uk').gettext(text, **params)} / {self('en').gettext(text, **params)}"

    def both_counted(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """A counted text as a CLI says it: «5 голосів / 5 votes»."""
        uk = self("uk").ngettext(singular, plural, n, **params)
        return f"{uk} / {self('en').ngettext(singular, plural, n, **params)}"


def read_catalog(folder: Path, locale: str) -> dict[str, str]:
    """The plain texts of a language folder: {Ukrainian text: translation}."""
    return read_translations(folder, locale).texts
