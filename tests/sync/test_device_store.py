"""The device's own file: votes are durable, chained, append-only, sent in bounded chunks."""

from __future__ import annotations

import json
import sqlite3
import stat
import tracemalloc
from datetime import UTC, datetime

import pytest

from sync import log_entries, wire
from sync.device_store import DeviceStore
from sync.store_file import StoreError
from sync.store_log import AckMismatch
from voting import VoteRecord

from .conftest import cast_votes


def test_a_vote_is_on_disk_when_append_returns(enrolled, tmp_path):
    record = cast_votes(enrolled, 1, one_by_one=True)[0]
    enrolled.close()  # as if the power went off right after the voter was thanked

    reopened = DeviceStore(tmp_path / "terminal.db")
    [entry] = reopened.pending(10)
    assert entry.seq == 1
    assert entry.payload == record.canonical_body()
    assert VoteRecord.from_canonical_body(entry.payload) == record
    reopened.close()


def test_the_device_file_uses_a_write_ahead_log(enrolled, tmp_path):
    raw = sqlite3.connect(tmp_path / "terminal.db")
    [(mode,)] = raw.execute("PRAGMA journal_mode")
    raw.close()
    assert mode == "wal"


def test_entries_form_a_chain_from_the_device_genesis(enrolled):
    cast_votes(enrolled, 30)
    entries = enrolled.pending(100)
    device = enrolled.require_identity().device
    assert [e.seq for e in entries] == list(range(1, 31))
    assert (
        log_entries.check_chain(entries, device, 0, log_entries.genesis_hash(device))
        == entries[-1].entry_hash()
    )
    assert enrolled.verify_log() is None


def test_entries_carry_the_package_version_and_the_learned_clock_offset(enrolled, server):
    cast_votes(enrolled, 1)
    enrolled.save_clock_offset(3_600_000, now_ms=0)
    enrolled.store_package(server.publish())  # version 2
    cast_votes(enrolled, 1, seed=2)
    first, second = enrolled.pending(10)
    assert (first.package_version, first.clock_offset_ms) == (1, 0)
    assert (second.package_version, second.clock_offset_ms) == (2, 3_600_000)


def test_an_altered_byte_in_a_stored_vote_is_found_by_verify(enrolled, tmp_path):
    records = cast_votes(enrolled, 10)
    enrolled.close()
    path = tmp_path / "terminal.db"
    data = path.read_bytes()
    voter_key = records[3].voter_key.encode()
    assert data.count(voter_key) == 1  # only inside entry 4's JSON
    at = data.index(voter_key)
    flipped = b"0" if data[at : at + 1] != b"0" else b"1"
    path.write_bytes(data[:at] + flipped + data[at + 1 :])  # someone with a hex editor

    reopened = DeviceStore(path)
    assert reopened.verify_log() == 4
    reopened.close()


