"""One terminal, one voter at a time: the steps of a visit as a plain state machine.

attract → (card | staff PIN + document | QR code) → eligibility → ballot, one category
per screen → review → confirm → the vote is recorded → receipt → attract again.
Identification and the eligibility check are instant transitions, not screens; a voter
who may not vote lands on a refusal screen that clears itself. A student's code card
(kiosk/school_codes.py) opens the ballot of the school's contest, not the residents'
cycle: a school's terminal may have nothing else open.

Everything a voter did lives here, on the terminal's side, never in the browser: a
reset drops it all, so Back or a restored tab finds nothing of the previous voter.
Every reset (and every new voter) also changes `token`; pages carry it in their forms
and a form from an earlier visit is refused instead of acting on the next voter's ballot.

Hardware is observed, not owned: the app reads the card reader and the camera and calls
`observe()` on every request, and every 20 ms while the page's /state poll waits for a
change. Expected conditions are answers, not exceptions; an action at the wrong step
raises WrongStep.
"""

from __future__ import annotations

import logging
import math
import secrets
import sqlite3
import time
from collections.abc import Callable

from appkit.service_pin import PinGuard
from hardware import CardError, CardPresent, CardState, NoReader, ReceiptPrinter
from kiosk import ballot_view
from kiosk.i18n import LOCALES, N_
from kiosk.qr_handlers import QrHandlers, QrRefusal
from kiosk.receipt import print_receipt, receipt_code, receipt_for
from kiosk.terminal import UNAVAILABLE_TEXTS, OpenVoting, Terminal, Unavailable
from kiosk.visit import (
    IDLE_WATCHED,
    VOTING_STEPS,
    IdleStatus,
    Notice,
    Preferences,
    ReceiptShown,
    Step,
    Timing,
    Voter,
    WrongStep,
)
from sync.store_file import StoreError
from voting import Channel, IdentityError, IdentityKind, normalise_identifier
from voting.eligibility import birth_date

log = logging.getLogger(__name__)

STAFF_ONLY_STEPS = frozenset({Step.SERVICE_PIN, Step.MAINTENANCE})

STAFF_DOCUMENT_KINDS = (IdentityKind.RNOKPP, IdentityKind.ID_CARD, IdentityKind.PASSPORT, IdentityKind.UNZR)

CARD_UNREADABLE = N_("Картку не вдалося прочитати. Прикладіть її ще раз і тримайте нерухомо.")
NO_READER = N_("Зчитувач карток не працює. Зверніться до працівника.")
PIN_WRONG = N_("Невірний PIN.")
PIN_LOCKED = N_("Забагато невдалих спроб. Спробуйте через {seconds} с.")
PIN_NOT_CONFIGURED = N_("Сервісний PIN не налаштовано на цьому терміналі.")
VOTING_ENDED = N_("Голосування вже завершилося або закрите на цьому терміналі. Голос не записано.")
NOT_RECORDED = N_("Голос не записано через збій терміналу. Зверніться до працівника.")
BALLOT_CHANGED = N_("Перелік проєктів оновився. Перегляньте свій вибір ще раз.")


