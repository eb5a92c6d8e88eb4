"""A terminal acts only on answers the server signed for the very request it sent:
forged acknowledgements, a forged clock, an answer replayed from another request and an
answer signed by another key all change nothing, and each raises a device alarm."""

from __future__ import annotations

import json

import pytest

from sync import signing
from sync.client import SyncClient
from sync.sync_errors import SyncError

from .conftest import cast_votes
from .fake_server import make_package

DAY_MS = 86_400_000


def client_for(store, **options) -> SyncClient:
    options.setdefault("sleep", lambda _s: None)
    return SyncClient(store, **options)


def test_a_genuine_answer_is_acted_on(enrolled, server):
    cast_votes(enrolled, 5)
    result = client_for(enrolled).push_all()
    assert result.acked_seq == 5 and enrolled.acked_seq() == 5
    assert enrolled.alarms() == []


def test_forged_acknowledgement_with_the_hash_copied_from_the_push_marks_nothing(enrolled, server):
    cast_votes(enrolled, 20)
    pushed: list[dict] = []

    def forge(status: int, body: bytes, headers: dict) -> tuple[int, bytes, dict]:
        batch = json.loads(server.requests[-1]["body"])
        pushed.append(batch)
        answer = {
            "acked_seq": batch["checkpoint"]["seq"],
            "acked_hash": batch["checkpoint"]["hash"],
            "gap": False,
            "statuses": [],
        }
        return 200, json.dumps(answer).encode(), headers  # the genuine answer's signature kept

    server.tamper = forge
    with pytest.raises(SyncError) as refused:
        client_for(enrolled).push_once()
    assert refused.value.code == "answer.forged"
    assert pushed, "the push went out"
    assert enrolled.acked_seq() == 0 and enrolled.backlog_count() == 20
    (alarm,) = enrolled.alarms()
    assert alarm["kind"] == "answer.forged"

    server.tamper = None  # the network is honest again: every vote goes up
    assert client_for(enrolled).push_all().acked_seq == 20


def test_forged_answer_without_any_signature_changes_nothing(enrolled, server):
    cast_votes(enrolled, 3)

    def strip(status: int, body: bytes, headers: dict) -> tuple[int, bytes, dict]:
        return status, body, {"X-Spilno-Server-Time": headers["X-Spilno-Server-Time"]}

    server.tamper = strip
    with pytest.raises(SyncError) as refused:
        client_for(enrolled).push_once()
    assert refused.value.code == "answer.unsigned"
    assert enrolled.acked_seq() == 0
    assert [a["kind"] for a in enrolled.alarms()] == ["answer.unsigned"]


def test_forged_server_time_moves_no_clock(enrolled, server):
    before = enrolled.clock_offset_ms()

    def two_days_on(status: int, body: bytes, headers: dict) -> tuple[int, bytes, dict]:
        moved = int(headers["X-Spilno-Server-Time"]) + 2 * DAY_MS
        return status, body, {**headers, "X-Spilno-Server-Time": str(moved)}

    server.tamper = two_days_on
    with pytest.raises(SyncError) as refused:
        client_for(enrolled).pull_package()
    assert refused.value.code == "answer.forged"
    assert enrolled.clock_offset_ms() == before
    assert enrolled.alarms()[0]["kind"] == "answer.forged"


def test_an_answer_replayed_from_an_earlier_request_is_refused(enrolled, server):
    cast_votes(enrolled, 4)
    client = client_for(enrolled)
    client.push_once(batch_size=2)  # a genuine, signed answer acknowledging entries 1..2
    earlier = server.answers[-1]
    assert enrolled.acked_seq() == 2

    server.tamper = lambda status, body, headers: earlier
    with pytest.raises(SyncError) as refused:
        client.push_once(batch_size=2)
    assert refused.value.code == "answer.forged"
    assert enrolled.acked_seq() == 2, "an answer to another request vouches for nothing here"


def test_an_answer_signed_by_another_server_key_is_named_so(enrolled, server):
    cast_votes(enrolled, 2)
    server.answer_key = signing.generate_private_key()  # a second host with its own key
    with pytest.raises(SyncError) as refused:
        client_for(enrolled).push_once()
    assert refused.value.code == "answer.other_key"
    assert enrolled.acked_seq() == 0
    (alarm,) = enrolled.alarms()
    assert alarm["kind"] == "answer.other_key" and "not by" in alarm["message"]


