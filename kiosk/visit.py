"""What one visit at a terminal consists of: its steps, the voter (by key only), the
voter's display choices, notices and the receipt. Plain data for kiosk.session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from kiosk.i18n import DEFAULT_LOCALE, code_error_text, problem_text, translate
from kiosk.receipt import PrintStatus
from voting import Channel


class Step(StrEnum):
    ATTRACT = "attract"  # invites a card; says so when voting is closed here
    STAFF_PIN = "staff_pin"
    STAFF_DOCUMENT = "staff_document"
    CHOOSE = "choose"  # the budget vote and the open polls: the resident picks one
    BALLOT = "ballot"
    REVIEW = "review"
    CONFIRM = "confirm"
    POLL = "poll"  # one question of a poll per screen
    POLL_REVIEW = "poll_review"
    POLL_CONFIRM = "poll_confirm"
    RECEIPT = "receipt"
    REFUSED = "refused"
    SERVICE_PIN = "service_pin"
    MAINTENANCE = "maintenance"


# Steps of an identified resident's visit: taking the card away ends them.
VOTING_STEPS = frozenset(
    {Step.CHOOSE, Step.BALLOT, Step.REVIEW, Step.CONFIRM, Step.POLL, Step.POLL_REVIEW, Step.POLL_CONFIRM}
)
# Steps that end after a quiet spell, with a warning first.
IDLE_WATCHED = VOTING_STEPS | {Step.STAFF_PIN, Step.STAFF_DOCUMENT, Step.SERVICE_PIN, Step.MAINTENANCE}


class WrongStep(Exception):
    """An action that does not belong to the current step (a stale page, a crafted request)."""


@dataclass(frozen=True, slots=True)
class Timing:
    idle_warning_after_s: float = 45.0
    idle_countdown_s: float = 15.0
    receipt_shown_s: float = 30.0
    refusal_shown_s: float = 15.0


@dataclass(slots=True)
class Preferences:
    """Display choices of the voter at the screen now; the next voter starts afresh."""

    locale: str = DEFAULT_LOCALE
    high_contrast: bool = False
    large_text: bool = False


@dataclass(frozen=True, slots=True)
class Notice:
    """Something to tell the voter: a kiosk text (Ukrainian), a domain message code, or
    (`code_error`) the code of a school code's format error."""

    text: str
    params: dict[str, Any] = field(default_factory=dict)
    domain: bool = False
    code_error: bool = False

    def render(self, locale: str) -> str:
        if self.domain:
            return problem_text(self.text, locale, **self.params)
        if self.code_error:
            return code_error_text(self.text, locale, **self.params)
        return translate(self.text, locale, **self.params)


@dataclass(frozen=True, slots=True)
class Voter:
    """Who is voting now, by key only. `card_id` is the card that must stay on the
    reader; it and `born` live in memory for this visit and are never stored or shown."""

    channel: Channel
    voter_key: str | None = None
    code_id: str | None = None
    card_id: str | None = None
    # Read from the document number at identification (voting.eligibility), kept in
    # memory for this visit only, to check the age again at confirmation.
    born: date | None = None
    age_confirmed: bool = False  # staff checked the age on the document

    @property
    def voter(self) -> str:
        return f"key:{self.voter_key}" if self.voter_key is not None else f"code:{self.code_id}"


@dataclass(frozen=True, slots=True)
class ReceiptShown:
    code: str
    cycle_title: str  # the cycle's title, or the poll's
    print_status: PrintStatus
    poll: bool = False  # a poll's answers, not a vote
    # The resident may go on to something else still open to them (the choice screen).
    more: bool = False


@dataclass(frozen=True, slots=True)
class IdleStatus:
    warning: bool
    seconds_left: int
