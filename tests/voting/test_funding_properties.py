"""Promises every method keeps whatever the votes: never overspend, at most one of an
exclusive group, nothing below the threshold, the same result whatever the ballots' order."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from voting import BallotProject, CategoryRule, FundingMethod, FundingOutcome, fund_category

METHODS = [m.value for m in FundingMethod]
TIES = ["cheaper", "number", "lot"]


@st.composite
def elections(draw):
    count = draw(st.integers(min_value=1, max_value=7))
    costs = draw(st.lists(st.integers(min_value=1, max_value=500), min_size=count, max_size=count))
    projects = [BallotProject(i + 1, 1, cost, number=10 + i) for i, cost in enumerate(costs)]
    ballots = draw(
        st.lists(st.lists(st.integers(min_value=1, max_value=count), min_size=1, max_size=count), max_size=30)
    )
    group = tuple(draw(st.sets(st.integers(min_value=1, max_value=count), max_size=3)))
    rule = CategoryRule(
        category_id=1,
        name="x",
        budget=draw(st.integers(min_value=1, max_value=1200)),
        max_choices=count,
        method=draw(st.sampled_from(METHODS)),
        tie_break=draw(st.sampled_from(TIES)),
        lot_seed="s",
        min_votes_to_fund=draw(st.integers(min_value=0, max_value=4)),
        exclusive_groups=(group,) if len(group) >= 2 else (),
        completion_step=draw(st.integers(min_value=1, max_value=50)),
    )
    return rule, projects, ballots


def tally(ballots):
    votes: dict[int, int] = {}
    for ballot in ballots:
        for p in set(ballot):
            votes[p] = votes.get(p, 0) + 1
    return votes


@settings(max_examples=300, deadline=None)
@given(elections(), st.randoms(use_true_random=False))
def test_every_method_keeps_its_promises(election, rng):
    rule, projects, ballots = election
    funding = fund_category(rule, projects, tally(ballots), ballots=ballots)
    assert funding.spent <= funding.available
    funded = set(funding.funded)
    for group in rule.exclusive_groups:
        assert len(funded & set(group)) <= 1
    for line in funding.lines:
        if line.outcome is FundingOutcome.FUNDED:
            assert line.votes >= max(rule.min_votes_to_fund, 1)
        if line.outcome is FundingOutcome.EXCLUDED:
            assert line.excluded_by in funded
    shuffled = list(ballots)
    rng.shuffle(shuffled)
    again = fund_category(rule, list(reversed(projects)), tally(shuffled), ballots=shuffled)
    assert again.funded == funding.funded
    assert [(line.project_id, line.outcome) for line in again.lines] == [
        (line.project_id, line.outcome) for line in funding.lines
    ]


@settings(max_examples=200, deadline=None)
@given(elections())
def test_greedy_never_leaves_a_fitting_eligible_project_unfunded(election):
    rule, projects, ballots = election
    rule = replace(rule, method="greedy")
    funding = fund_category(rule, projects, tally(ballots), ballots=ballots)
    for line in funding.lines:
        if line.outcome is FundingOutcome.OVER_BUDGET:
            assert line.cost > funding.leftover
