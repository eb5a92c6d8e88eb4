"""Which plural form a count takes: gettext's `Plural-Forms` rules, stdlib only.

Ukrainian has three forms (1, 21, 101 голос; 2–4, 22–24 голоси; 0, 5–20, 25–30, 111
голосів), English two. The catalogs of the apps (voting/po_catalog.py) and the domain's
own counted messages (voting/messages.py) both pick forms with these rules.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable

# gettext's header lines; the Ukrainian one is what CLDR's one/few/many says.
UKRAINIAN_PLURAL_FORMS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)
ENGLISH_PLURAL_FORMS = "nplurals=2; plural=(n != 1);"


def plural_rule(forms: str) -> Callable[[int], int]:
    """The form index for n, from a `Plural-Forms` line or its bare `plural=` expression."""
    expression = forms.split("plural=", 1)[1] if "plural=" in forms else forms
    return gettext.c2py(expression.strip().rstrip(";"))


_RULES = {"uk": plural_rule(UKRAINIAN_PLURAL_FORMS), "en": plural_rule(ENGLISH_PLURAL_FORMS)}


def plural_index(locale: str, n: int) -> int:
    """The form of `n` in `locale` ("uk" or "en"): 0, 1 or 2 in Ukrainian, 0 or 1 in English."""
    return _RULES["en" if locale == "en" else "uk"](abs(int(n)))
