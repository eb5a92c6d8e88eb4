"""The school budget's core: contests, codes, and one vote per code."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qr_codes.codes import normalise
from server.models import AuditEvent, Community, Project, Vote, VotingCode
from server.school.classes import grades_text, normalise_class_name, parse_grades
from server.school.code_votes import CodeRefused, cast_by_code, find_code
from server.school.codes import (
    class_usage,
    issue_codes,
    printable_codes,
    replace_code,
    revoke_code,
)
from server.school.contests import ContestFields, create_contest
from server.school.keys import CodeKeys, app_code_keys
from server.services.validation import Refused


@pytest.fixture
def keys(app) -> CodeKeys:
    return app_code_keys(app)


def _projects(session, contest) -> list[int]:
    return list(
        session.scalars(select(Project.id).where(Project.cycle_id == contest.cycle.id).order_by(Project.id))
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("6а", ("6-А", 6)),
        ("6 - А", ("6-А", 6)),
        ("6-a", ("6-А", 6)),
        ("11", ("11", 11)),
        ("10Б", ("10-Б", 10)),
    ],
)
def test_class_names_are_written_one_way(raw, expected):
    assert normalise_class_name(raw) == expected


@pytest.mark.parametrize("raw", ["", "0-А", "13-А", "6-AB", "6-Я1", "шостий", "6" * 500, "6-\u202eА"])
def test_malformed_class_names_are_refused(raw):
    with pytest.raises(Refused):
        normalise_class_name(raw)


def test_grades_read_and_written_back():
    assert parse_grades("5-7, 9") == [5, 6, 7, 9]
    assert grades_text([5, 6, 7, 9]) == "5-7, 9"
    for bad in ["", "0-3", "7-5", "a", "5--7", "1" * 100]:
        with pytest.raises(Refused):
            parse_grades(bad)


def test_issued_codes_are_stored_only_as_verifier_and_sealed(session, make, keys):
    contest = make.school_contest()
    issued = issue_codes(session, contest, "6-А", 28, keys)
    session.commit()
    assert [c.number for c in issued] == list(range(1, 29))
    stored = session.scalars(select(VotingCode).where(VotingCode.contest_id == contest.id)).all()
    assert len(stored) == 28
    plain = {normalise(c.code) for c in issued}
    for row in stored:
        assert row.verifier not in plain and normalise(keys.unseal(row.sealed)) in plain
        assert keys.verifier(keys.unseal(row.sealed)) == row.verifier
    # The audit log says how many, never which.
    details = session.scalars(
        select(AuditEvent.details).where(AuditEvent.action == "school_codes.issue")
    ).all()
    assert details and all(str(c.code) not in str(details) for c in issued)


@pytest.mark.parametrize("count", [0, -1, 201, 100_000, None])
def test_class_count_out_of_range_is_refused_and_nothing_is_made(session, make, keys, count):
    contest = make.school_contest()
    with pytest.raises(Refused):
        issue_codes(session, contest, "6-А", count, keys)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(VotingCode)) == 0


def test_codes_for_a_grade_that_does_not_vote_are_refused(session, make, keys):
    contest = make.school_contest(grades=(5, 6))
    with pytest.raises(Refused):
        issue_codes(session, contest, "9-А", 3, keys)


def test_a_code_votes_once_and_is_then_spent(session, make, keys):
    contest = make.school_contest()
    (card,) = issue_codes(session, contest, "6-А", 1, keys)
    session.commit()
    projects = _projects(session, contest)
    stored = cast_by_code(session, keys, card.code.lower().replace("-", " "), projects[:2])
    session.commit()
    assert stored.status == "counted"
    with pytest.raises(CodeRefused) as refused:
        cast_by_code(session, keys, card.code, projects[:1])
    assert refused.value.code == "code.spent"
    assert "уже проголосували" in refused.value.message()
    session.rollback()
    usage = class_usage(session, contest)
    assert [(u.class_name, u.issued, u.used, u.unused) for u in usage] == [("6-А", 1, 1, 0)]
    assert printable_codes(session, contest, keys) == []


def test_a_typo_is_caught_before_any_lookup(session, make, keys):
    contest = make.school_contest()
    (card,) = issue_codes(session, contest, "6-А", 1, keys)
    typo = ("3" if card.code[0] != "3" else "4") + card.code[1:]
    with pytest.raises(CodeRefused) as refused:
        find_code(session, keys, typo)
    assert refused.value.counts_as_guess and refused.value.format_error is not None


def test_revoked_code_is_refused_and_its_replacement_votes(session, make, keys):
    contest = make.school_contest()
    lost, kept = issue_codes(session, contest, "7-Б", 2, keys)
    session.commit()
    code = session.get_one(VotingCode, lost.code_id)
    replacement = replace_code(session, contest, code, "загубив", keys)
    session.commit()
    assert replacement.number == lost.number and replacement.code != lost.code
    with pytest.raises(CodeRefused) as refused:
        find_code(session, keys, lost.code)
    assert refused.value.code == "code.revoked"
    assert cast_by_code(session, keys, replacement.code, _projects(session, contest)[:1]).status == "counted"
    session.commit()
    # A used code cannot be revoked: its vote stands.
    with pytest.raises(Refused):
        revoke_code(session, contest, session.get_one(VotingCode, replacement.code_id), "")
    reprint = printable_codes(session, contest, keys, class_name="7-Б")
    assert [c.code for c in reprint] == [kept.code]


def test_codes_outside_the_window_or_of_another_school_are_refused(session, make, keys):
    early = make.school_contest(open_now=False)
    (card,) = issue_codes(session, early, "5-А", 1, keys)
    with pytest.raises(CodeRefused) as refused:
        find_code(session, keys, card.code)
    assert refused.value.code == "code.not_yet"
    with pytest.raises(CodeRefused) as refused:
        find_code(session, keys, card.code, now=datetime.now(UTC) + timedelta(days=40))
    assert refused.value.code == "code.closed"
    other = make.school()
    with pytest.raises(CodeRefused) as refused:
        find_code(session, keys, card.code, school_id=other.id)
    assert refused.value.code == "code.other_school"


def test_unknown_code_is_refused(session, make, keys):
    from qr_codes.codes import new_code

    make.school_contest()
    with pytest.raises(CodeRefused) as refused:
        find_code(session, keys, new_code())
    assert refused.value.code == "code.unknown" and refused.value.counts_as_guess


def test_a_ballot_breaking_the_rule_stores_nothing(session, make, keys):
    contest = make.school_contest(max_choices=1)
    (card,) = issue_codes(session, contest, "6-А", 1, keys)
    session.commit()
    with pytest.raises(CodeRefused) as refused:
        cast_by_code(session, keys, card.code, _projects(session, contest)[:2])
    assert refused.value.code == "code.ballot" and refused.value.message()
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Vote)) == 0


def test_two_phones_with_one_code_at_once_give_one_vote(app, session, make, keys):
    contest = make.school_contest()
    (card,) = issue_codes(session, contest, "6-А", 1, keys)
    session.commit()
    projects = _projects(session, contest)
    engine = app.extensions["spilno.engine"]
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def phone() -> None:
        with Session(engine) as s:
            barrier.wait()
            try:
                cast_by_code(s, keys, card.code, projects[:1])
                s.commit()
                outcomes.append("counted")
            except CodeRefused as exc:
                s.rollback()
                outcomes.append(exc.code)

    threads = [threading.Thread(target=phone) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["code.spent"] * 5 + ["counted"]
    assert session.scalar(select(func.count()).select_from(Vote)) == 1


def test_contest_window_must_fall_within_the_programme(session, make):
    contest = make.school_contest(open_now=False)
    now = datetime.now(UTC)
    other_school = make.school(session.get_one(Community, contest.school.community_id))
    with pytest.raises(Refused):
        create_contest(
            session,
            contest.programme,
            other_school,
            ContestFields(50_000_00, 2, now + timedelta(days=2), now + timedelta(days=90), [5]),
        )


def _terminal_vote(contest, selections, *, code_id=None, voter_key=None, minutes_ago=5):
    from voting import Channel, VoteRecord

    return VoteRecord.create(
        cycle_id=contest.cycle.id,
        selections=selections,
        channel=Channel.SCHOOL_CODE if code_id else Channel.KIOSK,
        cast_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
        code_id=code_id,
        voter_key=voter_key,
        device_id="T-0009",
    )


def test_votes_arriving_from_terminals_are_judged_by_the_servers_code_list(session, make, keys):
    from server.services.ballot_box import store_votes
    from server.services.cycle_rules import load_cycle_rules
    from server.sync.recount import recount_cycle

    contest = make.school_contest()
    good, revoked = issue_codes(session, contest, "6-А", 2, keys)
    revoke_code(session, contest, session.get_one(VotingCode, revoked.code_id), "загубив")
    session.commit()
    projects = _projects(session, contest)
    records = [
        _terminal_vote(contest, projects[:1], code_id=keys.verifier(normalise(good.code))),
        # A terminal whose package predates the revocation accepted this one offline.
        _terminal_vote(contest, projects[:1], code_id=keys.verifier(normalise(revoked.code))),
        _terminal_vote(contest, projects[:1], code_id="f" * 32),  # never issued
        _terminal_vote(contest, projects[:1], voter_key="a" * 64),  # a resident's card
        # The good code again, used later on a second terminal: the earlier one counts.
        _terminal_vote(contest, projects[1:2], code_id=keys.verifier(normalise(good.code)), minutes_ago=1),
    ]
    rules = {contest.cycle.id: load_cycle_rules(session, contest.cycle)}
    stored = store_votes(session, rules, records, source="T-0009")
    session.commit()
    assert [(v.status, v.reason) for v in stored] == [
        ("counted", None),
        ("invalid", "vote.code_not_valid"),
        ("invalid", "vote.code_not_valid"),
        ("invalid", "vote.code_required"),
        ("duplicate", stored[4].reason),
    ]
    report = recount_cycle(session, contest.cycle.id)
    assert report.status_mismatches == [] and report.tally_agrees and report.votes == 5
