"""Whether a public address makes readable code cards, asked before anything is printed.

A card's QR code carries <address>/s/<code> at level H (30 % of a crumpled card may be
lost). The longer the address, the bigger the symbol, and the card's QR box stays the
same size, so every module gets smaller:

- up to 31 characters (ASCII): version 6, modules of 0.85 mm on the 10-a-sheet card;
- 32-92 characters: versions 7-10, modules of 0.68 mm down to 0.51 mm;
- 93 or more: no symbol our encoder makes (versions 1-10) can hold it.

Cyrillic and other non-ASCII letters take two bytes each in the QR code, so a Cyrillic
domain (.укр) reaches these limits at about half the length.

The smallest module we print is MIN_MODULE_DOTS dots of 1/150 inch (0.51 mm): a
terminal's 720p camera sees a card at arm's length at ~4 px per mm, so 0.5 mm is 2 px,
the least zxing-cpp reads reliably (`python -m bench camera`: a 250 px card, 1.9 px a
module, reads in ≥ 95 % of frames; a 200 px one, 1.5 px, in under 90 %).
"""

from __future__ import annotations

from dataclasses import dataclass

from .codes import ALPHABET, CODE_LENGTH, ExplainedError, format_code
from .drawing import QUIET_ZONE
from .layouts import DOT, LAYOUTS, MM
from .matrix import MAX_VERSION, qr_version
from .texts import translated

__all__ = [
    "DESIGNED_ADDRESS_LENGTH",
    "LONGEST_ADDRESS",
    "MIN_MODULE_DOTS",
    "CardAddress",
    "CardAddressError",
    "check_card_address",
    "check_card_url",
]

MIN_MODULE_DOTS = 3
# Any code will do: every code has the same length and alphabet, so every card of one
# address has the same QR version.
_SAMPLE_CODE = format_code(ALPHABET[2] * CODE_LENGTH)
_DESIGNED_VERSION = 6  # what the card layouts were drawn for (layouts.V6_MODULES)

# Numbers stand after a dash, never before a noun: Ukrainian nouns agree with the number
# (2 символи, 5 символів), and these sentences have no plural forms to pick from.
MESSAGES: dict[str, str] = {
    "address.too_long": (
        "Публічна адреса задовга для QR-коду картки: її довжина — {length}, а вміщається щонайбільше {limit}"
        " (латинськими літерами; кирилична літера займає місце двох). Задайте коротшу публічну адресу "
        "(PUBLIC_URL або --base-url), наприклад https://vote.example.gov.ua. Нічого не надруковано."
    ),
    "address.modules_too_small": (
        "Публічна адреса задовга для карток «{layout} на аркуш»: квадратики QR-коду вийшли б по {module_mm} "
        "мм, а камери терміналів читають від {min_mm} мм. Оберіть більші картки або коротшу адресу. Нічого "
        "не надруковано."
    ),
    "address.smaller_modules": (
        "Публічна адреса довша за {designed_limit}, тому квадратики QR-коду на картках «{layout} на аркуш» "
        "будуть {module_mm} мм замість {designed_mm} мм. Картки читаються, але камеру треба тримати ближче; "
        "коротша адреса дасть більші квадратики."
    ),
    "address.empty": "Публічна адреса порожня: задайте адресу сайту голосування (PUBLIC_URL або --base-url).",
}


class CardAddressError(ExplainedError):
    """An address whose cards would be unreadable or cannot be made. `.code` names the
    rule (a key of MESSAGES); `.message(locale)` is the sentence for a person."""

    texts = MESSAGES


@dataclass(frozen=True, slots=True)
class CardAddress:
    """What an address's cards will look like on one layout."""

    base_url: str
    version: int  # QR version of every card's symbol (1-10)
    module_mm: float  # printed module size on the layout
    designed_module_mm: float  # what the layout gives an address of up to 31 characters

    layout: str | None = None

    @property
    def smaller_than_designed(self) -> bool:
        return self.module_mm < self.designed_module_mm

    def notice(self, locale: str = "uk") -> str | None:
        """A sentence for the person printing when the modules come out smaller than the
        layout was designed for (the address is longer than DESIGNED_ADDRESS_LENGTH), else None."""
        if not self.smaller_than_designed:
            return None
        text = translated(MESSAGES["address.smaller_modules"], locale)
        return text.format(
            designed_limit=DESIGNED_ADDRESS_LENGTH,
            layout=self.layout,
            module_mm=self.module_mm,
            designed_mm=self.designed_module_mm,
        )


def _module_dots(layout: str, version: int) -> int:
    """Whole dots per module, as cards._draw_card prints them."""
    modules = 17 + 4 * version + 2 * QUIET_ZONE
    return int(LAYOUTS[layout].qr_size / modules / DOT)


def _mm(dots: int) -> float:
    return round(dots * DOT / MM, 2)


def _longest_ascii_address(max_version: int) -> int:
    """How many ASCII characters of address still fit in `max_version` at level H."""
    length = len("https://a.ua")
    while True:
        try:
            fits = qr_version("https://" + "a" * (length + 1 - 8) + f"/s/{_SAMPLE_CODE}", "H") <= max_version
        except ValueError:
            fits = False
        if not fits:
            return length
        length += 1


LONGEST_ADDRESS = _longest_ascii_address(MAX_VERSION)  # 92
DESIGNED_ADDRESS_LENGTH = _longest_ascii_address(_DESIGNED_VERSION)  # 31


def check_card_url(url: str, layout: str | None = "10") -> CardAddress:
    """The card a full URL (<address>/s/<code>) makes on `layout`, or CardAddressError;
    with layout None, only whether a QR code can hold it at all (a PNG of any size)."""
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"unknown card layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    base = url.rsplit("/s/", 1)[0] if "/s/" in url else url
    try:
        version = qr_version(url, "H")
    except ValueError:
        raise CardAddressError("address.too_long", length=len(base), limit=LONGEST_ADDRESS) from None
    if layout is None:
        return CardAddress(base, version, 0.0, 0.0)
    dots = _module_dots(layout, version)
    if dots < MIN_MODULE_DOTS:
        raise CardAddressError(
            "address.modules_too_small", layout=layout, module_mm=_mm(dots), min_mm=_mm(MIN_MODULE_DOTS)
        )
    return CardAddress(base, version, _mm(dots), _mm(_module_dots(layout, _DESIGNED_VERSION)), layout)


def check_card_address(base_url: str | None, layout: str | None = "10") -> CardAddress:
    """The cards a public address makes on `layout`: call before printing anything.
    CardAddressError (with a message in Ukrainian or English) if they would be
    unreadable or cannot be made."""
    base = (base_url or "").strip().rstrip("/")
    if not base:
        raise CardAddressError("address.empty")
    return check_card_url(f"{base}/s/{_SAMPLE_CODE}", layout)
