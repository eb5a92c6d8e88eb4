"""Polls at the terminal, as a state machine without a browser: a resident identified by
card or by staff chooses between the budget vote and the open polls, answers each kind
of question within its rule, confirms and gets a receipt; and every way it is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hardware import MemoryPrinter
from kiosk.eligibility import ALREADY_VOTED_ELSEWHERE
from kiosk.poll_flow import ANSWERED_HERE, ANSWERS_NOT_RECORDED, POLL_CLOSED, POLL_ENDED
from kiosk.qr_handlers import QrHandlers, QrVoter
from kiosk.receipt import PrintStatus, receipt_code
from kiosk.visit import Step, WrongStep
from sync.store_file import StoreError
from voting import Channel

from .conftest import SERVICE_PIN
from .terminal_setup import (
    PackageSigner,
    code_id,
    enrolled_store,
    fixed_code,
    logged_answers,
    logged_votes,
    make_package,
    option_id,
    packaged_poll,
    question_id,
    school_contest_cycle,
    voter_key_of_card,
)
from .test_eligibility_rules import put_on_list, rnokpp_born, years_ago
from .test_session import CARD, NO_CARD, OTHER_CARD, card, make_flow, vote_for

POLL = 61


def opt(question: int, option: int, poll: int = POLL) -> int:
    return option_id(poll, question, option)


@pytest.fixture
def signer() -> PackageSigner:
    return PackageSigner()


def poll_store(tmp_path, signer, *, polls=None, cycles=None, name="terminal.db"):
    polls = [packaged_poll()] if polls is None else polls
    return enrolled_store(tmp_path / name, signer, polls=polls, cycles=cycles)


@pytest.fixture
def store(tmp_path, signer):
    """An open budget cycle and one open poll of the four kinds."""
    store = poll_store(tmp_path, signer)
    yield store
    store.close()


@pytest.fixture
def flow(store, clock):
    return make_flow(store, clock, printer=MemoryPrinter())


@pytest.fixture
def polls_only(tmp_path, signer, clock):
    """A terminal where no budget cycle is open, only the poll."""
    store = poll_store(tmp_path, signer, cycles=[], name="polls-only.db")
    yield make_flow(store, clock, printer=MemoryPrinter())
    store.close()


def answer_everything(flow) -> None:
    """From the choice screen: the poll, one answer to each of its four questions."""
    flow.choose_poll(POLL)
    flow.tap_option(opt(1, 2))  # one: «Ні»
    flow.next_question()
    flow.tap_option(opt(2, 1))  # up_to 2: «Лави в тіні», «Сцена»
    flow.tap_option(opt(2, 3))
    flow.next_question()
    for option in (3, 1):  # rank: «Туалет» first, «Освітлення» second
        flow.tap_option(opt(3, option))
    flow.next_question()
    for _ in range(4):
        flow.give_points(opt(4, 2), 1)  # points: «Чистота» 4
    flow.give_points(opt(4, 1), 1)  # «Безпека ввечері» 1
    flow.next_question()
    assert flow.step is Step.POLL_REVIEW and flow.notice is None
    flow.poll_to_confirm()
    assert flow.step is Step.POLL_CONFIRM
    flow.confirm_poll()


def test_a_card_opens_the_choice_of_the_budget_vote_and_the_poll(flow):
    flow.observe(card())
    assert flow.step is Step.CHOOSE
    vote, poll = flow.choices()
    assert (vote.kind, vote.item_id, vote.open) == ("vote", 31, True)
    assert (poll.kind, poll.item_id, poll.open) == ("poll", POLL, True)
    assert poll.title == "Який вигляд має мати парк біля входу?"


def test_a_resident_answers_every_kind_and_the_answer_is_on_disk_before_the_receipt(flow, store):
    flow.observe(card())
    answer_everything(flow)
    assert flow.step is Step.RECEIPT
    [answer] = logged_answers(store)
    assert answer["poll"] == POLL and answer["channel"] == "kiosk" and answer["device"] == "T-0042"
    assert answer["voter_key"] == voter_key_of_card(CARD) and answer["code"] is None
    assert answer["answers"] == {
        str(question_id(POLL, 1)): [opt(1, 2)],
        str(question_id(POLL, 2)): [opt(2, 1), opt(2, 3)],
        str(question_id(POLL, 3)): [opt(3, 3), opt(3, 1)],  # the ranking, in its order
        str(question_id(POLL, 4)): [[opt(4, 1), 1], [opt(4, 2), 4]],  # zeros left out
    }
    assert flow.receipt.code == receipt_code(answer["id"]) and flow.receipt.poll
    assert flow.receipt.print_status is PrintStatus.PRINTED
    [printed] = flow.printer.printed
    assert printed.receipt_code == flow.receipt.code
    assert printed.cycle_title == "Який вигляд має мати парк біля входу?"
    # Where to check it: the server's page finds poll answers by their code too.
    assert printed.lines[-1] == flow.terminal.check_url() and printed.lines[-1].endswith("/check")
    assert flow.poll is None and flow.poll_answers == {}


def test_after_the_poll_the_resident_goes_on_to_vote_and_then_the_visit_ends(flow, store):
    flow.observe(card())
    answer_everything(flow)
    assert flow.receipt.more  # the budget vote is still open to them
    flow.continue_visit()
    assert flow.step is Step.CHOOSE
    vote, poll = flow.choices()
    assert vote.open and not poll.open and poll.why_not.text == ANSWERED_HERE
    flow.choose_poll(POLL)  # a crafted request for the poll answered already
    assert flow.step is Step.CHOOSE and flow.notice.text == ANSWERED_HERE
    flow.choose_vote()
    assert flow.step is Step.BALLOT
    vote_for(flow, 101)
    assert flow.step is Step.RECEIPT and not flow.receipt.more
    assert flow.voter is None  # nothing left: the resident is forgotten
    assert len(logged_votes(store)) == 1 and len(logged_answers(store)) == 1


def test_after_voting_the_resident_goes_on_to_the_poll(flow, store):
    flow.observe(card())
    flow.choose_vote()
    vote_for(flow, 103)
    assert flow.receipt.more and not flow.receipt.poll
    flow.continue_visit()
    [vote, poll] = flow.choices()
    assert not vote.open and poll.open
    answer_everything(flow)
    assert flow.step is Step.RECEIPT and not flow.receipt.more and flow.voter is None


def test_with_the_poll_answered_the_next_visit_goes_straight_to_the_ballot(flow):
    flow.observe(card())
    answer_everything(flow)
    flow.observe(NO_CARD)
    flow.finish()
    flow.observe(card())
    assert flow.step is Step.BALLOT  # nothing besides the vote: today's visit, unchanged


def test_a_terminal_with_only_polls_open_identifies_a_card(polls_only):
    flow = polls_only
    flow.observe(card())
    assert flow.step is Step.CHOOSE
    [poll] = flow.choices()  # no budget vote to offer
    assert poll.kind == "poll"
    with pytest.raises(WrongStep):
        flow.confirm()
    flow.choose_vote()  # crafted: there is no open cycle
    assert flow.step is Step.CHOOSE and flow.notice.text == "Зараз немає відкритого голосування."
    answer_everything(flow)
    assert flow.step is Step.RECEIPT and not flow.receipt.more and flow.voter is None
    flow.observe(NO_CARD)
    flow.finish()
    flow.observe(card())
    assert flow.step is Step.REFUSED and flow.notice.text == ANSWERED_HERE


def test_staff_help_a_resident_answer_when_only_polls_are_open(polls_only):
    flow = polls_only
    flow.start_staff_assisted()
    flow.enter_staff_pin(SERVICE_PIN)
    flow.enter_document("rnokpp", "3012409878")
    assert flow.step is Step.CHOOSE and flow.voter.channel is Channel.STAFF_ASSISTED
    answer_everything(flow)
    assert logged_answers(flow.terminal.store)[0]["channel"] == "staff_assisted"


def test_one_is_a_single_choice_and_tapped_again_is_none(flow):
    flow.observe(card())
    flow.choose_poll(POLL)
    flow.tap_option(opt(1, 1))
    flow.tap_option(opt(1, 3))
    assert flow.poll_answers == {question_id(POLL, 1): [opt(1, 3)]}
    flow.tap_option(opt(1, 3))
    assert flow.poll_answers == {}  # unanswered: skipped


def test_up_to_refuses_one_more_than_allowed_with_the_domain_message(flow):
    flow.observe(card())
    flow.choose_poll(POLL)
    flow.next_question()
    for option in (1, 2, 4):
        flow.tap_option(opt(2, option))
    assert flow.notice.text == "poll.answer_too_many" and flow.notice.params == {"question": 2, "limit": 2}
    assert flow.poll_answers == {question_id(POLL, 2): [opt(2, 1), opt(2, 2)]}
    flow.tap_option(opt(2, 1))  # unchoosing frees a place
    flow.tap_option(opt(2, 4))
    assert flow.notice is None and flow.poll_answers[question_id(POLL, 2)] == [opt(2, 2), opt(2, 4)]


def test_rank_keeps_the_order_tapped_and_can_be_undone_or_started_again(flow):
    flow.observe(card())
    flow.choose_poll(POLL)
    flow.next_question()
    flow.next_question()
    ranked = question_id(POLL, 3)
    for option in (4, 2, 1, 3):
        flow.tap_option(opt(3, option))
    assert flow.notice.text == "poll.answer_rank_too_many" and flow.notice.params["limit"] == 3
    assert flow.poll_answers[ranked] == [opt(3, 4), opt(3, 2), opt(3, 1)]
    flow.tap_option(opt(3, 4))  # the first place tapped again: the others move up
    assert flow.poll_answers[ranked] == [opt(3, 2), opt(3, 1)]
    flow.undo_last()
    assert flow.poll_answers[ranked] == [opt(3, 2)]
    flow.clear_question()
    assert ranked not in flow.poll_answers


def test_points_stay_between_zero_and_the_most_allowed(flow):
    flow.observe(card())
    flow.choose_poll(POLL)
    for _ in range(3):
        flow.next_question()
    flow.give_points(opt(4, 3), -1)
    assert flow.notice.text == "poll.answer_points_range" and flow.notice.params == {"question": 4, "max": 5}
    for _ in range(6):
        flow.give_points(opt(4, 3), 1)
    assert flow.notice.text == "poll.answer_points_range"
    assert flow.poll_answers[question_id(POLL, 4)] == {opt(4, 1): 0, opt(4, 2): 0, opt(4, 3): 5}
    flow.give_points(opt(4, 3), 7)  # a crafted step
    assert flow.notice.text == "poll.answer_shape"


def test_options_of_another_question_or_poll_are_refused_and_nothing_changes(flow):
    flow.observe(card())
    flow.choose_poll(POLL)
    for forged in (opt(2, 1), opt(1, 1, poll=99), 0):
        flow.tap_option(forged)
        assert flow.notice.text == "poll.answer_unknown_option" and flow.poll_answers == {}
    flow.give_points(opt(1, 1), 1)  # points on a question of another kind
    assert flow.notice.text == "poll.answer_shape" and flow.poll_answers == {}


def test_unknown_polls_wrong_steps_and_edits_out_of_range_change_nothing(flow, store):
    flow.observe(card())
    flow.choose_poll(12345)
    assert flow.step is Step.CHOOSE and flow.notice.text == POLL_CLOSED
    for act in (flow.tap_option, flow.edit_question):
        with pytest.raises(WrongStep):
            act(0)
    with pytest.raises(WrongStep):
        flow.confirm_poll()
    flow.choose_poll(POLL)
    with pytest.raises(WrongStep):
        flow.choose_poll(POLL)
    with pytest.raises(WrongStep):
        flow.confirm_poll()
    flow.tap_option(opt(1, 1))
    for _ in range(4):
        flow.next_question()
    with pytest.raises(WrongStep):
        flow.edit_question(4)
    with pytest.raises(WrongStep):
        flow.tap_option(opt(1, 2))
    assert logged_answers(store) == []


def test_a_poll_with_no_answer_cannot_be_confirmed(flow, store):
    flow.observe(card())
    flow.choose_poll(POLL)
    for _ in range(4):
        flow.next_question()  # every question skipped
    flow.poll_to_confirm()
    assert flow.step is Step.POLL_REVIEW and flow.notice.text == "poll.answer_empty"
    flow.edit_question(2)
    assert flow.step is Step.POLL and flow.question_index == 2
    assert logged_answers(store) == []


def test_back_from_the_first_question_returns_to_the_choice_without_the_answers(flow):
    flow.observe(card())
    flow.choose_poll(POLL)
    flow.tap_option(opt(1, 1))
    flow.previous_question()
    assert flow.step is Step.CHOOSE and flow.poll is None and flow.poll_answers == {}


def test_taking_the_card_away_mid_poll_records_nothing(flow, store):
    flow.observe(card())
    flow.choose_poll(POLL)
    flow.tap_option(opt(1, 1))
    flow.observe(card(OTHER_CARD))
    assert flow.step is Step.ATTRACT and flow.poll is None and flow.poll_answers == {}
    assert logged_answers(store) == []


def test_the_card_taken_during_the_receipt_ends_the_visit_there(flow):
    flow.observe(card())
    answer_everything(flow)
    assert flow.receipt.more
    token = flow.token
    flow.observe(NO_CARD)
    assert flow.step is Step.RECEIPT and flow.voter is None and not flow.receipt.more
    assert flow.token != token  # the page reloads without its «Далі»
    flow.continue_visit()
    assert flow.step is Step.ATTRACT


def test_an_idle_resident_on_a_question_is_reset(flow, clock):
    flow.observe(card())
    flow.choose_poll(POLL)
    clock.advance(61)
    flow.observe(card())
    assert flow.step is Step.ATTRACT and flow.poll is None


def test_a_poll_gone_with_a_new_package_mid_visit_records_nothing(flow, store, signer):
    flow.observe(card())
    answer_to_confirm(flow)
    store.store_package(signer.envelope(version=2))  # the poll is no longer in it
    flow.confirm_poll()
    # The budget vote is still there for the resident: back to the choice, told why.
    assert flow.step is Step.CHOOSE and flow.notice.text == POLL_ENDED
    assert [c.kind for c in flow.choices()] == ["vote"]
    assert logged_answers(store) == [] and flow.printer.printed == []


def test_a_poll_closed_mid_visit_with_nothing_else_open_is_refused(polls_only, signer):
    flow = polls_only
    flow.observe(card())
    answer_to_confirm(flow)
    ended = packaged_poll(opens_in=timedelta(days=-30), lasts=timedelta(days=29))
    flow.terminal.store.store_package(signer.envelope(version=2, cycles=[], polls=[ended]))
    flow.confirm_poll()
    assert flow.step is Step.REFUSED and flow.notice.text == POLL_ENDED
    assert logged_answers(flow.terminal.store) == []


def answer_to_confirm(flow) -> None:
    flow.choose_poll(POLL)
    flow.tap_option(opt(1, 1))
    flow.next_question()
    while flow.step is Step.POLL:
        flow.next_question()
    flow.poll_to_confirm()
    assert flow.step is Step.POLL_CONFIRM


def test_a_store_that_cannot_write_thanks_nobody(flow, store, monkeypatch):
    def broken(record):
        raise StoreError("disk", "no space left")

    monkeypatch.setattr(store, "append_poll_answer", broken)
    flow.observe(card())
    answer_to_confirm(flow)
    flow.confirm_poll()
    assert flow.step is Step.REFUSED and flow.notice.text == ANSWERS_NOT_RECORDED
    assert flow.receipt is None and flow.printer.printed == [] and logged_answers(store) == []


# --- who may answer ----------------------------------------------------------------------


@pytest.fixture
def ruled(tmp_path, signer, clock):
    """make(**who) -> a flow over a terminal whose one poll has that "who may answer";
    the budget cycle is open too."""
    stores = []

    def make(**who):
        store = poll_store(tmp_path, signer, polls=[packaged_poll(**who)], name=f"who-{len(stores)}.db")
        stores.append(store)
        return make_flow(store, clock, printer=MemoryPrinter())

    yield make
    for store in stores:
        store.close()


def place(store, key: str, district: str, *, enabled: bool = False) -> None:
    """The community's list (switched off unless `enabled`) places the resident in `district`."""
    version = store.eligibility.state().version + 1
    store.eligibility.apply_page(
        enabled=enabled,
        version=version,
        listed=[key],
        unlisted=[],
        cursor=f"{version}:",
        more=False,
        districts={key: district},
    )


