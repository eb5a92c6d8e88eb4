"""QR codes shown to the terminal's camera: who may claim which.

A code's text starts with a prefix naming its kind ("invitation:...", ...). Each kind
gets a handler registered by prefix; the first that claims the text decides what
happens. Nothing is registered yet: invitation codes (one-time voting codes) come in
their own issue. Until then every code gets the same clear answer, and a code never
identifies anyone by accident.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.i18n import N_
from voting import Channel

NOT_FOR_VOTING_HERE = N_("Цей QR-код не для голосування тут")
MAX_QR_TEXT = 512  # longer than any code we print; anything longer is not ours


@dataclass(frozen=True, slots=True)
class QrVoter:
    """A code that identifies a voter: by voter key (a resident) or by code id."""

    channel: Channel
    voter_key: str | None = None
    code_id: str | None = None

    def __post_init__(self) -> None:
        if (self.voter_key is None) == (self.code_id is None):
            raise ValueError("a QR voter has exactly one of voter_key and code_id")

    @property
    def voter(self) -> str:
        # The same naming as VoteRecord.voter, so eligibility counts them alike.
        return f"key:{self.voter_key}" if self.voter_key is not None else f"code:{self.code_id}"


@dataclass(frozen=True, slots=True)
class QrRefusal:
    text: str  # Ukrainian, translated when shown
    params: dict[str, Any] = field(default_factory=dict)


QrOutcome = QrVoter | QrRefusal
# A handler gets the full text and the open cycle's package data (the voter-key secret,
# the cycle) and answers with a voter or a refusal.
QrHandler = Callable[[str, dict], QrOutcome]


class QrHandlers:
    def __init__(self) -> None:
        self._handlers: dict[str, QrHandler] = {}

    def register(self, prefix: str, handler: QrHandler) -> None:
        if not prefix or prefix in self._handlers:
            raise ValueError(f"QR prefix {prefix!r} is empty or already registered")
        self._handlers[prefix] = handler

    def prefixes(self) -> list[str]:
        return sorted(self._handlers)

    def handle(self, text: str, context: dict) -> QrOutcome:
        if isinstance(text, str) and len(text) <= MAX_QR_TEXT:
            # Longest prefix first, so "invitation:school:" can be told from "invitation:".
            for prefix in sorted(self._handlers, key=len, reverse=True):
                if text.startswith(prefix):
                    return self._handlers[prefix](text, context)
        return QrRefusal(NOT_FOR_VOTING_HERE)
