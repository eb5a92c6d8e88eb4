"""The server takes a support point's personal paper vote (a voter key, no sheet code)
and counts one vote per resident across paper and terminals, by the counting rule."""

from __future__ import annotations

import time

from sqlalchemy import select

from paper.sheet_records import SheetRow
from paper.sheet_vote import sheet_vote
from server.models import Community, Vote
from tests.server.test_sync_support import enrolled_device, project_ids, voter_key


def personal_sheet_vote(point, cycle_id: int, selections: list[int], key: str, minutes_ago: int) -> dict:
    """The record support_point.commit makes of a personal sheet that became ready
    `minutes_ago` minutes ago."""
    ready_at_ms = int((time.time() - 60 * minutes_ago) * 1000)
    serial = f"{point.code.replace('-', '')}-000001"
    row = SheetRow(cycle_id, serial, 1, ready_at_ms, "ready", (), tuple(selections), ready_at_ms, None, None)
    return sheet_vote(row, point.code, voter_key=key).canonical_body()


def test_a_personal_paper_vote_and_the_same_residents_kiosk_vote_count_once(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    community = session.get(Community, cycle.community_id)
    point = enrolled_device(client, session, make, community, kind="support_point")
    terminal = enrolled_device(client, session, make, community)

    paper = personal_sheet_vote(point, cycle.id, [p[0]], voter_key(5), minutes_ago=5)
    assert paper["code"] is None and paper["channel"] == "paper"
    point.append(paper)
    response = point.push()
    assert response.status_code == 200, response.get_json()
    assert [s["status"] for s in response.get_json()["statuses"]] == ["counted"]

    # The same resident had voted at a terminal earlier, offline until now: that vote counts.
    kiosk = terminal.cast(cycle.id, [p[2]], voter=5, minutes_ago=30)
    assert terminal.push().status_code == 200
    session.expire_all()
    stored = {v.id: v for v in session.scalars(select(Vote).where(Vote.cycle_id == cycle.id))}
    assert stored[kiosk.payload["id"]].status == "counted"
    assert (stored[paper["id"]].status, stored[paper["id"]].voter_key) == ("duplicate", voter_key(5))
    assert stored[paper["id"]].channel == "paper"


def test_a_later_kiosk_vote_of_a_resident_who_voted_on_paper_is_the_duplicate(client, make, session):
    cycle = make.ballot_cycle()
    p = project_ids(session, cycle)
    community = session.get(Community, cycle.community_id)
    point = enrolled_device(client, session, make, community, kind="support_point")
    terminal = enrolled_device(client, session, make, community)
    paper = personal_sheet_vote(point, cycle.id, [p[0]], voter_key(6), minutes_ago=60)
    point.append(paper)
    assert point.push().status_code == 200
    kiosk = terminal.cast(cycle.id, [p[2]], voter=6, minutes_ago=1)
    [status] = terminal.push().get_json()["statuses"]
    assert (status["vote_id"], status["status"], status["counted_vote_id"]) == (
        kiosk.payload["id"],
        "duplicate",
        paper["id"],
    )