def staff_document(flow, kind: str, number: str) -> None:
    flow.start_staff_assisted()
    flow.enter_staff_pin(SERVICE_PIN)
    flow.enter_document(kind, number)


def test_a_resident_too_young_for_the_poll_goes_straight_to_the_ballot(ruled):
    flow = ruled(min_age=18)
    staff_document(flow, "rnokpp", rnokpp_born(years_ago(17)))
    assert flow.step is Step.BALLOT  # the poll is not for them; the budget vote is


def test_who_may_answer_is_said_on_the_choice_screen(ruled):
    flow = ruled(min_age=18)
    staff_document(flow, "rnokpp", rnokpp_born(years_ago(18)))
    assert flow.step is Step.CHOOSE
    assert flow.choices()[1].open
    flow.cancel()
    flow = ruled(voter_list=True)
    put_on_list(flow.terminal.store, "ab" * 32)  # a list in force without this resident
    flow.observe(card())
    assert flow.step is Step.REFUSED and flow.notice.text == "eligibility.not_listed"  # the vote too


def test_a_card_shows_no_age_so_an_age_limited_poll_asks_for_staff_as_a_vote_does(ruled):
    flow = ruled(min_age=18)
    flow.observe(card())
    # The budget vote has no age limit here; the poll is offered with why it is closed.
    assert flow.step is Step.CHOOSE
    poll = flow.choices()[1]
    assert not poll.open and poll.why_not.text == "poll.age_unknown"
    assert "18" in poll.why_not.render("uk") and "працівника" in poll.why_not.render("uk")
    assert "staff" in poll.why_not.render("en")
    flow.cancel()
    # Staff with the document in hand tick the age check: the poll is open to them.
    flow.start_staff_assisted()
    flow.enter_staff_pin(SERVICE_PIN)
    flow.enter_document("passport", "АБ123456", age_confirmed=True)
    assert flow.step is Step.CHOOSE and flow.choices()[1].open


