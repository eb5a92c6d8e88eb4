"""Storing votes: exactly once, one counted per voter, tallies kept true — on both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.models import Alarm, Cycle, Project, Vote
from server.services.ballot_box import VoteConflict, store_votes
from server.services.cycle_rules import load_cycle_rules
from server.services.tally import recount_from_records, running_tally, status_counts
from tests.conftest import both_databases
from tests.factories import stored_vote
from voting import Channel, VoteRecord

pytestmark = both_databases


def key(n: int) -> str:
    return f"{n:064x}"


def projects_of(session, cycle: Cycle) -> list[Project]:
    return list(session.scalars(select(Project).where(Project.cycle_id == cycle.id).order_by(Project.id)))


def vote(cycle: Cycle, voter: int, selections, minutes: int = 0, **kw) -> VoteRecord:
    return VoteRecord.create(
        vote_id=kw.pop("vote_id", str(uuid.uuid4())),
        cycle_id=cycle.id,
        selections=selections,
        channel=kw.pop("channel", Channel.WEB),
        cast_at=cycle.voting_starts_at + timedelta(hours=1, minutes=minutes),
        voter_key=key(voter),
        **kw,
    )


def store(session, cycle, records):
    rules = {cycle.id: load_cycle_rules(session, cycle)}
    result = store_votes(session, rules, records, source="test")
    session.commit()
    return result


def test_a_valid_vote_is_counted_and_tallied(session, make):
    cycle = make.ballot_cycle()
    small = projects_of(session, cycle)[0]
    [result] = store(session, cycle, [vote(cycle, 1, [small.id])])
    assert result.status == "counted"
    assert running_tally(session, cycle.id) == {small.id: 1}
    assert recount_from_records(session, cycle.id) == {small.id: 1}


def test_the_same_vote_sent_again_gets_the_same_answer_and_changes_nothing(session, make):
    cycle = make.ballot_cycle()
    p = projects_of(session, cycle)[0]
    record = vote(cycle, 1, [p.id])
    first = store(session, cycle, [record])
    second = store(session, cycle, [record, record])
    assert first == second[:1] and second[0] == second[1]
    assert session.scalar(select(Vote.id).where(Vote.id == record.vote_id))
    assert running_tally(session, cycle.id) == {p.id: 1}


def test_same_id_with_other_content_is_refused_and_nothing_of_the_batch_is_written(session, make):
    cycle = make.ballot_cycle()
    p1, p2 = projects_of(session, cycle)[:2]
    record = vote(cycle, 1, [p1.id])
    store(session, cycle, [record])
    forged = vote(cycle, 1, [p2.id], vote_id=record.vote_id)
    innocent = vote(cycle, 2, [p2.id])
    with pytest.raises(VoteConflict) as caught:
        store(session, cycle, [innocent, forged])
    session.rollback()
    assert [c.vote_id for c in caught.value.conflicts] == [record.vote_id]
    assert stored_vote(session, innocent.vote_id) is None
    assert running_tally(session, cycle.id) == {p1.id: 1}


def test_second_vote_of_a_voter_is_kept_as_duplicate_of_the_first(session, make):
    cycle = make.ballot_cycle()
    p1, p2 = projects_of(session, cycle)[:2]
    first = vote(cycle, 7, [p1.id], minutes=0, channel=Channel.KIOSK, device_id="T-0001")
    later = vote(cycle, 7, [p2.id], minutes=30)
    store(session, cycle, [first])
    [result] = store(session, cycle, [later])
    assert (result.status, result.counted_vote_id) == ("duplicate", first.vote_id)
    assert running_tally(session, cycle.id) == {p1.id: 1}


def test_an_earlier_vote_arriving_late_takes_the_counted_place(session, make):
    """A terminal offline for a day: its earlier vote wins over the online one."""
    cycle = make.ballot_cycle()
    p1, p2 = projects_of(session, cycle)[:2]
    online_later = vote(cycle, 9, [p2.id], minutes=120)
    kiosk_earlier = vote(cycle, 9, [p1.id], minutes=5, channel=Channel.KIOSK, device_id="T-0002")
    store(session, cycle, [online_later])
    store(session, cycle, [kiosk_earlier])
    assert stored_vote(session, kiosk_earlier.vote_id).status == "counted"
    replaced = stored_vote(session, online_later.vote_id)
    session.refresh(replaced)
    assert (replaced.status, replaced.counted_vote_id) == ("duplicate", kiosk_earlier.vote_id)
    assert running_tally(session, cycle.id) == {p1.id: 1} == recount_from_records(session, cycle.id)


def test_rule_breaking_and_out_of_window_votes_are_kept_invalid_and_do_not_block(session, make):
    cycle = make.ballot_cycle()
    small = [p for p in projects_of(session, cycle)][:6:2]  # three small-category projects
    too_many = vote(cycle, 3, [p.id for p in small], minutes=0)
    late = VoteRecord.create(
        cycle_id=cycle.id,
        selections=[small[0].id],
        channel=Channel.WEB,
        cast_at=cycle.voting_ends_at + timedelta(minutes=1),
        voter_key=key(3),
    )
    good = vote(cycle, 3, [small[0].id], minutes=10)
    results = store(session, cycle, [too_many, late, good])
    assert [(r.status, r.reason) for r in results] == [
        ("invalid", "ballot.too_many_in_category"),
        ("invalid", "vote.outside_window"),
        ("counted", None),
    ]
    assert status_counts(session, cycle.id) == {"counted": 1, "duplicate": 0, "invalid": 2}


def test_two_votes_in_the_same_batch_for_one_voter_count_once(session, make):
    cycle = make.ballot_cycle()
    p1, p2 = projects_of(session, cycle)[:2]
    a = vote(cycle, 4, [p1.id], minutes=10, vote_id="00000000-0000-4000-8000-000000000002")
    b = vote(cycle, 4, [p2.id], minutes=10, vote_id="00000000-0000-4000-8000-000000000001")
    results = store(session, cycle, [a, b])
    # Same millisecond: the smaller id counts.
    assert [r.status for r in results] == ["duplicate", "counted"]


def test_school_codes_count_once_per_code_and_only_in_school_contests(app, session, make):
    from qr_codes.codes import normalise
    from server.school.codes import issue_codes
    from server.school.keys import app_code_keys

    keys = app_code_keys(app)
    contest = make.school_contest()
    (card,) = issue_codes(session, contest, "6-А", 1, keys)
    code_id = keys.verifier(normalise(card.code))
    project = session.scalars(select(Project).where(Project.cycle_id == contest.cycle.id)).first()
    public = make.ballot_cycle()
    p1 = projects_of(session, public)[0]
    at = datetime.now(UTC) - timedelta(hours=2)

    def by_code(cycle_id: int, project_id: int, seconds: int) -> VoteRecord:
        return VoteRecord.create(
            cycle_id=cycle_id,
            selections=[project_id],
            channel=Channel.SCHOOL_CODE,
            cast_at=at + timedelta(seconds=seconds),
            code_id=code_id,
        )

    rules = {c.id: load_cycle_rules(session, c) for c in (contest.cycle, public)}
    results = store_votes(
        session,
        rules,
        [
            by_code(contest.cycle.id, project.id, 0),
            by_code(contest.cycle.id, project.id, 1),
            by_code(public.id, p1.id, 2),
        ],
        source="test",
    )
    session.commit()
    assert [(r.status, r.reason) for r in results][:2] == [
        ("counted", None),
        ("duplicate", results[1].reason),
    ]
    # A code in a resident's cycle was made up: no code is ever issued there.
    assert (results[2].status, results[2].reason) == ("invalid", "vote.code_not_allowed")


def test_a_blank_paper_sheet_counts_once_per_serial(session, make):
    cycle = make.ballot_cycle()
    p1, p2 = projects_of(session, cycle)[:2]
    at = cycle.voting_starts_at + timedelta(hours=2)

    def sheet(serial: str, project: int, seconds: int, channel: Channel = Channel.PAPER) -> VoteRecord:
        return VoteRecord.create(
            cycle_id=cycle.id,
            selections=[project],
            channel=channel,
            cast_at=at + timedelta(seconds=seconds),
            code_id=f"sheet_{serial}",
            device_id="S-0001",
        )

    results = store(
        session,
        cycle,
        [
            sheet("S0001-000042", p1.id, 0),
            sheet("S0001-000042", p2.id, 5),  # the same serial read again from another image
            sheet("S0001-000043", p2.id, 9),
            sheet("S0001-000044", p2.id, 9, channel=Channel.KIOSK),  # not paper: made up
            sheet("S0001-00004", p2.id, 9),  # not a serial
        ],
    )
    assert [(r.status, r.reason) for r in results][2:] == [
        ("counted", None),
        ("invalid", "vote.code_not_allowed"),
        ("invalid", "vote.code_not_allowed"),
    ]
    assert sorted(r.status for r in results[:2]) == ["counted", "duplicate"]


def test_tallies_by_hour_channel_and_device_follow_status_changes(session, make):
    from server.models import TurnoutTally

    cycle = make.ballot_cycle()
    p1 = projects_of(session, cycle)[0]
    store(session, cycle, [vote(cycle, 5, [p1.id], minutes=50)])
    store(session, cycle, [vote(cycle, 5, [p1.id], minutes=1, channel=Channel.KIOSK, device_id="T-0009")])
    rows = {
        (r.channel, r.device_id, r.status): r.votes
        for r in session.scalars(select(TurnoutTally).where(TurnoutTally.cycle_id == cycle.id))
        if r.votes
    }
    assert rows == {("web", "", "duplicate"): 1, ("kiosk", "T-0009", "counted"): 1}
    assert not session.scalars(select(Alarm)).all()


def test_paper_sheets_scanned_just_after_the_close_still_count(session, make):
    cycle = make.ballot_cycle()
    p1 = projects_of(session, cycle)[0]

    def sheet(serial: str, after_close: timedelta, channel: Channel = Channel.PAPER) -> VoteRecord:
        return VoteRecord.create(
            cycle_id=cycle.id,
            selections=[p1.id],
            channel=channel,
            cast_at=cycle.voting_ends_at + after_close,
            code_id=f"sheet_{serial}",
            device_id="S-0001",
        )

    results = store(
        session,
        cycle,
        [sheet("S0001-000001", timedelta(hours=14)), sheet("S0001-000002", timedelta(days=4))],
    )
    assert [(r.status, r.reason) for r in results] == [("counted", None), ("invalid", "vote.outside_window")]
