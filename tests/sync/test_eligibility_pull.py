"""A terminal keeps the community's eligibility list offline: it reads it in pages,
applies it only once it has all of it, follows additions and removals, and starts
again when the server's list started again."""

from __future__ import annotations

import pytest

from sync.client import SyncClient, SyncError
from sync.device_store import DeviceStore

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
    from sync import protocol

    client = SyncClient(enrolled, server.url, sleep=lambda _s: None)
    client.sync_round()
    client.sync_round()
    counters = [
        int(r["headers"][protocol.COUNTER_HEADER]) for r in server.requests if "enrol" not in r["path"]
    ]
    assert len(counters) >= 6 and counters == sorted(set(counters))


def test_the_counter_does_not_go_back_with_the_clock(store):
    first = store.next_request_counter(1_800_000_000_000)
    assert store.next_request_counter(1_700_000_000_000) == first + 1  # the clock was stepped back
    assert store.next_request_counter(1_900_000_000_000) == 1_900_000_000_000