def test_a_district_poll_is_for_the_residents_the_list_places_there(ruled):
    flow = ruled(district="Центр")
    key = voter_key_of_card(CARD)
    place(flow.terminal.store, key, "Заріччя")
    flow.observe(card())
    assert flow.step is Step.BALLOT  # no poll for them
    flow.cancel()
    flow.observe(NO_CARD)
    place(flow.terminal.store, key, "центр")
    flow.observe(card())
    assert flow.step is Step.CHOOSE and flow.choices()[1].open


def test_a_resident_moved_off_the_polls_district_mid_visit_records_nothing(ruled):
    flow = ruled(district="Центр")
    key = voter_key_of_card(CARD)
    store = flow.terminal.store
    place(store, key, "Центр")
    flow.observe(card())
    answer_to_confirm(flow)
    place(store, key, "Заріччя")
    flow.confirm_poll()
    assert flow.step is Step.CHOOSE and flow.notice.text == "poll.wrong_district"
    assert flow.notice.params == {"district": "Центр"} and logged_answers(store) == []


def test_a_student_who_voted_with_a_code_is_not_offered_the_poll_or_the_residents_vote(
    tmp_path, signer, clock
):
    code = fixed_code("poll-student")
    residents = make_package(signer.public_key)["cycles"]
    store = poll_store(
        tmp_path, signer, cycles=[*residents, school_contest_cycle(70, [code])], name="school.db"
    )
    handlers = QrHandlers()
    handlers.register(
        "invitation:", lambda text, context: QrVoter(Channel.SCHOOL_CODE, code_id=text[11:], cycle_id=70)
    )
    flow = make_flow(store, clock, qr=handlers, printer=MemoryPrinter())
    flow.observe(NO_CARD, f"invitation:{code_id(code)}")
    assert flow.step is Step.BALLOT and flow.voting.cycle_id == 70  # a code goes to its contest
    vote_for(flow, 701)
    assert flow.step is Step.RECEIPT and not flow.receipt.more and flow.voter is None
    store.close()


