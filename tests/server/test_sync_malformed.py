"""Whatever a broken or hostile device sends, the answer is a clear JSON 4xx and nothing
of it is stored."""

from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select

from server.models import Alarm, Community, Device, PendingBatch
from sync import log_batches, signed_requests, signing, wire

from .test_sync_support import enrolled_device, project_ids, stored_counts


def _resign(device, batch):
    """Re-sign the checkpoint over the (changed) last entry, as a device's own code would."""
    last = batch["entries"][-1]
    entry_hash = wire.sha256_hex(wire.canonical_json(last))
    batch["checkpoint"] = {
        "seq": last["seq"],
        "hash": entry_hash,
        "signature": signing.sign(
            device.key, log_batches.checkpoint_bytes(device.code, last["seq"], entry_hash)
        ),
    }
    return batch


def _entry(batch, **changes):
    batch["entries"][0].update(changes)
    return batch


# (name, how to spoil a good one-entry batch, expected status, expected code, expected rule)
CASES = [
    (
        "not a list of entries",
        lambda d, b: {**b, "entries": {"0": b["entries"][0]}},
        422,
        "batch.invalid",
        "batch.entries",
    ),
    ("no entries", lambda d, b: {**b, "entries": []}, 422, "batch.invalid", "batch.entries"),
    ("an array, not an object", lambda d, b: [b], 422, "batch.invalid", "batch.shape"),
    ("a string", lambda d, b: "batch", 422, "batch.invalid", "batch.shape"),
    ("null", lambda d, b: None, 422, "batch.invalid", "batch.shape"),
    ("an extra field", lambda d, b: {**b, "admin": True}, 422, "batch.invalid", "batch.shape"),
    ("another protocol", lambda d, b: {**b, "protocol": 2}, 422, "batch.invalid", "batch.protocol"),
    ("another device's batch", lambda d, b: {**b, "device": "T-9999"}, 422, "batch.invalid", "batch.device"),
    (
        "checkpoint not an object",
        lambda d, b: {**b, "checkpoint": "x"},
        422,
        "batch.invalid",
        "batch.checkpoint",
    ),
    (
        "checkpoint seq a string",
        lambda d, b: {**b, "checkpoint": {**b["checkpoint"], "seq": "1"}},
        422,
        "batch.invalid",
        "batch.checkpoint",
    ),
    (
        "checkpoint hash not hex",
        lambda d, b: {**b, "checkpoint": {**b["checkpoint"], "hash": "zz"}},
        422,
        "batch.invalid",
        "batch.checkpoint",
    ),
    (
        "signature not a string",
        lambda d, b: {**b, "checkpoint": {**b["checkpoint"], "signature": 5}},
        422,
        "batch.invalid",
        "batch.signature",
    ),
    ("seq 0", lambda d, b: _resign(d, _entry(b, seq=0)), 422, "entry.invalid", "entry.seq"),
    ("negative seq", lambda d, b: _resign(d, _entry(b, seq=-3)), 422, "entry.invalid", "entry.seq"),
    ("boolean seq", lambda d, b: _resign(d, _entry(b, seq=True)), 422, "entry.invalid", "entry.seq"),
    ("seq as text", lambda d, b: _resign(d, _entry(b, seq="1")), 422, "entry.invalid", "entry.seq"),
    ("huge seq", lambda d, b: _resign(d, _entry(b, seq=2**70)), 422, "entry.invalid", "entry.seq"),
    ("entry not an object", lambda d, b: {**b, "entries": [7]}, 422, "entry.invalid", "entry.shape"),
    (
        "unknown entry kind",
        lambda d, b: _resign(d, _entry(b, kind="delete")),
        422,
        "entry.invalid",
        "entry.kind",
    ),
    (
        "payload a list",
        lambda d, b: _resign(d, _entry(b, payload=[1])),
        422,
        "entry.invalid",
        "entry.payload",
    ),
    (
        "prev_hash short",
        lambda d, b: _resign(d, _entry(b, prev_hash="ab")),
        422,
        "entry.invalid",
        "entry.prev_hash",
    ),
    (
        "package version -1",
        lambda d, b: _resign(d, _entry(b, package_version=-1)),
        422,
        "entry.invalid",
        "entry.package_version",
    ),
    (
        "clock offset a float",
        lambda d, b: _resign(d, _entry(b, clock_offset_ms=1.5)),
        422,
        "entry.invalid",
        "entry.clock_offset_ms",
    ),
    (
        "an entry of another device",
        lambda d, b: _resign(d, _entry(b, device="T-9999")),
        422,
        "entry.invalid",
        "entry.device",
    ),
    (
        "payload not a vote",
        lambda d, b: _resign(d, _entry(b, payload={"hello": "world"})),
        422,
        "entry.invalid",
        "entry.vote_record",
    ),
    (
        "huge payload",
        lambda d, b: _resign(d, _entry(b, payload={**b["entries"][0]["payload"], "code": "x" * 1_500_000})),
        422,
        "entry.invalid",
        "entry.vote_record",
    ),
    (
        "selection beyond any id",
        lambda d, b: _resign(d, _entry(b, payload={**b["entries"][0]["payload"], "selections": [2**40]})),
        422,
        "entry.invalid",
        "entry.vote_record",
    ),
    (
        "cycle beyond any id",
        lambda d, b: _resign(d, _entry(b, payload={**b["entries"][0]["payload"], "cycle": 2**40})),
        422,
        "entry.invalid",
        "entry.vote_cycle",
    ),
    (
        "first entry not after genesis",
        lambda d, b: _resign(d, _entry(b, prev_hash="0" * 64)),
        422,
        "chain.broken",
        None,
    ),
]


