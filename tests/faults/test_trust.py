"""Fault drills, trust: wrong clocks, replays, an edited store file, a forged signature
and a revoked terminal. Honest trouble is counted exactly once without an alarm; every
sign of tampering is refused and raised as an alarm.

Real processes on loopback: gunicorn (2 workers) on PostgreSQL, `spilno device`
processes with their own store files, and a fault proxy between them."""

from __future__ import annotations

import http.client
import json
import sqlite3
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Device, DeviceLogEntry, Vote
from server.services.devices import revoke_device
from server.sync import alarms as alarm_kinds
from sync import log_batches, log_entries, signed_requests, signing, wire
from sync.client import SyncClient
from sync.device_store import DeviceStore
from tests.factories import stored_vote

from .harness import Terminal, in_parallel
from .ledger import check_counted_exactly_once
from .proxy import LOG_PUSH, send_raw

TERMINALS = 9
HOUR_MS = 3_600_000
# Device clock minus server clock is judged from one request's signed time; on a busy
# 2-core machine that request may wait a few seconds before the server reads it.
CLOCK_TOLERANCE_MS = 15_000


def _synced(run) -> dict:
    assert run.returncode == 0, run
    line = run.json_lines()[-1]
    assert line["ok"] and line["backlog"] == 0, run
    return line


def _refused(run, code: str) -> None:
    assert run.returncode == 1, run
    assert code in run.stdout + run.stderr, run


def _entries(terminal: Terminal, first_seq: int) -> list[log_entries.LogEntry]:
    return [
        log_entries.LogEntry.from_dict(json.loads(text))
        for seq, _, text in terminal.log_rows()
        if seq >= first_seq
    ]


def _device_key(terminal: Terminal):
    with sqlite3.connect(f"file:{terminal.store}?mode=ro", uri=True) as conn:
        pem = conn.execute("SELECT private_key_pem FROM identity").fetchone()[0]
    return signing.private_key_from_pem(pem.encode())


def _post_log(url: str, key, device: str, body: bytes) -> tuple[int, dict]:
    """POST /api/v1/sync/log with the request signed by `key` in `device`'s name."""
    path = "/api/v1/sync/log"
    headers = signed_requests.sign_request(key, "POST", path, body, device, int(time.time() * 1000))
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_terminals_with_clocks_an_hour_off_are_counted_and_the_skew_recorded(world, alarms):
    ahead, behind = world.take(2)
    skews = {ahead.code: HOUR_MS, behind.code: -HOUR_MS}

    def work_a_day(terminal):
        skew = skews[terminal.code]
        first = terminal.sync(skew_ms=skew)  # learns its offset from the server's answers
        terminal.cast(40, skew_ms=skew)
        return first, terminal.sync(skew_ms=skew)

    for terminal, runs in zip((ahead, behind), in_parallel(work_a_day, (ahead, behind)), strict=True):
        skew = skews[terminal.code]
        for run in runs:
            _synced(run)
        device = world.device(terminal)
        assert abs(device.clock_offset_ms - skew) < CLOCK_TOLERANCE_MS, (terminal, device.clock_offset_ms)
        assert abs(terminal.status()["clock_offset_ms"] - skew) < CLOCK_TOLERANCE_MS
        with Session(world.engine) as session:
            logged = session.scalars(
                select(DeviceLogEntry.clock_offset_ms).where(DeviceLogEntry.device_id == device.id)
            ).all()
        assert len(logged) == 40 and all(abs(offset - skew) < CLOCK_TOLERANCE_MS for offset in logged)
        assert set(terminal.statuses().values()) == {"counted"}

    reference = world.check([ahead, behind], "with skewed clocks: ")
    skewed_votes = set(ahead.vote_ids()) | set(behind.vote_ids())
    assert {reference.statuses[v][0] for v in skewed_votes} == {"counted"}
    assert not alarms.raised()


def test_votes_an_hour_off_terminal_takes_inside_the_window_count(world, alarms):
    minutes = timedelta(minutes=20)
    seeded, (ahead, behind) = world.elsewhere("faults-edge", 2, (-minutes, minutes))
    skews = {ahead.code: HOUR_MS, behind.code: -HOUR_MS}

    def work(terminal):
        skew = skews[terminal.code]
        _synced(terminal.sync(skew_ms=skew))
        terminal.cast(5, skew_ms=skew)  # accepted: the window is open on the server's clock
        return terminal.sync(skew_ms=skew)

    for run in in_parallel(work, (ahead, behind)):
        assert run.returncode == 0, run
    # The server and the terminals' logs agree on what counts, and every vote counts.
    reference = check_counted_exactly_once(world.engine, seeded.cycle_id, [ahead, behind], [ahead, behind])
    assert not alarms.raised()
    standings = {reference.statuses[v] for v in reference.votes}
    assert standings == {("counted", None, None)}, standings


