"""QR codes shown to the terminal's camera: who may claim which.

A code's text starts with a prefix naming its kind ("https://", "invitation:", ...).
Each kind gets a handler registered by prefix; the longest prefix that matches decides
what happens. Text with no prefix (a bare school code) goes to the unprefixed handlers
whose test claims it. Whatever no handler claims gets the same clear answer, and a code
never identifies anyone by accident.

The default handlers (kiosk/school_codes.py: students' code cards) are registered in
`default_qr_handlers`; the kiosk app uses them unless QR_HANDLERS is configured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiosk.i18n import N_
from sync.cycle_package import CyclePackage, PackagedCycle
from voting import Channel

NOT_FOR_VOTING_HERE = N_("Цей QR-код не для голосування тут")
MAX_QR_TEXT = 512  # longer than any code we print; anything longer is not ours


@dataclass(frozen=True, slots=True)
class QrVoter:
    """A code that identifies a voter: by voter key (a resident) or by code id. A code
    that belongs to one cycle (a school contest) names it in `cycle_id`; without it the
    voter votes in the residents' open cycle."""

    channel: Channel
    voter_key: str | None = None
    code_id: str | None = None
    cycle_id: int | None = None

    def __post_init__(self) -> None:
        if (self.voter_key is None) == (self.code_id is None):
            raise ValueError("a QR voter has exactly one of voter_key and code_id")

    @property
    def voter(self) -> str:
        # The same naming as VoteRecord.voter, so eligibility counts them alike.
        return f"key:{self.voter_key}" if self.voter_key is not None else f"code:{self.code_id}"


@dataclass(frozen=True, slots=True)
class QrRefusal:
    """Why the code cannot vote. `text` is a kiosk text (Ukrainian, translated when
    shown) or, with `code_error`, a qr_codes.codes.CodeError code whose own message
    is shown (the same words a student reads on the phone page)."""

    text: str
    params: dict[str, Any] = field(default_factory=dict)
    code_error: bool = False


@dataclass(frozen=True, slots=True)
class QrContext:
    """What a handler may judge a code by, all offline: the package the terminal holds,
    the time on the server's time line, the school this terminal is set up for (None:
    any school of the community), and the residents' open cycle with its voter-key
    secret (None when no residents' cycle is open)."""

    package: CyclePackage
    now: datetime
    school_id: int | None = None
    cycle: PackagedCycle | None = None
    voter_secret: bytes | None = None


QrOutcome = QrVoter | QrRefusal
QrHandler = Callable[[str, QrContext], QrOutcome]
ClaimTest = Callable[[str], bool]


class QrHandlers:
    def __init__(self) -> None:
        self._handlers: dict[str, QrHandler] = {}
        self._unprefixed: list[tuple[ClaimTest, QrHandler]] = []

    def register(self, prefix: str, handler: QrHandler) -> None:
        if not prefix or prefix in self._handlers:
            raise ValueError(f"QR prefix {prefix!r} is empty or already registered")
        self._handlers[prefix] = handler

    def register_unprefixed(self, claims: ClaimTest, handler: QrHandler) -> None:
        """A handler for text with no registered prefix, tried when `claims(text)`."""
        self._unprefixed.append((claims, handler))

    def prefixes(self) -> list[str]:
        return sorted(self._handlers)

    def handle(self, text: str, context: Any) -> QrOutcome:
        if isinstance(text, str) and len(text) <= MAX_QR_TEXT:
            # Longest prefix first, so "invitation:school:" can be told from "invitation:".
            for prefix in sorted(self._handlers, key=len, reverse=True):
                if text.startswith(prefix):
                    return self._handlers[prefix](text, context)
            for claims, handler in self._unprefixed:
                if claims(text):
                    return handler(text, context)
        return QrRefusal(NOT_FOR_VOTING_HERE)


def default_qr_handlers() -> QrHandlers:
    """The handlers every terminal has: students' school code cards."""
    from kiosk import school_codes  # imported here: school_codes builds on this module

    handlers = QrHandlers()
    school_codes.register(handlers)
    return handlers
