"""Polls at the terminal: after identifying, a resident who has an open poll to answer
chooses between the budget vote and the polls, answers a poll one question per screen,
reviews, confirms, and gets a receipt; then back to the choice while something is left.
Part of kiosk.session.TerminalFlow (between kiosk.identification and the ballot).

With no poll open to the resident the visit is as before: straight to the ballot. The
rules are the domain's: each tap is judged by the question's rule (kiosk.poll_view),
who may answer by voting.poll_who.answer_refusal, the whole answer by PollAnswerRecord.create
again at confirmation, against the package the terminal holds then: a poll that closed
or left the package mid-visit records nothing.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime

from hardware import CardState
from kiosk import poll_view
from kiosk.i18n import N_
from kiosk.identification import Identification
from kiosk.poll_view import Answer, Answers
from kiosk.receipt import poll_receipt_for, print_receipt, receipt_code
from kiosk.terminal import UNAVAILABLE_TEXTS, OpenVoting, Unavailable
from kiosk.visit import Notice, ReceiptShown, Step, Voter, WrongStep
from sync.cycle_package import PackagedPoll, PackagedQuestion
from sync.store_file import StoreError
from voting import Problem
from voting.polls import PollAnswerRefused, canonical_answer, check_answers

log = logging.getLogger(__name__)

ANSWERED_HERE = N_("Ви вже відповіли тут")
POLL_CLOSED = N_("Це опитування вже завершилося.")
POLL_ENDED = N_("Опитування вже завершилося або закрите на цьому терміналі. Відповіді не записано.")
ANSWERS_NOT_RECORDED = N_("Відповіді не записано через збій терміналу. Зверніться до працівника.")


@dataclass(frozen=True, slots=True)
class Choice:
    """One thing on the choice screen: the budget vote or a poll."""

    kind: str  # "vote" or "poll"
    item_id: int  # the cycle's id or the poll's
    title: str
    description: str
    closes_at: datetime
    why_not: Notice | None  # why the resident may not take it now; None: they may

    @property
    def open(self) -> bool:
        return self.why_not is None


class PollFlow(Identification):
    def _reset(self) -> None:
        super()._reset()
        self.poll: PackagedPoll | None = None
        self.poll_answers: Answers = {}
        self.question_index = 0
        # The ballot was opened from the choice screen: it offers the way back there.
        self.from_choice = False

    def observe(self, card: CardState, qr_text: str | None = None) -> None:
        super().observe(card, qr_text)
        voter = self.voter
        if self.step is Step.RECEIPT and voter is not None and voter.card_id is not None:
            if self.card_on_reader != voter.card_id:
                # The card went while the receipt showed: the receipt stays, the visit
                # cannot go on. A new token makes the page drop its «Далі».
                self.voter, self.token = None, secrets.token_urlsafe(12)
                if self.receipt is not None:
                    self.receipt = replace(self.receipt, more=False)

    # --- what the resident may do --------------------------------------------------------

    def _poll_refusal(self, poll: PackagedPoll, voter: Voter) -> Notice | None:
        if voter.voter_key is None:
            return Notice(POLL_CLOSED)  # a school code: polls are residents'
        if self.terminal.answered_here(poll.id, voter.voter):
            return Notice(ANSWERED_HERE)
        problem = self.terminal.poll_refusal(poll, voter.voter_key, voter.born, voter.age_confirmed)
        if problem is None:
            return None
        # The domain names the age limit as a vote's («Голосувати можна з…», the code the
        # platform's API answers with too); a resident reading about a poll is told of
        # the poll.
        code = "poll.too_young" if problem.code == "eligibility.too_young" else problem.code
        return Notice(code, problem.params, domain=True)

    def choices(self) -> list[Choice]:
        """The budget vote (when open here) and the open polls, each with why not."""
        voter = self.voter
        if voter is None or voter.voter_key is None:
            return []  # a code votes in its own contest only; polls are residents'
        items = []
        voting = self.terminal.voting_now()
        if isinstance(voting, OpenVoting) and voting.cycle.for_residents:
            why = self._refusal(voting, voter)
            if why is None and not self.terminal.for_voter(voting, voter.voter_key).ballot.categories:
                why = Notice("ballot.no_category_for_resident", domain=True)
            items.append(Choice("vote", voting.cycle_id, voting.title, "", voting.cycle.voting_ends_at, why))
        for poll in self.terminal.open_polls():
            why = self._poll_refusal(poll, voter)
            items.append(Choice("poll", poll.id, poll.title, poll.description, poll.closes_at, why))
        return items

    def _more_to_do(self) -> bool:
        return any(choice.open for choice in self.choices())

    def _identified(self, voting: OpenVoting | Unavailable, voter: Voter) -> None:
        polls = self.terminal.open_polls() if voter.voter_key is not None else []
        reasons = [self._poll_refusal(poll, voter) for poll in polls]
        # A card shows no age: a poll with an age limit is still shown, with why, so the
        # resident learns that staff can check their document and let them answer.
        if all(r is not None and r.text != "poll.age_unknown" for r in reasons):
            # No poll for them (or none open): today's visit, unchanged.
            if isinstance(voting, OpenVoting):
                self._begin(voting, voter)
            else:
                self._refuse(next((r for r in reasons if r), Notice(UNAVAILABLE_TEXTS[voting])))
            return
        self.token = secrets.token_urlsafe(12)
        self.voter, self.voting, self.selections = voter, None, []
        self._go(Step.CHOOSE)

    def _back_to_choices(self, notice: Notice) -> None:
        """After a poll stopped short: the choice screen if anything is left, else done."""
        self.poll, self.poll_answers, self.question_index = None, {}, 0
        if self._more_to_do():
            self._go(Step.CHOOSE, notice)
        else:
            self._refuse(notice)

    # --- the choice screen ---------------------------------------------------------------

    def choose_vote(self) -> None:
        self._require(Step.CHOOSE)
        assert self.voter is not None
        self.touch()
        voting = self.terminal.voting_now()
        if not isinstance(voting, OpenVoting):
            self.notice = Notice(UNAVAILABLE_TEXTS[voting])
            return
        why = self._refusal(voting, self.voter)
        if why is not None:
            self.notice = why
            return
        self._begin(voting, self.voter)
        self.from_choice = self.step is Step.BALLOT

    def ballot_to_choices(self) -> None:
        """From the ballot back to the choice screen, the choices made there dropped, as
        «Назад» from a poll's first question drops its answers."""
        self._require(Step.BALLOT)
        if not self.from_choice or self.voter is None:
            raise WrongStep("this ballot was not opened from the choice screen")
        self.voting, self.selections, self.category_index = None, [], 0
        self.from_choice = False
        self._go(Step.CHOOSE)

    def choose_poll(self, poll_id: int) -> None:
        self._require(Step.CHOOSE)
        assert self.voter is not None
        self.touch()
        poll = self.terminal.open_poll(poll_id)
        if poll is None:  # closed since the screen showed it, or an id it never showed
            self.notice = Notice(POLL_CLOSED)
            return
        why = self._poll_refusal(poll, self.voter)
        if why is not None:
            self.notice = why
            return
        self.poll, self.poll_answers, self.question_index = poll, {}, 0
        self._go(Step.POLL)

    def continue_visit(self) -> None:
        """From a receipt on to the choice screen, while something is left to do."""
        self._require(Step.RECEIPT)
        if self.voter is None or not self._more_to_do():
            self._reset()
            return
        self.receipt = None
        self._go(Step.CHOOSE)

    # --- one question per screen ---------------------------------------------------------

    def _question(self) -> PackagedQuestion:
        self._require(Step.POLL)
        assert self.poll is not None
        self.touch()
        return self.poll.questions[self.question_index]

    def _apply(self, question: PackagedQuestion, result: Answer | Problem | None) -> None:
        if isinstance(result, Problem):
            self.notice = Notice(result.code, result.params, domain=True)
            return
        self.notice = None
        if result is None or (isinstance(result, list) and not result):
            self.poll_answers.pop(question.id, None)  # nothing chosen: the question is skipped
        else:
            self.poll_answers[question.id] = result

    def tap_option(self, option_id: int) -> None:
        question = self._question()
        answer = self.poll_answers.get(question.id)
        self._apply(question, poll_view.tap(question, self.question_index + 1, answer, option_id))

    def give_points(self, option_id: int, step: int) -> None:
        question = self._question()
        answer = self.poll_answers.get(question.id)
        self._apply(
            question, poll_view.give_points(question, self.question_index + 1, answer, option_id, step)
        )

    def undo_last(self) -> None:
        question = self._question()
        self._apply(question, poll_view.undo_last(self.poll_answers.get(question.id)))

    def clear_question(self) -> None:
        question = self._question()
        self._apply(question, None)

    def next_question(self) -> None:
        self._question()
        assert self.poll is not None
        if self.question_index + 1 < len(self.poll.questions):
            self.question_index += 1
            self._go(Step.POLL)
        else:
            self._go(Step.POLL_REVIEW)

    def previous_question(self) -> None:
        self._question()
        if self.question_index == 0:
            # Back from the first question: the choice screen, the answers dropped.
            self.poll, self.poll_answers = None, {}
            self._go(Step.CHOOSE)
        else:
            self.question_index -= 1
            self._go(Step.POLL)

    # --- review, confirm, record ---------------------------------------------------------

    def edit_question(self, index: int) -> None:
        self._require(Step.POLL_REVIEW)
        assert self.poll is not None
        if not 0 <= index < len(self.poll.questions):
            raise WrongStep(f"no question number {index}")
        self.question_index = index
        self._go(Step.POLL)

    def _problems(self, poll: PackagedPoll) -> list[Problem]:
        rule = poll.rule()
        canonical = {}
        for question_id, value in poll_view.record_answers(poll, self.poll_answers).items():
            question = rule.question(question_id)
            assert question is not None  # record_answers walks the poll's own questions
            canonical[question_id] = canonical_answer(question.kind, value)
        return check_answers(rule, canonical)

    def poll_to_confirm(self) -> None:
        self._require(Step.POLL_REVIEW)
        assert self.poll is not None
        problems = self._problems(self.poll)
        if problems:
            self.touch()
            self.notice = Notice(problems[0].code, problems[0].params, domain=True)
        else:
            self._go(Step.POLL_CONFIRM)

    def poll_back_to_review(self) -> None:
        self._require(Step.POLL_CONFIRM)
        self._go(Step.POLL_REVIEW)

    def confirm_poll(self) -> None:
        """Record the answers, then print, then show the receipt: durable before thanked."""
        self._require(Step.POLL_CONFIRM)
        assert self.poll is not None and self.voter is not None
        voter = self.voter
        # The package the terminal holds now: the poll may have closed or gone mid-visit.
        poll = self.terminal.open_poll(self.poll.id)
        if poll is None:
            self._back_to_choices(Notice(POLL_ENDED))
            return
        why = self._poll_refusal(poll, voter)
        if why is not None:
            self._back_to_choices(why)
            return
        try:
            record = self.terminal.record_poll_answer(
                poll,
                poll_view.record_answers(poll, self.poll_answers),
                channel=voter.channel,
                voter_key=voter.voter_key,
                code_id=voter.code_id,
            )
        except PollAnswerRefused as refused:
            problem = refused.problems[0]
            self._go(Step.POLL_REVIEW, Notice(problem.code, problem.params, domain=True))
            return
        except (StoreError, sqlite3.Error, OSError, ValueError) as exc:
            log.error("poll answer not recorded: %s", exc)
            self._refuse(Notice(ANSWERS_NOT_RECORDED))
            return
        code = receipt_code(record.answer_id)
        receipt = poll_receipt_for(
            code,
            poll_title=poll.title,
            terminal=self.terminal.label(),
            cast_at=record.cast_at,
            locale=self.prefs.locale,
            check_url=self.terminal.check_url(),
        )
        outcome = print_receipt(self.printer, receipt)
        # Nothing of the answers stays in memory; the resident, only while they go on.
        self.poll, self.poll_answers, self.question_index = None, {}, 0
        more = self._more_to_do()
        if not more:
            self.voter = None
        self.receipt = ReceiptShown(code, poll.title, outcome.status, poll=True, more=more)
        self._go(Step.RECEIPT)
