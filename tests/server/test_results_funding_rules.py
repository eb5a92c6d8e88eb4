"""A cycle's results under each category's funding rule, from stored votes: the same
decisions as the domain computes, explained on the page, in the CSV and the JSON."""

from __future__ import annotations

import csv
import io
import json

from server.models import Category, Cycle, Project, Role
from server.services.cycle_rules import load_cycle_rules
from server.services.results import cycle_results
from tests.factories import sign_in
from voting import Channel, FundingOutcome, fund_ballot

from .test_results import store


def setup_cycle(make, session, **rule) -> tuple[Cycle, Category, list[Project]]:
    community = make.community()
    cycle = make.cycle(community)
    category = make.category(cycle, name="Зелені", budget=1_000_00, max_choices=3)
    for name, value in rule.items():
        setattr(category, name, value)
    projects = [make.project(category, cost=cost) for cost in (600_00, 300_00, 500_00)]
    session.commit()
    return cycle, category, projects


def ten_voters(cycle, session, a, b, c) -> None:
    # The hand-counted example of tests/voting/test_equal_shares.py.
    store(
        session,
        cycle,
        [(i, [a, c], i, Channel.WEB, None) for i in range(1, 7)]
        + [(i, [b, c], i, Channel.WEB, None) for i in range(7, 11)],
    )


def test_equal_shares_results_follow_each_ballot_and_explain_each_round(make, session):
    cycle, _category, (a, b, c) = setup_cycle(make, session, funding_method="equal_shares")
    ten_voters(cycle, session, a, b, c)
    [result] = cycle_results(session, cycle).categories
    assert {p.project_id for p in result.projects if p.funded} == {b.id, c.id}
    data = json.loads(json.dumps(cycle_results(session, cycle).as_dict()))["categories"][0]
    assert data["method"] == "equal_shares" and data["equal_shares"]["completion_steps"] == 25
    assert [(r["number"], r["price"]) for r in data["equal_shares"]["rounds"]] == [
        (c.number, 5_000.0),
        (b.number, 7_500.0),
    ]
    a_line = next(p for p in data["projects"] if p["project_id"] == a.id)
    assert a_line["reason"] == {"code": "funding.supporters_short", "money": 6 * 75_00, "cost": 600_00}
    # The same decision the domain makes from the raw ballots.
    rules = load_cycle_rules(session, cycle)
    ballots = [[a.id, c.id]] * 6 + [[b.id, c.id]] * 4
    [expected] = fund_ballot(rules.ballot, {a.id: 6, b.id: 4, c.id: 10}, ballots=ballots)
    assert [(p.project_id, p.outcome) for p in result.projects] == [
        (line.project_id, line.outcome) for line in expected.lines
    ]


def test_no_skip_exclusion_and_thresholds_are_explained_on_the_page_and_in_the_csv(make, session, client):
    cycle, category, (a, b, c) = setup_cycle(
        make, session, funding_method="greedy_no_skip", min_votes_share=2000
    )
    category.exclusive_groups = f"{a.number}, {c.number}"
    session.commit()
    # a: 6 votes, c: 5 (excluded by a), b: 4 fits; a fourth project with 1 vote is below 20 %.
    d = make.project(category, cost=10_00)
    session.commit()
    store(
        session,
        cycle,
        [(i, [a, c], i, Channel.WEB, None) for i in range(1, 6)]
        + [(6, [a], 6, Channel.WEB, None)]
        + [(i, [b], i, Channel.WEB, None) for i in range(7, 11)]
        + [(11, [d], 11, Channel.WEB, None)],
    )
    [result] = cycle_results(session, cycle).categories
    outcome = {p.project_id: p.outcome for p in result.projects}
    assert outcome == {
        a.id: FundingOutcome.FUNDED,
        c.id: FundingOutcome.EXCLUDED,
        b.id: FundingOutcome.FUNDED,
        d.id: FundingOutcome.TOO_FEW_VOTES,
    }
    assert result.funding.threshold == 3  # 20 % of 11 valid ballots, rounded up
    moderator = make.user(Role.COMMUNITY_MODERATOR, session.get(type(make.community()), cycle.community_id))
    sign_in(client, moderator)
    page = client.get(f"/console/cycles/{cycle.id}/results").get_data(as_text=True)
    assert f"профінансовано взаємовиключний з ним проєкт {a.number}" in page
    assert "Не профінансовано: 1 голос, а потрібно щонайменше 3." in page
    assert "до першого, що не вміщується" in page
    english = client.get(f"/console/cycles/{cycle.id}/results?lang=en").get_data(as_text=True)
    assert f"Not funded: project {a.number}, which excludes it, was funded." in english
    answer = client.get(f"/console/cycles/{cycle.id}/results.csv?lang=uk")
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert rows[0][-1] == "Причина"
    assert any(row[-1].startswith("Не профінансовано: профінансовано взаємовиключний") for row in rows[1:])


def test_leftover_moves_to_the_named_category_and_the_totals_still_add_up(make, session):
    cycle, small, (a, b, _c) = setup_cycle(make, session)
    large = make.category(cycle, name="Великі", budget=1_000_00)
    big = make.project(large, cost=1_200_00)
    small.leftover_to_id = large.id
    session.commit()
    store(session, cycle, [(1, [a, b, big], 1, Channel.WEB, None), (2, [big], 2, Channel.WEB, None)])
    results = cycle_results(session, cycle)
    by_id = {c.category_id: c for c in results.categories}
    assert by_id[small.id].moved_out == 100_00 and by_id[small.id].left == 0
    assert by_id[large.id].moved_in == 100_00 and by_id[large.id].funding.available == 1_100_00
    assert results.left == results.budget - results.allocated
    data = results.as_dict()
    assert data["categories"][0]["moved_to"] == large.id


