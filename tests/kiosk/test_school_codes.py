"""A student at a school's terminal: the code card shown to the camera is checked with no
network against the package, opens the school contest's ballot, and votes once; every
code that may not vote, and every QR text that is not a code card, is refused clearly
and records nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from appkit.service_pin import PinGuard
from hardware import CardPresent, MemoryPrinter, NoCard
from kiosk.eligibility import ALREADY_VOTED_ELSEWHERE, ALREADY_VOTED_HERE
from kiosk.qr_handlers import NOT_FOR_VOTING_HERE, QrRefusal, default_qr_handlers
from kiosk.school_codes import (
    CONTEST_ENDED,
    CONTEST_NOT_YET,
    NO_VERIFIER_KEY,
    OTHER_SCHOOL,
    UNKNOWN_CODE,
    code_in_address,
)
from kiosk.session import TerminalFlow
from kiosk.terminal import CODE_NOT_VALID_HERE, Terminal, Unavailable
from kiosk.visit import Step, Timing
from kiosk.voting_switch import VotingSwitch
from qr_codes.codes import ALPHABET, CodeError, new_code, normalise
from sync.package_parser import parse_package
from voting import Channel

from .conftest import SERVICE_PIN_HASH, ManualClock
from .terminal_setup import (
    OTHER_SCHOOL as SCHOOL_8,
)
from .terminal_setup import (
    SCHOOL,
    PackageSigner,
    card_url,
    code_id,
    enrolled_store,
    fixed_code,
    logged_votes,
    make_package,
    school_contest_cycle,
    school_programme_cycle,
)

CODE, SECOND_CODE, REVOKED_LATER = fixed_code("code"), fixed_code("second"), fixed_code("revoked later")
OTHER_SCHOOLS_CODE = fixed_code("other school")
CONTEST, OTHER_CONTEST = 61, 62
NO_CARD = NoCard("Fake Reader 00 00")


def school_cycles(codes=(CODE, SECOND_CODE, REVOKED_LATER), **contest) -> list[dict]:
    """What a school's terminal holds: the school budget and two schools' contests."""
    return [
        school_programme_cycle(),
        school_contest_cycle(CONTEST, list(codes), **contest),
        school_contest_cycle(OTHER_CONTEST, [OTHER_SCHOOLS_CODE], school=SCHOOL_8),
    ]


def with_typo(code: str) -> str:
    """The code with its third symbol swapped for another: what a misprint gives."""
    compact = normalise(code)
    wrong = ALPHABET[(ALPHABET.index(compact[2]) + 1) % len(ALPHABET)]
    return compact[:2] + wrong + compact[3:]


@pytest.fixture
def signer() -> PackageSigner:
    return PackageSigner()


@pytest.fixture
def store(tmp_path, signer):
    store = enrolled_store(tmp_path / "school-terminal.db", signer, cycles=school_cycles())
    yield store
    store.close()


def school_flow(store, *, school_id=None, switch=None) -> TerminalFlow:
    clock = ManualClock()
    terminal = Terminal(store, switch=switch, voted_elsewhere=store.voted_elsewhere, school_id=school_id)
    return TerminalFlow(
        terminal,
        pin_guard=PinGuard(SERVICE_PIN_HASH, monotonic=clock),
        qr_handlers=default_qr_handlers(),
        printer=MemoryPrinter(),
        timing=Timing(),
        monotonic=clock,
    )


@pytest.fixture
def flow(store) -> TerminalFlow:
    return school_flow(store)


def show(flow: TerminalFlow, text) -> None:
    """The camera sees `text` while the terminal waits for a voter."""
    flow.observe(NO_CARD, text)


def vote_for(flow: TerminalFlow, *projects: int) -> None:
    for project in projects:
        flow.toggle(project)
    flow.next_category()
    flow.to_confirm()
    flow.confirm()


def refused_with(flow: TerminalFlow, text: str) -> bool:
    return flow.step is Step.REFUSED and flow.notice.text == text


# --- the student's way through ---------------------------------------------------------


def test_a_code_card_opens_the_ballot_of_the_schools_contest_with_no_resident_cycle_open(flow):
    assert flow.terminal.voting_now() is Unavailable.NO_OPEN_CYCLE  # nothing for residents here
    show(flow, card_url(CODE))
    assert flow.step is Step.BALLOT
    assert flow.voting.cycle_id == CONTEST
    assert flow.voter.channel is Channel.SCHOOL_CODE and flow.voter.code_id == code_id(CODE)
    assert flow.voter.voter_key is None


def test_a_students_vote_is_recorded_by_code_id_and_nothing_of_the_code_stays(flow, store):
    show(flow, card_url(CODE))
    vote_for(flow, 611, 613)
    assert flow.step is Step.RECEIPT
    [vote] = logged_votes(store)
    assert vote["cycle"] == CONTEST and vote["selections"] == [611, 613]
    assert vote["channel"] == "school_code" and vote["code"] == code_id(CODE) and vote["voter_key"] is None
    # What leaves the terminal carries the verifier only, never the code itself.
    logged = json.dumps(logged_votes(store))
    assert CODE not in logged and normalise(CODE) not in logged
    assert flow.voter is None and flow.voting is None and flow.selections == []
    assert CODE not in repr(flow.receipt) and normalise(CODE) not in repr(flow.receipt)


@pytest.mark.parametrize(
    "shown",
    [
        lambda code: code,  # the bare code in a QR code someone made
        lambda code: code.lower(),
        lambda code: normalise(code),
        lambda code: card_url(code, "http://192.168.1.20:8000"),  # a school's local server
        lambda code: card_url(code).upper(),  # QR encoders upper-case to fit more
        lambda code: card_url(code) + "?utm_source=poster#top",
        lambda code: card_url(code) + "/",
        lambda code: card_url(code, "https://example.org/spilno"),  # a server under a path
        lambda code: card_url(code.replace("-", "%2D")),  # percent-encoded, correctly
    ],
)
def test_the_code_is_read_from_every_form_a_card_or_qr_generator_gives(flow, shown):
    show(flow, shown(CODE))
    assert flow.step is Step.BALLOT and flow.voter.code_id == code_id(CODE)


def test_a_card_naming_another_host_still_votes_because_the_verifier_decides(flow):
    # The host carries no authority (see kiosk/school_codes.py): the code must be one of
    # this community's, which only the signed package's verifiers can say.
    show(flow, card_url(CODE, "https://phishing.example.com"))
    assert flow.step is Step.BALLOT
    flow.cancel()
    show(flow, card_url(new_code(), "https://phishing.example.com"))
    assert refused_with(flow, UNKNOWN_CODE)


# --- codes that may not vote -------------------------------------------------------------


def test_a_misprinted_code_is_refused_with_the_codes_own_message_in_the_voters_language(flow, store):
    show(flow, card_url(with_typo(CODE)))
    assert flow.step is Step.REFUSED and flow.notice.code_error
    expected = CodeError("code.check_failed")
    assert flow.notice.render("uk") == expected.message("uk")
    assert flow.notice.render("en") == expected.message("en")
    assert flow.notice.render("en").startswith("There is a mistake in the code")
    assert logged_votes(store) == []


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("7KQM-2X9R-TB4H-ZP3W", "code.wrong_length"),
        ("7KQM-2X9R-TB4H-ZP3W-8CXN-7KQM", "code.wrong_length"),
        (card_url("7KQM-2X9R-TB4H-ZP3W-8CXO"), "code.bad_symbol"),
        (card_url("-----"), "code.empty"),
    ],
)
def test_text_in_a_code_card_that_is_no_code_gets_the_rule_it_broke(flow, text, rule):
    show(flow, text)
    assert flow.step is Step.REFUSED and flow.notice.code_error and flow.notice.text == rule
    assert flow.notice.render("en") == CodeError(rule, **flow.notice.params).message("en")


def test_a_code_the_package_does_not_know_is_refused(flow, store):
    show(flow, card_url(new_code()))
    assert refused_with(flow, UNKNOWN_CODE)
    assert flow.notice.render("en").startswith("There is no such code")
    assert logged_votes(store) == []


def test_a_code_revoked_on_the_server_is_refused_once_the_new_package_is_here(flow, store, signer):
    show(flow, card_url(REVOKED_LATER))
    assert flow.step is Step.BALLOT
    flow.cancel()
    newer = make_package(signer.public_key, version=2, cycles=school_cycles(codes=(CODE, SECOND_CODE)))
    store.store_package(signer.envelope(newer))
    show(flow, card_url(REVOKED_LATER))
    assert refused_with(flow, UNKNOWN_CODE)
    flow.finish()
    show(flow, card_url(CODE))  # the others still vote
    assert flow.step is Step.BALLOT


def test_a_package_revoking_the_code_mid_visit_stops_the_vote_at_confirmation(flow, store, signer):
    show(flow, card_url(REVOKED_LATER))
    flow.toggle(612)
    flow.next_category()
    flow.to_confirm()
    newer = make_package(signer.public_key, version=2, cycles=school_cycles(codes=(CODE,)))
    store.store_package(signer.envelope(newer))  # a sync round, while the student reads
    flow.confirm()
    assert refused_with(flow, CODE_NOT_VALID_HERE)
    assert logged_votes(store) == []


def test_a_schools_terminal_refuses_another_schools_code(store):
    flow = school_flow(store, school_id=SCHOOL["id"])
    show(flow, card_url(OTHER_SCHOOLS_CODE))
    assert refused_with(flow, OTHER_SCHOOL)
    flow.finish()
    show(flow, card_url(CODE))
    assert flow.step is Step.BALLOT and flow.voting.cycle_id == CONTEST


def test_a_terminal_for_the_whole_community_takes_every_schools_codes(flow):
    show(flow, card_url(OTHER_SCHOOLS_CODE))
    assert flow.step is Step.BALLOT and flow.voting.cycle_id == OTHER_CONTEST


@pytest.mark.parametrize(
    ("window", "refusal"),
    [
        ({"starts_in": timedelta(days=3)}, CONTEST_NOT_YET),
        ({"starts_in": timedelta(days=-20), "lasts": timedelta(days=10)}, CONTEST_ENDED),
    ],
)
def test_a_code_of_a_contest_not_open_now_is_refused(tmp_path, window, refusal):
    store = enrolled_store(tmp_path / "t.db", PackageSigner(), cycles=school_cycles(**window))
    try:
        flow = school_flow(store)
        show(flow, card_url(CODE))
        assert refused_with(flow, refusal)
        assert logged_votes(store) == []
    finally:
        store.close()


def test_the_same_code_again_on_this_terminal_is_refused(flow, store):
    show(flow, card_url(CODE))
    vote_for(flow, 614)
    flow.finish()
    show(flow, card_url(CODE))
    assert refused_with(flow, ALREADY_VOTED_HERE)
    flow.finish()
    show(flow, CODE)  # another form of the same code is the same code
    assert refused_with(flow, ALREADY_VOTED_HERE)
    assert len(logged_votes(store)) == 1


def test_a_code_the_server_listed_as_spent_elsewhere_is_refused_offline(flow, store):
    # What sync.server_pulls.ServerPulls.pull_voters keeps from the server's voted_codes.
    store.add_voted_elsewhere([(CONTEST, f"code:{code_id(SECOND_CODE)}")], cursor="1")
    show(flow, card_url(SECOND_CODE))
    assert refused_with(flow, ALREADY_VOTED_ELSEWHERE)
    flow.finish()
    show(flow, card_url(CODE))
    assert flow.step is Step.BALLOT


def test_a_package_from_a_server_that_sends_no_verifier_key_takes_no_codes(tmp_path):
    signer = PackageSigner()
    package = make_package(signer.public_key, cycles=school_cycles())
    del package["code_verifier_key"]
    store = enrolled_store(tmp_path / "old.db", signer)
    store.store_package(signer.envelope({**package, "version": 2}))
    try:
        flow = school_flow(store)
        show(flow, card_url(CODE))
        assert refused_with(flow, NO_VERIFIER_KEY)
    finally:
        store.close()


def test_a_terminal_closed_by_staff_ignores_codes(store, tmp_path):
    switch = VotingSwitch(tmp_path / "switch.json")
    switch.set_open(False)
    flow = school_flow(store, switch=switch)
    show(flow, card_url(CODE))
    assert flow.step is Step.ATTRACT and logged_votes(store) == []


# --- residents and students on one terminal ---------------------------------------------


def test_residents_vote_in_their_cycle_and_students_in_their_contest_on_one_terminal(tmp_path):
    signer = PackageSigner()
    residents = make_package(signer.public_key)["cycles"]
    store = enrolled_store(tmp_path / "library.db", signer, cycles=residents + school_cycles())
    try:
        flow = school_flow(store)
        assert flow.terminal.voting_now().cycle_id == 31  # the contest is not the residents'
        flow.observe(CardPresent("Fake Reader 00 00", "04A1B2C3D4E5F6", "3B00"))
        assert flow.voting.cycle_id == 31 and flow.voter.channel is Channel.KIOSK
        flow.cancel()
        flow.observe(NO_CARD)
        show(flow, card_url(CODE))
        assert flow.voting.cycle_id == CONTEST and flow.voter.channel is Channel.SCHOOL_CODE
    finally:
        store.close()


def test_a_residents_card_on_a_terminal_with_only_school_contests_starts_nothing(flow, store):
    flow.observe(CardPresent("Fake Reader 00 00", "04A1B2C3D4E5F6", "3B00"))
    assert flow.step is Step.ATTRACT and logged_votes(store) == []


# --- hostile QR texts ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        card_url(CODE) + "x" * 10_000,  # 10 kB
        "A" * 10_000,
        card_url(CODE).replace("/s/", "/s/\x00"),
        "https://host/s/\x00" + CODE,
        f"https://host/s/{CODE}\n",
        "javascript:alert(document.cookie)//s/" + CODE,
        "JAVASCRIPT:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "https://host/s/%ZZ" + CODE,  # malformed percent-encoding
        "https://host/s/%FF%FE",  # bytes that are not UTF-8
        "https://host/s/" + CODE.replace("-", "%252D"),  # encoded twice
        "https://host/s/" + CODE.replace("-", "%2F"),  # a path hidden in the segment
        "https://[::1/s/" + CODE,  # a broken host
        "https:///s/" + CODE,  # no host
        "https://host/x/" + CODE,  # not the code page
        "https://host/s/",
        "https://example.com/some-poster",
        "ftp://host/s/" + CODE,
        "WIFI:S:school;T:WPA;P:secret;;",
        "hello",
        "\u202e" + CODE + "\u202c;rm -rf",
        "",
        "s/" + CODE,
    ],
)
def test_qr_text_that_is_not_a_code_card_is_not_for_voting_here(flow, store, text):
    show(flow, text)
    assert refused_with(flow, NOT_FOR_VOTING_HERE), flow.notice
    assert logged_votes(store) == []


@pytest.mark.parametrize("value", [12345, b"https://host/s/x", ["x"], {"code": CODE}])
def test_a_scanner_handing_over_something_other_than_text_changes_nothing(flow, store, value):
    show(flow, value)
    assert refused_with(flow, NOT_FOR_VOTING_HERE)
    assert logged_votes(store) == []


def test_invisible_direction_marks_around_a_real_code_carry_nothing(flow):
    # normalise() drops format characters (pasted text brings them); the check symbol
    # still guards what is left, so this is the student's own code.
    show(flow, card_url("\u200f" + CODE + "\u200e"))
    assert flow.step is Step.BALLOT and flow.voter.code_id == code_id(CODE)


def test_the_address_parser_takes_only_the_segment_after_s():
    assert code_in_address("https://h/s/AB") == "AB"
    assert code_in_address("https://h/S/AB/") == "AB"
    assert code_in_address("https://h/a/s/AB?x=/s/CD") == "AB"
    assert code_in_address("https://h/s/AB/CD") is None
    assert code_in_address("mailto:x@h/s/AB") is None


def test_the_default_handlers_claim_card_addresses_and_bare_codes_only():
    handlers = default_qr_handlers()
    assert set(handlers.prefixes()) == {"http://", "https://", "HTTP://", "HTTPS://"}
    assert handlers.handle("invitation:123", None) == QrRefusal(NOT_FOR_VOTING_HERE)


def test_school_budget_cycles_are_never_offered_to_residents_or_the_vote_simulators(signer):
    package = parse_package(
        make_package(signer.public_key, cycles=make_package(signer.public_key)["cycles"] + school_cycles())
    )
    now = datetime.now(UTC)
    assert [c.id for c in package.open_cycles(now)] == [31]
    assert [c.id for c in package.open_school_contests(now)] == [CONTEST, OTHER_CONTEST]