def test_a_resident_who_may_not_vote_still_answers_the_poll_told_why_not_the_vote(store, clock):
    key = voter_key_of_card(CARD)
    flow = make_flow(store, clock, voted_elsewhere=lambda cycle_id, voter: voter == f"key:{key}")
    flow.observe(card())
    assert flow.step is Step.CHOOSE
    vote, poll = flow.choices()
    assert not vote.open and vote.why_not.text == ALREADY_VOTED_ELSEWHERE and poll.open
    flow.choose_vote()  # crafted: the screen offered no button
    assert flow.step is Step.CHOOSE and flow.notice.text == ALREADY_VOTED_ELSEWHERE


def test_from_the_ballot_the_resident_goes_back_to_the_list_and_the_choice_is_dropped(flow, store):
    flow.observe(card())
    flow.choose_vote()
    assert flow.step is Step.BALLOT and flow.from_choice
    flow.toggle(101)
    assert flow.selections == [101]
    flow.ballot_to_choices()
    assert flow.step is Step.CHOOSE and flow.voting is None and flow.selections == []
    assert [c.open for c in flow.choices()] == [True, True]
    flow.choose_vote()
    assert flow.step is Step.BALLOT and flow.selections == []  # nothing carried over
    assert logged_votes(store) == [] and logged_answers(store) == []


