"""The state of one visit at a terminal and its clock: who is at the screen (by key only),
the step, the voter's choices so far, and the resets when the voter walks away or a
receipt or refusal has been shown long enough. The base of kiosk.session.TerminalFlow;
identification is kiosk.identification.

A reset drops everything a voter did and changes `token`: pages carry it in their forms
and a form from an earlier visit is refused instead of acting on the next voter's ballot.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Callable

from appkit.service_pin import PinGuard
from hardware import ReceiptPrinter
from kiosk.qr_handlers import QrHandlers
from kiosk.terminal import OpenVoting, Terminal, Unavailable
from kiosk.visit import (
    IDLE_WATCHED,
    IdleStatus,
    Notice,
    Preferences,
    ReceiptShown,
    Step,
    Timing,
    Voter,
    WrongStep,
)

STAFF_ONLY_STEPS = frozenset({Step.SERVICE_PIN, Step.MAINTENANCE})


class VisitState:
    def __init__(
        self,
        terminal: Terminal,
        *,
        pin_guard: PinGuard,
        qr_handlers: QrHandlers | None = None,
        printer: ReceiptPrinter | None = None,
        timing: Timing = Timing(),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.terminal = terminal
        self.pin_guard = pin_guard
        self.qr_handlers = qr_handlers or QrHandlers()
        self.printer = printer
        self.timing = timing
        self._monotonic = monotonic
        self.card_on_reader: str | None = None
        self.visit_card: str | None = None  # the card that started the visit now on screen
        self.reader_missing = False
        self.step = Step.ATTRACT
        self._reset()

    # --- state ------------------------------------------------------------------------

    def _reset(self) -> None:
        now = self._monotonic()
        # A card still on the reader that belongs to the visit now ending (or that lay
        # there while staff worked on the terminal) must be lifted before it counts
        # again, or its owner would be refused at once. The next resident's card, put
        # down while the receipt was still showing, is taken as soon as the screen clears.
        leftover = self.card_on_reader == self.visit_card or self.step in STAFF_ONLY_STEPS
        self.stale_card = self.card_on_reader if leftover else None
        self.visit_card = None
        self.step = Step.ATTRACT
        self.token = secrets.token_urlsafe(12)
        self.prefs = Preferences()
        self.voter: Voter | None = None
        self.voting: OpenVoting | None = None
        self.selections: list[int] = []
        self.category_index = 0
        self.notice: Notice | None = None
        self.receipt: ReceiptShown | None = None
        self.last_activity = self.step_started = now

    def _go(self, step: Step, notice: Notice | None = None) -> None:
        self.step = step
        self.notice = notice
        self.step_started = self.last_activity = self._monotonic()

    def _require(self, *steps: Step) -> None:
        if self.step not in steps:
            raise WrongStep(f"{self.step} is not one of {[str(s) for s in steps]}")

    def touch(self) -> None:
        """The voter did something: the idle clock starts again."""
        self.last_activity = self._monotonic()

    def availability(self) -> OpenVoting | Unavailable:
        return self.terminal.voting_now()

    # --- time -------------------------------------------------------------------------

    def _expire(self) -> None:
        now = self._monotonic()
        idle = now - self.last_activity
        limit = self.timing.idle_warning_after_s + self.timing.idle_countdown_s
        if self.step in IDLE_WATCHED and idle >= limit:
            self._reset()
        elif self.step is Step.RECEIPT and now - self.step_started >= self.timing.receipt_shown_s:
            self._reset()
        elif self.step is Step.REFUSED and now - self.step_started >= self.timing.refusal_shown_s:
            self._reset()
        elif self.step is Step.ATTRACT and idle >= limit and self.prefs != Preferences():
            self.prefs = Preferences()  # someone chose English and walked away

    def idle_status(self) -> IdleStatus:
        if self.step not in IDLE_WATCHED:
            return IdleStatus(False, 0)
        idle = self._monotonic() - self.last_activity
        left = self.timing.idle_warning_after_s + self.timing.idle_countdown_s - idle
        return IdleStatus(idle >= self.timing.idle_warning_after_s, max(0, math.ceil(left)))
