"""The visit as a state machine, without a browser: a resident's way through the steps,
and every way a visit ends early."""

from __future__ import annotations

import pytest

from appkit.service_pin import PinGuard
from hardware import CardError, CardPresent, MemoryPrinter, NoCard, NoReader
from kiosk.eligibility import ALREADY_VOTED_ELSEWHERE, ALREADY_VOTED_HERE
from kiosk.identification import PIN_LOCKED, PIN_WRONG, VOTING_ENDED
from kiosk.qr_handlers import NOT_FOR_VOTING_HERE, QrHandlers, QrRefusal, QrVoter
from kiosk.receipt import PrintStatus
from kiosk.session import NOT_RECORDED, TerminalFlow
from kiosk.terminal import Terminal
from kiosk.visit import Step, Timing, WrongStep
from kiosk.voting_switch import VotingSwitch
from sync.store_file import StoreError
from voting import Channel

from .conftest import SERVICE_PIN, SERVICE_PIN_HASH, ManualClock
from .terminal_setup import PackageSigner, enrolled_store, logged_votes, voter_key_of_card

READER = "Fake Reader 00 00"
CARD, OTHER_CARD = "04A1B2C3D4E5F6", "04FFEEDDCCBBAA"


def card(card_id: str = CARD) -> CardPresent:
    return CardPresent(READER, card_id, "3B00")


NO_CARD = NoCard(READER)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def store(tmp_path):
    store = enrolled_store(tmp_path / "terminal.db", PackageSigner())
    yield store
    store.close()


def make_flow(store, clock, *, voted_elsewhere=None, printer=None, qr=None, switch=None) -> TerminalFlow:
    terminal = Terminal(store, switch=switch, voted_elsewhere=voted_elsewhere)
    return TerminalFlow(
        terminal,
        pin_guard=PinGuard(SERVICE_PIN_HASH, monotonic=clock),
        qr_handlers=qr,
        printer=printer,
        timing=Timing(idle_warning_after_s=45, idle_countdown_s=15, receipt_shown_s=30, refusal_shown_s=15),
        monotonic=clock,
    )


@pytest.fixture
def flow(store, clock) -> TerminalFlow:
    return make_flow(store, clock, printer=MemoryPrinter())


def vote_for(flow: TerminalFlow, *projects: int) -> None:
    """From the first category screen: choose `projects`, go through review, confirm."""
    ballot = flow.voting.ballot
    for project in projects:
        while ballot.categories[flow.category_index].category_id != ballot.project(project).category_id:
            flow.next_category()
        flow.toggle(project)
    while flow.step is Step.BALLOT:
        flow.next_category()
    flow.to_confirm()
    flow.confirm()


def test_a_card_on_the_reader_opens_the_ballot_for_that_resident(flow):
    assert flow.step is Step.ATTRACT
    flow.observe(card())
    assert flow.step is Step.BALLOT
    assert flow.voter.voter_key == voter_key_of_card(CARD)
    assert flow.voter.channel is Channel.KIOSK
    assert flow.category_index == 0 and flow.selections == []


def test_a_full_vote_is_on_disk_before_the_receipt_and_then_forgotten(flow, store):
    flow.observe(card())
    vote_for(flow, 101, 201)
    assert flow.step is Step.RECEIPT
    [vote] = logged_votes(store)
    assert vote["selections"] == [101, 201] and vote["voter_key"] == voter_key_of_card(CARD)
    assert flow.receipt.print_status is PrintStatus.PRINTED
    # Nothing about the voter or the choice stays in the terminal's memory.
    assert flow.voter is None and flow.voting is None and flow.selections == []


def test_the_same_card_again_is_refused_and_nothing_is_recorded(flow, store):
    flow.observe(card())
    vote_for(flow, 103)
    flow.observe(NO_CARD)
    flow.finish()
    flow.observe(card())
    assert flow.step is Step.REFUSED
    assert flow.notice.text == ALREADY_VOTED_HERE
    assert len(logged_votes(store)) == 1


def test_a_resident_known_to_have_voted_elsewhere_is_refused(store, clock):
    key = voter_key_of_card(CARD)
    flow = make_flow(store, clock, voted_elsewhere=lambda cycle_id, voter: voter == f"key:{key}")
    flow.observe(card())
    assert flow.step is Step.REFUSED and flow.notice.text == ALREADY_VOTED_ELSEWHERE
    flow.finish()
    flow.observe(NO_CARD)
    flow.observe(card(OTHER_CARD))
    assert flow.step is Step.BALLOT


def test_a_resident_the_server_listed_as_voted_elsewhere_is_refused_while_offline(store, clock):
    cycle_id = store.package().package["cycles"][0]["id"]
    store.add_voted_elsewhere([(cycle_id, f"key:{voter_key_of_card(CARD)}")], cursor="1")
    flow = make_flow(store, clock, voted_elsewhere=store.voted_elsewhere)
    flow.observe(card())
    assert flow.step is Step.REFUSED and flow.notice.text == ALREADY_VOTED_ELSEWHERE
    assert logged_votes(store) == []


