"""Who is at the terminal and whether they may vote: the card reader and camera observed
on every request, a card or a QR code read, staff typing a resident's document after
their PIN, and the eligibility check that opens the ballot or refuses. Part of
kiosk.session.TerminalFlow (its state: kiosk.visit_state).
"""

from __future__ import annotations

import secrets

from hardware import CardError, CardPresent, CardState, NoReader
from kiosk.i18n import N_
from kiosk.qr_handlers import QrRefusal
from kiosk.terminal import UNAVAILABLE_TEXTS, OpenVoting, Unavailable
from kiosk.visit import VOTING_STEPS, Notice, Step, Voter, WrongStep
from kiosk.visit_state import VisitState
from voting import Channel, IdentityError, IdentityKind, normalise_identifier
from voting.eligibility import birth_date

STAFF_DOCUMENT_KINDS = (IdentityKind.RNOKPP, IdentityKind.ID_CARD, IdentityKind.PASSPORT, IdentityKind.UNZR)

CARD_UNREADABLE = N_("Картку не вдалося прочитати. Прикладіть її ще раз і тримайте нерухомо.")
NO_READER = N_("Зчитувач карток не працює. Зверніться до працівника.")
PIN_WRONG = N_("Невірний PIN.")
PIN_LOCKED = N_("Забагато невдалих спроб. Спробуйте через {seconds} с.")
PIN_NOT_CONFIGURED = N_("Сервісний PIN не налаштовано на цьому терміналі.")
VOTING_ENDED = N_("Голосування вже завершилося або закрите на цьому терміналі. Голос не записано.")


class Identification(VisitState):
    # --- hardware ---------------------------------------------------------------------

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

    # --- identification and eligibility -------------------------------------------------

    def _identify_card(self, card_id: str) -> None:
        voting = self.terminal.voting_now()
        if not isinstance(voting, OpenVoting) and not self.terminal.open_polls():
            return  # the screen already says nothing is open; a tap changes nothing
        self.visit_card = card_id
        try:
            # The package's secret: there with or without an open cycle (only polls open).
            key = self.terminal.resident_key(IdentityKind.CARD, card_id)
        except IdentityError as exc:
            self._refuse(Notice(exc.code, domain=True))
            return
        if key is None:
            return
        self._identified(voting, Voter(Channel.KIOSK, voter_key=key.hex, card_id=card_id))

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

    def _identified(self, voting: OpenVoting | Unavailable, voter: Voter) -> None:
        """A resident is known: straight to the ballot here; kiosk.poll_flow offers the
        open polls first when there are any for them."""
        if isinstance(voting, OpenVoting):
            self._begin(voting, voter)
        else:
            self._refuse(Notice(UNAVAILABLE_TEXTS[voting]))

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

    # --- staff-assisted identification ------------------------------------------------

    def start_staff_assisted(self) -> None:
        self._require(Step.ATTRACT)
        if not isinstance(self.terminal.voting_now(), OpenVoting) and not self.terminal.open_polls():
            raise WrongStep("neither voting nor a poll is open here")
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
        if not isinstance(voting, OpenVoting) and not self.terminal.open_polls():
            self._refuse(Notice(VOTING_ENDED))
            return
        if kind not in {k.value for k in STAFF_DOCUMENT_KINDS}:
            self.notice = Notice("identity.unknown_kind", domain=True)
            return
        try:
            key = self.terminal.resident_key(kind, number)
            born = birth_date(kind, normalise_identifier(kind, number))
        except IdentityError as exc:
            self.notice = Notice(exc.code, domain=True)
            return
        if key is None:  # closed by staff or revoked a moment ago
            self._refuse(Notice(VOTING_ENDED))
            return
        voter = Voter(Channel.STAFF_ASSISTED, voter_key=key.hex, born=born, age_confirmed=age_confirmed)
        notice = self._refusal(voting, voter) if isinstance(voting, OpenVoting) else None
        if notice is not None and notice.text == "eligibility.age_unknown":
            # Staff are at the screen with the document in hand: they tick the age
            # check and go on, rather than starting again.
            self.notice = notice
            return
        self._identified(voting, voter)

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
