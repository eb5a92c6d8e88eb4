"""Funding methods, tie-breaks, thresholds, cost bounds, exclusive groups and leftovers:
each promise tried at its boundary, with the explanation every project gets."""

from __future__ import annotations

import pytest

from voting import (
    Ballot,
    BallotProject,
    CategoryRule,
    FundingOutcome,
    check_ballot_rule,
    check_category_rule,
    explain,
    fund_ballot,
    fund_category,
)
from voting.funding_rules import lot_ticket

F, OVER, FEW, STOP, EXCL, BOUNDS, SHORT = (
    FundingOutcome.FUNDED,
    FundingOutcome.OVER_BUDGET,
    FundingOutcome.TOO_FEW_VOTES,
    FundingOutcome.STOPPED,
    FundingOutcome.EXCLUDED,
    FundingOutcome.COST_OUT_OF_BOUNDS,
    FundingOutcome.SUPPORTERS_SHORT,
)


def rule(**kw) -> CategoryRule:
    return CategoryRule(**{"category_id": 1, "name": "Малі", "budget": 1_000, "max_choices": 5} | kw)


def projects(*costs: int, category: int = 1, first: int = 1) -> list[BallotProject]:
    return [
        BallotProject(project_id=first + i, category_id=category, cost=c, number=first + i)
        for i, c in enumerate(costs)
    ]


def outcomes(funding) -> list[tuple[int, FundingOutcome]]:
    return [(line.project_id, line.outcome) for line in funding.lines]


# --- fund what fits, or stop at the first that does not -----------------------------


def test_no_skip_stops_at_the_first_project_that_does_not_fit():
    funding = fund_category(
        rule(method="greedy_no_skip"), projects(600, 500, 300, 100), {1: 40, 2: 30, 3: 20, 4: 1}
    )
    assert outcomes(funding) == [(1, F), (2, OVER), (3, STOP), (4, STOP)]
    assert [line.stopped_at for line in funding.lines] == [None, None, 2, 2]
    assert funding.leftover == 400
    assert (
        explain(funding.lines[2], "en") == "Not considered: funding stopped at project 2, which did not fit."
    )


def test_the_default_still_skips_and_funds_smaller_projects():
    funding = fund_category(rule(), projects(600, 500, 300, 100), {1: 40, 2: 30, 3: 20, 4: 1})
    assert outcomes(funding) == [(1, F), (2, OVER), (3, F), (4, F)]
    assert funding.lines[1].budget_left_after == 400
    assert explain(funding.lines[1]) == "Не профінансовано: коштує 5.00 грн, а залишалося 4.00 грн."


def test_no_skip_with_a_threshold_still_explains_projects_below_it():
    funding = fund_category(
        rule(method="greedy_no_skip", min_votes_to_fund=10), projects(900, 500, 50), {1: 40, 2: 30, 3: 9}
    )
    assert outcomes(funding) == [(1, F), (2, OVER), (3, FEW)]


# --- tie-breaks -------------------------------------------------------------------


def test_equal_votes_go_to_the_cheaper_project_by_default():
    funding = fund_category(rule(), projects(600, 500), {1: 10, 2: 10})
    assert outcomes(funding) == [(2, F), (1, OVER)]


def test_equal_votes_go_to_the_earlier_registered_project_when_the_rule_says_so():
    funding = fund_category(rule(tie_break="number"), projects(600, 500), {1: 10, 2: 10})
    assert outcomes(funding) == [(1, F), (2, OVER)]


def test_the_number_is_the_public_one_not_the_database_id():
    swapped = [BallotProject(1, 1, 600, number=7), BallotProject(2, 1, 500, number=3)]
    funding = fund_category(rule(tie_break="number"), swapped, {1: 10, 2: 10})
    assert [line.project_id for line in funding.lines] == [2, 1]