def test_a_card_left_on_the_reader_after_the_visit_does_not_start_another(flow):
    flow.observe(card())
    vote_for(flow, 103)
    flow.finish()
    flow.observe(card())  # still lying there
    assert flow.step is Step.ATTRACT
    flow.observe(NO_CARD)
    flow.observe(card())
    assert flow.step is Step.REFUSED  # a real new tap, and this card has voted


def test_the_next_residents_card_put_down_during_the_receipt_is_taken_after_it(flow):
    flow.observe(card())
    vote_for(flow, 103)
    flow.observe(NO_CARD)
    flow.observe(card(OTHER_CARD))  # the next in the queue, a little early
    assert flow.step is Step.RECEIPT
    flow.finish()
    flow.observe(card(OTHER_CARD))
    assert flow.step is Step.BALLOT and flow.voter.card_id == OTHER_CARD


@pytest.mark.parametrize("taken_away", [NO_CARD, NoReader("unplugged"), card(OTHER_CARD)])
def test_taking_the_card_away_mid_vote_resets_and_records_nothing(flow, store, taken_away):
    flow.observe(card())
    flow.toggle(101)
    flow.next_category()
    token = flow.token
    flow.observe(taken_away)
    assert flow.step is Step.ATTRACT
    assert flow.selections == [] and flow.voter is None and flow.token != token
    assert logged_votes(store) == []


def test_a_flaky_read_of_the_card_mid_vote_does_not_end_the_visit(flow):
    flow.observe(card())
    flow.observe(CardError(READER, "moved"))
    assert flow.step is Step.BALLOT


def test_an_unreadable_card_at_the_start_asks_to_try_again(flow):
    flow.observe(CardError(READER, "moved"))
    assert flow.step is Step.ATTRACT and flow.notice is not None
    flow.observe(NO_CARD)
    assert flow.notice is None


def test_a_card_id_that_cannot_be_a_card_is_refused_with_the_domain_message(flow):
    flow.observe(card("0A0B"))
    assert flow.step is Step.REFUSED
    assert flow.notice.render("uk") == "Картку не вдалося прочитати."


def test_idle_voter_is_warned_then_reset(flow, clock):
    flow.observe(card())
    flow.toggle(101)
    clock.advance(44)
    assert flow.idle_status().warning is False
    clock.advance(2)
    status = flow.idle_status()
    assert status.warning is True and status.seconds_left == 14
    flow.touch()  # "Продовжити"
    assert flow.idle_status().warning is False
    clock.advance(60)
    flow.observe(card())
    assert flow.step is Step.ATTRACT and flow.selections == []


def test_the_receipt_and_the_refusal_clear_themselves(flow, clock):
    flow.observe(card("0A0B"))
    assert flow.step is Step.REFUSED
    clock.advance(16)
    flow.observe(NO_CARD)
    assert flow.step is Step.ATTRACT
    flow.observe(card())
    vote_for(flow, 101)
    clock.advance(29)
    flow.observe(NO_CARD)  # the card may go: the receipt stays until read
    assert flow.step is Step.RECEIPT
    clock.advance(2)
    flow.observe(NO_CARD)
    assert flow.step is Step.ATTRACT


def test_display_choices_last_for_one_voter(flow, clock):
    flow.set_locale("en")
    flow.toggle_high_contrast()
    flow.observe(card())
    assert flow.prefs.locale == "en" and flow.prefs.high_contrast
    flow.cancel()
    assert flow.prefs.locale == "uk" and not flow.prefs.high_contrast
    flow.set_locale("en")
    clock.advance(61)  # chose English on the start screen, then walked away
    flow.observe(NO_CARD)
    assert flow.prefs.locale == "uk"
    flow.set_locale("klingon")
    assert flow.prefs.locale == "uk"


def test_choices_over_the_rule_are_refused_with_the_domain_message(flow):
    flow.observe(card())
    flow.toggle(101)
    flow.toggle(102)
    flow.toggle(103)  # a third in a category of two
    assert flow.selections == [101, 102]
    assert flow.notice.render("uk") == "У категорії «Малі проєкти» можна обрати не більше 2."
    flow.toggle(102)
    flow.toggle(104)  # 250 000 + 300 000 > 500 000
    assert flow.selections == [101]
    assert flow.notice.text == "ballot.over_category_budget"
    flow.toggle(201)  # a project of the next category, not on this screen
    assert flow.selections == [101] and flow.notice.text == "ballot.unknown_project"
    flow.toggle(999)
    assert flow.selections == [101]


def test_an_empty_ballot_cannot_be_confirmed(flow, store):
    flow.observe(card())
    flow.next_category()
    flow.next_category()
    assert flow.step is Step.REVIEW
    flow.to_confirm()
    assert flow.step is Step.REVIEW and flow.notice.text == "ballot.empty"
    with pytest.raises(WrongStep):
        flow.confirm()
    assert logged_votes(store) == []


def test_actions_at_the_wrong_step_are_refused(flow):
    for action in (flow.confirm, flow.to_confirm, flow.next_category, flow.finish, flow.leave_maintenance):
        with pytest.raises(WrongStep):
            action()
    with pytest.raises(WrongStep):
        flow.toggle(101)
    flow.observe(card())
    with pytest.raises(WrongStep):
        flow.start_maintenance()
    flow.next_category()
    flow.next_category()
    with pytest.raises(WrongStep):
        flow.edit_category(7)


