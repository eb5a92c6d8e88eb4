"""A push encodes each vote once (issue #21): the entry's hash, the vote's content hash
and the stored log row all come from one canonical text of the payload, and the rows go
in by COPY. None of it may let a changed vote through or store other content."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server.models import Community, DeviceLogEntry, Vote
from server.services.ballot_box import store_votes
from server.services.cycle_rules import load_cycle_rules
from server.services.pg_batch import insert_rows
from server.sync.entries import content_hash
from sync import log_batches, log_entries, signing, wire
from tests.conftest import both_databases
from tests.factories import stored_vote
from voting import Channel, VoteRecord

from .test_sync_log import alarms
from .test_sync_support import enrolled_device, project_ids, stored_counts


def _terminal(client, make, session, votes: int):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, session.get(Community, cycle.community_id))
    for voter in range(votes):
        terminal.cast(cycle.id, [p[voter % 3]], voter=voter)
    return cycle, terminal


def _changed(batch: dict, index: int) -> dict:
    """The batch with one vote's choice changed, everything else as signed."""
    changed = json.loads(json.dumps(batch))
    payload = changed["entries"][index]["payload"]
    payload["selections"] = [payload["selections"][0] + 1]
    return changed


@both_databases
def test_a_vote_changed_inside_a_signed_batch_is_refused_and_nothing_is_stored(client, make, session):
    _cycle, terminal = _terminal(client, make, session, 5)
    response = terminal.push(_changed(terminal.batch(), 2))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["code"], error["seq"]) == ("chain.broken", 4)  # the next entry no longer follows
    assert stored_counts(session) == (0, 0, 0)
    assert [a.kind for a in alarms(session)] == ["chain.broken"]


def test_the_last_vote_changed_no_longer_matches_the_signed_checkpoint(client, make, session):
    _cycle, terminal = _terminal(client, make, session, 3)
    response = terminal.push(_changed(terminal.batch(), -1))
    assert (response.status_code, response.get_json()["error"]["code"]) == (422, "chain.broken")
    assert stored_counts(session) == (0, 0, 0)


def test_a_batch_relinked_around_a_changed_vote_fails_the_signature(client, make, session):
    _cycle, terminal = _terminal(client, make, session, 3)
    honest = terminal.batch()
    # Whoever changed the vote links every later entry to it again and names the new
    # last hash in the checkpoint; only the device's key could sign that.
    entries = [log_entries.LogEntry.from_dict(e) for e in _changed(honest, 0)["entries"]]
    relinked, previous = [], None
    for entry in entries:
        relinked.append(
            log_entries.next_entry(
                previous,
                entry.device,
                entry.kind,
                entry.payload,
                entry.package_version,
                entry.clock_offset_ms,
            )
        )
        previous = relinked[-1]
    forged = log_batches.make_batch(signing.generate_private_key(), terminal.code, relinked)
    forged["checkpoint"]["signature"] = honest["checkpoint"]["signature"]
    response = terminal.push(forged)
    assert (response.status_code, response.get_json()["error"]["code"]) == (422, "checkpoint.signature")
    assert stored_counts(session) == (0, 0, 0)
    assert terminal.push(honest).status_code == 200
    assert stored_counts(session) == (3, 1, 3)


@both_databases
def test_stored_hashes_and_log_rows_are_those_of_the_canonical_texts(client, make, session):
    _cycle, terminal = _terminal(client, make, session, 3)
    assert terminal.push().status_code == 200
    session.expire_all()
    rows = session.scalars(select(DeviceLogEntry).order_by(DeviceLogEntry.seq)).all()
    for entry, row in zip(terminal.log, rows, strict=True):
        as_sent = wire.sha256_hex(wire.canonical_json(entry.as_dict()))
        assert (row.hash, row.payload, row.vote_id) == (as_sent, entry.payload, entry.payload["id"])
        record = VoteRecord.from_canonical_body(entry.payload)
        assert stored_vote(session, record.vote_id).content_hash == record.content_hash()


