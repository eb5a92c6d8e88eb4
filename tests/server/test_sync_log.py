"""Terminals push their signed logs; every vote is stored once, whatever the network does."""

from __future__ import annotations

import copy
import json
import threading
from datetime import UTC, datetime

from sqlalchemy import select

from server.models import Alarm, Community, Device, DeviceLogEntry, HeldVote, PendingBatch, Vote
from server.services.tally import running_tally
from sync import log_batches, log_entries, signing
from tests.conftest import both_databases
from tests.factories import stored_vote
from voting import VoteRecord

from .test_sync_support import FakeDevice, enrolled_device, project_ids, stored_counts

HOUR_MS = 3600 * 1000


def answer_without_time(response):
    body = response.get_json()
    body.pop("server_time_ms")
    return body


def _community(session, cycle):
    return session.get(Community, cycle.community_id)


def alarms(session):
    session.expire_all()
    return session.scalars(select(Alarm).order_by(Alarm.id)).all()


def test_pushed_votes_are_counted_and_acknowledged_once_committed(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, community=_community(session, cycle))
    first = terminal.cast(cycle.id, [p[0]], voter=1, minutes_ago=10)
    second = terminal.cast(cycle.id, [p[2]], voter=1, minutes_ago=5)  # the same resident again
    third = terminal.cast(cycle.id, [p[0], p[2], p[4]], voter=2)  # three where two are allowed

    response = terminal.push()
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["acked_seq"], body["acked_hash"], body["gap"]) == (3, third.entry_hash(), False)
    assert abs(body["server_time_ms"] - int(response.headers["X-Spilno-Server-Time"])) < 5000
    assert [(s["seq"], s["vote_id"], s["status"], s["reason"]) for s in body["statuses"]] == [
        (1, first.payload["id"], "counted", None),
        (2, second.payload["id"], "duplicate", "duplicate.same_voter"),
        (3, third.payload["id"], "invalid", "ballot.too_many_in_category"),
    ]
    assert body["statuses"][1]["counted_vote_id"] == first.payload["id"]

    # Acknowledged means committed: another connection already sees all of it.
    assert stored_counts(session) == (3, 1, 3)
    vote = stored_vote(session, first.payload["id"])
    assert (vote.channel, vote.device_id, vote.source) == ("kiosk", terminal.code, terminal.code)
    assert running_tally(session, cycle.id) == {p[0]: 1}
    device = session.scalar(select(Device).where(Device.code == terminal.code))
    assert (device.acked_seq, device.acked_hash) == (3, third.entry_hash())
    assert device.last_seen_at is not None