def test_the_review_goes_back_to_any_category(flow):
    flow.observe(card())
    flow.toggle(101)
    flow.next_category()
    flow.next_category()
    flow.edit_category(0)
    assert flow.step is Step.BALLOT and flow.category_index == 0 and flow.selections == [101]


def test_staff_assisted_vote_needs_the_pin_and_a_valid_document(flow, store):
    flow.start_staff_assisted()
    flow.enter_staff_pin("0000")
    assert flow.step is Step.STAFF_PIN and flow.notice.text == PIN_WRONG
    flow.enter_staff_pin(SERVICE_PIN)
    assert flow.step is Step.STAFF_DOCUMENT
    flow.enter_document("rnokpp", "3012409871")
    assert flow.notice.text == "identity.rnokpp_checksum" and flow.step is Step.STAFF_DOCUMENT
    flow.enter_document("card", "04A1B2C3D4E5F6")  # staff may not type a card id
    assert flow.notice.text == "identity.unknown_kind"
    flow.enter_document("rnokpp", "x" * 10_000)
    assert flow.notice.text == "identity.too_long"
    flow.enter_document("rnokpp", "3012409878")
    assert flow.step is Step.BALLOT and flow.voter.channel is Channel.STAFF_ASSISTED
    vote_for(flow, 102)
    assert logged_votes(store)[0]["channel"] == "staff_assisted"


def test_wrong_pins_lock_the_terminal_out_for_a_while(flow, clock):
    flow.start_maintenance()
    for _ in range(3):
        flow.enter_service_pin("1111")
    assert flow.notice.text == PIN_LOCKED and flow.notice.params == {"seconds": 30}
    flow.enter_service_pin(SERVICE_PIN)  # even the right PIN waits
    assert flow.step is Step.SERVICE_PIN
    clock.advance(31)
    flow.enter_service_pin(SERVICE_PIN)
    assert flow.step is Step.MAINTENANCE


def test_closing_voting_here_survives_a_restart(store, clock, tmp_path):
    switch_path = tmp_path / "switch.json"
    flow = make_flow(store, clock, switch=VotingSwitch(switch_path))
    flow.start_maintenance()
    flow.enter_service_pin(SERVICE_PIN)
    flow.set_voting_open(False)
    flow.leave_maintenance()
    flow.observe(card())
    assert flow.step is Step.ATTRACT  # a closed terminal takes no card
    restarted = make_flow(store, clock, switch=VotingSwitch(switch_path))
    assert str(restarted.availability()) == "closed_here"


def test_a_vote_confirmed_after_the_terminal_was_closed_is_not_recorded(store, clock, tmp_path):
    switch = VotingSwitch(tmp_path / "switch.json")
    flow = make_flow(store, clock, switch=switch)
    flow.observe(card())
    flow.toggle(101)
    flow.next_category()
    flow.next_category()
    flow.to_confirm()
    switch.set_open(False)
    flow.confirm()
    assert flow.step is Step.REFUSED and flow.notice.text == VOTING_ENDED
    assert logged_votes(store) == []


def test_a_store_that_cannot_write_fails_closed(flow, store, monkeypatch):
    def broken(record):
        raise StoreError("disk", "no space left")

    monkeypatch.setattr(store, "append_vote", broken)
    flow.observe(card())
    vote_for(flow, 101)
    assert flow.step is Step.REFUSED and flow.notice.text == NOT_RECORDED
    assert flow.receipt is None


def test_a_printer_failure_never_loses_the_vote(store, clock):
    class JammedPrinter:
        def print_receipt(self, receipt):
            raise OSError("paper jam")

        def ready(self):
            raise OSError("paper jam")

    flow = make_flow(store, clock, printer=JammedPrinter())
    flow.observe(card())
    vote_for(flow, 101)
    assert flow.step is Step.RECEIPT and flow.receipt.print_status is PrintStatus.FAILED
    assert len(logged_votes(store)) == 1


def test_a_qr_code_no_handler_claims_is_not_for_voting_here(flow):
    flow.observe(NO_CARD, "https://example.com/some-poster")
    assert flow.step is Step.REFUSED and flow.notice.text == NOT_FOR_VOTING_HERE


def test_a_registered_qr_handler_identifies_a_voter(store, clock):
    handlers = QrHandlers()
    handlers.register("invitation:", lambda text, context: QrVoter(Channel.SCHOOL_CODE, code_id=text[11:]))
    handlers.register("ticket:", lambda text, context: QrRefusal("Квиток не дійсний"))
    flow = make_flow(store, clock, qr=handlers)
    flow.observe(NO_CARD, "invitation:ABC123")
    assert flow.step is Step.BALLOT and flow.voter.voter == "code:ABC123"
    vote_for(flow, 101)
    flow.finish()
    flow.observe(NO_CARD, "invitation:ABC123")  # the same code again
    assert flow.step is Step.REFUSED and flow.notice.text == ALREADY_VOTED_HERE