@both_databases
@pytest.mark.parametrize("version", [True, 1.0])
def test_a_record_version_that_only_equals_1_gets_the_canonical_content_hash(client, make, session, version):
    # {"v": true} equals the canonical {"v": 1} (so it is read as that record) but
    # encodes differently: the vote's hash must be the canonical one all the same, or
    # the same vote from another channel would look like a conflict.
    cycle, terminal = _terminal(client, make, session, 0)
    entry = terminal.cast(cycle.id, [project_ids(session, cycle)[0]])
    record = VoteRecord.from_canonical_body(entry.payload)
    terminal.log[-1] = log_entries.next_entry(
        None, terminal.code, "vote", {**entry.payload, "v": version}, 0, 0
    )
    odd = terminal.log[-1]
    assert wire.sha256_hex(odd.payload_bytes()) != record.content_hash()
    assert content_hash(odd, record) == record.content_hash()
    assert terminal.push().status_code == 200
    assert stored_vote(session, record.vote_id).content_hash == record.content_hash()


def test_entry_bytes_are_the_canonical_json_of_the_entry():
    payloads = [
        {"v": 1, "id": str(uuid.uuid4()), "selections": [3, 1], "voter_key": None},
        {"ї": '\u202e"\\', "nested": {"b": [1.5, True, None], "a": {}}},
        {},
    ]
    for payload in payloads:
        for entry in (
            log_entries.LogEntry("T-0001", 7, "vote", payload, 3, -1200, "ab" * 32),
            log_entries.LogEntry('Т-ґ"', 2**61, "vo\\te", payload, 0, 0, ""),  # never accepted, still exact
            log_entries.LogEntry("T-0001", True, "vote", payload, 1, 0, "x"),  # a bool takes the plain way
        ):
            assert entry.canonical_bytes() == wire.canonical_json(entry.as_dict())
            assert entry.entry_hash() == wire.sha256_hex(wire.canonical_json(entry.as_dict()))


def test_a_vote_id_copied_in_twice_is_the_integrity_error_an_insert_raises(session, make):
    cycle = make.ballot_cycle()
    record = VoteRecord.create(
        cycle_id=cycle.id,
        selections=[project_ids(session, cycle)[0]],
        channel=Channel.WEB,
        cast_at=cycle.voting_starts_at + timedelta(hours=1),
        voter_key="ab" * 32,
    )
    store_votes(session, {cycle.id: load_cycle_rules(session, cycle)}, [record], "test")
    session.commit()
    at = cycle.voting_starts_at
    row = (
        record.vote_id,
        cycle.community_id,
        cycle.id,
        "cd" * 32,
        "{1}",
        "web",
        at,
        at,
        "0" * 64,
        "counted",
        "x",
    )
    columns = (
        "id",
        "community_id",
        "cycle_id",
        "voter_key",
        "selections",
        "channel",
        "cast_at",
        "received_at",
        "content_hash",
        "status",
        "source",
    )
    with pytest.raises(IntegrityError, match="pk_vote"):
        insert_rows(session, Vote.__table__, columns, [row])
    session.rollback()
    assert session.scalar(select(Vote.voter_key).where(Vote.id == record.vote_id)) == "ab" * 32


def test_content_hashes_given_must_be_one_per_record(session, make):
    cycle = make.ballot_cycle()
    record = VoteRecord.create(
        cycle_id=cycle.id,
        selections=[project_ids(session, cycle)[0]],
        channel=Channel.WEB,
        cast_at=cycle.voting_starts_at + timedelta(hours=1),
        voter_key="ab" * 32,
    )
    with pytest.raises(ValueError, match="content hashes"):
        store_votes(
            session, {cycle.id: load_cycle_rules(session, cycle)}, [record], "test", content_hashes=[]
        )
