"""Computing a cycle's results from the running tallies: funding, channels, devices, turnout."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select, update

from server.models import AuditEvent, Cycle, Project, ProjectTally, Vote
from server.results.publishing import verify_against_records
from server.services.ballot_box import store_votes
from server.services.cycle_rules import load_cycle_rules
from server.services.results import cycle_results
from server.services.tally import recount_from_records, status_counts
from voting import Channel, VoteRecord, allocate, decide, tally
from voting.counting import CountingInput
from voting.funding import FundingOutcome

FUNDED, OVER, FEW = FundingOutcome.FUNDED, FundingOutcome.OVER_BUDGET, FundingOutcome.TOO_FEW_VOTES


def key(n: int) -> str:
    return f"{n:064x}"


def store(session, cycle: Cycle, votes: list[tuple]) -> None:
    """votes: (voter, [projects], minutes after the start, channel, device)."""
    records = [
        VoteRecord.create(
            vote_id=str(uuid.uuid4()),
            cycle_id=cycle.id,
            selections=[p.id for p in chosen],
            channel=channel,
            cast_at=cycle.voting_starts_at + timedelta(minutes=minutes),
            voter_key=key(voter),
            device_id=device,
        )
        for voter, chosen, minutes, channel, device in votes
    ]
    store_votes(session, {cycle.id: load_cycle_rules(session, cycle)}, records, source="test")
    session.commit()


def projects_by_title(session, cycle: Cycle) -> dict[str, Project]:
    return {p.title: p for p in session.scalars(select(Project).where(Project.cycle_id == cycle.id))}


def seeded_cycle(session, make):
    """Six residents vote through four channels; one votes twice, one breaks the rule."""
    community = make.community()
    cycle = make.ballot_cycle(community)
    make.device(community, code="T-0001", name="ЦНАП на Подолі")
    make.device(community, kind="support_point", code="P-0001", name="Бібліотека №3")
    make.device(make.community(), code="T-0002", name="Термінал іншої громади")
    p = projects_by_title(session, cycle)
    s1, s2, s3, s4 = (p[f"Сквер {i}"] for i in range(1, 5))
    l1, l2, l3 = (p[f"Стадіон {i}"] for i in range(1, 4))
    web, kiosk, paper = Channel.WEB, Channel.KIOSK, Channel.PAPER
    store(
        session,
        cycle,
        [
            (1, [s1, s2, l1], 5, web, None),
            (2, [s1, l2], 20, kiosk, "T-0001"),
            (3, [s3, l2], 70, paper, "P-0001"),
            (4, [s1, s3, l3], 80, web, None),
            (5, [l2], 130, kiosk, "T-0001"),
            (1, [s4], 140, kiosk, "T-0001"),  # the same resident again: a duplicate
            (6, [s1, s2, s3], 150, web, None),  # three small projects where two are allowed
            (7, [s2], 200, kiosk, "T-0002"),  # a terminal this community has not registered
        ],
    )
    return cycle


def table(category) -> list[tuple]:
    return [(p.rank, p.title, p.votes, p.outcome, p.budget_left_after // 100) for p in category.projects]


def test_funding_table_ranks_by_votes_then_cost_and_funds_what_fits(session, make):
    cycle = seeded_cycle(session, make)
    results = cycle_results(session, cycle)

    small, large = results.categories
    assert (small.name, large.name) == ("Малі проєкти", "Великі проєкти")
    assert table(small) == [
        (1, "Сквер 1", 3, FUNDED, 800_000),
        (2, "Сквер 2", 2, FUNDED, 650_000),  # ties with Сквер 3, but costs less
        (3, "Сквер 3", 2, FUNDED, 450_000),
        (4, "Сквер 4", 0, FEW, 450_000),  # its only vote was a duplicate
    ]
    assert table(large) == [
        (1, "Стадіон 2", 3, FUNDED, 1_600_000),
        (2, "Стадіон 1", 1, FUNDED, 600_000),
        (3, "Стадіон 3", 1, OVER, 600_000),  # 1.8 mln does not fit in what is left
        (4, "Стадіон 4", 0, FEW, 600_000),
    ]
    assert (small.budget, small.allocated, small.left) == (900_000_00, 450_000_00, 450_000_00)
    assert (results.budget, results.allocated, results.left) == (
        3_900_000_00,
        2_850_000_00,
        1_050_000_00,
    )
    top = small.projects[0]
    assert top.share == 3 / 6 and top.number == projects_by_title(session, cycle)["Сквер 1"].number


def test_results_equal_a_recount_from_the_raw_records(session, make):
    cycle = seeded_cycle(session, make)
    results = cycle_results(session, cycle)

    # Recompute independently: every stored vote through the domain's counting rule.
    rows = session.execute(
        select(Vote.id, Vote.voter_key, Vote.cast_at, Vote.selections, Vote.status, Vote.status_reason).where(
            Vote.cycle_id == cycle.id
        )
    ).all()
    decisions = decide(
        CountingInput(r.id, r.voter_key, r.cast_at, r.status_reason if r.status == "invalid" else None)
        for r in rows
    )
    votes = tally({r.id: r.selections for r in rows}, decisions)
    rules = load_cycle_rules(session, cycle).ballot
    for category_rule, category in zip(rules.categories, results.categories, strict=True):
        expected = allocate(category_rule, rules.projects, votes)
        assert [(x.project_id, x.votes, x.outcome) for x in expected] == [
            (p.project_id, p.votes, p.outcome) for p in category.projects
        ]
    assert {p.project_id: p.votes for c in results.categories for p in c.projects if p.votes} == (
        recount_from_records(session, cycle.id)
    )
    assert results.voters.as_dict() == status_counts(session, cycle.id)


def test_duplicates_and_invalid_votes_are_counted_apart_and_never_tallied(session, make):
    cycle = seeded_cycle(session, make)
    results = cycle_results(session, cycle)

    assert results.voters.as_dict() == {"counted": 6, "duplicate": 1, "invalid": 1}
    by_channel = {c.channel: c.votes.as_dict() for c in results.channels}
    assert by_channel["kiosk"] == {"counted": 3, "duplicate": 1, "invalid": 0}
    assert by_channel["web"] == {"counted": 2, "duplicate": 0, "invalid": 1}
    # The invalid ballot chose Сквер 1, 2 and 3 and the duplicate chose Сквер 4: neither
    # shows in the table. Counted selections: 3 + 2 + 2 small, 3 + 1 + 1 large.
    assert sum(p.votes for c in results.categories for p in c.projects) == 12


def test_channel_device_and_turnout_totals_add_up(session, make):
    cycle = seeded_cycle(session, make)
    results = cycle_results(session, cycle)

    assert [c.channel for c in results.channels] == [c.value for c in Channel]
    assert sum(c.votes.counted for c in results.channels) == results.voters.counted
    assert sum(c.votes.total for c in results.channels) == 8
    devices = {d.device_id: (d.name, d.kind, d.votes.as_dict()) for d in results.devices}
    assert devices == {
        "P-0001": ("Бібліотека №3", "support_point", {"counted": 1, "duplicate": 0, "invalid": 0}),
        "T-0001": ("ЦНАП на Подолі", "terminal", {"counted": 2, "duplicate": 1, "invalid": 0}),
        # Registered only in another community: its name is not ours to show.
        "T-0002": (None, None, {"counted": 1, "duplicate": 0, "invalid": 0}),
    }
    web_votes = next(c.votes.total for c in results.channels if c.channel == "web")
    assert sum(d.votes.total for d in results.devices) + web_votes == 8
    assert sum(p.total for p in results.hourly) == results.voters.counted
    assert sum(p.total for p in results.daily) == results.voters.counted
    for channel in results.channels:
        assert sum(p.counted[channel.channel] for p in results.hourly) == channel.votes.counted


def test_turnout_is_hourly_in_kyiv_time_with_quiet_hours_as_zeros(session, make):
    cycle = make.ballot_cycle()
    cycle.voting_starts_at = datetime(2027, 5, 1, 6, 0, tzinfo=UTC)  # 09:00 in Kyiv (summer)
    cycle.voting_ends_at = datetime(2027, 5, 31, 6, 0, tzinfo=UTC)
    session.commit()
    square = projects_by_title(session, cycle)["Сквер 1"]
    store(
        session,
        cycle,
        [
            (1, [square], 10, Channel.WEB, None),
            (2, [square], 50, Channel.KIOSK, "T-0001"),
            (3, [square], 140, Channel.WEB, None),
        ],
    )

    results = cycle_results(session, cycle)
    assert [(p.start.isoformat(), p.counted["web"], p.counted["kiosk"]) for p in results.hourly] == [
        ("2027-05-01T09:00:00+03:00", 1, 1),
        ("2027-05-01T10:00:00+03:00", 0, 0),
        ("2027-05-01T11:00:00+03:00", 1, 0),
    ]
    assert results.turnout() == (results.hourly, "hour")


def test_a_long_cycle_is_charted_by_kyiv_day(session, make):
    cycle = make.ballot_cycle()
    cycle.voting_starts_at = datetime(2027, 5, 1, 6, 0, tzinfo=UTC)
    cycle.voting_ends_at = datetime(2027, 5, 31, 6, 0, tzinfo=UTC)
    session.commit()
    square = projects_by_title(session, cycle)["Сквер 1"]
    # 22:30 UTC on 1 May is already 01:30 on 2 May in Kyiv.
    store(session, cycle, [(1, [square], 16 * 60 + 30, Channel.WEB, None)])
    store(session, cycle, [(2, [square], 4 * 24 * 60, Channel.PAPER, "P-0009")])

    results = cycle_results(session, cycle)
    series, step = results.turnout()
    assert step == "day"
    assert [(p.start.date().isoformat(), p.total) for p in series] == [
        ("2027-05-01", 0),
        ("2027-05-02", 1),
        ("2027-05-03", 0),
        ("2027-05-04", 0),
        ("2027-05-05", 1),
    ]


def test_results_read_only_the_tallies_never_the_vote_rows(session, make, engine):
    """With a million votes stored, a scan of the vote table would miss the 100 ms budget."""
    cycle = seeded_cycle(session, make)
    statements: list[str] = []

    def capture(conn, cursor, statement, *args):
        statements.append(statement)

    touches_votes = re.compile(r"\bvote\b", re.IGNORECASE)
    event.listen(engine, "before_cursor_execute", capture)
    try:
        cycle_results(session, cycle)
        assert statements and not [s for s in statements if touches_votes.search(s)]
        verify_against_records(session, cycle)  # the slow path does read them
        assert [s for s in statements if touches_votes.search(s)]
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    session.rollback()


def test_verification_agrees_until_a_tally_is_tampered_with(session, make):
    cycle = seeded_cycle(session, make)
    assert verify_against_records(session, cycle).agrees
    square = projects_by_title(session, cycle)["Сквер 1"]
    session.execute(
        update(ProjectTally)
        .where(ProjectTally.cycle_id == cycle.id, ProjectTally.project_id == square.id)
        .values(votes=ProjectTally.votes + 5)
    )
    verification = verify_against_records(session, cycle)
    session.commit()
    assert not verification.agrees
    [difference] = verification.projects
    assert (difference.title, difference.tallied, difference.recounted) == ("Сквер 1", 8, 3)
    assert verification.tallied_statuses == verification.recounted_statuses
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.community_id == cycle.community_id))
    assert list(actions).count("results.verify") == 2


def test_as_dict_is_json_with_iso_dates_and_integer_kopiykas(session, make):
    cycle = seeded_cycle(session, make)
    data = json.loads(json.dumps(cycle_results(session, cycle).as_dict()))

    assert set(data) == {
        "cycle",
        "computed_at",
        "voters",
        "budget",
        "categories",
        "channels",
        "devices",
        "turnout",
    }
    assert data["cycle"]["id"] == cycle.id and data["cycle"]["results_published_at"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", data["cycle"]["voting_starts_at"])
    assert data["budget"] == {"total": 390_000_000, "allocated": 285_000_000, "left": 105_000_000}
    first = data["categories"][0]["projects"][0]
    assert set(first) == {
        "rank",
        "project_id",
        "number",
        "title",
        "district",
        "cost",
        "votes",
        "share",
        "outcome",
        "funded",
        "budget_left_after",
        "reason",
        "threshold",
    }
    assert first["reason"] == {"code": "funding.funded"}
    assert (first["title"], first["cost"], first["outcome"], first["funded"], first["share"]) == (
        "Сквер 1",
        10_000_000,
        "funded",
        True,
        0.5,
    )
    assert data["channels"][0] == {"channel": "web", "counted": 2, "duplicate": 0, "invalid": 1}
    hour = data["turnout"]["hourly"][0]
    assert hour["start"].endswith(("+02:00", "+03:00")) and set(hour["counted"]) == {c.value for c in Channel}
    assert data["turnout"]["timezone"] == "Europe/Kyiv"
    assert sum(d["total"] for d in data["turnout"]["daily"]) == data["voters"]["counted"] == 6


def test_a_cycle_without_votes_has_empty_but_complete_results(session, make):
    cycle = make.ballot_cycle()
    results = cycle_results(session, cycle)
    assert results.voters.total == 0 and results.hourly == () and results.devices == ()
    assert all(p.outcome is FEW and p.share == 0 for c in results.categories for p in c.projects)
    assert results.allocated == 0 and results.left == results.budget