def test_a_refusal_is_believed_only_when_signed(enrolled, server):
    cast_votes(enrolled, 2)

    def unsigned_refusal(status: int, body: bytes, headers: dict) -> tuple[int, bytes, dict]:
        return 409, json.dumps({"error": {"code": "chain.conflict"}}).encode(), {}

    server.tamper = unsigned_refusal
    with pytest.raises(SyncError) as refused:
        client_for(enrolled).push_once()
    assert refused.value.code == "answer.unsigned"
    server.tamper = None
    assert client_for(enrolled).push_all().acked_seq == 2


def test_repeated_forgeries_count_up_one_alarm(enrolled, server):
    cast_votes(enrolled, 1)
    server.tamper = lambda status, body, headers: (status, body + b" ", headers)
    for _ in range(5):
        with pytest.raises(SyncError):
            client_for(enrolled).push_once()
    (alarm,) = enrolled.alarms()
    assert alarm["repeats"] == 5
    assert enrolled.acknowledge_alarms(0) == 1 and enrolled.alarms() == []


def test_a_tampered_enrolment_answer_enrols_nothing(store, server):
    server.issue_code("K7QM-2XPD-9RTA")

    def other_key(status: int, body: bytes, headers: dict) -> tuple[int, bytes, dict]:
        data = json.loads(body)
        data["server_key"] = signing.public_key_b64(signing.generate_private_key())
        return status, json.dumps(data).encode(), headers

    server.tamper = other_key
    with pytest.raises(SyncError):
        SyncClient(store, server.url, sleep=lambda _s: None).enrol("K7QM-2XPD-9RTA")
    assert not store.enrolled()


def test_a_package_the_terminal_refuses_never_holds_back_its_votes(enrolled, server):
    cast_votes(enrolled, 7)
    other = {"id": 99, "slug": "inshe-misto", "name": "Інше місто"}
    server.publish(make_package(server.server_key, 2, community=other))  # not ours
    result = client_for(enrolled).sync_round()
    assert result.package_version is None and enrolled.package_version() == 1
    assert result.push.acked_seq == 7 and enrolled.backlog_count() == 0
    (alarm,) = enrolled.alarms()
    assert alarm["kind"] == "package.refused" and "package.community" in alarm["message"]


def test_a_forged_package_answer_never_holds_back_the_votes_either(enrolled, server):
    cast_votes(enrolled, 3)

    def forge_packages_only(status: int, body: bytes, headers: dict) -> tuple[int, bytes, dict]:
        if b"envelope" in body:
            return status, body.replace(b'"version"', b'"versio\\u006e"'), headers
        return status, body, headers

    server.tamper = forge_packages_only
    result = client_for(enrolled).sync_round()
    assert result.push.acked_seq == 3
    assert {a["kind"] for a in enrolled.alarms()} == {"package.refused", "answer.forged"}


def test_a_signed_revocation_stops_the_device_taking_votes_and_a_forged_one_does_not(enrolled, server):
    cast_votes(enrolled, 2)
    device = enrolled.require_identity().device

    def forged_revocation(status: int, body: bytes, headers: dict) -> tuple[int, bytes, dict]:
        return 403, json.dumps({"error": {"code": "device.revoked"}}).encode(), headers

    server.tamper = forged_revocation
    with pytest.raises(SyncError):
        client_for(enrolled).push_once()
    assert not enrolled.revoked(), "only the server's own word revokes a device"

    server.tamper = None
    server.revoke(device)
    with pytest.raises(SyncError) as refused:
        client_for(enrolled).push_once()
    assert refused.value.code == "device.revoked"
    assert enrolled.revoked() and enrolled.summary()["revoked"] is True
    assert "device.revoked" in {a["kind"] for a in enrolled.alarms()}


def test_a_status_that_changes_after_it_is_known_reaches_the_terminal(enrolled, server):
    cast_votes(enrolled, 3)
    now = [1_800_000_000_000]
    client = client_for(enrolled, clock=lambda: now[0])
    client.sync_round()
    vote_id = enrolled.query_one("SELECT vote_id FROM log WHERE seq = 2")[0]
    assert enrolled.status_of(vote_id)["status"] == "counted"
    # An earlier vote of the same resident arrived from elsewhere: this one no longer counts.
    device = server.device(enrolled.require_identity().device)
    device.statuses[2] = {**device.statuses[2], "status": "duplicate", "reason": "voter.already_voted"}
    now[0] += 60_000
    client.sync_round()
    assert enrolled.status_of(vote_id)["status"] == "counted", "not asked again within ten minutes"
    now[0] += 10 * 60_000
    client.sync_round()
    assert enrolled.status_of(vote_id)["status"] == "duplicate"
