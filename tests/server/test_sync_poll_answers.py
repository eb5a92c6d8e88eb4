"""Poll answers travel in a device's signed log as votes do (entry kind "poll_answer"):
stored exactly once, one counted answer per resident and poll across the terminal,
the support point and the online platform; an answer the server does not take is kept
as evidence, never counted, and the device and the moderators are told; anything an
honest device cannot send refuses the whole batch with an alarm."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server.models import Alarm, Community, Device, DeviceLogEntry, PollAnswer
from server.polls.answers import store_answers
from server.polls.count import counted_answers_by_channel
from server.polls.store import create_poll, poll_rule, publish_poll
from server.sync.entry_answers import REFUSED
from sync import log_entries
from tests.conftest import both_databases
from voting import Channel
from voting.polls import PollAnswerRecord

from .test_polls import SPEC
from .test_polls_who import load_list
from .test_sync_support import FakeDevice, enrolled_device, project_ids, voter_key

NOW = datetime.now(UTC).replace(microsecond=0)


def a_poll(session, community, *, who: dict | None = None, publish: bool = True, days: tuple = (-1, 9)):
    spec = copy.deepcopy(SPEC)
    spec.update(
        opens_at=(NOW + timedelta(days=days[0])).isoformat(),
        closes_at=(NOW + timedelta(days=days[1])).isoformat(),
    )
    if who is not None:
        spec["who"] = who
    poll = create_poll(session, community.id, spec)
    if publish:
        publish_poll(session, poll)
    session.commit()
    return poll


def good_answers(session, poll, pick: int = 0) -> dict[int, object]:
    """A valid answer to every question of SPEC's poll, varied by `pick`."""
    one, up_to, rank, points = poll_rule(session, poll).questions
    return {
        one.question_id: [one.option_ids[pick % 3]],
        up_to.question_id: [up_to.option_ids[pick % 4]],
        rank.question_id: [rank.option_ids[(pick + 1) % 4], rank.option_ids[pick % 4]],
        points.question_id: [[points.option_ids[0], 5], [points.option_ids[2], pick % 6]],
    }


def answer_body(session, poll, device: FakeDevice, *, voter: int | None = 1, minutes_ago: int = 0, **fields):
    record = PollAnswerRecord.create(
        poll=poll_rule(session, poll),
        answers=fields.pop("answers", None) or good_answers(session, poll, fields.pop("pick", 0)),
        channel=fields.pop("channel", "kiosk" if device.kind == "terminal" else "paper"),
        cast_at=fields.pop("cast_at", datetime.now(UTC) - timedelta(minutes=minutes_ago)),
        voter_key=voter_key(voter) if voter is not None else None,
        code_id=fields.pop("code_id", None),
        device_id=device.code,
    )
    assert not fields, fields
    return record.canonical_body()


def log_answer(device: FakeDevice, payload: dict) -> log_entries.LogEntry:
    """Append a poll answer entry to the device's log, as DeviceStore.append_poll_answer does."""
    previous = device.log[-1] if device.log else None
    entry = log_entries.next_entry(
        previous, device.code, "poll_answer", payload, device.package_version, device.clock_skew_ms
    )
    device.log.append(entry)
    return entry


def statuses(response) -> list[tuple[int, str, str | None]]:
    assert response.status_code == 200, response.get_json()
    return [(s["seq"], s["status"], s["reason"]) for s in response.get_json()["statuses"]]


def refused_rule(response) -> str:
    assert response.status_code == 422, response.get_json()
    return response.get_json()["error"]["rule"]


def online(session, poll, voter: int, minutes_ago: int) -> PollAnswerRecord:
    """The same resident answering on the online platform (the API's own storing path)."""
    record = PollAnswerRecord.create(
        poll=poll_rule(session, poll),
        answers=good_answers(session, poll, 2),
        channel=Channel.WEB,
        cast_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        voter_key=voter_key(voter),
    )
    store_answers(session, poll, poll_rule(session, poll), [record], source="api:1")
    session.commit()
    return record


def answers_stored(session) -> dict[str, tuple[str, str, str | None]]:
    session.expire_all()
    return {a.id: (a.channel, a.status, a.counted_answer_id) for a in session.scalars(select(PollAnswer))}