def test_a_lot_is_decided_by_the_published_seed_and_anyone_can_redo_it():
    many = projects(*[100] * 12)
    votes = {p.project_id: 5 for p in many}
    first = fund_category(rule(tie_break="lot", lot_seed="2027-05-01 засідання"), many, votes)
    again = fund_category(rule(tie_break="lot", lot_seed="2027-05-01 засідання"), list(reversed(many)), votes)
    other = fund_category(rule(tie_break="lot", lot_seed="інше зерно"), many, votes)
    assert first.funded == again.funded
    assert first.funded != other.funded  # 12 projects, 10 funded: two seeds agreeing is 1 in 66
    redone = sorted(many, key=lambda p: lot_ticket("2027-05-01 засідання", p.number))[:10]
    assert set(first.funded) == {p.project_id for p in redone}


def test_votes_still_outrank_any_tie_break():
    for tie_break, seed in (("cheaper", ""), ("number", ""), ("lot", "s")):
        funding = fund_category(rule(tie_break=tie_break, lot_seed=seed), projects(900, 100), {1: 11, 2: 10})
        assert funding.lines[0].project_id == 1


# --- thresholds -------------------------------------------------------------------


@pytest.mark.parametrize("ballots, needed", [(1000, 100), (999, 100), (991, 100), (990, 99), (0, 1)])
def test_a_share_threshold_rounds_up_and_never_drops_below_one_vote(ballots, needed):
    funding = fund_category(
        rule(min_votes_share=1000), projects(10, 10), {1: needed, 2: needed - 1}, valid_ballots=ballots
    )
    assert funding.threshold == needed
    assert outcomes(funding) == [(1, F), (2, FEW)]
    assert explain(funding.lines[1], "en") == f"Not funded: {needed - 1} votes, at least {needed} needed."


def test_the_higher_of_the_number_and_the_share_applies():
    funding = fund_category(
        rule(min_votes_share=500, min_votes_to_fund=80), projects(10), {1: 79}, valid_ballots=1000
    )
    assert funding.threshold == 80


def test_valid_ballots_of_a_category_are_counted_from_the_ballots():
    ballots = [[1], [1, 2], [9], [2]]  # 9 is another category's: that ballot does not count here
    funding = fund_category(rule(min_votes_share=5000), projects(10, 10), {1: 2, 2: 2}, ballots=ballots)
    assert (funding.valid_ballots, funding.threshold) == (3, 2)


def test_a_share_threshold_without_the_ballots_count_is_refused():
    with pytest.raises(ValueError, match="share threshold"):
        fund_category(rule(min_votes_share=100), projects(10), {1: 5})


# --- cost bounds ------------------------------------------------------------------


def test_projects_outside_the_cost_bounds_are_never_funded_and_never_saved():
    bounded = rule(min_project_cost=100, max_project_cost=500)
    funding = fund_category(bounded, projects(99, 100, 500, 501), {1: 9, 2: 8, 3: 7, 4: 6})
    assert outcomes(funding) == [(1, BOUNDS), (2, F), (3, F), (4, BOUNDS)]
    assert [p.code for p in check_category_rule(bounded, [99])] == ["rule.project_under_floor"]
    assert [p.code for p in check_category_rule(bounded, [501])] == ["rule.project_over_cap"]
    assert check_category_rule(bounded, [100, 500]) == []
    assert "rule.cost_bounds_order" in [
        p.code for p in check_category_rule(rule(min_project_cost=600, max_project_cost=500), [])
    ]


# --- mutually exclusive projects ---------------------------------------------------


def test_at_most_one_project_of_an_exclusive_group_is_funded():
    grouped = rule(exclusive_groups=((1, 2),))
    funding = fund_category(grouped, projects(300, 300, 300), {1: 30, 2: 20, 3: 10})
    assert outcomes(funding) == [(1, F), (2, EXCL), (3, F)]
    assert funding.lines[1].excluded_by == 1
    assert explain(funding.lines[1]) == "Не профінансовано: профінансовано взаємовиключний з ним проєкт 1."