def test_results_of_a_category_without_new_rules_are_unchanged(make, session):
    cycle, _category, (a, b, c) = setup_cycle(make, session)
    store(session, cycle, [(1, [a], 1, Channel.WEB, None), (2, [a, b], 2, Channel.WEB, None)])
    [result] = cycle_results(session, cycle).categories
    assert [(p.project_id, p.outcome.value, p.budget_left_after) for p in result.projects] == [
        (a.id, "funded", 400_00),
        (b.id, "funded", 100_00),
        (c.id, "too_few_votes", 100_00),
    ]


def test_a_recount_reproduces_every_method_and_catches_a_tampered_tally(make, session):
    from sqlalchemy import update

    from server.models import ProjectTally
    from server.results.publishing import verify_against_records
    from server.services.funding_recount import recount_funding
    from server.services.tally import recount_with_paper_tallies

    for method in ("greedy", "greedy_no_skip", "equal_shares", "equal_shares_comparison"):
        cycle, _category, (a, b, c) = setup_cycle(make, session, funding_method=method)
        ten_voters(cycle, session, a, b, c)
        recounted = recount_with_paper_tallies(session, cycle.id)
        ballots = [[a.id, c.id]] * 6 + [[b.id, c.id]] * 4
        assert recount_funding(session, cycle, recounted, ballots) == (), method
        assert verify_against_records(session, cycle).agrees, method
    # Someone lifts project a's running tally above c's: greedy now funds a first.
    cycle, _category, (a, b, c) = setup_cycle(make, session)
    ten_voters(cycle, session, a, b, c)
    session.execute(
        update(ProjectTally).where(ProjectTally.project_id == a.id).values(votes=ProjectTally.votes + 10)
    )
    session.commit()
    verification = verify_against_records(session, cycle)
    [difference] = verification.funding
    assert (set(difference.published), set(difference.recounted)) == ({a.id, b.id}, {c.id, b.id})
    assert not verification.agrees
    # Equal Shares follows ballots: a ballot the recount decided differently changes it.
    cycle, _category, (a, b, c) = setup_cycle(make, session, funding_method="equal_shares")
    ten_voters(cycle, session, a, b, c)
    fewer = [[a.id, c.id]] * 6 + [[c.id]] * 4
    [changed] = recount_funding(session, cycle, recount_with_paper_tallies(session, cycle.id), fewer)
    assert set(changed.recounted) == {c.id}


def test_spilno_count_cycle_funds_from_the_records_and_flags_a_tampered_tally(
    app, make, session, monkeypatch
):
    from click.testing import CliRunner
    from sqlalchemy import update

    from server.models import ProjectTally
    from spilno.cli import main

    cycle, _category, (a, b, c) = setup_cycle(make, session, funding_method="equal_shares")
    ten_voters(cycle, session, a, b, c)
    monkeypatch.setenv("SPILNO_DATABASE_URL", app.config["DATABASE_URL"])
    monkeypatch.setenv("SPILNO_SECRET_KEY", "s" * 32)
    monkeypatch.setenv("SPILNO_VOTER_KEY_SECRET", "ab" * 32)
    monkeypatch.setenv("SPILNO_SIGNING_KEY", app.config["SIGNING_KEY"])
    result = CliRunner().invoke(main, ["count", "cycle", str(cycle.id), "--json", "--lang", "en"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines[-1] == {"cycle_id": cycle.id, "agrees": True}
    a_line = next(line for line in lines if line.get("project_id") == a.id)
    assert a_line["outcome"] == "supporters_short"
    assert a_line["text"] == "Not funded: its supporters had 450.00 left; it costs 600.00."

    session.execute(update(ProjectTally).where(ProjectTally.project_id == b.id).values(votes=0))
    session.commit()
    result = CliRunner().invoke(main, ["count", "cycle", str(cycle.id)])
    assert result.exit_code == 1 and "НЕ збігається / DISAGREES" in result.output
    assert CliRunner().invoke(main, ["count", "cycle", "999999"]).exit_code == 1


def test_the_public_page_and_json_explain_equal_shares_once_published(make, session, client):
    from server.models import Community
    from server.results.publishing import publish_results

    cycle, _category, (a, b, c) = setup_cycle(make, session, funding_method="equal_shares")
    ten_voters(cycle, session, a, b, c)
    community = session.get(Community, cycle.community_id)
    address = f"/results/{community.slug}/{cycle.slug}"
    assert client.get(address).status_code == 404  # not yet published
    publish_results(session, cycle)
    session.commit()
    page = client.get(address).get_data(as_text=True)
    assert "Метод рівних часток: бюджет ділять порівну між виборцями категорії." in page
    assert "Раунди методу рівних часток" in page
    assert "Не профінансовано: у його прихильників залишалося 450 грн, а він коштує 600 грн." in page
    data = client.get(address + ".json").get_json()
    assert data["categories"][0]["equal_shares"]["rounds"][0]["number"] == c.number