class TerminalFlow:
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

    # --- hardware and time -------------------------------------------------------------

    def observe(self, card: CardState, qr_text: str | None = None) -> None:
        """What the reader and camera show now; run on every request and poll."""
        self._expire()
        self.reader_missing = False
        if isinstance(card, CardPresent):
            self.card_on_reader = card.card_id
            if self.step is Step.ATTRACT and card.card_id != self.stale_card:
                self._identify_card(card.card_id)
            elif self._card_session() and card.card_id != self.voter.card_id:  # type: ignore[union-attr]
                self._reset()  # another card: the voter's own was taken away
        elif isinstance(card, CardError):
            # A card is there but unreadable (moved too fast): the session's card may
            # still be in place, so this ends nothing; at the start it asks to retry.
            if self.step is Step.ATTRACT and self.notice is None:
                self.notice = Notice(CARD_UNREADABLE)
        else:  # NoCard or NoReader: nothing is on the reader
            self.card_on_reader = self.stale_card = None
            self.reader_missing = isinstance(card, NoReader)
            if self.step is Step.ATTRACT and self.notice is not None and self.notice.text == CARD_UNREADABLE:
                self.notice = None
            if self._card_session():
                self._reset()
        if qr_text is not None and self.step is Step.ATTRACT:
            self._identify_qr(qr_text)

    def _card_session(self) -> bool:
        return self.step in VOTING_STEPS and self.voter is not None and self.voter.card_id is not None

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

    # --- identification and eligibility -------------------------------------------------

    def _identify_card(self, card_id: str) -> None:
        voting = self.terminal.voting_now()
        if not isinstance(voting, OpenVoting):
            return  # the screen already says voting is closed; a tap changes nothing
        self.visit_card = card_id
        try:
            key = self.terminal.voter_key(voting, IdentityKind.CARD, card_id)
        except IdentityError as exc:
            self._refuse(Notice(exc.code, domain=True))
            return
        self._begin(voting, Voter(Channel.KIOSK, voter_key=key.hex, card_id=card_id))

    def _identify_qr(self, text: str) -> None:
        context = self.terminal.qr_context()
        if context is None:
            return  # the screen already says nobody can vote here; a code changes nothing
        outcome = self.qr_handlers.handle(text, context)
        if isinstance(outcome, QrRefusal):
            self._refuse(Notice(outcome.text, outcome.params, code_error=outcome.code_error))
            return
        # A school code votes in its own contest; any other code in the residents' cycle.
        if outcome.cycle_id is not None:
            voting = self.terminal.voting_in(outcome.cycle_id)
        else:
            voting = self.terminal.voting_now()
        if not isinstance(voting, OpenVoting):
            self._refuse(Notice(UNAVAILABLE_TEXTS[voting]))
            return
        self._begin(voting, Voter(outcome.channel, voter_key=outcome.voter_key, code_id=outcome.code_id))

    def _refusal(self, voting: OpenVoting, voter: Voter) -> Notice | None:
        refusal = self.terminal.refusal_for(
            voting, voter.voter, born=voter.born, age_confirmed=voter.age_confirmed
        )
        if refusal is None:
            return None
        return Notice(refusal.text, refusal.params, domain=refusal.domain)

    def _begin(self, voting: OpenVoting, voter: Voter) -> None:
        notice = self._refusal(voting, voter)
        if notice is not None:
            self._refuse(notice)
            return
        # Only the categories this voter may vote in: every resident's, and their own
        # district's (voting.district).
        voting = self.terminal.for_voter(voting, voter.voter_key)
        if not voting.ballot.categories:
            self._refuse(Notice("ballot.no_category_for_resident", domain=True))
            return
        self.token = secrets.token_urlsafe(12)
        self.voter, self.voting = voter, voting
        self.selections, self.category_index = [], 0
        self._go(Step.BALLOT)

    def _refuse(self, notice: Notice) -> None:
        self.token = secrets.token_urlsafe(12)
        self.voter, self.voting, self.selections = None, None, []
        self._go(Step.REFUSED, notice)

    # --- voter actions ----------------------------------------------------------------

    def set_locale(self, locale: str) -> None:
        if locale in LOCALES:
            self.prefs.locale = locale
        self.touch()

    def toggle_high_contrast(self) -> None:
        self.prefs.high_contrast = not self.prefs.high_contrast
        self.touch()

    def toggle_large_text(self) -> None:
        self.prefs.large_text = not self.prefs.large_text
        self.touch()

    def cancel(self) -> None:
        """The voter (or staff) stops the visit: nothing is recorded."""
        self._reset()

    def finish(self) -> None:
        self._require(Step.RECEIPT, Step.REFUSED)
        self._reset()

    def start_staff_assisted(self) -> None:
        self._require(Step.ATTRACT)
        if not isinstance(self.terminal.voting_now(), OpenVoting):
            raise WrongStep("voting is not open here")
        self._go(Step.STAFF_PIN)

    def enter_staff_pin(self, pin: str) -> None:
        self._require(Step.STAFF_PIN)
        if self._pin_accepted(pin):
            self._go(Step.STAFF_DOCUMENT)

    def enter_document(self, kind: str, number: str, age_confirmed: bool = False) -> None:
        """Staff typed the resident's document. The number is used for the key (and the
        birth date it may encode) and dropped: never kept, never shown back, not even
        after a typo. `age_confirmed`: staff checked the age on the document, which
        matters for a document whose number carries no birth date."""
        self._require(Step.STAFF_DOCUMENT)
        self.touch()
        voting = self.terminal.voting_now()
        if not isinstance(voting, OpenVoting):
            self._refuse(Notice(VOTING_ENDED))
            return
        if kind not in {k.value for k in STAFF_DOCUMENT_KINDS}:
            self.notice = Notice("identity.unknown_kind", domain=True)
            return
        try:
            key = self.terminal.voter_key(voting, kind, number)
            born = birth_date(kind, normalise_identifier(kind, number))
        except IdentityError as exc:
            self.notice = Notice(exc.code, domain=True)
            return
        voter = Voter(Channel.STAFF_ASSISTED, voter_key=key.hex, born=born, age_confirmed=age_confirmed)
        notice = self._refusal(voting, voter)
        if notice is not None and notice.text == "eligibility.age_unknown":
            # Staff are at the screen with the document in hand: they tick the age
            # check and go on, rather than starting again.
            self.notice = notice
            return
        self._begin(voting, voter)

    def toggle(self, project_id: int) -> None:
        self._require(Step.BALLOT)
        assert self.voting is not None
        self.touch()
        rule = self.voting.ballot.categories[self.category_index]
        foreign = self.voting.district_problems([project_id])
        if foreign:  # a crafted request for a project of another district's category
            self.notice = Notice(foreign[0].code, foreign[0].params, domain=True)
            return
        result = ballot_view.toggle(self.voting.ballot, self.selections, project_id, rule.category_id)
        if isinstance(result, list):
            self.selections, self.notice = result, None
        else:
            self.notice = Notice(result.code, result.params, domain=True)

    def next_category(self) -> None:
        self._require(Step.BALLOT)
        assert self.voting is not None
        problems = ballot_view.leaving_problems(self.voting.ballot, self.selections, self.category_index)
        if problems:
            self.touch()
            self.notice = Notice(problems[0].code, problems[0].params, domain=True)
        elif self.category_index + 1 < len(self.voting.ballot.categories):
            self.category_index += 1
            self._go(Step.BALLOT)
        else:
            self._go(Step.REVIEW)

    def previous_category(self) -> None:
        self._require(Step.BALLOT)
        self.category_index = max(0, self.category_index - 1)
        self._go(Step.BALLOT)

    def edit_category(self, index: int) -> None:
        self._require(Step.REVIEW)
        assert self.voting is not None
        if not 0 <= index < len(self.voting.ballot.categories):
            raise WrongStep(f"no category number {index}")
        self.category_index = index
        self._go(Step.BALLOT)

    def to_confirm(self) -> None:
        self._require(Step.REVIEW)
        assert self.voting is not None
        problems = self.voting.ballot.check(self.selections)
        if problems:
            self.touch()
            self.notice = Notice(problems[0].code, problems[0].params, domain=True)
        else:
            self._go(Step.CONFIRM)

    def back_to_review(self) -> None:
        self._require(Step.CONFIRM)
        self._go(Step.REVIEW)

    def confirm(self) -> None:
        """Record the vote, then print, then show the receipt: durable before thanked."""
        self._require(Step.CONFIRM)
        assert self.voting is not None and self.voter is not None
        # The cycle the visit began in (a resident's cycle or a student's school contest).
        voter, voting = self.voter, self.terminal.voting_in(self.voting.cycle_id)
        if not isinstance(voting, OpenVoting):
            self._refuse(Notice(VOTING_ENDED))
            return
        # The list may have moved the resident to another district since the visit began.
        voting = self.terminal.for_voter(voting, voter.voter_key)
        foreign = voting.district_problems(self.selections)
        if foreign:
            # Its choices there are dropped (they could not be seen to be unchosen) and the
            # resident reviews the rest, told why.
            self.voting = voting
            self.selections = [p for p in self.selections if voting.ballot.project(p) is not None]
            self._go(Step.REVIEW, Notice(foreign[0].code, foreign[0].params, domain=True))
            return
        if voting.package_version != self.voting.package_version:
            # A sync brought a new package mid-visit: the choice is checked against it.
            self.voting = voting
            if voting.ballot.check(self.selections):
                self._go(Step.REVIEW, Notice(BALLOT_CHANGED))
                return
        notice = self._refusal(voting, voter)
        if notice is not None:
            self._refuse(notice)
            return
        try:
            record = self.terminal.cast(
                voting,
                self.selections,
                channel=voter.channel,
                voter_key=voter.voter_key,
                code_id=voter.code_id,
            )
        except (StoreError, sqlite3.Error, OSError, ValueError) as exc:
            # ValueError: a record the domain refuses (say, a malformed code from a QR handler).
            log.error("vote not recorded: %s", exc)
            self._refuse(Notice(NOT_RECORDED))
            return
        code = receipt_code(record.vote_id)
        receipt = receipt_for(
            code,
            cycle_title=voting.title,
            terminal=self.terminal.label(),
            cast_at=record.cast_at,
            locale=self.prefs.locale,
            check_url=self.terminal.check_url(),
        )
        outcome = print_receipt(self.printer, receipt)
        # From here on nothing on screen or in memory says who voted or for what.
        self.voter, self.voting, self.selections = None, None, []
        self.receipt = ReceiptShown(code, voting.title, outcome.status)
        self._go(Step.RECEIPT)

    # --- staff: maintenance -----------------------------------------------------------

    def start_maintenance(self) -> None:
        self._require(Step.ATTRACT)
        self._go(Step.SERVICE_PIN)

    def enter_service_pin(self, pin: str) -> None:
        self._require(Step.SERVICE_PIN)
        if self._pin_accepted(pin):
            self._go(Step.MAINTENANCE)

    def set_voting_open(self, value: bool) -> None:
        self._require(Step.MAINTENANCE)
        self.touch()
        if self.terminal.switch is None:
            raise WrongStep("this terminal has no voting switch")
        self.terminal.switch.set_open(value)

    def acknowledge_alarms(self) -> None:
        self._require(Step.MAINTENANCE)
        self.touch()
        self.terminal.store.acknowledge_alarms(self.terminal.clock())

    def leave_maintenance(self) -> None:
        self._require(Step.MAINTENANCE)
        self._reset()

    def _pin_accepted(self, pin: str) -> bool:
        self.touch()
        answer = self.pin_guard.try_pin(pin)
        if answer.accepted:
            return True
        if answer.not_configured:
            self.notice = Notice(PIN_NOT_CONFIGURED)
        elif answer.wait_s:
            self.notice = Notice(PIN_LOCKED, {"seconds": answer.wait_s})
        else:
            self.notice = Notice(PIN_WRONG)
        return False
