"""The e-democracy platform pushes online votes: each stored once, one resident counted once."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select

from server.models import Alarm, Base, Vote
from server.services.ballot_box import store_votes
from server.services.cycle_rules import load_cycle_rules
from server.services.pushed_fields import read_cast_at
from server.services.tally import running_tally
from tests.factories import stored_vote
from voting import Channel, VoteRecord

from .test_api_support import (
    assert_matches,
    identity_vote,
    make_platform,
    project_ids,
    rnokpp,
    vote_count,
    wait_until_blocked,
    web_vote,
)

TAXPAYER = rnokpp("305912748")


def test_platform_reads_its_cycles_with_categories_projects_and_window(client, session, make):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    response = client.get("/api/v1/cycles", headers=platform.headers())
    assert response.status_code == 200
    body = response.get_json()
    assert_matches("CycleList", body)
    [listed] = body["cycles"]
    assert listed["id"] == cycle.id
    assert listed["voting_starts_at"].endswith("Z")
    small, large = listed["categories"]
    assert (small["name"], small["max_choices"], small["budget"]) == ("Малі проєкти", 2, 900_000_00)
    assert len(small["projects"]) == len(large["projects"]) == 4
    assert small["projects"][0]["cost"] == 100_000_00  # kopiykas


def test_rejected_projects_and_school_cycles_are_not_offered(client, session, make):
    from server.models import Project

    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    make.cycle(platform.community, kind="school")
    rejected = session.get(Project, project_ids(session, cycle)[0])
    rejected.status = "rejected"
    session.commit()
    body = client.get("/api/v1/cycles", headers=platform.headers()).get_json()
    assert [c["id"] for c in body["cycles"]] == [cycle.id]
    offered = {p["id"] for cat in body["cycles"][0]["categories"] for p in cat["projects"]}
    assert rejected.id not in offered


def test_pushed_votes_are_counted_and_answered_in_order(client, session, make):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    small = project_ids(session, cycle)
    votes = [
        web_vote(cycle, [small[0]], voter=1),
        web_vote(cycle, [small[1]], voter=1, minutes=5),  # same resident, later
        web_vote(cycle, small[:3], voter=2),  # three in a category that allows two
    ]
    response = platform.push(client, votes)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert_matches("VoteResults", body)
    assert [(r["id"], r["outcome"], r["status"], r["reason"]) for r in body["results"]] == [
        (votes[0]["id"], "accepted", "counted", None),
        (votes[1]["id"], "accepted", "duplicate", "duplicate.same_voter"),
        (votes[2]["id"], "accepted", "invalid", "ballot.too_many_in_category"),
    ]
    assert body["results"][1]["counted_vote_id"] == votes[0]["id"]
    stored = stored_vote(session, votes[0]["id"])
    assert (stored.channel, stored.device_id, stored.source) == ("web", None, f"api:{platform.client.id}")
    assert running_tally(session, cycle.id) == {small[0]: 1}


def test_a_project_chosen_twice_is_stored_as_invalid_not_refused(client, session, make):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    p = project_ids(session, cycle)[0]
    [result] = platform.push(client, [web_vote(cycle, [p, p])]).get_json()["results"]
    assert (result["status"], result["reason"]) == ("invalid", "ballot.repeated_project")


def test_pushing_the_same_batch_again_gets_the_same_answer_and_stores_nothing_new(client, session, make):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    small = project_ids(session, cycle)
    votes = [web_vote(cycle, [small[0]], voter=1), web_vote(cycle, [small[1]], voter=1, minutes=1)]
    first = platform.push(client, votes)
    again = platform.push(client, votes)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert vote_count(session) == 2
    assert running_tally(session, cycle.id) == {small[0]: 1}


def test_a_cast_time_written_differently_is_the_same_vote(client, session, make):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    vote = web_vote(cycle, [project_ids(session, cycle)[0]])
    platform.push(client, [vote])
    kyiv = (
        read_cast_at(vote["cast_at"]).astimezone(ZoneInfo("Europe/Kyiv")).isoformat(timespec="microseconds")
    )
    assert kyiv.endswith(("+02:00", "+03:00"))
    response = platform.push(client, [{**vote, "cast_at": kyiv}])
    assert response.status_code == 200
    assert vote_count(session) == 1


def test_same_id_with_other_content_is_refused_alarmed_and_nothing_of_the_batch_kept(client, session, make):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    p1, p2 = project_ids(session, cycle)[:2]
    original = identity_vote(cycle, [p1], "rnokpp", TAXPAYER)
    assert platform.push(client, [original]).status_code == 200

    innocent = web_vote(cycle, [p2], voter=5)
    forged = {**original, "selections": [p2]}
    response = platform.push(client, [innocent, forged])

    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["conflicting_ids"] == [original["id"]]
    assert "модератора повідомлено" in error["message"]
    assert stored_vote(session, innocent["id"]) is None
    assert running_tally(session, cycle.id) == {p1: 1}
    [alarm] = session.scalars(select(Alarm)).all()
    assert (alarm.kind, alarm.source, alarm.community_id) == (
        "vote_conflict",
        f"api:{platform.client.id}",
        platform.community.id,
    )
    [conflict] = alarm.details["conflicts"]
    assert conflict["vote_id"] == original["id"]
    assert conflict["stored_hash"] == stored_vote(session, original["id"]).content_hash
    assert conflict["offered_hash"] != conflict["stored_hash"]
    assert "305912748" not in str(alarm.details) + alarm.message


def test_one_id_twice_in_a_batch_with_different_content_is_a_conflict(client, session, make):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    p1, p2 = project_ids(session, cycle)[:2]
    vote = web_vote(cycle, [p1])
    response = platform.push(client, [vote, {**vote, "selections": [p2]}])
    assert response.status_code == 409
    assert vote_count(session) == 0
    assert session.scalar(select(Alarm.kind)) == "vote_conflict"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("passport", "АВ 123456"), ("passport", "AB123456")),  # Cyrillic with a space, then Latin
        (("rnokpp", TAXPAYER), ("rnokpp", f" {TAXPAYER[:5]}-{TAXPAYER[5:]}")),
        (("unzr", "19900101-00123"), ("unzr", "1990010100123")),
    ],
    ids=["passport", "rnokpp", "unzr"],
)
def test_one_resident_typed_two_ways_is_counted_once(client, session, make, first, second):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    p1, p2 = project_ids(session, cycle)[:2]
    votes = []
    for minutes, (kind, number), project in ((0, first, p1), (10, second, p2)):
        votes.append(identity_vote(cycle, [project], kind, number, minutes=minutes))
    assert platform.push(client, votes[:1]).get_json()["results"][0]["status"] == "counted"
    [result] = platform.push(client, votes[1:]).get_json()["results"]
    assert (result["status"], result["counted_vote_id"]) == ("duplicate", votes[0]["id"])
    keys = set(session.scalars(select(Vote.voter_key)))
    assert len(keys) == 1


def test_one_resident_gets_unrelated_voter_keys_in_two_communities(client, session, make):
    a, b = make_platform(session, make), make_platform(session, make)
    keys = []
    for platform in (a, b):
        cycle = make.ballot_cycle(platform.community)
        vote = identity_vote(cycle, [project_ids(session, cycle)[0]], "id_card", "004812345")
        assert platform.push(client, [vote]).status_code == 200
        keys.append(stored_vote(session, vote["id"]).voter_key)
    assert keys[0] != keys[1]


def test_raw_document_numbers_are_never_stored_in_any_table(client, session, make):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    p = project_ids(session, cycle)[0]
    identities = [
        ("rnokpp", rnokpp("287351946")),
        ("passport", "КЕ 739182"),
        ("id_card", "009128374"),
        ("unzr", "19871224-00517"),
    ]
    votes = []
    for i, (kind, number) in enumerate(identities):
        votes.append(identity_vote(cycle, [p], kind, number, minutes=i))
    assert platform.push(client, votes).status_code == 200
    # A forged re-push too, so the alarm row is scanned as well.
    assert platform.push(client, [{**votes[0], "selections": []}]).status_code == 409

    everything = ""
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)):
            everything += repr(tuple(row)) + "\n"
    assert votes[0]["id"] in everything  # the scan does see the votes
    for needle in (rnokpp("287351946"), "739182", "009128374", "19871224"):
        assert needle not in everything, needle


def test_platform_follows_a_vote_that_an_earlier_kiosk_vote_replaced(client, session, make):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    p1, p2 = project_ids(session, cycle)[:2]
    online = web_vote(cycle, [p1], voter=9, minutes=120)
    platform.push(client, [online])
    kiosk = VoteRecord.create(
        cycle_id=cycle.id,
        selections=[p2],
        channel=Channel.KIOSK,
        cast_at=cycle.voting_starts_at + timedelta(minutes=1),
        voter_key=f"{9:064x}",
        device_id="T-0001",
    )
    store_votes(session, {cycle.id: load_cycle_rules(session, cycle)}, [kiosk], source="T-0001")
    session.commit()

    response = client.get(f"/api/v1/votes/{online['id'].upper()}", headers=platform.headers())
    assert response.status_code == 200
    body = response.get_json()
    assert_matches("VoteState", body)
    assert (body["status"], body["counted_vote_id"]) == ("duplicate", kiosk.vote_id)
    # The kiosk's own vote is not the platform's to look up.
    hidden = client.get(f"/api/v1/votes/{kiosk.vote_id}", headers=platform.headers())
    assert hidden.status_code == 404


def test_a_client_cannot_read_or_push_another_communitys_cycles_or_votes(client, session, make):
    a, b = make_platform(session, make), make_platform(session, make)
    cycle_a, cycle_b = make.ballot_cycle(a.community), make.ballot_cycle(b.community)
    listed = client.get("/api/v1/cycles", headers=a.headers()).get_json()["cycles"]
    assert [c["id"] for c in listed] == [cycle_a.id]

    b_vote = web_vote(cycle_b, [project_ids(session, cycle_b)[0]])
    assert b.push(client, [b_vote]).status_code == 200
    assert client.get(f"/api/v1/votes/{b_vote['id']}", headers=a.headers()).status_code == 404

    response = a.push(client, [web_vote(cycle_b, [project_ids(session, cycle_b)[0]])])
    assert response.status_code == 422
    [problem] = response.get_json()["error"]["items"]
    assert (problem["index"], problem["field"], problem["code"]) == (0, "cycle_id", "api.unknown_cycle")
    assert vote_count(session) == 1


def test_a_push_racing_the_same_new_vote_is_retried_and_answered(client, session, make, engine):
    """Another push inserts the same id while ours is running: ours collides on the
    primary key, retries, and answers from the row the other push committed."""
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    vote = web_vote(cycle, [project_ids(session, cycle)[0]])
    record = VoteRecord.create(
        vote_id=vote["id"],
        cycle_id=cycle.id,
        selections=vote["selections"],
        channel=Channel.WEB,
        cast_at=read_cast_at(vote["cast_at"]),
        voter_key=vote["voter_key"],
    )
    other = engine.connect()
    transaction = other.begin()
    other.execute(
        insert(Vote).values(
            id=record.vote_id,
            community_id=platform.community.id,
            cycle_id=cycle.id,
            voter_key=record.voter_key,
            selections=list(record.selections),
            channel="web",
            device_id=record.device_id,
            cast_at=record.cast_at,
            received_at=record.cast_at,
            content_hash=record.content_hash(),
            status="counted",
            source=f"api:{platform.client.id}",
        )
    )
    answers = []
    pusher = threading.Thread(target=lambda: answers.append(platform.push(client, [vote])))
    pusher.start()
    try:
        wait_until_blocked(engine)
        transaction.commit()
    finally:
        other.close()
        pusher.join(timeout=10)
    [response] = answers
    assert response.status_code == 200
    assert response.get_json()["results"][0]["id"] == vote["id"]
    assert response.get_json()["results"][0]["status"] == "counted"


def test_a_vote_id_is_answered_in_its_canonical_form(client, session, make):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    vote = web_vote(cycle, [project_ids(session, cycle)[0]])
    vote["id"] = vote["id"].upper()
    [result] = platform.push(client, [vote]).get_json()["results"]
    assert result["id"] == vote["id"].lower()
    assert stored_vote(session, str(uuid.UUID(vote["id"]))) is not None


def test_a_lowercase_rfc_3339_time_is_accepted(client, session, make):
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    vote = web_vote(cycle, [project_ids(session, cycle)[0]])
    vote["cast_at"] = vote["cast_at"].lower()
    assert platform.push(client, [vote]).status_code == 200


def test_when_collisions_persist_the_platform_is_told_to_send_again(client, session, make, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from server.services import integration

    def always_colliding(*args, **kwargs):
        raise IntegrityError("INSERT INTO vote ...", {}, Exception("duplicate key"))

    monkeypatch.setattr(integration, "store_votes", always_colliding)
    platform = make_platform(session, make)
    cycle = make.ballot_cycle(platform.community)
    response = platform.push(client, [web_vote(cycle, [project_ids(session, cycle)[0]])])
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["error"]["code"] == "busy"
    assert vote_count(session) == 0


def test_a_platform_that_rotated_its_token_can_repush_old_votes_without_conflict(client, session, make):
    first = make_platform(session, make)
    cycle = make.ballot_cycle(first.community)
    vote = web_vote(cycle, [project_ids(session, cycle)[0]])
    answer = first.push(client, [vote])
    assert answer.status_code == 200
    rotated = make_platform(session, make, community=first.community)
    again = rotated.push(client, [vote])
    assert again.status_code == 200
    assert again.get_json()["results"] == answer.get_json()["results"]