@both_databases
def test_a_terminals_answers_are_counted_once_and_acknowledged(client, make, session):
    community = make.community()
    poll = a_poll(session, community)
    terminal = enrolled_device(client, session, make, community)
    first = log_answer(terminal, answer_body(session, poll, terminal, voter=1, minutes_ago=10))
    again = log_answer(terminal, answer_body(session, poll, terminal, voter=1, minutes_ago=5, pick=1))
    other = log_answer(terminal, answer_body(session, poll, terminal, voter=2, channel="staff_assisted"))

    response = terminal.push()
    assert statuses(response) == [(1, "counted", None), (2, "duplicate", None), (3, "counted", None)]
    assert response.get_json()["statuses"][1]["counted_vote_id"] == first.payload["id"]
    stored = answers_stored(session)
    assert stored[first.payload["id"]] == ("kiosk", "counted", None)
    assert stored[again.payload["id"]] == ("kiosk", "duplicate", first.payload["id"])
    assert stored[other.payload["id"]] == ("staff_assisted", "counted", None)
    rows = session.execute(select(DeviceLogEntry.kind, DeviceLogEntry.vote_id).order_by(DeviceLogEntry.seq))
    assert [tuple(r) for r in rows] == [("poll_answer", e.payload["id"]) for e in (first, again, other)]
    assert counted_answers_by_channel(session, poll.id) == {"kiosk": 1, "staff_assisted": 1}

    # Sent again (a lost answer): the same statuses, nothing stored twice.
    assert statuses(terminal.push()) == statuses(response)
    assert len(answers_stored(session)) == 3


def test_one_resident_counts_once_online_and_at_a_terminal_whichever_arrives_first(client, make, session):
    community = make.community()
    poll = a_poll(session, community)
    terminal = enrolled_device(client, session, make, community)
    # Resident 1 answered online an hour ago; at the terminal later: the terminal's is a duplicate.
    web_first = online(session, poll, voter=1, minutes_ago=60)
    log_answer(terminal, answer_body(session, poll, terminal, voter=1, minutes_ago=5))
    # Resident 2 answered at the offline terminal first; online later, before the terminal synced.
    kiosk_first = log_answer(terminal, answer_body(session, poll, terminal, voter=2, minutes_ago=90))
    web_later = online(session, poll, voter=2, minutes_ago=30)
    assert answers_stored(session)[web_later.answer_id][1] == "counted"

    assert statuses(terminal.push()) == [(1, "duplicate", None), (2, "counted", None)]
    stored = answers_stored(session)
    assert stored[web_first.answer_id] == ("web", "counted", None)
    assert stored[web_later.answer_id] == ("web", "duplicate", kiosk_first.payload["id"])
    assert counted_answers_by_channel(session, poll.id) == {"web": 1, "kiosk": 1}


def test_an_answer_the_server_does_not_take_is_kept_as_evidence_and_the_rest_counts(client, make, session):
    community = make.community()
    poll = a_poll(session, community)
    ended = a_poll(session, community, days=(-10, -5))
    terminal = enrolled_device(client, session, make, community)
    good = log_answer(terminal, answer_body(session, poll, terminal, voter=1))
    # Built with the rule checked, then broken: two options where one is allowed.
    broken = answer_body(session, poll, terminal, voter=2)
    one_question = min(broken["answers"], key=int)
    broken["answers"][one_question] = sorted(poll_rule(session, poll).questions[0].option_ids[:2])
    log_answer(terminal, broken)
    late = answer_body(session, ended, terminal, voter=3, cast_at=NOW - timedelta(days=1))
    log_answer(terminal, late)

    expected = [(1, "counted", None), (2, "invalid", REFUSED), (3, "invalid", REFUSED)]
    assert statuses(terminal.push()) == expected
    assert set(answers_stored(session)) == {good.payload["id"]}
    assert session.scalar(select(func.count()).select_from(DeviceLogEntry)) == 3  # evidence kept
    reasons = sorted(a.details["reason"] for a in session.scalars(select(Alarm)))
    assert reasons == ["breaks_rule", "outside_window"]
    # Asked again later, the device hears the same.
    asked = terminal.get("/api/v1/sync/statuses?since_seq=0")
    assert statuses(asked) == expected


