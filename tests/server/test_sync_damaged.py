"""A damaged entry in a device's log is isolated: the server keeps it as evidence in its
place in the chain, raises an alarm, counts the intact votes around it and never the
damaged one; a recount agrees. What a damaged entry cannot be used for: hiding a link
that does not hold, smuggling a huge payload, or rewriting an entry already received."""

from __future__ import annotations

from sqlalchemy import select

from server.models import Alarm, Community, DeviceLogEntry
from server.services.tally import running_tally
from server.sync.recount import recount_cycle
from sync import log_batches, log_entries
from tests.factories import stored_vote

from .test_sync_support import enrolled_device, project_ids, stored_counts


def _community(session, cycle):
    return session.get(Community, cycle.community_id)


def _damaged(device, seq: int, evidence: str = '{"device":"T-0001","seq":') -> log_entries.DamagedEntry:
    """Entry `seq` of the device's log as a device sends it when it can no longer read it."""
    return log_entries.DamagedEntry(device.code, seq, device.log[seq - 1].entry_hash(), evidence)


def _batch(device, entries) -> dict:
    return log_batches.make_batch(device.key, device.code, entries)


def test_a_damaged_entry_is_kept_as_evidence_and_the_votes_around_it_count(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    for voter in range(5):
        terminal.cast(cycle.id, [p[0]], voter=voter)
    entries = list(terminal.log)
    entries[2] = _damaged(terminal, 3)

    response = terminal.push(_batch(terminal, entries))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["acked_seq"] == 5 and body["acked_hash"] == terminal.log[4].entry_hash()
    assert [s["seq"] for s in body["statuses"]] == [1, 2, 4, 5]
    session.expire_all()
    rows = session.scalars(select(DeviceLogEntry).order_by(DeviceLogEntry.seq)).all()
    assert [r.kind for r in rows] == ["vote", "vote", "damaged", "vote", "vote"]
    assert rows[2].vote_id is None and rows[2].payload == {"evidence": '{"device":"T-0001","seq":'}
    assert stored_vote(session, terminal.log[2].payload["id"]) is None
    assert running_tally(session, cycle.id) == {p[0]: 4}
    (alarm,) = session.scalars(select(Alarm)).all()
    assert (alarm.kind, alarm.source, alarm.details["seq"]) == ("entry.damaged", terminal.code, 3)
    assert "не враховано" in alarm.message

    report = recount_cycle(session, cycle.id)
    assert report.ok, list(report.json_lines())
    (chain,) = report.chains
    assert chain.damaged == [3] and chain.verified_up_to == 5

    # Sent again (the device did not hear the answer): the same answer, nothing new.
    again = terminal.push(_batch(terminal, entries))
    assert again.status_code == 200 and again.get_json()["acked_seq"] == 5
    assert stored_counts(session) == (5, 1, 4)
    assert len(session.scalars(select(Alarm)).all()) == 1


def test_the_last_entry_of_a_batch_may_be_the_damaged_one(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    for voter in range(3):
        terminal.cast(cycle.id, [p[1]], voter=voter)
    response = terminal.push(_batch(terminal, [*terminal.log[:2], _damaged(terminal, 3)]))
    assert response.status_code == 200, response.get_json()
    terminal.cast(cycle.id, [p[1]], voter=9)  # links to what entry 3 was written as
    response = terminal.push(_batch(terminal, terminal.log[3:]))
    assert response.status_code == 200 and response.get_json()["acked_seq"] == 4
    assert running_tally(session, cycle.id) == {p[1]: 3}
    assert recount_cycle(session, cycle.id).ok


def test_a_damaged_entry_cannot_paper_over_a_link_that_does_not_hold(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    for voter in range(3):
        terminal.cast(cycle.id, [p[0]], voter=voter)
    wrong = log_entries.DamagedEntry(terminal.code, 2, "ab" * 32, "")  # not what entry 3 links to
    response = terminal.push(_batch(terminal, [terminal.log[0], wrong, terminal.log[2]]))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "chain.broken"
    assert stored_counts(session) == (0, 0, 0)


def test_an_entry_already_received_cannot_be_sent_again_as_damaged_with_another_hash(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    for voter in range(2):
        terminal.cast(cycle.id, [p[0]], voter=voter)
    assert terminal.push().status_code == 200
    # The same hash as stored: an ordinary resend, answered again and changing nothing.
    same = terminal.push(_batch(terminal, [terminal.log[0], _damaged(terminal, 2)]))
    assert same.status_code == 200 and same.get_json()["acked_seq"] == 2
    assert session.scalars(select(DeviceLogEntry.kind).order_by(DeviceLogEntry.seq)).all() == ["vote", "vote"]
    other = log_entries.DamagedEntry(terminal.code, 2, "cd" * 32, "")
    response = terminal.push(_batch(terminal, [terminal.log[0], other]))
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "chain.conflict"
    assert running_tally(session, cycle.id) == {p[0]: 2}


def test_malformed_damaged_entries_are_refused(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, _community(session, cycle))
    terminal.cast(cycle.id, [p[0]], voter=1)
    good = _damaged(terminal, 1).as_dict()["damaged"]
    hostile = [
        {**good, "evidence": "x" * (log_entries.MAX_EVIDENCE_CHARS + 1)},  # too big to keep
        {**good, "hash": "not-a-hash"},
        {**good, "seq": 0},
        {**good, "device": "T-9999"},
        {**good, "evidence": 12},
        {**good, "extra": 1},
    ]
    for damaged in hostile:
        batch = _batch(terminal, [_damaged(terminal, 1)])
        batch["entries"] = [{"damaged": damaged}]
        response = terminal.push(batch)
        assert response.status_code in (409, 422), (damaged.keys(), response.get_json())
    assert stored_counts(session) == (0, 0, 0)