def test_a_clock_set_back_while_offline_keeps_each_residents_first_vote_counted(world, alarms):
    (terminal,) = world.take(1)
    first = terminal.run("simulate-votes", "--count", "20", "--seed", "41", "--json")
    assert first.returncode == 0, first
    # Offline, someone sets the clock an hour back; the same twenty residents vote again.
    again = terminal.run(
        "simulate-votes", "--count", "20", "--seed", "41", "--json", f"--clock-skew-ms={-HOUR_MS}"
    )
    assert again.returncode == 0, again
    assert "clock.step" in {a["kind"] for a in terminal.status()["alarms"]}
    _synced(terminal.sync(skew_ms=-HOUR_MS))
    statuses = terminal.statuses()
    firsts = [line["vote_id"] for line in first.json_lines()]
    seconds = [line["vote_id"] for line in again.json_lines()]
    assert [statuses[v] for v in firsts] == ["counted"] * 20, "the earlier vote of each resident counts"
    assert [statuses[v] for v in seconds] == ["duplicate"] * 20
    world.check([terminal], "after a clock step: ")


def test_replayed_old_batch_gets_the_same_answer_and_changes_nothing(world, alarms):
    (terminal,) = world.take(1)
    terminal.cast(30)
    before = len(world.proxy.exchanges(LOG_PUSH))
    _synced(terminal.sync())
    (captured,) = world.proxy.exchanges(LOG_PUSH)[before:]
    original = captured.response_json()
    assert captured.status == 200 and original["acked_seq"] == 30

    def without_time(answer: dict) -> dict:
        return {k: v for k, v in answer.items() if k != "server_time_ms"}

    replayed = send_raw(world.server.port, captured.request)  # the same bytes, signed headers and all
    assert replayed.status == 200, replayed.response
    assert without_time(replayed.response_json()) == without_time(original)

    terminal.cast(20)
    _synced(terminal.sync())
    later = send_raw(world.server.port, captured.request)
    assert later.status == 200, later.response
    answer = later.response_json()
    assert answer["statuses"] == original["statuses"], "the same votes, with the same standings"
    assert answer["acked_seq"] == 50 and answer["gap"] is False
    world.check([terminal], "after replays: ")
    assert not alarms.raised()


def test_replayed_request_does_not_move_the_recorded_clock(world, alarms):
    (terminal,) = world.take(1)
    terminal.cast(2)
    before = len(world.proxy.exchanges(LOG_PUSH))
    _synced(terminal.sync())
    (captured,) = world.proxy.exchanges(LOG_PUSH)[before:]
    noted = world.device(terminal)  # from the terminal's own latest request
    time.sleep(1.5)  # the replay's signed time is now 1.5 s old: far beyond round-trip noise (ms)
    assert send_raw(world.server.port, captured.request).status == 200
    after = world.device(terminal)
    world.check([terminal], "after a replay: ")
    assert not alarms.raised()
    # The replay was answered (pushes are idempotent) but not taken as the device's news.
    assert after.clock_offset_ms == noted.clock_offset_ms, (noted.clock_offset_ms, after.clock_offset_ms)
    assert after.last_seen_at == noted.last_seen_at