def test_the_log_file_refuses_edits_and_deletions_even_outside_the_store(enrolled, tmp_path):
    cast_votes(enrolled, 2)
    raw = sqlite3.connect(tmp_path / "terminal.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("UPDATE log SET entry_json = '{}' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("DELETE FROM log WHERE seq = 2")
    raw.close()
    assert enrolled.verify_log() is None


def test_a_missing_entry_is_found_by_verify(enrolled, tmp_path):
    cast_votes(enrolled, 5)
    raw = sqlite3.connect(tmp_path / "terminal.db")
    raw.execute("DROP TRIGGER log_is_never_deleted")  # a determined attacker
    raw.execute("DELETE FROM log WHERE seq = 3")
    raw.commit()
    raw.close()
    assert enrolled.verify_log() == 3


def test_pending_reads_a_bounded_chunk_of_a_large_backlog(enrolled):
    cast_votes(enrolled, 5_000)
    assert enrolled.backlog_count() == 5_000

    tracemalloc.start()
    chunk = enrolled.pending(100)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert [e.seq for e in chunk] == list(range(1, 101))
    whole_log_json = 5_000 * len(wire.canonical_json(chunk[0].as_dict()))
    assert whole_log_json > 2_000_000
    assert peak < whole_log_json / 10, f"pending(100) peaked at {peak} bytes"


def test_acknowledged_entries_leave_the_pending_list(enrolled):
    cast_votes(enrolled, 8)
    fifth = enrolled.pending(8)[4]
    enrolled.mark_acked(5, fifth.entry_hash())
    assert [e.seq for e in enrolled.pending(100)] == [6, 7, 8]
    assert enrolled.backlog_count() == 3
    enrolled.mark_acked(3, _hash_of(enrolled, 3))
    assert enrolled.acked_seq() == 5  # an older acknowledgement does not move us back


def _hash_of(store: DeviceStore, seq: int) -> str:
    conn = sqlite3.connect(store.path)
    [(entry_hash,)] = conn.execute("SELECT entry_hash FROM log WHERE seq = ?", (seq,))
    conn.close()
    return entry_hash


def test_an_acknowledgement_with_another_hash_is_refused_and_changes_nothing(enrolled):
    cast_votes(enrolled, 4)
    with pytest.raises(AckMismatch) as refused:
        enrolled.mark_acked(3, "0" * 64)
    assert refused.value.code == "ack.hash_mismatch"
    with pytest.raises(AckMismatch) as refused:
        enrolled.mark_acked(9, "0" * 64)
    assert refused.value.code == "ack.unknown_seq"
    assert enrolled.acked_seq() == 0
    assert len(enrolled.pending(100)) == 4


def test_a_vote_for_another_device_is_refused(enrolled):
    record = VoteRecord.create(
        cycle_id=11,
        selections=[101],
        channel="kiosk",
        cast_at=datetime.now(UTC),
        voter_key="ab" * 32,
        device_id="T-9999",
    )
    with pytest.raises(StoreError) as refused:
        enrolled.append_vote(record)
    assert refused.value.code == "vote.device"
    assert enrolled.last_seq() == 0


def test_the_same_vote_id_cannot_be_logged_twice(enrolled):
    [record] = cast_votes(enrolled, 1)
    with pytest.raises(StoreError) as refused:
        enrolled.append_vote(record)
    assert refused.value.code == "vote.duplicate_id"
    assert enrolled.last_seq() == 1


def test_votes_cannot_be_logged_before_enrolment(store):
    record = VoteRecord.create(
        cycle_id=11, selections=[101], channel="kiosk", cast_at=datetime.now(UTC), voter_key="ab" * 32
    )
    with pytest.raises(StoreError) as refused:
        store.append_vote(record)
    assert refused.value.code == "device.not_enrolled"


def test_the_device_file_is_private_because_it_holds_the_signing_key(enrolled, tmp_path):
    for name in ("terminal.db", "terminal.db-wal"):
        mode = stat.S_IMODE((tmp_path / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))


def test_a_device_is_enrolled_only_once(enrolled, server):
    with pytest.raises(StoreError, match="already_enrolled"):
        server.enrol_offline(enrolled)


def test_statuses_from_the_server_are_kept_per_vote(enrolled):
    records = cast_votes(enrolled, 3)
    saved = enrolled.save_statuses(
        [
            {"seq": 1, "vote_id": records[0].vote_id, "status": "counted", "reason": None,
             "counted_vote_id": records[0].vote_id},
            {"seq": 2, "vote_id": records[1].vote_id, "status": "duplicate", "reason": "voter.already_voted",
             "counted_vote_id": "5c0ffee0-0000-4000-8000-000000000000"},
            {"seq": 3, "vote_id": "not-ours", "status": "counted", "reason": None, "counted_vote_id": None},
        ]
    )  # fmt: skip
    assert saved == 2  # the third names a vote we never cast: ignored
    assert enrolled.status_of(records[0].vote_id)["status"] == "counted"
    assert enrolled.status_of(records[1].vote_id)["reason"] == "voter.already_voted"
    assert enrolled.status_of(records[2].vote_id) is None
    assert enrolled.summary()["statuses"] == {"counted": 1, "duplicate": 1, "held": 0, "invalid": 0}


def test_votes_the_server_does_not_count_raise_one_alarm_for_staff(enrolled):
    records = cast_votes(enrolled, 4)

    def status(i, value, reason=None):
        return {"seq": i + 1, "vote_id": records[i].vote_id, "status": value, "reason": reason,
                "counted_vote_id": None}  # fmt: skip

    enrolled.save_statuses([status(0, "counted"), status(1, "duplicate", "voter.already_voted")], 1000)
    assert enrolled.alarms() == [], "a resident's earlier vote elsewhere is the rule, not a fault"
    enrolled.save_statuses([status(2, "held", "after_close"), status(3, "held", None)], 2000)
    [alarm] = enrolled.alarms()
    assert alarm["kind"] == "votes.not_counted" and "1 held (after_close)" in alarm["message"]
    assert "1 held (-)" in alarm["message"]
    enrolled.save_statuses([status(2, "held", "after_close")], 3000)  # asked again: nothing new
    assert enrolled.alarms()[0]["repeats"] == 1
    enrolled.save_statuses([status(2, "invalid", "held.rejected")], 4000)  # the moderator rejected it
    [alarm] = enrolled.alarms()
    assert alarm["repeats"] == 2 and "1 invalid (held.rejected)" in alarm["message"]


def test_a_status_in_an_unknown_shape_is_refused(enrolled):
    [record] = cast_votes(enrolled, 1)
    with pytest.raises(wire.ProtocolError) as refused:
        enrolled.save_statuses([{"seq": 1, "vote_id": record.vote_id, "status": "maybe"}])
    assert refused.value.code == "status.shape"


def test_the_maintenance_summary_names_what_a_technician_needs(enrolled):
    cast_votes(enrolled, 3)
    enrolled.record_sync_error("server.unavailable: 5 attempts", now_ms=1_800_000_000_000)
    summary = enrolled.summary()
    assert summary["device"] == enrolled.require_identity().device
    assert summary["package_version"] == 1
    assert summary["backlog"] == 3
    assert summary["last_sync_result"] == "error"
    assert summary["last_error"].startswith("server.unavailable")
    assert summary["last_error_at"] == "2027-01-15T08:00:00Z"
    assert summary["clock_offset_ms"] == 0
    json.dumps(summary)  # plain data, ready for --json


def test_acknowledging_a_batch_visits_only_the_newly_acknowledged_entries(enrolled):
    # A terminal catching up on 100 000 entries acknowledges one batch at a time; going
    # over the log from its first entry at every answer made each batch slower.
    cast_votes(enrolled, 12)
    enrolled.mark_acked(4, _hash_of(enrolled, 4))
    statements: list[str] = []
    enrolled._db().set_trace_callback(statements.append)  # the statements mark_acked runs
    enrolled.mark_acked(10, _hash_of(enrolled, 10))
    enrolled._db().set_trace_callback(None)
    [flagging] = {s for s in statements if s.startswith("UPDATE log")}  # traced once per row too
    db = sqlite3.connect(enrolled.path)
    plan = " ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {flagging}"))
    flags = db.execute("SELECT seq, acked FROM log ORDER BY seq").fetchall()
    db.close()
    assert "USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan, plan
    assert flags == [(seq, 1 if seq <= 10 else 0) for seq in range(1, 13)]
    assert enrolled.backlog_count() == 2


