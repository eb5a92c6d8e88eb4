"""The community's rules at the terminal: a minimum age read from the document number,
the list of residents who may vote, and staff confirming an age the number cannot show."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hardware import MemoryPrinter
from kiosk.visit import Step
from voting.identity import rnokpp_check_digit

from .conftest import SERVICE_PIN
from .terminal_setup import PackageSigner, enrolled_store, logged_votes, make_package, voter_key_of_card
from .test_session import CARD, OTHER_CARD, card, make_flow, vote_for

MIN_AGE = 16


def today_in_kyiv() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo("Europe/Kyiv")).date()


def rnokpp_born(born: date) -> str:
    first_nine = f"{(born - date(1899, 12, 31)).days:05d}1234"
    return first_nine + str(rnokpp_check_digit(first_nine))


def years_ago(years: int, days: int = 0) -> date:
    today = today_in_kyiv()
    try:
        anniversary = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        anniversary = today.replace(year=today.year - years, day=28)
    return anniversary + timedelta(days=days)


@pytest.fixture
def store(tmp_path):
    signer = PackageSigner()
    store = enrolled_store(tmp_path / "terminal.db", signer, with_package=False)
    package = make_package(signer.public_key)
    package["cycles"][0]["min_age"] = MIN_AGE
    store.store_package(signer.envelope(package))
    yield store
    store.close()


@pytest.fixture
def flow(store, clock):
    return make_flow(store, clock, printer=MemoryPrinter())


def put_on_list(store, *keys, enabled=True, more=False, unlisted=()):
    state = store.eligibility.state()
    store.eligibility.apply_page(
        enabled=enabled,
        version=state.version + 1,
        listed=list(keys),
        unlisted=list(unlisted),
        cursor=f"{state.version + 1}:",
        more=more,
    )


def staff_document(flow, kind, number, **options):
    if flow.step is not Step.STAFF_DOCUMENT:
        flow.start_staff_assisted()
        flow.enter_staff_pin(SERVICE_PIN)
    flow.enter_document(kind, number, **options)


def test_a_card_cannot_show_an_age_so_without_a_list_the_resident_is_sent_to_staff(flow, store):
    flow.observe(card())
    assert flow.step is Step.REFUSED and flow.notice.text == "eligibility.age_unknown"
    assert "16" in flow.notice.render("uk") and "16" in flow.notice.render("en")
    assert logged_votes(store) == []


def test_a_listed_card_votes_and_an_unlisted_one_is_refused(flow, store):
    put_on_list(store, voter_key_of_card(CARD))
    flow.observe(card())
    assert flow.step is Step.BALLOT
    vote_for(flow, 102)
    assert len(logged_votes(store)) == 1
    flow.finish()
    flow.observe(card(OTHER_CARD))
    assert flow.step is Step.REFUSED and flow.notice.text == "eligibility.not_listed"


def test_a_list_not_yet_read_to_the_end_turns_no_one_away(flow, store):
    put_on_list(store, voter_key_of_card(OTHER_CARD), more=True)  # half-read
    assert not store.eligibility.applies()
    flow.observe(card())
    # No list in force, so only the age rule speaks: a card shows no age.
    assert flow.notice.text == "eligibility.age_unknown"


def test_the_rnokpp_tells_the_age_to_the_day(flow, store):
    staff_document(flow, "rnokpp", rnokpp_born(years_ago(MIN_AGE, days=1)))  # sixteen tomorrow
    assert flow.step is Step.REFUSED and flow.notice.text == "eligibility.too_young"
    flow.finish()
    staff_document(flow, "rnokpp", rnokpp_born(years_ago(MIN_AGE)))  # sixteen today
    assert flow.step is Step.BALLOT
    vote_for(flow, 101)
    assert len(logged_votes(store)) == 1


def test_the_unzr_tells_the_age_too(flow):
    born = years_ago(MIN_AGE - 2)
    staff_document(flow, "unzr", f"{born:%Y%m%d}-00012")
    assert flow.step is Step.REFUSED and flow.notice.text == "eligibility.too_young"


def test_a_passport_needs_staff_to_confirm_the_age(flow, store):
    staff_document(flow, "passport", "АВ123456")
    # Staff stay on the document screen and are asked to check the age.
    assert flow.step is Step.STAFF_DOCUMENT and flow.notice.text == "eligibility.age_unknown"
    flow.enter_document("passport", "АВ123456", age_confirmed=True)
    assert flow.step is Step.BALLOT
    vote_for(flow, 101)
    assert logged_votes(store)[0]["channel"] == "staff_assisted"


def test_a_staff_confirmation_does_not_overrule_the_birth_date_in_the_number(flow):
    staff_document(flow, "rnokpp", rnokpp_born(years_ago(10)), age_confirmed=True)
    assert flow.step is Step.REFUSED and flow.notice.text == "eligibility.too_young"


def test_a_resident_taken_off_the_list_mid_visit_is_stopped_at_confirmation(flow, store):
    put_on_list(store, voter_key_of_card(CARD))
    flow.observe(card())
    assert flow.step is Step.BALLOT
    put_on_list(store, unlisted=[voter_key_of_card(CARD)])  # a sync round arrives meanwhile
    vote_for(flow, 102)
    assert flow.step is Step.REFUSED and flow.notice.text == "eligibility.not_listed"
    assert logged_votes(store) == []


def test_without_a_minimum_age_a_card_votes_as_before(tmp_path, clock):
    store = enrolled_store(tmp_path / "plain.db", PackageSigner())
    try:
        flow = make_flow(store, clock, printer=MemoryPrinter())
        flow.observe(card())
        assert flow.step is Step.BALLOT
    finally:
        store.close()
