"""District categories on a terminal, offline: a category that names a district is offered
only to a resident the community's list places there, and a vote choosing in another
district's category is never stored, however the request was made."""

from __future__ import annotations

import pytest

from appkit.service_pin import PinGuard
from hardware import CardPresent, MemoryPrinter
from kiosk.session import TerminalFlow
from kiosk.terminal import Terminal
from kiosk.visit import Step, Timing
from voting import message

from .conftest import SERVICE_PIN_HASH, ManualClock
from .terminal_setup import (
    LARGE,
    SMALL,
    PackageSigner,
    enrolled_store,
    logged_votes,
    make_package,
    voter_key_of_card,
)

READER = "Fake Reader 00 00"
ZARICHCHIA, CENTRE = "04A1B2C3D4E5F6", "04FFEEDDCCBBAA"  # residents' cards
NOWHERE = "04000000000001"  # listed with no district


def district_package(server: PackageSigner, districts: dict[int, str]) -> dict:
    package = make_package(server.public_key)
    for category in package["cycles"][0]["categories"]:
        category["district"] = districts.get(category["id"])
    return server.envelope(package)


@pytest.fixture
def residents() -> dict[str, str]:
    """The device's list: voter key -> district (mutable: a list update mid-visit)."""
    return {voter_key_of_card(ZARICHCHIA): "Заріччя", voter_key_of_card(CENTRE): "Центр"}


def flow_for(tmp_path, residents, districts: dict[int, str]) -> TerminalFlow:
    server = PackageSigner()
    store = enrolled_store(tmp_path / "terminal.db", server, with_package=False)
    store.store_package(district_package(server, districts))
    clock = ManualClock()
    return TerminalFlow(
        Terminal(store, districts=residents.get),
        pin_guard=PinGuard(SERVICE_PIN_HASH, monotonic=clock),
        printer=MemoryPrinter(),
        timing=Timing(),
        monotonic=clock,
    )


def start(flow: TerminalFlow, card_id: str) -> None:
    flow.observe(CardPresent(READER, card_id, "3B00"))


def test_a_resident_of_the_district_is_offered_its_category_and_votes_in_it(tmp_path, residents):
    flow = flow_for(tmp_path, residents, {LARGE: "Заріччя"})
    start(flow, ZARICHCHIA)
    assert [c.category_id for c in flow.voting.ballot.categories] == [SMALL, LARGE]
    flow.toggle(101)
    flow.next_category()
    flow.toggle(201)
    flow.next_category()
    flow.to_confirm()
    flow.confirm()
    assert flow.step is Step.RECEIPT
    assert logged_votes(flow.terminal.store)[-1]["selections"] == [101, 201]


def test_a_resident_of_another_district_is_not_offered_the_category(tmp_path, residents):
    flow = flow_for(tmp_path, residents, {LARGE: "Заріччя"})
    start(flow, CENTRE)
    assert [c.category_id for c in flow.voting.ballot.categories] == [SMALL]
    assert flow.voting.ballot.project(201) is None


def test_a_crafted_choice_in_another_districts_category_is_refused_with_a_clear_message(tmp_path, residents):
    flow = flow_for(tmp_path, residents, {LARGE: "Заріччя"})
    start(flow, CENTRE)
    flow.toggle(201)  # a request the screen never offered
    assert flow.selections == []
    assert flow.notice.text == "ballot.wrong_district"
    uk = message(flow.notice.text, "uk", **flow.notice.params)
    en = message(flow.notice.text, "en", **flow.notice.params)
    assert "лише для мешканців району «Заріччя»" in uk and "only for residents of" in en
    with pytest.raises(ValueError, match="district"):
        flow.terminal.cast(
            flow.voting, [101, 201], channel=flow.voter.channel, voter_key=flow.voter.voter_key
        )
    assert logged_votes(flow.terminal.store) == []


def test_a_resident_the_list_moves_mid_visit_reviews_the_vote_without_that_category(tmp_path, residents):
    flow = flow_for(tmp_path, residents, {LARGE: "Заріччя"})
    start(flow, ZARICHCHIA)
    flow.toggle(101)
    flow.next_category()
    flow.toggle(201)
    flow.next_category()
    flow.to_confirm()
    residents[voter_key_of_card(ZARICHCHIA)] = "Центр"  # a list update arrived meanwhile
    flow.confirm()
    assert flow.step is Step.REVIEW and flow.notice.text == "ballot.wrong_district"
    assert flow.selections == [101]
    assert logged_votes(flow.terminal.store) == []
    flow.to_confirm()
    flow.confirm()
    assert logged_votes(flow.terminal.store)[-1]["selections"] == [101]


def test_names_are_compared_in_one_form_so_case_and_apostrophes_do_not_turn_a_resident_away(
    tmp_path, residents
):
    residents[voter_key_of_card(CENTRE)] = "солом'янський"
    flow = flow_for(tmp_path, residents, {LARGE: "Солом’янський"})
    start(flow, CENTRE)
    assert [c.category_id for c in flow.voting.ballot.categories] == [SMALL, LARGE]


def test_a_resident_with_no_district_where_every_category_is_a_districts_is_told_so(tmp_path, residents):
    flow = flow_for(tmp_path, residents, {SMALL: "Центр", LARGE: "Заріччя"})
    start(flow, NOWHERE)
    assert flow.step is Step.REFUSED and flow.notice.text == "ballot.no_category_for_resident"


def test_a_terminal_whose_list_carries_no_districts_offers_no_district_category(tmp_path):
    server = PackageSigner()
    store = enrolled_store(tmp_path / "terminal.db", server, with_package=False)
    store.store_package(district_package(server, {LARGE: "Заріччя"}))
    terminal = Terminal(store)  # the device's own list copy
    voting = terminal.for_voter(terminal.voting_now(), voter_key_of_card(ZARICHCHIA))
    assert [c.category_id for c in voting.ballot.categories] == [SMALL]


def test_the_terminal_places_residents_by_its_own_copy_of_the_list(tmp_path):
    server = PackageSigner()
    store = enrolled_store(tmp_path / "terminal.db", server, with_package=False)
    store.store_package(district_package(server, {LARGE: "Заріччя"}))
    zarichchia, centre = voter_key_of_card(ZARICHCHIA), voter_key_of_card(CENTRE)
    store.eligibility.apply_page(
        enabled=False, version=1, listed=[zarichchia, centre], unlisted=[], cursor="1:" + centre,
        more=False, districts={zarichchia: "Заріччя", centre: "Центр"},
    )  # fmt: skip
    clock = ManualClock()
    flow = TerminalFlow(
        Terminal(store),  # no districts given: the store's list is asked
        pin_guard=PinGuard(SERVICE_PIN_HASH, monotonic=clock),
        printer=MemoryPrinter(),
        timing=Timing(),
        monotonic=clock,
    )
    start(flow, ZARICHCHIA)
    assert [c.category_id for c in flow.voting.ballot.categories] == [SMALL, LARGE]
    store.close()