def test_the_store_tells_which_vote_ids_are_already_logged(enrolled):
    logged = {record.vote_id for record in cast_votes(enrolled, 3)}
    unknown = "00000000-0000-4000-8000-000000000000"
    assert enrolled.logged_vote_ids([*logged, unknown, *logged]) == logged
    assert enrolled.logged_vote_ids([]) == set()
    # Many at once stay within SQLite's limit on bound parameters.
    many = [f"00000000-0000-4000-8000-{n:012d}" for n in range(2000)]
    one = next(iter(logged))
    assert enrolled.logged_vote_ids([*many, one]) == {one}


def _settings(db: sqlite3.Connection) -> tuple:
    return tuple(
        db.execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("busy_timeout", "journal_mode", "synchronous", "foreign_keys")
    )


def test_every_device_side_sqlite_file_is_opened_the_same_way(tmp_path):
    # One set-up (sync.store_file.connect) for the device file and the support point's
    # sheet store: WAL, synchronous FULL (2), the busy timeout and foreign keys on. The
    # device file's schema has no REFERENCES, so foreign keys there only keep it
    # consistent with the sheet store, whose ledger has them.
    from paper.sheet_store import SheetStore
    from sync.store_file import BUSY_TIMEOUT_MS, connect

    expected = (BUSY_TIMEOUT_MS, "wal", 2, 1)
    plain = connect(tmp_path / "plain.db")
    assert _settings(plain) == expected and plain.isolation_level is None
    plain.close()
    store, sheets = DeviceStore(tmp_path / "device.db"), SheetStore(tmp_path / "sheets.db")
    try:
        assert _settings(store._db()) == expected
        assert _settings(sheets._db()) == expected
        assert store._db().execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        sheets.close()
        store.close()