def test_a_ballot_not_opened_from_the_list_has_no_way_back_to_one(clock, tmp_path, signer):
    plain = poll_store(tmp_path, signer, polls=[], name="no-polls.db")
    try:
        flow = make_flow(plain, clock, printer=MemoryPrinter())
        flow.observe(card())
        assert flow.step is Step.BALLOT and not flow.from_choice  # straight to the ballot
        with pytest.raises(WrongStep):
            flow.ballot_to_choices()  # a crafted request
        assert flow.step is Step.BALLOT
    finally:
        plain.close()


@pytest.mark.parametrize(("min_age", "uk_words"), [(18, "з 18 років"), (21, "з 21 року")])
def test_a_resident_too_young_for_a_poll_is_told_of_the_poll_not_of_voting(ruled, min_age, uk_words):
    flow = ruled(min_age=min_age)
    flow.start_staff_assisted()
    flow.enter_staff_pin(SERVICE_PIN)
    flow.enter_document("passport", "АБ123456", age_confirmed=False)
    # A passport shows no birth date: the poll asks for staff (the vote has no limit).
    assert flow.choices()[1].why_not.text == "poll.age_unknown"
    flow.cancel()
    staff_document(flow, "rnokpp", rnokpp_born(years_ago(min_age - 1)))
    why = next(c for c in flow.choices() if c.kind == "poll").why_not
    assert why.text == "poll.too_young"
    assert why.render("uk") == f"Відповідати на це опитування можна {uk_words}."
    assert why.render("en") == f"This poll is open from the age of {min_age}."