def test_who_may_answer_is_judged_by_the_servers_own_list(app, client, make, session):
    community = make.community()
    poll = a_poll(session, community, who={"voter_list": True})
    load_list(session, app, community, f"voter_key\n{voter_key(1)}\n")
    terminal = enrolled_device(client, session, make, community)
    log_answer(terminal, answer_body(session, poll, terminal, voter=1))
    log_answer(terminal, answer_body(session, poll, terminal, voter=2))  # not on the server's list
    assert statuses(terminal.push()) == [(1, "counted", None), (2, "invalid", REFUSED)]

    point = enrolled_device(client, session, make, community, kind="support_point")
    serial = f"{point.code.replace('-', '')}-000001"
    log_answer(point, answer_body(session, poll, point, voter=None, code_id=f"sheet_{serial}"))
    assert statuses(point.push()) == [(1, "invalid", REFUSED)]
    reasons = sorted(a.details["reason"] for a in session.scalars(select(Alarm)))
    assert reasons == ["anonymous", "not_allowed"]


def test_a_support_points_sheets_answer_as_their_serial_and_only_its_own(client, make, session):
    community = make.community()
    poll = a_poll(session, community)
    point = enrolled_device(client, session, make, community, kind="support_point")
    own = f"sheet_{point.code.replace('-', '')}-000001"
    sheet = log_answer(point, answer_body(session, poll, point, voter=None, code_id=own))
    assert statuses(point.push()) == [(1, "counted", None)]
    assert answers_stored(session)[sheet.payload["id"]][0] == "paper"
    log_answer(point, answer_body(session, poll, point, voter=None, code_id="sheet_S9999-000001"))
    assert refused_rule(point.push(point.batch(2, 2))) == "entry.answer_sheet"


def test_a_revoked_devices_answers_are_not_counted(client, make, session):
    from server.services.devices import revoke_device

    community = make.community()
    poll = a_poll(session, community)
    terminal = enrolled_device(client, session, make, community)
    log_answer(terminal, answer_body(session, poll, terminal, voter=1))
    assert statuses(terminal.push()) == [(1, "counted", None)]
    revoke_device(session, session.scalar(select(Device).where(Device.code == terminal.code)))
    session.commit()
    log_answer(terminal, answer_body(session, poll, terminal, voter=2))
    body = terminal.push().get_json()
    assert body["revoked"] is True
    assert [(s["seq"], s["status"]) for s in body["statuses"]] == [(1, "counted"), (2, "invalid")]
    assert len(answers_stored(session)) == 1


def test_votes_and_answers_travel_in_one_batch(client, make, session):
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    poll = a_poll(session, community)
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, community)
    vote = terminal.cast(cycle.id, [p[0]], voter=1)
    answer = log_answer(terminal, answer_body(session, poll, terminal, voter=1))
    terminal.cast(cycle.id, [p[2]], voter=2)
    response = terminal.push()
    assert statuses(response) == [(1, "counted", None), (2, "counted", None), (3, "counted", None)]
    assert [s["vote_id"] for s in response.get_json()["statuses"][:2]] == [
        vote.payload["id"],
        answer.payload["id"],
    ]


def _mutations(session, poll, device) -> list[tuple[str, dict]]:
    good = answer_body(session, poll, device, voter=5)
    out: list[tuple[str, dict]] = []

    def changed(rule: str, **fields) -> None:
        body = copy.deepcopy(good)
        body.update(fields)
        out.append((rule, body))

    changed("entry.answer_record", v=2)
    changed("entry.answer_record", v=1.0)
    changed("entry.answer_record", v=True)
    changed("entry.answer_record", id="not-a-uuid")
    changed("entry.answer_record", id=good["id"].upper())
    changed("entry.answer_record", poll=str(poll.id))
    changed("entry.answer_record", poll=2**63)
    changed("entry.answer_record", poll=None)
    changed("entry.answer_record", voter_key=None)  # neither key nor code
    changed("entry.answer_record", code="x")  # both
    changed("entry.answer_record", voter_key="ZZ" * 32)
    changed("entry.answer_record", voter_key=["a"])
    changed("entry.answer_record", cast_at="2027-01-01 10:00")
    changed("entry.answer_record", cast_at=1_700_000_000)
    changed("entry.answer_record", channel="carrier-pigeon")
    changed("entry.answer_record", channel=["kiosk"])
    changed("entry.answer_record", answers=[1, 2])
    changed("entry.answer_record", answers={"one": [1]})
    changed("entry.answer_record", answers={str(q): [1] for q in range(60)})
    changed("entry.answer_record", answers={k: "1" for k in good["answers"]})
    changed("entry.answer_record", answers={k: [[[[1]]]] for k in good["answers"]})
    changed("entry.answer_record", answers={k: [1.5] for k in good["answers"]})
    changed("entry.answer_record", device=7)
    changed("entry.answer_record", extra="field")
    changed("entry.answer_device", device="T-9999")
    changed("entry.answer_device", device=None)
    changed("entry.answer_channel", channel="paper")
    changed("entry.answer_channel", channel="web")
    changed("entry.answer_channel", channel="school_code")
    # A terminal answering as a code: a voter nobody can tell from an invented one.
    changed("entry.answer_voter", voter_key=None, code="anything-at-all")
    changed("entry.answer_poll", poll=poll.id + 10_000)
    missing = copy.deepcopy(good)
    del missing["cast_at"]
    out.append(("entry.answer_record", missing))
    out.append(("entry.answer_record", {}))
    return out


