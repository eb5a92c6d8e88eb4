"""Receipt codes: the short code a terminal shows and prints after a vote, e.g. 7KQM-2XP0,
and reading it back from what a resident types on the "check your vote" page.

A receipt code is the first 40 bits of sha256(vote id), in eight symbols of five bits.
It follows from the vote id alone, so it says nothing about who voted or how, and the
server finds the vote it names without storing anything more (server.receipts). 40
bits keep two votes of one community from sharing a code (100 000 votes: about one
chance in 200 that any two do) and stay short enough to copy by hand.

The alphabet. Codes were first written in RFC 4648 base32 (A–Z, 2–7), which holds O
and I: a resident copying O as 0 or I as 1 ended up with a code that matched nothing.
They are now written in Crockford's base32 (0–9 and Latin letters without I, L, O, U),
where each look-alike pair has only one member, so reading is forgiving: O is read as
0, I and L as 1, lower case as upper case, and dashes, spaces and Cyrillic look-alikes
(a Ukrainian keyboard) are dropped or mapped.

Old receipts stay good: they carry the same 40 bits in the old spelling. Eight symbols
may spell a number in either alphabet, so `receipt_numbers` returns every number the
text can stand for (one or two); a lookup of both finds the vote, and a stray match of
the other is as unlikely as any two votes sharing a code.
"""

from __future__ import annotations

import hashlib
import unicodedata

from qr_codes.codes import ExplainedError

__all__ = [
    "ALPHABET",
    "LEGACY_ALPHABET",
    "MAX_INPUT_LENGTH",
    "ReceiptCodeError",
    "legacy_receipt_code",
    "receipt_code",
    "receipt_number",
    "receipt_numbers",
]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
LEGACY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 base32, printed before
SYMBOLS = 8
BITS = 5 * SYMBOLS
MAX_INPUT_LENGTH = 64  # "7KQM-2XP0" is 9; room for spaces and a pasted line, no more

# What each alphabet reads a look-alike as: a symbol the alphabet lacks, for the one it has.
_CURRENT_READING = str.maketrans("OIL", "011")
_LEGACY_READING = str.maketrans("01", "OI")
_CYRILLIC_LOOKALIKES = str.maketrans("АВСЕНКМОРТХУІ", "ABCEHKMOPTXYI")
_DROPPED = dict.fromkeys(map(ord, "-_‐‑‒–—―− \t\n\r\x0b\x0c"))

MESSAGES: dict[str, str] = {
    "receipt.empty": "Введіть код з квитанції.",
    "receipt.too_long": "Це задовгий текст для коду квитанції: код має 8 символів, наприклад 7KQM-2XP0.",
    "receipt.wrong_length": (
        "Код квитанції має 8 символів, а введено {length}. Перевірте, чи не пропущено або не додано символ."
    ),
    "receipt.bad_symbol": "Символ «{symbol}» не буває в кодах квитанцій: лише латинські літери й цифри.",
    "receipt.not_a_code": (
        "Такого коду квитанція не могла мати: перевірте, чи правильно переписано всі символи."
    ),
}


class ReceiptCodeError(ExplainedError):
    """Text that cannot be a receipt code. `.code` names the rule (a key of MESSAGES)."""

    texts = MESSAGES


def receipt_number(vote_id: str) -> int:
    """The 40-bit number a vote's receipt code spells."""
    return int.from_bytes(hashlib.sha256(vote_id.encode()).digest()[: BITS // 8], "big")


def _spell(number: int, alphabet: str) -> str:
    symbols = "".join(alphabet[(number >> (5 * (SYMBOLS - 1 - i))) & 31] for i in range(SYMBOLS))
    return f"{symbols[:4]}-{symbols[4:]}"


def receipt_code(vote_id: str) -> str:
    """The code a terminal shows and prints for this vote, e.g. "7KQM-2XP0"."""
    return _spell(receipt_number(vote_id), ALPHABET)


def legacy_receipt_code(vote_id: str) -> str:
    """The code terminals printed before the current alphabet (RFC 4648 base32)."""
    return _spell(receipt_number(vote_id), LEGACY_ALPHABET)


def _read(compact: str, alphabet: str) -> int | None:
    number = 0
    for symbol in compact:
        value = alphabet.find(symbol)
        if value < 0:
            return None
        number = number << 5 | value
    return number


def _shown(symbol: str) -> str:
    """A symbol safe to put in a message: invisible and control characters by number."""
    return symbol if symbol.isprintable() and not symbol.isspace() else f"U+{ord(symbol):04X}"


def receipt_numbers(text: str) -> tuple[int, ...]:
    """The numbers (one or two) a typed receipt code may stand for, current spelling
    first; or ReceiptCodeError saying what is wrong with the text."""
    if not isinstance(text, str):
        raise TypeError(f"a receipt code is text, got {type(text).__name__}")
    if len(text) > MAX_INPUT_LENGTH:  # before any other work: the input may be hostile
        raise ReceiptCodeError("receipt.too_long")
    text = text.upper()
    if not text.isascii():
        # Full-width letters (phone keyboards) become ASCII; Cyrillic look-alikes Latin.
        text = unicodedata.normalize("NFKC", text).upper().translate(_CYRILLIC_LOOKALIKES)
        text = "".join(c for c in text if not (c.isspace() or unicodedata.category(c) == "Cf"))
    compact = text.translate(_DROPPED)
    if not compact:
        raise ReceiptCodeError("receipt.empty")
    for symbol in compact:
        if not (symbol.isascii() and symbol.isalnum()):
            raise ReceiptCodeError("receipt.bad_symbol", symbol=_shown(symbol))
    if len(compact) != SYMBOLS:
        raise ReceiptCodeError("receipt.wrong_length", length=len(compact))
    readings = (
        _read(compact.translate(_CURRENT_READING), ALPHABET),
        _read(compact.translate(_LEGACY_READING), LEGACY_ALPHABET),
    )
    numbers = tuple(dict.fromkeys(n for n in readings if n is not None))
    if not numbers:
        raise ReceiptCodeError("receipt.not_a_code")
    return numbers
