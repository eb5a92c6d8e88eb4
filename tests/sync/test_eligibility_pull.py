"""A terminal keeps the community's eligibility list offline: it reads it in pages,
applies it only once it has all of it, follows additions and removals, and starts
again when the server's list started again."""

from __future__ import annotations

import pytest

from sync.client import SyncClient
from sync.device_store import DeviceStore
from sync.sync_errors import SyncError

KEYS = [f"{n:064x}" for n in range(1, 8)]


def pull(store, server, **options) -> int:
    return SyncClient(store, server.url, sleep=lambda _s: None).pull_eligibility(**options)


def test_no_list_means_nothing_applies(enrolled, server):
    assert pull(enrolled, server) == 0
    state = enrolled.eligibility.state()
    assert (state.enabled, state.applies, state.listed_count) == (False, False, 0)


def test_the_list_applies_once_read_to_the_end(enrolled, server):
    server.eligibility_page = 2
    server.change_eligibility(listed=KEYS[:5], enabled=True)
    assert pull(enrolled, server, max_pages=2) == 4  # a round cut short: half the list
    assert enrolled.eligibility.state().applies is False  # a half-read list turns no one away
    pull(enrolled, server)
    state = enrolled.eligibility.state()
    assert (state.applies, state.listed_count) == (True, 5)
    assert enrolled.eligibility.is_listed(KEYS[0]) and not enrolled.eligibility.is_listed(KEYS[6])


def test_removals_and_switching_off_arrive(enrolled, server):
    server.change_eligibility(listed=KEYS[:3], enabled=True)
    pull(enrolled, server)
    server.change_eligibility(unlisted=[KEYS[0]], listed=[KEYS[3]])
    pull(enrolled, server)
    assert not enrolled.eligibility.is_listed(KEYS[0]) and enrolled.eligibility.is_listed(KEYS[3])
    server.change_eligibility(enabled=False)
    pull(enrolled, server)
    assert enrolled.eligibility.state().applies is False
    assert enrolled.eligibility.state().listed_count == 3  # kept for when it is switched on again


def test_a_list_the_server_started_again_is_read_anew(enrolled, server):
    server.change_eligibility(listed=KEYS[:3], enabled=True)
    server.change_eligibility(listed=KEYS[3:4])
    pull(enrolled, server)
    # The server is restored from an older backup: its list is at version 1 again.
    server.eligibility_version = 0
    server.eligibility_changes = []
    server.change_eligibility(listed=[KEYS[6]], enabled=True)
    pull(enrolled, server)
    assert [k for k in KEYS if enrolled.eligibility.is_listed(k)] == [KEYS[6]]


@pytest.mark.parametrize(
    "answer",
    [
        {"enabled": "yes", "version": 1, "listed": [], "unlisted": [], "cursor": "", "more": False},
        {
            "enabled": True,
            "version": 1,
            "listed": ["not-a-key"],
            "unlisted": [],
            "cursor": "1:",
            "more": False,
        },
        {"enabled": True, "version": 1, "listed": [None], "unlisted": [], "cursor": "1:", "more": False},
        {"enabled": True, "version": 1, "listed": [], "unlisted": [], "cursor": 5, "more": False},
        {"enabled": True, "version": 1.5, "listed": [], "unlisted": [], "cursor": "1:", "more": False},
    ],
)
def test_a_malformed_answer_changes_nothing(enrolled, server, monkeypatch, answer):
    server.change_eligibility(listed=KEYS[:2], enabled=True)
    pull(enrolled, server)
    before = enrolled.eligibility.state()
    monkeypatch.setattr(server, "handle_eligibility", lambda _query: (200, {**answer, "server_time_ms": 0}))
    with pytest.raises(SyncError):
        pull(enrolled, server)
    assert enrolled.eligibility.state() == before
    assert "response.shape" in (enrolled.summary()["last_error"] or "")