def test_a_group_member_that_did_not_fit_does_not_exclude_the_others():
    grouped = rule(exclusive_groups=((1, 2),))
    funding = fund_category(grouped, projects(1500, 300), {1: 30, 2: 20})
    assert outcomes(funding) == [(1, OVER), (2, F)]


@pytest.mark.parametrize("groups", [((1,),), ((1, 1),), ((1, 2), (2, 3))])
def test_malformed_exclusive_groups_are_refused(groups):
    assert "rule.exclusive_group" in [p.code for p in check_category_rule(rule(exclusive_groups=groups), [])]


def test_an_exclusive_group_naming_another_categorys_project_is_refused():
    ballot = Ballot([rule(exclusive_groups=((1, 9),))], [*projects(10), BallotProject(9, 2, 10)])
    assert "rule.exclusive_group_unknown" in [p.code for p in check_ballot_rule(ballot)]


# --- leftovers --------------------------------------------------------------------


def two_categories(**first) -> Ballot:
    return Ballot(
        [rule(**first), rule(category_id=2, name="Великі", budget=1_000)],
        [*projects(600, 300), *projects(1_200, 900, category=2, first=3)],
    )


def test_leftover_stays_unless_the_rule_moves_it():
    votes = {1: 10, 2: 9, 3: 10, 4: 9}
    stays = fund_ballot(two_categories(), votes)
    assert [f.funded for f in stays] == [[1, 2], [4]]
    moved = fund_ballot(two_categories(leftover_to=2), votes)
    assert moved[0].leftover == 100 and moved[0].moved_to == 2
    assert (moved[1].moved_in, moved[1].available) == (100, 1_100)
    assert moved[1].funded == [4]  # 1 100 still does not buy the 1 200 project
    more = fund_ballot(two_categories(leftover_to=2, budget=1_200), votes)
    assert (more[1].available, more[1].funded) == (1_300, [3])


def test_a_target_listed_first_is_still_counted_after_its_senders():
    ballot = Ballot(
        [rule(category_id=2, name="Великі", budget=1_000), rule(leftover_to=2, budget=1_200)],
        [*projects(600, 300), *projects(1_200, 900, category=2, first=3)],
    )
    result = fund_ballot(ballot, {1: 10, 2: 9, 3: 10, 4: 9})
    assert [f.category_id for f in result] == [2, 1]
    assert result[0].moved_in == 300 and result[0].funded == [3]


def test_leftovers_moving_in_a_circle_or_nowhere_are_refused():
    circle = Ballot([rule(leftover_to=2), rule(category_id=2, name="B", leftover_to=1)], projects(10))
    assert "rule.leftover_cycle" in [p.code for p in check_ballot_rule(circle)]
    with pytest.raises(ValueError, match="circle"):
        fund_ballot(circle, {1: 1})
    nowhere = Ballot([rule(leftover_to=7)], projects(10))
    assert "rule.leftover_unknown" in [p.code for p in check_ballot_rule(nowhere)]
    assert "rule.leftover_to_self" in [p.code for p in check_category_rule(rule(leftover_to=1), [10])]


# --- hostile rules ----------------------------------------------------------------


@pytest.mark.parametrize(
    "change, code",
    [
        ({"method": "dictator"}, "rule.unknown_method"),
        ({"tie_break": "coin"}, "rule.unknown_tie_break"),
        ({"tie_break": "lot"}, "rule.lot_seed_missing"),
        ({"min_votes_share": 10_001}, "rule.share_range"),
        ({"min_votes_share": -1}, "rule.share_range"),
        ({"completion_step": 0}, "rule.negative"),
    ],
)
def test_impossible_funding_rules_are_refused_with_a_reason(change, code):
    assert code in [p.code for p in check_category_rule(rule(**change), [10])]


def test_an_unknown_method_never_silently_falls_back():
    with pytest.raises(ValueError):
        fund_category(rule(method="dictator"), projects(10), {1: 1})
