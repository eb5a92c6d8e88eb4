"""The sync wire protocol: chains, checkpoints, batches, packages, signed requests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from sync import log_batches, log_entries, package_envelope, signed_requests, signing
from sync.log_entries import LogEntry
from sync.wire import ProtocolError
from voting import Channel, VoteRecord

KEY = signing.generate_private_key()
DEVICE = "T-0001"


def vote_payload(n: int) -> dict:
    return VoteRecord.create(
        cycle_id=1,
        selections=[n % 5 + 1],
        channel=Channel.KIOSK,
        cast_at=datetime(2027, 5, 1, tzinfo=UTC),
        voter_key=f"{n:064x}",
        device_id=DEVICE,
    ).canonical_body()


def chain(n: int, start: LogEntry | None = None) -> list[LogEntry]:
    entries, previous = [], start
    for i in range(n):
        previous = log_entries.next_entry(previous, DEVICE, "vote", vote_payload(i), 3, -1200)
        entries.append(previous)
    return entries


def test_a_chain_verifies_from_genesis_and_from_a_checkpoint():
    entries = chain(5)
    last_hash = log_entries.check_chain(entries, DEVICE, 0, log_entries.genesis_hash(DEVICE))
    assert last_hash == entries[-1].entry_hash()
    assert log_entries.check_chain(entries[2:], DEVICE, 2, entries[1].entry_hash()) == last_hash


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: e.__class__(**{**e.as_dict(), "payload": {**e.payload, "selections": [4]}}),
        lambda e: e.__class__(**{**e.as_dict(), "package_version": 4}),
        lambda e: e.__class__(**{**e.as_dict(), "clock_offset_ms": 0}),
    ],
)
def test_changing_any_entry_breaks_the_chain_after_it(tamper):
    entries = chain(4)
    entries[1] = tamper(entries[1])
    with pytest.raises(ProtocolError) as caught:
        log_entries.check_chain(entries, DEVICE, 0, log_entries.genesis_hash(DEVICE))
    assert caught.value.code == "chain.broken"


def test_missing_or_reordered_entries_are_refused():
    entries = chain(4)
    for broken in (entries[:1] + entries[2:], [entries[1], entries[0]]):
        with pytest.raises(ProtocolError):
            log_entries.check_chain(broken, DEVICE, 0, log_entries.genesis_hash(DEVICE))


def test_a_signed_batch_reads_back_and_its_checkpoint_verifies():
    batch = log_batches.read_batch(log_batches.make_batch(KEY, DEVICE, chain(3)))
    message = log_batches.checkpoint_bytes(DEVICE, batch.checkpoint_seq, batch.checkpoint_hash)
    assert signing.verify(signing.public_key_b64(KEY), message, batch.signature)
    assert not signing.verify(
        signing.public_key_b64(signing.generate_private_key()), message, batch.signature
    )


def _batch() -> dict:
    return log_batches.make_batch(KEY, DEVICE, chain(2))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.pop("checkpoint"),
        lambda b: b.update(protocol=2),
        lambda b: b.update(device="T-1; DROP"),
        lambda b: b.update(entries=[]),
        lambda b: b.update(entries="x"),
        lambda b: b["entries"][0].update(seq=True),
        lambda b: b["entries"][0].update(seq=0),
        lambda b: b["entries"][0].update(kind="erase"),
        lambda b: b["entries"][0].update(extra=1),
        lambda b: b["entries"][1].update(seq=5),
        lambda b: b["checkpoint"].update(seq=1),
        lambda b: b["checkpoint"].update(hash="0" * 64),
        lambda b: b["entries"][0].update(prev_hash="Z" * 64),
    ],
)
def test_malformed_batches_are_refused(mutate):
    batch = copy.deepcopy(_batch())
    mutate(batch)
    with pytest.raises(ProtocolError):
        log_batches.read_batch(batch)


def test_batches_are_bounded():
    with pytest.raises(ValueError):
        log_batches.make_batch(KEY, DEVICE, chain(log_batches.MAX_BATCH_ENTRIES + 1))


def test_a_package_opens_only_with_the_key_that_signed_it():
    package = {"format": 1, "version": 7, "cycles": [{"title": "Громадський бюджет"}]}
    envelope = package_envelope.sign_package(KEY, package)
    assert package_envelope.open_package(envelope, signing.public_key_b64(KEY)) == package
    other = signing.public_key_b64(signing.generate_private_key())
    with pytest.raises(ProtocolError):
        package_envelope.open_package(envelope, other)
    forged = {**envelope, "package": envelope["package"].replace("7", "8")}
    with pytest.raises(ProtocolError):
        package_envelope.open_package(forged, signing.public_key_b64(KEY))


def test_a_signed_request_binds_method_path_body_and_time():
    headers = signed_requests.sign_request(KEY, "POST", "/api/v1/sync/log", b"{}", DEVICE, 1_800_000_000_000)
    public = signing.public_key_b64(KEY)
    good = signed_requests.request_bytes("POST", "/api/v1/sync/log", b"{}", DEVICE, 1_800_000_000_000)
    assert signing.verify(public, good, headers["X-Spilno-Signature"])
    for other in (
        signed_requests.request_bytes("POST", "/api/v1/sync/log", b"{ }", DEVICE, 1_800_000_000_000),
        signed_requests.request_bytes("GET", "/api/v1/sync/log", b"{}", DEVICE, 1_800_000_000_000),
        signed_requests.request_bytes("POST", "/api/v1/sync/log", b"{}", DEVICE, 1_800_000_000_001),
    ):
        assert not signing.verify(public, other, headers["X-Spilno-Signature"])


def test_a_request_counter_is_signed_with_the_request():
    headers = signed_requests.sign_request(KEY, "GET", "/p", b"", DEVICE, 1_800_000_000_000, counter=42)
    assert headers[signed_requests.COUNTER_HEADER] == "42"
    public = signing.public_key_b64(KEY)
    assert signing.verify(
        public,
        signed_requests.request_bytes("GET", "/p", b"", DEVICE, 1_800_000_000_000, 42),
        headers["X-Spilno-Signature"],
    )
    for counter in (None, 41, 43):
        message = signed_requests.request_bytes("GET", "/p", b"", DEVICE, 1_800_000_000_000, counter)
        assert not signing.verify(public, message, headers["X-Spilno-Signature"])


@pytest.mark.parametrize("signature", ["", "x" * 500, "!!!", None, 5, "AAAA"])
def test_malformed_signatures_are_just_invalid(signature):
    assert not signing.verify(signing.public_key_b64(KEY), b"m", signature)


def test_vote_payloads_round_trip_and_refuse_non_canonical_forms():
    body = vote_payload(1)
    assert VoteRecord.from_canonical_body(body).canonical_body() == body
    for bad in (
        {**body, "selections": [2, 1, 1]},
        {**body, "cast_at": "2027-05-01T00:00:00Z"},
        {**body, "extra": 1},
        {**body, "cycle": "1"},
        {**body, "selections": [True]},
    ):
        with pytest.raises(ValueError):
            VoteRecord.from_canonical_body(bad)
