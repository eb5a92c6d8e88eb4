"""A store that is behind the server's copy of its own log resumes: it takes back only
entries that continue its chain and that its own key signed, moves what differs aside,
and logs those votes again. What the server says is checked, never just believed."""

from __future__ import annotations

import shutil

import pytest

from sync import log_batches, signing, wire
from sync.client import SyncClient
from sync.device_store import DeviceStore
from sync.sync_errors import SyncError
from sync.voted_here import VotedHere
from voting import VoteRecord

from .conftest import cast_votes


def client_for(store) -> SyncClient:
    return SyncClient(store, sleep=lambda _s: None)


def _restored(enrolled, tmp_path, *, then_cast: int) -> DeviceStore:
    """Sync 5 votes, keep a copy, sync 4 more, go back to the copy, cast `then_cast`."""
    cast_votes(enrolled, 5)
    client_for(enrolled).push_all()
    enrolled.close()
    copy = tmp_path / "copy.db"
    shutil.copy(enrolled.path, copy)
    store = DeviceStore(enrolled.path)
    cast_votes(store, 4, seed=2)
    client_for(store).push_all()
    store.close()
    shutil.copy(copy, enrolled.path)
    restored = DeviceStore(enrolled.path)
    if then_cast:
        cast_votes(restored, then_cast, seed=3)
    return restored


def test_a_restored_store_takes_back_what_it_lost_and_relogs_its_new_votes(enrolled, server, tmp_path):
    store = _restored(enrolled, tmp_path, then_cast=3)
    try:
        new_ids = [
            row[0] for row in store._db().execute("SELECT vote_id FROM log WHERE seq > 5 ORDER BY seq")
        ]
        result = client_for(store).sync_round()
        assert result.push.acked_seq == 12 and store.backlog_count() == 0
        ids = [row[0] for row in store._db().execute("SELECT vote_id FROM log ORDER BY seq")]
        assert ids[9:] == new_ids and len(set(ids)) == 12
        assert store.verify_log() is None
        assert "log.resumed" in {a["kind"] for a in store.alarms()}
        assert server.device(store.require_identity().device).acked_seq == 12
    finally:
        store.close()


def test_entries_our_key_did_not_sign_are_not_taken(enrolled, server, tmp_path):
    store = _restored(enrolled, tmp_path, then_cast=0)
    try:
        device = server.device(store.require_identity().device)
        stranger = signing.generate_private_key()
        for checkpoint in device.checkpoints.values():  # the server's copy, re-signed by someone else
            signed = log_batches.checkpoint_bytes(device.code, checkpoint["seq"], checkpoint["hash"])
            checkpoint["signature"] = signing.sign(stranger, signed)
        before = store.last_seq()
        with pytest.raises(SyncError) as refused:
            client_for(store).resume()
        assert refused.value.code == "resume.signature"
        assert store.last_seq() == before and store.verify_log() is None
    finally:
        store.close()


def test_entries_that_do_not_continue_our_chain_are_not_taken(enrolled, server, tmp_path):
    store = _restored(enrolled, tmp_path, then_cast=0)
    try:
        device = server.device(store.require_identity().device)
        device.entries[6]["prev_hash"] = "0" * 64
        with pytest.raises(wire.ProtocolError):
            client_for(store).resume()
        assert store.last_seq() == 5
    finally:
        store.close()


def test_the_kiosk_knows_again_who_voted_in_the_entries_it_took_back(enrolled, server, tmp_path):
    store = _restored(enrolled, tmp_path, then_cast=0)
    try:
        voted_here = VotedHere(store)
        device = server.device(store.require_identity().device)
        lost = VoteRecord.from_canonical_body(device.entries[7]["payload"])
        assert not voted_here.contains(lost.cycle_id, lost.voter)  # read before the resume
        client_for(store).sync_round()
        assert voted_here.contains(lost.cycle_id, lost.voter), "a resident of a lost entry is known again"
    finally:
        store.close()


def test_the_keys_a_log_answer_names_are_read_strictly():
    from sync.log_push import _device_keys

    ours, other = (signing.public_key_b64(signing.generate_private_key()) for _ in range(2))
    assert _device_keys(None, ours) == [] and _device_keys({"k": other}, ours) == []
    hostile = [ours, 7, None, "", "A" * 10_000, "not base64!", "\u202e" + other, other]
    assert _device_keys(hostile, ours) == [other], "only well-formed keys other than ours"
    many = [signing.public_key_b64(signing.generate_private_key()) for _ in range(40)]
    assert len(_device_keys(many, ours)) == 21, "bounded however many arrive"
