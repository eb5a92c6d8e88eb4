"""Which projects get funded, by the documented rule."""

from __future__ import annotations

from voting import BallotProject, CategoryRule, FundingOutcome, allocate

CATEGORY = CategoryRule(category_id=1, name="Малі проєкти", budget=1_000, max_choices=2)


def projects(*costs: int) -> list[BallotProject]:
    return [BallotProject(project_id=i + 1, category_id=1, cost=c) for i, c in enumerate(costs)]


def outcomes(lines):
    return [(line.project_id, line.outcome.value) for line in lines]


def test_most_voted_projects_are_funded_while_they_fit():
    lines = allocate(CATEGORY, projects(400, 400, 400), {1: 30, 2: 20, 3: 10})
    assert outcomes(lines) == [(1, "funded"), (2, "funded"), (3, "over_budget")]
    assert lines[-1].budget_left_after == 200


def test_a_project_that_does_not_fit_is_skipped_and_smaller_ones_still_funded():
    lines = allocate(CATEGORY, projects(700, 500, 300), {1: 30, 2: 20, 3: 10})
    assert outcomes(lines) == [(1, "funded"), (2, "over_budget"), (3, "funded")]


def test_ties_go_to_the_cheaper_project_then_the_earlier_one():
    lines = allocate(CATEGORY, projects(600, 500, 500), {1: 10, 2: 10, 3: 10})
    assert [line.project_id for line in lines] == [2, 3, 1]
    assert outcomes(lines) == [(2, "funded"), (3, "funded"), (1, "over_budget")]


def test_projects_without_enough_votes_are_not_funded():
    rule = CategoryRule(category_id=1, name="x", budget=10_000, min_votes_to_fund=5)
    lines = allocate(rule, projects(100, 100), {1: 5, 2: 4})
    assert outcomes(lines) == [(1, "funded"), (2, "too_few_votes")]
    assert allocate(CATEGORY, projects(100), {})[0].outcome is FundingOutcome.TOO_FEW_VOTES


def test_other_categories_projects_are_ignored():
    other = BallotProject(project_id=9, category_id=2, cost=1)
    assert [line.project_id for line in allocate(CATEGORY, [*projects(100), other], {9: 99})] == [1]
