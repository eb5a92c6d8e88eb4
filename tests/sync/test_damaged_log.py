"""One damaged row in a terminal's log never blocks the rest: the store tells an entry
that no longer reads as written from an intact one whose recorded hash was hit, sends
the damaged one as evidence under the hash the chain needs, and links new votes to
recorded hashes, not to whatever the file holds now."""

from __future__ import annotations

import sqlite3

import pytest

from sync import log_entries

from .conftest import cast_votes


def _rewrite(store, seq: int, column: str, value) -> None:
    """Change a log row behind the store's back (its triggers refuse an UPDATE; a bad
    disk sector or an attacker does not ask)."""
    store.close()
    with sqlite3.connect(store.path) as conn:
        conn.execute("DROP TRIGGER log_is_never_rewritten")
        conn.execute(f"UPDATE log SET {column} = ? WHERE seq = ?", (value, seq))
    conn.close()  # the store puts the trigger back when it opens the file again


def _text(store, seq: int) -> str:
    return store.query_one("SELECT entry_json FROM log WHERE seq = ?", (seq,))[0]


def _flip(text: str, marker: str = '"voter_key":"') -> str:
    at = text.index(marker) + len(marker)
    return text[:at] + ("0" if text[at] != "0" else "1") + text[at + 1 :]


@pytest.fixture
def logged(enrolled):
    cast_votes(enrolled, 6)
    return enrolled


def test_a_changed_byte_makes_that_entry_damaged_and_no_other(logged):
    original = logged.pending(10)
    _rewrite(logged, 3, "entry_json", _flip(_text(logged, 3)))
    entries = logged.pending(10)
    assert [type(e).__name__ for e in entries] == ["LogEntry"] * 2 + ["DamagedEntry"] + ["LogEntry"] * 3
    damaged = entries[2]
    assert damaged.entry_hash() == original[2].entry_hash() == entries[3].prev_hash
    assert '"voter_key"' in damaged.evidence
    log_entries.check_chain(entries, logged.require_identity().device, 0, log_entries.genesis_hash("T-0001"))


def test_bytes_that_are_not_even_utf8_do_not_stop_the_reading(logged):
    _rewrite(logged, 2, "entry_json", b"\xff\xfe" + _text(logged, 2).encode()[2:])
    entries = logged.pending(10)
    assert isinstance(entries[1], log_entries.DamagedEntry) and len(entries) == 6
    assert "\ufffd" in entries[1].evidence
    assert logged.verify_log() == 2


def test_a_changed_recorded_hash_leaves_an_intact_entry_intact(logged):
    _rewrite(logged, 4, "entry_hash", "0" * 64)
    entries = logged.pending(10)
    assert all(isinstance(e, log_entries.LogEntry) for e in entries)


def test_the_last_entry_damaged_goes_under_its_recorded_hash(logged):
    recorded = logged.recorded_hash(6)
    _rewrite(logged, 6, "entry_json", _text(logged, 6)[:-5])  # cut short: not JSON any more
    (last,) = logged.pending(10)[5:]
    assert isinstance(last, log_entries.DamagedEntry) and last.entry_hash() == recorded
    # A new vote links to what entry 6 was written as, so the server can follow it.
    cast_votes(logged, 1, seed=9)
    (new,) = logged.pending(10)[6:]
    assert new.prev_hash == recorded


def test_a_batch_boundary_right_after_a_damaged_entry_still_sees_its_successor(logged):
    _rewrite(logged, 3, "entry_json", _flip(_text(logged, 3)))
    first = logged.pending(3)  # entry 4 is read only to see what it links to
    assert len(first) == 3 and isinstance(first[2], log_entries.DamagedEntry)
    assert first[2].entry_hash() == logged.entries_from(4, 1)[0].prev_hash


def test_sending_marks_damaged_votes_and_raises_one_alarm(logged):
    _rewrite(logged, 2, "entry_json", _flip(_text(logged, 2)))
    damaged_id = logged.query_one("SELECT vote_id FROM log WHERE seq = 2")[0]
    assert logged.damaged_entries(logged.pending(10), 1_000) == [2]
    assert logged.status_of(damaged_id)["reason"] == "entry.damaged"
    (alarm,) = logged.alarms()
    assert alarm["kind"] == "log.damaged" and "2" in alarm["message"]
