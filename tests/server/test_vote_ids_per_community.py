"""A vote id names a vote within its community, never across communities.

Ids are made where votes are cast: by terminals and by each community's online
platform. With one global key, community B's client sending an id that A had used got a
409 conflict and B's alarm showed A's vote hash: B could learn of A's votes and block
them. Every path that looks a vote up by id (the ballot box, held votes, a device's
statuses, recount, the receipt check) now asks within the community.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from server.models import Alarm, Community, HeldVote, Vote, utcnow
from server.services.receipt_check import find_votes
from server.services.tally import running_tally
from server.sync.held import held_statuses
from server.sync.recount import recount_cycle
from tests.conftest import both_databases
from tests.factories import stored_vote
from voting import VoteRecord

from .test_api_support import make_platform, project_ids, web_vote
from .test_sync_support import enrolled_device
from .test_sync_support import project_ids as sync_project_ids


def _alarms(session):
    session.expire_all()
    return session.scalars(select(Alarm)).all()


def test_another_communitys_client_may_use_an_id_a_has_used_and_learns_nothing(client, session, make):
    a, b = make_platform(session, make), make_platform(session, make)
    cycle_a, cycle_b = make.ballot_cycle(a.community), make.ballot_cycle(b.community)
    a_vote = web_vote(cycle_a, [project_ids(session, cycle_a)[0]], voter=1)
    assert a.push(client, [a_vote]).status_code == 200

    # B's platform sends a vote of its own under A's id (a copied id, a broken client,
    # or a probe): stored and counted in B, with no conflict and no alarm.
    b_vote = web_vote(cycle_b, [project_ids(session, cycle_b)[1]], voter=2, id=a_vote["id"])
    response = b.push(client, [b_vote])
    assert response.status_code == 200, response.get_json()
    [answer] = response.get_json()["results"]
    assert (answer["id"], answer["outcome"], answer["status"]) == (a_vote["id"], "accepted", "counted")
    assert _alarms(session) == []

    # Each community sees its own vote under that id, and each is counted in its cycle.
    seen_by_a = client.get(f"/api/v1/votes/{a_vote['id']}", headers=a.headers()).get_json()
    seen_by_b = client.get(f"/api/v1/votes/{a_vote['id']}", headers=b.headers()).get_json()
    assert (seen_by_a["cycle_id"], seen_by_b["cycle_id"]) == (cycle_a.id, cycle_b.id)
    assert running_tally(session, cycle_a.id) == {project_ids(session, cycle_a)[0]: 1}
    assert running_tally(session, cycle_b.id) == {project_ids(session, cycle_b)[1]: 1}
    a_stored = stored_vote(session, a_vote["id"], a.community.id)
    b_stored = stored_vote(session, a_vote["id"], b.community.id)
    assert a_stored.content_hash != b_stored.content_hash

    # Sending it again is the same vote again, in each community.
    assert b.push(client, [b_vote]).get_json()["results"] == [answer]
    assert a.push(client, [a_vote]).status_code == 200

    # A conflict is still a conflict within a community, and its alarm shows only that
    # community's own hash.
    forged = {**b_vote, "selections": [project_ids(session, cycle_b)[0]]}
    response = b.push(client, [forged])
    assert response.status_code == 409
    [alarm] = _alarms(session)
    assert alarm.community_id == b.community.id
    [conflict] = alarm.details["conflicts"]
    assert conflict["stored_hash"] == b_stored.content_hash
    assert a_stored.content_hash not in str(alarm.details) + alarm.message


def test_a_terminal_of_another_community_may_log_an_id_a_has_used(client, session, make):
    cycle_a, cycle_b = make.ballot_cycle(), make.ballot_cycle()
    pa, pb = sync_project_ids(session, cycle_a), sync_project_ids(session, cycle_b)
    terminal_a = enrolled_device(
        client, session, make, community=session.get(Community, cycle_a.community_id)
    )
    terminal_b = enrolled_device(
        client, session, make, community=session.get(Community, cycle_b.community_id)
    )
    a_vote = terminal_a.cast(cycle_a.id, [pa[0]], voter=1)
    assert terminal_a.push().status_code == 200

    b_vote = terminal_b.cast(cycle_b.id, [pb[0]], voter=1, vote_id=a_vote.payload["id"])
    response = terminal_b.push()
    assert response.status_code == 200, response.get_json()
    [status] = response.get_json()["statuses"]
    assert (status["vote_id"], status["status"]) == (b_vote.payload["id"], "counted")
    assert _alarms(session) == []

    # Each terminal is told the standing of its own vote, not of the other's.
    for terminal in (terminal_a, terminal_b):
        [status] = terminal.get("/api/v1/sync/statuses").get_json()["statuses"]
        assert status["status"] == "counted"

    # Recount pairs each vote with its own community's log entry: nothing differs.
    for cycle in (cycle_a, cycle_b):
        report = recount_cycle(session, cycle.id)
        assert report.record_problems == [] and report.status_mismatches == [], cycle.id
        assert report.votes == 1


def _held(community_id: int, cycle_id: int, vote_id: str, decision: str | None) -> HeldVote:
    record = VoteRecord.create(
        vote_id=vote_id,
        cycle_id=cycle_id,
        selections=[1],
        channel="web",
        voter_key="0" * 64,
        cast_at=utcnow(),
    )
    return HeldVote(
        community_id=community_id,
        cycle_id=cycle_id,
        source="api:1",
        vote_id=vote_id,
        record=record.canonical_body(),
        cast_at=record.cast_at,
        reason="wrong_district",
        held_at=utcnow(),
        decision=decision,
    )


def test_held_votes_of_two_communities_under_one_id_are_told_apart(session, make):
    cycle_a, cycle_b = make.ballot_cycle(), make.ballot_cycle()
    vote_id = "2f1c7b0e-5d8a-4c3b-9e6f-0a1b2c3d4e5f"
    session.add_all(
        [
            _held(cycle_a.community_id, cycle_a.id, vote_id, None),
            _held(cycle_b.community_id, cycle_b.id, vote_id, "rejected"),
        ]
    )
    session.commit()
    assert held_statuses(session, cycle_a.community_id, [vote_id]) == {
        vote_id: ("held", "held.wrong_district")
    }
    assert held_statuses(session, cycle_b.community_id, [vote_id]) == {
        vote_id: ("invalid", "held.wrong_district.rejected")
    }
    # The same id held twice in one community is refused by the database itself.
    session.add(_held(cycle_a.community_id, cycle_a.id, vote_id, None))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_a_receipt_finds_each_communitys_vote_under_a_shared_id(client, session, make):
    from qr_codes.receipt_codes import receipt_number

    a, b = make_platform(session, make), make_platform(session, make)
    cycle_a, cycle_b = make.ballot_cycle(a.community), make.ballot_cycle(b.community)
    a_vote = web_vote(cycle_a, [project_ids(session, cycle_a)[0]])
    b_vote = web_vote(cycle_b, [project_ids(session, cycle_b)[0]], id=a_vote["id"])
    assert a.push(client, [a_vote]).status_code == b.push(client, [b_vote]).status_code == 200
    found = find_votes(session, [receipt_number(a_vote["id"])])
    assert sorted(f.community for f in found) == sorted([a.community.name, b.community.name])


@both_databases
def test_the_database_keys_votes_by_community_and_id(engine, session, make):
    assert inspect(engine).get_pk_constraint("vote")["constrained_columns"] == ["community_id", "id"]
    cycle_a, cycle_b = make.ballot_cycle(), make.ballot_cycle()
    at = cycle_a.voting_starts_at + timedelta(hours=1)

    def row(cycle) -> Vote:
        return Vote(
            id="7d3e2a10-1b4c-4f5e-8a9b-0c1d2e3f4a5b",
            community_id=cycle.community_id,
            cycle_id=cycle.id,
            voter_key="1" * 64,
            selections=[],
            channel="web",
            cast_at=at,
            received_at=at,
            content_hash="0" * 64,
            status="counted",
            source="test",
        )

    session.add_all([row(cycle_a), row(cycle_b)])
    session.commit()
    session.add(row(cycle_a))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