def test_what_an_honest_device_cannot_send_refuses_the_batch_and_stores_nothing(client, make, session):
    community = make.community()
    poll = a_poll(session, community)
    terminal = enrolled_device(client, session, make, community)
    for rule, body in _mutations(session, poll, terminal):
        terminal.log = []
        log_answer(terminal, body)
        assert refused_rule(terminal.push()) == rule, body
    assert answers_stored(session) == {}
    assert session.scalar(select(func.count()).select_from(DeviceLogEntry)) == 0
    assert session.scalar(select(func.count()).select_from(Alarm).where(Alarm.kind == "entry.invalid")) >= 1


def test_a_draft_a_school_or_another_communitys_poll_cannot_be_answered_from_a_device(client, make, session):
    community = make.community()
    draft = a_poll(session, community, publish=False)
    theirs = a_poll(session, make.community())
    school = a_poll(session, community)
    school.school_id = make.school(community).id
    session.commit()
    terminal = enrolled_device(client, session, make, community)
    for poll in (draft, theirs, school):
        terminal.log = []
        log_answer(terminal, answer_body(session, poll, terminal, voter=1))
        assert refused_rule(terminal.push()) == "entry.answer_poll"
    assert answers_stored(session) == {}


def test_the_same_answer_id_with_other_content_is_a_conflict(client, make, session):
    community = make.community()
    poll = a_poll(session, community)
    terminal = enrolled_device(client, session, make, community)
    first = log_answer(terminal, answer_body(session, poll, terminal, voter=1))
    assert terminal.push().status_code == 200
    other = enrolled_device(client, session, make, community)
    copied = answer_body(session, poll, other, voter=2)
    copied["id"] = first.payload["id"]
    log_answer(other, copied)
    response = other.push()
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["conflicting_ids"] == [first.payload["id"]]
    assert len(answers_stored(session)) == 1


@pytest.mark.parametrize("seed", range(3))
def test_random_damage_to_a_valid_answer_never_stores_a_wrong_answer(client, make, session, seed):
    """Any one field replaced by a random JSON value: refused (422), or taken exactly as a
    valid answer the record reads back to; never a 500, never a half-stored batch."""
    import random

    rng = random.Random(seed)
    community = make.community()
    poll = a_poll(session, community)
    terminal = enrolled_device(client, session, make, community)
    values = [
        None,
        True,
        0,
        -1,
        2**53,
        1.5,
        "",
        "x" * 300,
        [],
        {},
        [None],
        {"1": []},
        "kiosk",
    ]
    for _ in range(40):
        body = answer_body(session, poll, terminal, voter=rng.randrange(1000))
        field = rng.choice(sorted(body))
        body[field] = rng.choice(values)
        terminal.log = []
        log_answer(terminal, body)
        response = terminal.push()
        assert response.status_code in (200, 422), (field, body[field], response.get_json())
        if response.status_code == 200:
            [status] = response.get_json()["statuses"]
            stored = answers_stored(session).get(body["id"])
            assert stored is None or stored[1] == status["status"]
            # The device's position moved: start its next test batch from a fresh device.
            terminal = enrolled_device(client, session, make, community)
