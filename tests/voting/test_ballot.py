"""The ballot rule: what a voter may choose, and what a moderator may not set."""

from __future__ import annotations

import pytest

from voting import Ballot, BallotProject, CategoryRule, check_ballot_rule, check_category_rule, message

SMALL = CategoryRule(1, "Малі проєкти", budget=900, min_choices=0, max_choices=2, max_project_cost=300)
LARGE = CategoryRule(2, "Великі проєкти", budget=3000, min_choices=1, max_choices=1, budget_limited=True)
BALLOT = Ballot(
    categories=[SMALL, LARGE],
    projects=[
        BallotProject(1, 1, 100),
        BallotProject(2, 1, 200),
        BallotProject(3, 1, 300),
        BallotProject(4, 2, 2500),
        BallotProject(5, 2, 3500),
    ],
    min_total=1,
    max_total=3,
)


def codes(selections):
    return [p.code for p in BALLOT.check(selections)]


@pytest.mark.parametrize(
    ("selections", "expected"),
    [
        ([1, 4], []),
        ([1, 2, 4], []),
        ([4], []),
        ([1, 2, 3, 4], ["ballot.too_many_in_category", "ballot.too_many_total"]),
        ([1], ["ballot.too_few_in_category"]),
        ([], ["ballot.empty", "ballot.too_few_in_category"]),
        ([1, 1, 4], ["ballot.repeated_project"]),
        ([99, 4], ["ballot.unknown_project"]),
        ([5], ["ballot.over_category_budget"]),
        ([4, 5], ["ballot.too_many_in_category", "ballot.over_category_budget"]),
    ],
)
def test_selections_are_checked_against_the_rule(selections, expected):
    assert codes(selections) == expected


def test_live_feedback_says_how_many_more_and_how_much_budget_is_left():
    small, large = BALLOT.status([1])
    assert (small.chosen, small.choices_left, small.budget_left) == (1, 1, None)
    assert (large.chosen, large.choices_left, large.budget_left) == (0, 1, 3000)
    small, large = BALLOT.status([1, 2, 4])
    assert small.choices_left == 0 and large.choices_left == 0  # total limit reached too


@pytest.mark.parametrize(
    ("rule", "costs", "expected"),
    [
        (CategoryRule(1, "x", 1000, 2, 1), [100, 100], ["rule.max_below_min"]),
        (CategoryRule(1, "x", 50, 0, 1), [100, 200], ["rule.budget_below_cheapest"]),
        (CategoryRule(1, "x", 0, 0, 1), [], ["rule.budget_not_positive"]),
        (CategoryRule(1, "x", 1000, 0, 0), [], ["rule.max_zero"]),
        (CategoryRule(1, "x", 1000, 3, 4), [100, 100], ["rule.min_above_projects"]),
        (CategoryRule(1, "x", 1000, 0, 1, max_project_cost=150), [100, 200], ["rule.project_over_cap"]),
        (CategoryRule(1, "x", 1000, -1, 1), [], ["rule.negative"]),
        (CategoryRule(1, "x", 1000, 0, 2), [100, 900], []),
    ],
)
def test_impossible_category_rules_are_refused(rule, costs, expected):
    assert [p.code for p in check_category_rule(rule, costs)] == expected


def test_a_total_minimum_above_what_categories_allow_is_refused():
    ballot = Ballot(categories=[SMALL], projects=[BallotProject(1, 1, 100)], min_total=3)
    assert "rule.total_min_above_categories" in [p.code for p in check_ballot_rule(ballot)]


def test_every_problem_has_a_message_in_both_languages():
    problems = BALLOT.check([1, 1, 2, 3, 99, 5]) + check_category_rule(CategoryRule(1, "x", 50, 2, 1), [100])
    for problem in problems:
        uk, en = message(problem.code, "uk", **problem.params), message(problem.code, "en", **problem.params)
        assert uk and en and uk != en
