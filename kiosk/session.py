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

TerminalFlow is built in four layers: the visit's state and its clock
(kiosk.visit_state.VisitState), who is at the terminal and whether they may vote
(kiosk.identification.Identification), the choice between the vote and the open polls
and answering a poll (kiosk.poll_flow.PollFlow), and here the ballot, the vote recorded
with its receipt, and the maintenance screen.
"""

from __future__ import annotations

import logging
import sqlite3

from kiosk import ballot_view
from kiosk.i18n import LOCALES, N_
from kiosk.identification import VOTING_ENDED
from kiosk.poll_flow import PollFlow
from kiosk.receipt import print_receipt, receipt_code, receipt_for
from kiosk.terminal import OpenVoting
from kiosk.visit import Notice, ReceiptShown, Step, WrongStep
from sync.store_file import StoreError

log = logging.getLogger(__name__)

NOT_RECORDED = N_("Голос не записано через збій терміналу. Зверніться до працівника.")
BALLOT_CHANGED = N_("Перелік проєктів оновився. Перегляньте свій вибір ще раз.")


class TerminalFlow(PollFlow):
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
        # From here on nothing on screen or in memory says who voted or for what; who
        # they are (by key) only while a poll is still there for them to answer.
        self.voting, self.selections = None, []
        more = self._more_to_do()
        if not more:
            self.voter = None
        self.receipt = ReceiptShown(code, voting.title, outcome.status, more=more)
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
