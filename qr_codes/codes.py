"""Per-student voting codes: 20 symbols, shown as 7KQM-2X9R-TB4H-ZP3W-8CXN.

A code is 19 random symbols (19 × log2(30) = 93.2 bits, from `secrets`) and one check
symbol. The alphabet has no 0/O, 1/I/L or U, the worst look-alikes. It still holds
pairs that a tired eye or a smudged print can confuse: 5/S, 8/B, 2/Z, 6/G and D/Q.
They cannot be dropped without changing the format (every code already issued must stay
valid), and nothing is lost by keeping them: a misread of one symbol is one wrong
symbol, which the check below always catches, so the student is told the code has a
mistake instead of landing on another code. Typed input is not "corrected" from one of
a pair to the other: both are real symbols, so a guess would turn a caught mistake into
a silent one.

The check symbol. Luhn mod N cannot do what we need with 30 symbols: doubling mod 30
maps the first and the last symbol ("2" and "Z") to the same residue, so "…2Z…" and
"…Z2…" get the same check. No check over the integers mod 30 of the form
sum(f_i(symbol_i)) catches every adjacent swap (30 is even), so we count mod 31, a
prime: with symbol values v_1…v_20 (their places in ALPHABET),

    sum(i × v_i for i in 1..20) ≡ 0 (mod 31)

A single wrong symbol changes the sum by i × (a − b) and a swap of any two symbols, near
or far apart, by (i − j) × (a − b); neither is a multiple of 31, so both are always
caught. What the check does not catch: two or more wrong symbols may cancel out (1 in
31 of such mistakes passes), and in particular a "twin" error at positions 15–16 (a
doubled symbol copied as another doubled one, "…77…" for "…99…") always passes, since
it changes the sum by (15 + 16) × (a − b) = 31 × (a − b); that is 1 in 19 places, about
5 % of all twin errors. Such a code is then simply not found (93 random bits), so the
mistake still ends in "no such code", never in another student's vote.

The check value solving the equation can be 30, which has no symbol: such a
body is never issued and is drawn again (1 body in 31, which leaves 93.18 random bits).
Other parts of the project that check codes (a page's script, a terminal) use exactly
this rule.

What the server keeps is `verifier(key, code)`, an HMAC; the plain code is never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from typing import ClassVar

from .texts import translated

__all__ = [
    "ALPHABET",
    "CODE_LENGTH",
    "MAX_INPUT_LENGTH",
    "CodeError",
    "code_url",
    "format_code",
    "new_code",
    "normalise",
    "verifier",
]

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20  # 19 random symbols + 1 check symbol
GROUP = 4
MAX_INPUT_LENGTH = 200  # a full URL with the code is about 60 characters
_MODULUS = 31
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
# 20 × 14 ≡ 1 (mod 31): dividing by the check symbol's weight
_INVERSE_OF_LAST_WEIGHT = pow(CODE_LENGTH, -1, _MODULUS)

# Students type codes on a Ukrainian keyboard layout; Cyrillic letters that look like the
# Latin ones on the card stand for them (lowercase is upper-cased first). І and Ї are
# left out on purpose: they look like Latin I, which is not in the alphabet because it is
# confused with 1 and L, so there is no symbol they could mean; the student is told the
# symbol is not used instead of being given a silent guess.
_CYRILLIC_LOOKALIKES = str.maketrans("АВСЕНКМРТХУ", "ABCEHKMPTXY")
# separators and ASCII white space, dropped
_DROPPED = dict.fromkeys(map(ord, "-_‐‑‒–—―− \t\n\r\x0b\x0c"))
_URL_CODE = re.compile(r"/s/([^/?#]*)/?(?:[?#].*)?\Z", re.IGNORECASE | re.DOTALL)

MESSAGES: dict[str, str] = {
    "code.empty": "Введіть код з картки.",
    "code.too_long": "Це задовгий текст для коду: код має 20 символів, наприклад 7KQM-2X9R-TB4H-ZP3W-8CXN.",
    "code.wrong_length": (
        "Код має 20 символів, а введено {length}. Перевірте, чи не пропущено або не додано символ."
    ),
    "code.bad_symbol": (
        "Символ «{symbol}» не буває в кодах. У кодах лише цифри 2–9 і латинські літери без O, I, L і U."
    ),
    "code.check_failed": "У коді помилка: перевірте, чи правильно переписано всі символи.",
}


class ExplainedError(ValueError):
    """A refusal named by a rule `code` (a key of the class's `texts`), with the sentence
    for a person in Ukrainian or English."""

    texts: ClassVar[dict[str, str]] = {}  # code -> Ukrainian text (qr_codes.texts for English)

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(f"{code} {params}" if params else code)
        self.code = code
        self.params = params

    def message(self, locale: str = "uk") -> str:
        """The sentence to show: Ukrainian, or English for an "en…" locale."""
        return translated(self.texts[self.code], locale).format(**self.params)


class CodeError(ExplainedError):
    """Text that is not a voting code. `.code` names the rule (a key of MESSAGES)."""

    texts = MESSAGES


def _check_value(body: str) -> int:
    """The value (0…30) the check symbol must have after `body` (19 valid symbols)."""
    total = sum(weight * _VALUE[symbol] for weight, symbol in enumerate(body, start=1))
    return (-total * _INVERSE_OF_LAST_WEIGHT) % _MODULUS


def _check_holds(compact: str) -> bool:
    return sum(weight * _VALUE[symbol] for weight, symbol in enumerate(compact, start=1)) % _MODULUS == 0


def new_code() -> str:
    """A fresh random code, formatted (7KQM-2X9R-TB4H-ZP3W-8CXN)."""
    while True:
        body = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH - 1))
        check = _check_value(body)
        if check < len(ALPHABET):  # 30 has no symbol: draw again (see the module's text)
            return format_code(body + ALPHABET[check])


def format_code(compact: str) -> str:
    """The printed form of a compact code: five groups of four joined by "-"."""
    if len(compact) != CODE_LENGTH:
        raise ValueError(f"a compact code has {CODE_LENGTH} symbols, got {len(compact)}: {compact[:40]!r}")
    return "-".join(compact[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def _shown(symbol: str) -> str:
    """A symbol safe to put in a message: invisible and control characters by number."""
    if symbol.isprintable() and not symbol.isspace():
        return symbol
    return f"U+{ord(symbol):04X}"


def normalise(text: str) -> str:
    """The compact 20-symbol code from what a student typed, scanned or pasted, or
    CodeError. Accepts any case, spaces, dashes and underscores, Cyrillic look-alikes,
    full-width characters and a whole URL ending in /s/<code>."""
    if not isinstance(text, str):
        raise TypeError(f"a code is text, got {type(text).__name__}")
    if len(text) > MAX_INPUT_LENGTH:  # before any other work: the input may be hostile
        raise CodeError("code.too_long")
    if "/" in text:  # a scanned or pasted URL: the code follows /s/, or is its last segment
        match = _URL_CODE.search(text)
        path = text.split("#", 1)[0].split("?", 1)[0]
        text = match.group(1) if match else path.rstrip("/").rsplit("/", 1)[-1]
    text = text.upper()
    if not text.isascii():  # ASCII, the usual case, needs none of this
        # NFKC turns full-width letters and digits (phone keyboards) into ASCII ones.
        text = unicodedata.normalize("NFKC", text).upper().translate(_CYRILLIC_LOOKALIKES)
        # Invisible format characters (zero-width spaces, direction marks) come with
        # pasted text; they carry nothing, and the check symbol still guards the rest.
        text = "".join(c for c in text if not (c.isspace() or unicodedata.category(c) == "Cf"))
    compact = text.translate(_DROPPED)
    if not compact:
        raise CodeError("code.empty")
    for symbol in compact:
        if symbol not in _VALUE:
            raise CodeError("code.bad_symbol", symbol=_shown(symbol))
    if len(compact) != CODE_LENGTH:
        raise CodeError("code.wrong_length", length=len(compact))
    if not _check_holds(compact):
        raise CodeError("code.check_failed")
    return compact


def code_url(base_url: str, code: str) -> str:
    """The address a card's QR code carries: <base_url>/s/<formatted code>."""
    return f"{base_url.rstrip('/')}/s/{format_code(normalise(code))}"


def verifier(key: bytes, code: str) -> str:
    """What the server stores and terminals compare instead of the code: the first 32 hex
    digits (128 bits) of HMAC-SHA256 over the compact code."""
    # A formatted code would give a different HMAC that matches nothing, silently.
    if len(code) != CODE_LENGTH or any(symbol not in _VALUE for symbol in code):
        raise ValueError(f"verifier() takes a compact code (normalise() it first), got {code[:40]!r}")
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()[:32]