def _alter_one_byte(store, seq: int) -> None:
    """Change one character of the voter key inside entry `seq`, in the file's bytes
    (SQLite's triggers refuse an UPDATE, and an attacker need not ask SQLite)."""
    with sqlite3.connect(store) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE log SET entry_json = entry_json || ' ' WHERE seq = ?", (seq,))
        conn.rollback()
        (text,) = conn.execute("SELECT entry_json FROM log WHERE seq = ?", (seq,)).fetchone()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file
    conn.close()
    wal = store.with_name(store.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "the log must be in the main file to edit it"
    data = store.read_bytes()
    original = text.encode()
    assert data.count(original) == 1, "the entry must be found once in the file"
    at = data.index(original) + original.index(b'"voter_key":"') + len(b'"voter_key":"')
    replacement = b"0" if data[at : at + 1] != b"0" else b"1"
    store.write_bytes(data[:at] + replacement + data[at + 1 :])


def _stored_kinds(world, terminal: Terminal) -> dict[int, str]:
    with Session(world.engine) as session:
        device = session.scalars(select(Device).where(Device.code == terminal.code)).one()
        return dict(
            session.execute(
                select(DeviceLogEntry.seq, DeviceLogEntry.kind).where(DeviceLogEntry.device_id == device.id)
            ).all()
        )


def test_altered_byte_isolates_that_entry_and_every_other_vote_counts(world, alarms):
    (terminal,) = world.take(1)
    terminal.cast(20)
    _synced(terminal.sync())
    terminal.cast(10)  # entries 21..30 wait to be sent
    _alter_one_byte(terminal.store, 25)

    verified = terminal.verify()
    assert verified.returncode == 1, verified
    assert verified.json_lines()[0]["first_bad_seq"] == 25

    assert _synced(terminal.sync())["acked_seq"] == 30, "the intact votes after it are not blocked"
    assert world.device(terminal).acked_seq == 30
    kinds = _stored_kinds(world, terminal)
    assert kinds[25] == "damaged" and {kinds[s] for s in kinds if s != 25} == {"vote"}
    assert terminal.statuses()[terminal.vote_ids()[24]] == "invalid"
    assert _synced(terminal.sync())["acked_seq"] == 30  # nothing more to send, nothing raised again
    (alarm,) = alarms.raised()
    assert (alarm.kind, alarm.source) == (alarm_kinds.ENTRY_DAMAGED, terminal.code)
    assert alarm.details["seq"] == 25 and alarm.repeats == 1
    assert "log.damaged" in {a["kind"] for a in terminal.status()["alarms"]}
    # Every other vote counts exactly once; the altered one is evidence, never a vote.
    reference = world.check([terminal], "after damage: ")
    assert terminal.vote_ids()[24] not in reference.votes


def test_altered_newest_unsent_entry_is_kept_as_evidence_and_never_counted(world, alarms):
    _, (terminal,) = world.elsewhere("faults-newest", 1)
    terminal.cast(5)
    _synced(terminal.sync())
    terminal.cast(3)  # entries 6..8 wait to be sent; nothing after 8 links to it
    _alter_one_byte(terminal.store, 8)
    assert terminal.verify().returncode == 1

    assert _synced(terminal.sync())["acked_seq"] == 8
    assert _stored_kinds(world, terminal)[8] == "damaged"
    altered = terminal.vote_ids()[7]
    with Session(world.engine) as session:
        assert stored_vote(session, altered) is None, "the altered vote must not be stored as a vote"
    assert [(a.kind, a.source) for a in alarms.raised()] == [(alarm_kinds.ENTRY_DAMAGED, terminal.code)]
    terminal.cast(2)  # the next votes link to what entry 8 was written as
    assert _synced(terminal.sync())["acked_seq"] == 10


def test_damaged_newest_delivered_vote_never_blocks_later_votes(world, alarms):
    (terminal,) = world.take(1)
    terminal.cast(6)
    _synced(terminal.sync())
    _alter_one_byte(terminal.store, 6)  # delivered already; the next vote follows it

    terminal.cast(4)
    assert _synced(terminal.sync())["acked_seq"] == 10
    assert _stored_kinds(world, terminal)[6] == "vote", "the server's copy of entry 6 is the intact one"
    assert alarms.raised() == []
    ids, statuses = terminal.vote_ids(), terminal.statuses()
    with Session(world.engine) as session:
        on_server = {v.id: v.status for v in session.scalars(select(Vote).where(Vote.id.in_(ids)))}
    assert on_server == {vote_id: "counted" for vote_id in ids}, "all ten count, entry 6 as first sent"
    assert [statuses[v] for v in ids] == ["counted"] * 10


def test_batch_signed_with_another_key_is_refused_with_an_alarm(world, alarms):
    (terminal,) = world.take(1)
    terminal.cast(10)
    _synced(terminal.sync())
    terminal.cast(5)
    entries, stranger = _entries(terminal, 11), signing.generate_private_key()
    forged = wire.canonical_json(log_batches.make_batch(stranger, terminal.code, entries))

    status, answer = _post_log(world.proxy.url, _device_key(terminal), terminal.code, forged)
    assert (status, answer["error"]["code"]) == (422, "checkpoint.signature"), answer
    assert alarms.kinds() == {(alarm_kinds.CHECKPOINT_SIGNATURE, terminal.code): 1}

    # Everything signed by a stranger in the terminal's name: not even looked at.
    status, answer = _post_log(world.proxy.url, stranger, terminal.code, forged)
    assert (status, answer["error"]["code"]) == (401, "device.signature"), answer
    assert world.device(terminal).acked_seq == 10

    # The honest terminal is not blocked by what was forged in its name.
    assert _synced(terminal.sync())["acked_seq"] == 15
    world.check([terminal], "after forged batches: ")


def test_revoked_terminal_is_refused_with_an_alarm_and_its_earlier_votes_still_count(world, alarms):
    (terminal,) = world.take(1)
    terminal.cast(15)
    _synced(terminal.sync())
    with Session(world.engine) as session:
        revoke_device(session, session.scalars(select(Device).where(Device.code == terminal.code)).one())
        session.commit()
    terminal.cast(5)  # offline, it does not know yet

    _refused(terminal.sync(), "device.revoked")
    # Its package request is refused with an alarm; its votes went up and wait for a
    # moderator (tests/faults/test_held.py follows them to the end).
    raised = alarms.kinds()
    assert raised[(alarm_kinds.REVOKED_PUSH, terminal.code)] == 1, raised
    assert raised[(alarm_kinds.VOTES_HELD, terminal.code)] == 1, raised
    assert {source for _, source in raised} == {terminal.code}, raised
    assert world.device(terminal).acked_seq == 20 and terminal.acked_seq() == 20
    store = DeviceStore(terminal.store)
    try:
        assert store.revoked()
        assert SyncClient(store, max_attempts=1).push_once().sent == 0  # nothing left to send
    finally:
        store.close()
    statuses = terminal.statuses()
    assert [statuses[v] for v in terminal.vote_ids()] == ["counted"] * 15 + ["held"] * 5
    world.check([], "after the revocation: ")