@both_databases
def test_the_same_batch_sent_again_gets_the_same_answer_and_stores_nothing_new(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    for voter in range(3):
        terminal.cast(cycle.id, [p[0]], voter=voter)
    batch = terminal.batch()
    first = terminal.push(batch)
    again = terminal.push(batch)
    assert again.status_code == 200
    assert answer_without_time(again) == answer_without_time(first)
    assert stored_counts(session) == (3, 1, 3)
    assert running_tally(session, cycle.id) == {p[0]: 3}


@both_databases
def test_a_batch_after_a_gap_waits_and_is_applied_when_the_gap_is_filled(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    for voter in range(6):
        terminal.cast(cycle.id, [p[0]], voter=voter)

    ahead = terminal.push(terminal.batch(4, 6))
    assert ahead.status_code == 200
    body = ahead.get_json()
    assert (body["acked_seq"], body["gap"], body["statuses"]) == (0, True, [])
    assert body["acked_hash"] == log_entries.genesis_hash(terminal.code)
    assert answer_without_time(terminal.push(terminal.batch(4, 6))) == answer_without_time(ahead)
    assert stored_counts(session) == (0, 0, 0)
    assert len(session.scalars(select(PendingBatch)).all()) == 1

    filled = terminal.push(terminal.batch(1, 3))
    body = filled.get_json()
    assert (body["acked_seq"], body["gap"]) == (6, False)
    assert [s["seq"] for s in body["statuses"]] == [1, 2, 3]
    assert stored_counts(session) == (6, 2, 6)
    assert session.scalars(select(PendingBatch)).all() == []
    statuses = terminal.get("/api/v1/sync/statuses?since_seq=3").get_json()["statuses"]
    assert [(s["seq"], s["status"]) for s in statuses] == [(4, "counted"), (5, "counted"), (6, "counted")]


def test_replaying_an_old_batch_doubles_nothing(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    for voter in range(5):
        terminal.cast(cycle.id, [p[0]], voter=voter)
    old = terminal.batch(1, 3)
    terminal.push(old)
    terminal.push(terminal.batch(4, 5))

    replay = terminal.push(old)
    assert replay.status_code == 200
    body = replay.get_json()
    assert (body["acked_seq"], body["gap"]) == (5, False)
    assert [s["seq"] for s in body["statuses"]] == [1, 2, 3]
    # A batch that overlaps what is stored and adds nothing new is fine too.
    assert terminal.push(terminal.batch(2, 5)).get_json()["acked_seq"] == 5
    entries, checkpoints, votes = stored_counts(session)
    assert (entries, votes) == (5, 5) and checkpoints == 2
    assert running_tally(session, cycle.id) == {p[0]: 5}


def test_an_altered_byte_in_an_entry_is_refused_alarmed_and_nothing_is_stored(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    for voter in range(3):
        terminal.cast(cycle.id, [p[0]], voter=voter)

    for position, expected_seq in [(1, 3), (2, None), (0, 2)]:
        batch = copy.deepcopy(terminal.batch())  # tamper with what is sent, not the device's log
        batch["entries"][position]["payload"]["selections"] = [p[2]]  # one digit changed
        response = terminal.push(batch)
        assert response.status_code == 422
        error = response.get_json()["error"]
        assert (error["code"], error["seq"]) == ("chain.broken", expected_seq)
        assert "модератора повідомлено" in error["message"]
    assert stored_counts(session) == (0, 0, 0)
    assert {a.kind for a in alarms(session)} == {"chain.broken"}
    assert all(a.source == terminal.code for a in alarms(session))


def test_an_entry_changed_after_it_was_acknowledged_is_a_chain_conflict(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    for voter in range(2):
        terminal.cast(cycle.id, [p[0]], voter=voter)
    terminal.push()
    # The device's log is rewritten: another history for the same numbers, properly signed.
    terminal.log = []
    terminal.cast(cycle.id, [p[2]], voter=0)
    terminal.cast(cycle.id, [p[2]], voter=1)
    response = terminal.push()
    assert response.status_code == 409
    assert response.get_json()["error"] | {"message": ""} == {
        "status": 409,
        "code": "chain.conflict",
        "seq": 1,
        "message": "",
    }
    [alarm] = alarms(session)
    assert (alarm.kind, alarm.details["seq"]) == ("chain.conflict", 1)
    assert alarm.details["stored_hash"] != alarm.details["offered_hash"]
    assert running_tally(session, cycle.id) == {p[0]: 2}


def test_a_forged_checkpoint_signature_is_refused_alarmed_and_nothing_is_stored(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    terminal.cast(cycle.id, [p[0]])
    batch = terminal.batch()
    impostor = signing.generate_private_key()
    last = terminal.log[-1]
    batch["checkpoint"]["signature"] = signing.sign(
        impostor, log_batches.checkpoint_bytes(terminal.code, last.seq, last.entry_hash())
    )
    response = terminal.push(batch)
    assert (response.status_code, response.get_json()["error"]["code"]) == (422, "checkpoint.signature")
    assert stored_counts(session) == (0, 0, 0)
    assert [a.kind for a in alarms(session)] == ["checkpoint.signature"]
    # Sending the same forgery again counts the alarm up instead of repeating it.
    terminal.push(batch)
    [alarm] = alarms(session)
    assert alarm.details["repeats"] == 2


def test_a_revoked_devices_push_is_taken_and_held_while_its_earlier_votes_still_count(client, make, session):
    from server.services.devices import revoke_device

    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    terminal.cast(cycle.id, [p[0]], voter=1)
    assert terminal.push().status_code == 200
    revoke_device(session, session.scalar(select(Device).where(Device.code == terminal.code)))
    session.commit()

    second = terminal.cast(cycle.id, [p[0]], voter=2)
    taken = terminal.push()
    assert taken.status_code == 200, taken.get_json()
    body = taken.get_json()
    assert body["revoked"] is True and body["acked_seq"] == 2
    assert [(s["seq"], s["status"], s["reason"]) for s in body["statuses"]] == [
        (1, "counted", None),
        (2, "held", "held.device_revoked"),
    ]
    assert running_tally(session, cycle.id) == {p[0]: 1}, "held, not counted"
    assert stored_counts(session) == (2, 2, 1)
    assert session.scalar(select(HeldVote.vote_id)) == second.payload["id"]
    assert [a.kind for a in alarms(session)] == ["votes.held"]
    # Malformed is still malformed; the rest of the API stays closed to it.
    assert terminal.post("/api/v1/sync/log", b"not even json").status_code == 400
    assert terminal.get("/api/v1/sync/package").status_code == 403
    statuses = terminal.get("/api/v1/sync/statuses")
    assert statuses.status_code == 200
    assert statuses.get_json()["statuses"][-1]["status"] == "held"


def test_the_same_vote_id_with_other_content_is_a_vote_conflict(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    community = _community(session, cycle)
    terminal = enrolled_device(client, session, make, community)
    original = terminal.cast(cycle.id, [p[0]], voter=1)
    terminal.push()

    innocent = terminal.cast(cycle.id, [p[2]], voter=2)
    terminal.cast(cycle.id, [p[2]], voter=1, vote_id=original.payload["id"])
    response = terminal.push(terminal.batch(2, 3))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert (error["code"], error["conflicting_ids"]) == ("vote.conflict", [original.payload["id"]])
    assert stored_vote(session, innocent.payload["id"]) is None
    assert stored_counts(session) == (1, 1, 1)
    [alarm] = alarms(session)
    assert (alarm.kind, alarm.source) == ("vote_conflict", terminal.code)
    assert alarm.details["conflicts"][0]["vote_id"] == original.payload["id"]

    # Another terminal sending that id (it names itself, so the content differs) too.
    other = enrolled_device(client, session, make, community)
    other.cast(cycle.id, [p[0]], voter=1, vote_id=original.payload["id"])
    assert other.push().get_json()["error"]["code"] == "vote.conflict"


def test_a_device_clock_hours_off_is_accepted_and_its_offset_recorded(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    community = _community(session, cycle)
    for skew in (HOUR_MS, -HOUR_MS):
        terminal = enrolled_device(client, session, make, community)
        terminal.clock_skew_ms = skew
        terminal.cast(cycle.id, [p[0]], voter=skew)
        response = terminal.push(last_seq=18)  # 17 more after the one it sends
        assert response.status_code == 200
        device = session.scalar(select(Device).where(Device.code == terminal.code))
        session.refresh(device)
        assert abs(device.clock_offset_ms - skew) < 5000
        assert device.backlog == 17
        entry = session.scalar(select(DeviceLogEntry).where(DeviceLogEntry.device_id == device.id))
        assert entry.clock_offset_ms == skew


def test_a_device_cannot_push_votes_into_another_communitys_cycle(client, make, session):
    theirs = make.ballot_cycle()
    ours = make.ballot_cycle()
    terminal = enrolled_device(client, session, make, _community(session, ours))
    terminal.cast(ours.id, [project_ids(session, ours)[0]], voter=1)
    terminal.cast(theirs.id, [project_ids(session, theirs)[0]], voter=2)
    response = terminal.push()
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["code"], error["seq"], error["rule"]) == ("entry.invalid", 2, "entry.vote_cycle")
    assert stored_counts(session) == (0, 0, 0)
    assert [(a.kind, a.community_id) for a in alarms(session)] == [("entry.invalid", ours.community_id)]


def test_a_vote_must_name_its_device_and_a_channel_of_its_kind(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    community = _community(session, cycle)
    terminal = enrolled_device(client, session, make, community)
    terminal.cast(cycle.id, [p[0]], voter=1, channel="staff_assisted")  # the terminal's staff mode
    terminal.cast(cycle.id, [p[2]], voter=2, channel="kiosk")
    assert terminal.push().status_code == 200
    terminal.cast(cycle.id, [p[0]], voter=3, channel="paper")
    assert terminal.push(terminal.batch(3, 3)).get_json()["error"]["rule"] == "entry.vote_channel"

    point = enrolled_device(client, session, make, community, kind="support_point")
    point.cast(cycle.id, [p[0]], voter=1, channel="paper")
    point.cast(cycle.id, [p[2]], voter=2, channel="staff_assisted")
    assert point.push().status_code == 200
    record = dict(point.log[0].payload, device="S-9999", id="5f0c7e5e-7d5e-4b43-9d43-1a6f7f0e2d11")
    point.append(record)
    assert point.push(point.batch(3, 3)).get_json()["error"]["rule"] == "entry.vote_device"


def test_a_support_point_sends_only_its_own_sheets(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    point = enrolled_device(client, session, make, _community(session, cycle), kind="support_point")

    def sheet(serial: str, project: int) -> dict:
        return VoteRecord.create(
            cycle_id=cycle.id,
            selections=[project],
            channel="paper",
            cast_at=datetime.now(UTC),
            code_id=f"sheet_{serial}",
            device_id=point.code,
        ).canonical_body()

    own = sheet(f"{point.code.replace('-', '')}-000001", p[0])
    point.append(own)
    assert point.push().status_code == 200
    assert session.scalar(select(Vote.status).where(Vote.id == own["id"])) == "counted"
    point.append(sheet("S9999-000001", p[1]))  # another point's serial
    assert point.push(point.batch(2, 2)).get_json()["error"]["rule"] == "entry.vote_sheet"


def test_statuses_follow_a_vote_that_later_stops_counting(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    community = _community(session, cycle)
    late = enrolled_device(client, session, make, community)
    early = enrolled_device(client, session, make, community)
    mine = late.cast(cycle.id, [p[0]], voter=7, minutes_ago=1)
    late.push()
    # The same resident voted earlier at a terminal that was offline until now.
    earlier = early.cast(cycle.id, [p[2]], voter=7, minutes_ago=30)
    early.push()

    [status] = late.get("/api/v1/sync/statuses?since_seq=0").get_json()["statuses"]
    assert (status["vote_id"], status["status"], status["counted_vote_id"]) == (
        mine.payload["id"],
        "duplicate",
        earlier.payload["id"],
    )
    assert late.get("/api/v1/sync/statuses?since_seq=1").get_json()["statuses"] == []
    bad = late.get("/api/v1/sync/statuses?since_seq=-1")
    assert (bad.status_code, bad.get_json()["error"]["code"]) == (400, "statuses.since_seq")


@both_databases
def test_a_waiting_batch_that_no_longer_fits_is_dropped_with_an_alarm(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    for voter in range(2):
        terminal.cast(cycle.id, [p[0]], voter=voter)
    shared = list(terminal.log)
    terminal.cast(cycle.id, [p[0]], voter=2)
    fork = log_batches.make_batch(
        terminal.key,
        terminal.code,
        [
            log_entries.next_entry(
                shared[-1], terminal.code, "vote", terminal.log[-1].payload | {"selections": [p[2]]}, 0, 0
            )
        ],
    )
    assert terminal.push(fork).get_json()["gap"] is True
    response = terminal.push()  # the real log 1..3
    assert response.get_json()["acked_seq"] == 3
    assert session.scalars(select(PendingBatch)).all() == []
    [alarm] = alarms(session)
    assert (alarm.kind, alarm.details["seq"], alarm.details["pending_from_seq"]) == ("chain.conflict", 3, 3)
    assert running_tally(session, cycle.id) == {p[0]: 3}


def test_too_many_waiting_batches_are_refused_until_the_gap_is_filled(client, make, session, monkeypatch):
    monkeypatch.setattr("server.sync.pending_batches.MAX_PENDING_BATCHES", 1)
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    for voter in range(4):
        terminal.cast(cycle.id, [p[0]], voter=voter)
    assert terminal.push(terminal.batch(3, 3)).get_json()["gap"] is True
    refused = terminal.push(terminal.batch(4, 4))
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (429, "sync.too_many_pending")
    assert terminal.push(terminal.batch(1, 2)).get_json()["acked_seq"] == 3
    assert terminal.push(terminal.batch(4, 4)).get_json()["acked_seq"] == 4


def test_two_pushes_of_one_batch_at_the_same_moment_apply_once(app, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(app.test_client(), session, make, _community(session, cycle))
    for voter in range(50):
        terminal.cast(cycle.id, [p[voter % 2 * 2]], voter=voter)
    body = json.dumps(terminal.batch()).encode()
    start = threading.Barrier(2)
    answers = []

    def push() -> None:
        device = FakeDevice(app.test_client(), terminal.code)
        device.key = terminal.key
        headers = device.headers("POST", "/api/v1/sync/log", body)
        start.wait()
        response = device.client.post(
            "/api/v1/sync/log", data=body, headers=headers, content_type="application/json"
        )
        answers.append((response.status_code, answer_without_time(response)))

    threads = [threading.Thread(target=push) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _body in answers] == [200, 200]
    assert answers[0][1] == answers[1][1]
    assert stored_counts(session) == (50, 1, 50)
    assert running_tally(session, cycle.id) == {p[0]: 25, p[2]: 25}


def test_votes_cast_under_a_stepped_clock_flag_the_terminal(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    terminal.cast(cycle.id, [p[0]], voter=1)
    assert terminal.push().status_code == 200
    assert alarms(session) == [], "a clock in step raises nothing"
    # Cast while its clock ran two hours ahead (it believed the offset was 0), pushed
    # once the clock was right again.
    terminal.clock_skew_ms = 2 * HOUR_MS
    terminal.cast(cycle.id, [p[0]], voter=2)
    terminal.cast(cycle.id, [p[0]], voter=3)
    terminal.clock_skew_ms = 0
    assert terminal.push().status_code == 200
    (alarm,) = alarms(session)
    assert (alarm.kind, alarm.source) == ("clock.step", terminal.code)
    evidence = {k: v for k, v in alarm.details.items() if k != "text"}
    assert evidence == {"first_seq": 2, "last_seq": 3} and "до 120 хв" in alarm.message