@pytest.mark.parametrize(
    ("spoil", "status", "code", "rule"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_malformed_batch_gets_a_clear_4xx_and_nothing_is_stored(
    client, make, session, spoil, status, code, rule
):
    cycle = make.ballot_cycle()
    terminal = enrolled_device(client, session, make, session.get(Community, cycle.community_id))
    terminal.cast(cycle.id, [project_ids(session, cycle)[0]])
    response = terminal.push(spoil(terminal, copy.deepcopy(terminal.batch())))
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    if rule is not None:
        assert error["rule"] == rule
    assert stored_counts(session) == (0, 0, 0)
    assert session.scalar(select(func.count()).select_from(PendingBatch)) == 0
    assert session.scalar(select(Device.acked_seq).where(Device.code == terminal.code)) == 0


def test_501_entries_are_refused(client, make, session):
    cycle = make.ballot_cycle()
    terminal = enrolled_device(client, session, make, session.get(Community, cycle.community_id))
    project = project_ids(session, cycle)[0]
    for voter in range(log_batches.MAX_BATCH_ENTRIES + 1):
        terminal.cast(cycle.id, [project], voter=voter)
    batch = log_batches.make_batch(terminal.key, terminal.code, terminal.log[:500])
    batch["entries"].append(terminal.log[500].as_dict())
    response = terminal.push(batch)
    assert (response.status_code, response.get_json()["error"]["rule"]) == (422, "batch.entries")
    assert stored_counts(session) == (0, 0, 0)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "malformed_json"),
        (b"\xff\xfe", "application/json", 400, "malformed_json"),
        (b'{"protocol": NaN}', "application/json", 400, "malformed_json"),
        (b'{"protocol": 1, "protocol": 1}', "application/json", 400, "malformed_json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "malformed_json"),
        (b"{}", "text/plain", 415, "unsupported_media_type"),
        (b"x" * (3 * 1024 * 1024), "application/json", 413, "request_entity_too_large"),
    ],
)
def test_a_body_that_is_not_a_json_batch_is_refused(client, make, session, body, content_type, status, code):
    terminal = enrolled_device(client, session, make)
    headers = terminal.headers("POST", "/api/v1/sync/log", body)
    response = client.post("/api/v1/sync/log", data=body, headers=headers, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert stored_counts(session) == (0, 0, 0)


def test_a_body_changed_after_signing_is_refused_as_unsigned(client, make, session):
    cycle = make.ballot_cycle()
    terminal = enrolled_device(client, session, make, session.get(Community, cycle.community_id))
    terminal.cast(cycle.id, [project_ids(session, cycle)[0]])
    body = json.dumps(terminal.batch()).encode()
    headers = terminal.headers("POST", "/api/v1/sync/log", body)
    response = client.post(
        "/api/v1/sync/log", data=body + b" ", headers=headers, content_type="application/json"
    )
    assert (response.status_code, response.get_json()["error"]["code"]) == (401, "device.signature")
    assert stored_counts(session) == (0, 0, 0)


def test_forged_requests_are_logged_and_alarmed_once_per_device_and_route(client, make, session, caplog):
    cycle = make.ballot_cycle()
    terminal = enrolled_device(client, session, make, session.get(Community, cycle.community_id))
    stranger = signing.generate_private_key()
    path = "/api/v1/sync/statuses"
    for _ in range(5):
        headers = signed_requests.sign_request(
            stranger, "GET", path, b"", terminal.code, 1_800_000_000_000, 7
        )
        assert client.get(path, headers=headers).status_code == 401
    assert client.get("/api/v1/sync/package", headers=headers).status_code == 401
    # Not a device at all: a log line, and nothing for any community's page.
    ghost = signed_requests.sign_request(stranger, "GET", path, b"", "T-99999", 1_800_000_000_000, 7)
    assert client.get(path, headers=ghost).status_code == 401

    session.expire_all()
    found = session.scalars(select(Alarm).order_by(Alarm.id)).all()
    assert [(a.kind, a.source, a.details["route"]) for a in found] == [
        ("device.forged_request", terminal.code, "GET /api/v1/sync/statuses"),
        ("device.forged_request", terminal.code, "GET /api/v1/sync/package"),
    ]
    assert found[0].details["repeats"] == 5
    assert sum("not signed by a device key" in r.getMessage() for r in caplog.records) == 7
    # The honest device is not blocked by what was forged in its name.
    assert terminal.get(path).status_code == 200
