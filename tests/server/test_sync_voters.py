"""Terminals learn who has already voted elsewhere, in increments."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from server.models import Community, utcnow
from server.services.ballot_box import store_votes
from server.services.cycle_rules import load_cycle_rules
from server.sync import views as sync_views
from server.sync import voters as voters_module
from voting import Channel, VoteRecord

from .test_sync_support import enrolled_device, project_ids, voter_key


def online_votes(session, cycle, voters, selections):
    rules = {cycle.id: load_cycle_rules(session, cycle)}
    records = [
        VoteRecord.create(
            vote_id=str(uuid.uuid4()),
            cycle_id=cycle.id,
            selections=selections,
            channel=Channel.WEB,
            cast_at=cycle.voting_starts_at + timedelta(hours=1),
            voter_key=voter_key(v),
        )
        for v in voters
    ]
    store_votes(session, rules, records, source="api:1")
    session.commit()


def keys_of(body):
    return {key for group in body["voted"] for key in group["voter_keys"]}


def test_a_terminal_learns_who_voted_online_and_then_only_what_is_new(client, make, session):
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, community)
    online_votes(session, cycle, [1, 2, 3], [p[0]])

    first = terminal.get("/api/v1/sync/voters")
    assert first.status_code == 200
    body = first.get_json()
    assert keys_of(body) == {voter_key(v) for v in (1, 2, 3)} and body["more"] is False

    online_votes(session, cycle, [4], [p[0]])
    later = terminal.get(f"/api/v1/sync/voters?since={body['cursor']}").get_json()
    # Repeats from the overlap are allowed; nothing is ever missed.
    assert voter_key(4) in keys_of(later)


def test_invalid_votes_and_other_communities_are_not_listed(client, make, session):
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, community)
    online_votes(session, cycle, [5], [p[0], p[2], p[4]])  # three small projects: too many
    other = make.ballot_cycle()
    online_votes(session, other, [6], [project_ids(session, other)[0]])
    body = terminal.get("/api/v1/sync/voters").get_json()
    assert keys_of(body) == set()


def test_a_long_list_comes_in_pages(client, make, session, monkeypatch):
    monkeypatch.setattr(voters_module, "PAGE", 2)
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    terminal = enrolled_device(client, session, make, community)
    online_votes(session, cycle, range(10, 15), [project_ids(session, cycle)[0]])
    seen, cursor, pages = set(), "", 0
    while True:
        body = terminal.get(f"/api/v1/sync/voters?since={cursor}").get_json()
        seen |= keys_of(body)
        cursor, pages = body["cursor"], pages + 1
        if not body["more"]:
            break
    assert seen == {voter_key(v) for v in range(10, 15)} and pages == 3


@pytest.mark.parametrize("since", ["abc", "-1", "1:not-a-uuid", "9" * 40, "9" * 18, "1;DROP TABLE vote"])
def test_a_cursor_the_server_did_not_give_is_refused(client, make, session, since):
    terminal = enrolled_device(client, session, make)
    response = terminal.get(f"/api/v1/sync/voters?since={since}")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "voters.since"


def test_voters_need_a_signed_request(client, make, session):
    assert client.get("/api/v1/sync/voters").status_code == 401


def test_a_caught_up_terminal_is_not_sent_the_same_voters_again_after_the_overlap(
    client, make, session, monkeypatch
):
    cycle = make.ballot_cycle()
    community = session.get(Community, cycle.community_id)
    p = project_ids(session, cycle)
    terminal = enrolled_device(client, session, make, community)
    online_votes(session, cycle, range(1, 41), [p[0]])
    body = terminal.get("/api/v1/sync/voters").get_json()
    assert len(keys_of(body)) == 40

    # Within the minute, a late commit may still land behind the cursor: repeats allowed.
    assert len(keys_of(terminal.get(f"/api/v1/sync/voters?since={body['cursor']}").get_json())) == 40
    # A minute on, nothing new arrived: the next rounds send nothing, round after round.
    later = utcnow() + voters_module.OVERLAP + timedelta(seconds=5)
    monkeypatch.setattr(sync_views, "utcnow", lambda: later)
    cursor = body["cursor"]
    for _ in range(3):
        page = terminal.get(f"/api/v1/sync/voters?since={cursor}").get_json()
        cursor = page["cursor"]
    assert keys_of(page) == set() and page["more"] is False
    online_votes(session, cycle, [99], [p[0]])
    assert voter_key(99) in keys_of(terminal.get(f"/api/v1/sync/voters?since={cursor}").get_json())