def test_the_list_survives_a_restart_of_the_terminal(enrolled, server, tmp_path):
    server.change_eligibility(listed=KEYS[:2], enabled=True)
    pull(enrolled, server)
    path = enrolled.path
    enrolled.close()
    reopened = DeviceStore(path)
    try:
        assert reopened.eligibility.applies() and reopened.eligibility.is_listed(KEYS[1])
    finally:
        reopened.close()


def test_every_request_carries_a_counter_that_only_grows(enrolled, server):
    from sync import signed_requests

    client = SyncClient(enrolled, server.url, sleep=lambda _s: None)
    client.sync_round()
    client.sync_round()
    counters = [
        int(r["headers"][signed_requests.COUNTER_HEADER]) for r in server.requests if "enrol" not in r["path"]
    ]
    assert len(counters) >= 6 and counters == sorted(set(counters))


def test_the_counter_does_not_go_back_with_the_clock(store):
    first = store.next_request_counter(1_800_000_000_000)
    assert store.next_request_counter(1_700_000_000_000) == first + 1  # the clock was stepped back
    assert store.next_request_counter(1_900_000_000_000) == 1_900_000_000_000


def test_districts_arrive_with_the_list_and_follow_moves_and_removals(enrolled, server):
    server.change_eligibility(listed=KEYS[:3], enabled=True, districts={KEYS[0]: "Шевченківський"})
    pull(enrolled, server)
    assert enrolled.eligibility.district_of(KEYS[0]) == "Шевченківський"
    assert enrolled.eligibility.district_of(KEYS[1]) is None, "listed in no district"
    server.change_eligibility(listed=[KEYS[0], KEYS[1]], districts={KEYS[1]: "Подільський"})  # moved
    pull(enrolled, server)
    assert enrolled.eligibility.district_of(KEYS[0]) is None and enrolled.eligibility.district_of(KEYS[1])
    server.change_eligibility(unlisted=[KEYS[1]])
    pull(enrolled, server)
    assert enrolled.eligibility.district_of(KEYS[1]) is None, "a removed resident lives nowhere here"


@pytest.mark.parametrize(
    "districts",
    [
        {KEYS[0]: ""},
        {KEYS[0]: "Р" * 101},
        {KEYS[0]: "Подільський\nрайон"},
        {KEYS[0]: " Подільський"},
        {KEYS[0]: 7},
        {KEYS[6]: "Подільський"},  # not a key listed on this page
        ["Подільський"],
    ],
)
def test_a_page_with_a_malformed_district_is_not_taken(enrolled, server, districts):
    server.change_eligibility(listed=KEYS[:3], enabled=True)
    original = server.handle_eligibility

    def forged(query):
        status, body = original(query)
        return status, {**body, "districts": districts}

    server.handle_eligibility = forged
    with pytest.raises(SyncError):
        pull(enrolled, server)
    state = enrolled.eligibility.state()
    assert (state.cursor, state.listed_count) == ("", 0), "nothing of the page was taken"


def test_a_store_that_read_its_list_before_districts_reads_it_again_keeping_it_in_force(
    enrolled, server, tmp_path
):
    server.change_eligibility(listed=KEYS[:4], enabled=True)
    pull(enrolled, server)
    # As an older version left it: no district tables, a cursor at the end of its read.
    with enrolled.transaction() as db:
        db.execute("DROP TABLE eligibility_format")
        db.execute("DROP TABLE eligible_district")
        db.execute("DROP TABLE schema_migration")  # releases before migrations had none
        db.execute("PRAGMA user_version = 1")  # and wrote this number
    server.change_eligibility(unlisted=[KEYS[3]], districts={})
    server.change_eligibility(listed=[KEYS[0]], districts={KEYS[0]: "Подільський"})
    path = enrolled.path
    enrolled.close()
    reopened = DeviceStore(path)
    try:
        state = reopened.eligibility.state()
        assert state.cursor == "0:0" and state.applies, "read again, the list still in force"
        pull(reopened, server)
        assert reopened.eligibility.district_of(KEYS[0]) == "Подільський"
        assert not reopened.eligibility.is_listed(KEYS[3]), "a removal made meanwhile arrives too"
        assert reopened.eligibility.state().listed_count == 3
    finally:
        reopened.close()
