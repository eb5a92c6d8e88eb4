"""Card readers: what a kiosk needs to know about the card on the reader.

A card's state is a tagged union, returned rather than raised: an unplugged reader or
a missing card is an expected state of a terminal, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class NoReader:
    """No reader is connected (or the PC/SC service is down)."""

    detail: str = ""


@dataclass(frozen=True, slots=True)
class NoCard:
    """A reader is there, with no card on it."""

    reader: str


@dataclass(frozen=True, slots=True)
class CardPresent:
    """A card answered: its id (UID, uppercase hex) and its ATR (uppercase hex)."""

    reader: str
    card_id: str
    atr: str


@dataclass(frozen=True, slots=True)
class CardError:
    """A card is on the reader but could not be read (moved too fast, unknown kind)."""

    reader: str
    detail: str


CardState = NoReader | NoCard | CardPresent | CardError


class CardReader(Protocol):
    def state(self) -> CardState:
        """The reader's state now. Never raises for expected conditions."""
        ...

    def close(self) -> None: ...
