"""The Method of Equal Shares with its completion, on examples counted by hand."""

from __future__ import annotations

import pytest

from voting import BallotProject, CategoryRule, FundingMethod, FundingOutcome, explain, fund_category


def rule(**kw) -> CategoryRule:
    base = {"category_id": 1, "name": "Зелений", "budget": 1_000, "max_choices": 5, "method": "equal_shares"}
    return CategoryRule(**base | {"completion_step": 1} | kw)


def named(**costs: int) -> list[BallotProject]:
    return [BallotProject(i + 1, 1, cost, name, i + 1) for i, (name, cost) in enumerate(costs.items())]


def counted(ballots: list[list[int]]) -> dict[int, int]:
    votes: dict[int, int] = {}
    for ballot in ballots:
        for p in ballot:
            votes[p] = votes.get(p, 0) + 1
    return votes


# Ten voters with 100 each. C (500, all ten) costs each 50; then A (600, six voters) and
# B (300, four) are out of reach until the completion raises every voter's budget to 125:
# after C each holds 75, and B's four supporters pay exactly 300.
A, B, C = 1, 2, 3
TEN = [[A, C]] * 6 + [[B, C]] * 4


def test_equal_shares_buys_the_cheapest_price_per_unit_and_completion_adds_what_fits():
    funding = fund_category(rule(), named(A=600, B=300, C=500), counted(TEN), ballots=TEN)
    assert funding.funded == [C, B]
    assert funding.voter_budget == 125
    assert funding.completion_steps == 25
    assert [(r.round, r.project_id, r.price, r.full_payers, r.partial_payers) for r in funding.rounds] == [
        (1, C, 50.0, 10, 0),
        (2, B, 75.0, 4, 0),
    ]
    a_line = next(line for line in funding.lines if line.project_id == A)
    assert a_line.outcome is FundingOutcome.SUPPORTERS_SHORT
    assert a_line.supporters_money == 6 * 75  # less than its 600
    assert explain(a_line, "en", money=str) == "Not funded: its supporters had 450 left; it costs 600."
    c_line = next(line for line in funding.lines if line.project_id == C)
    assert (
        explain(c_line, money=lambda m: f"{m:.0f}")
        == "Профінансовано в раунді 1: кожен прихильник сплатив до 50."
    )


def test_completion_stops_before_the_result_would_overspend():
    # D (400) would fit in what C leaves, so budgets are raised; at 150 each, A (600) is
    # bought after C and the result (1 100) overspends: the outcome is the run at 149.
    D = 2
    ballots = [[A, C]] * 6 + [[C, D]] * 4
    funding = fund_category(rule(), named(A=600, D=400, C=500), counted(ballots), ballots=ballots)
    assert funding.funded == [C]
    assert (funding.voter_budget, funding.completion_steps) == (149, 49)
    d_line = next(line for line in funding.lines if line.project_id == D)
    assert (d_line.outcome, d_line.supporters_money) == (FundingOutcome.SUPPORTERS_SHORT, 4 * 99)


def test_no_completion_when_nothing_more_could_fit():
    ballots = [[A, C]] * 6 + [[C]] * 4
    funding = fund_category(rule(), named(A=600, B=300, C=500), counted(ballots), ballots=ballots)
    assert funding.funded == [C]
    assert (funding.voter_budget, funding.completion_steps) == (100, 0)


def test_voters_with_too_little_money_pay_all_they_have():
    # Four voters hold 100 each. R (270, voters 1-3) costs each 90. Then P (105, voters 3
    # and 4): voter 3 has only 10 left and pays it; voter 4 pays the other 95.
    ballots = [[1], [1], [1, 2], [2]]
    funding = fund_category(rule(budget=400), named(R=270, P=105), counted(ballots), ballots=ballots)
    assert funding.funded == [1, 2]
    assert [(r.project_id, r.price, r.full_payers, r.partial_payers) for r in funding.rounds] == [
        (1, 90.0, 3, 0),
        (2, 95.0, 1, 1),
    ]


def test_an_exclusive_partner_is_never_bought_after_its_group_mate():
    ballots = [[1, 2]] * 5 + [[3]] * 5
    funding = fund_category(
        rule(exclusive_groups=((1, 2),)), named(P=400, Q=400, R=400), counted(ballots), ballots=ballots
    )
    assert funding.funded == [1, 3]
    q = next(line for line in funding.lines if line.project_id == 2)
    assert (q.outcome, q.excluded_by) == (FundingOutcome.EXCLUDED, 1)


def test_projects_below_the_threshold_take_no_part():
    ballots = [[1]] * 9 + [[2]]
    funding = fund_category(rule(min_votes_to_fund=2), named(P=100, Q=10), counted(ballots), ballots=ballots)
    assert funding.funded == [1]
    assert funding.lines[1].outcome is FundingOutcome.TOO_FEW_VOTES


def test_the_comparison_keeps_equal_shares_unless_more_voters_prefer_greedy():
    # Six voters want X (1 000), four want Y and Z (400 each): Equal Shares buys Y for
    # the four; greedy buys X for the six, and six prefer it.
    ballots = [[1]] * 6 + [[2, 3]] * 4
    funding = fund_category(
        rule(method="equal_shares_comparison"),
        named(X=1_000, Y=400, Z=400),
        counted(ballots),
        ballots=ballots,
    )
    assert funding.comparison is not None
    assert (funding.comparison.prefer_equal_shares, funding.comparison.prefer_greedy) == (4, 6)
    assert funding.comparison.chosen is FundingMethod.GREEDY
    assert funding.funded == [1]
    # Four voters wanting X instead: Equal Shares stays.
    ballots = [[1]] * 4 + [[2, 3]] * 6
    funding = fund_category(
        rule(method="equal_shares_comparison"),
        named(X=1_000, Y=400, Z=400),
        counted(ballots),
        ballots=ballots,
    )
    assert funding.comparison.chosen is FundingMethod.EQUAL_SHARES
    assert set(funding.funded) == {2, 3}


def test_equal_shares_refuses_to_guess_without_ballots():
    with pytest.raises(ValueError, match="every counted ballot"):
        fund_category(rule(), named(P=10), {1: 3})


def test_no_ballots_funds_nothing_and_explains_it():
    funding = fund_category(rule(), named(P=10), {}, ballots=[])
    assert funding.funded == [] and funding.lines[0].outcome is FundingOutcome.TOO_FEW_VOTES


def test_the_order_of_ballots_never_changes_the_result():
    ballots = [[1, 2], [2, 3], [3], [1], [1, 3], [2], [1, 2, 3]] * 7
    projects = named(P=300, Q=250, R=350)
    first = fund_category(rule(), projects, counted(ballots), ballots=ballots)
    again = fund_category(rule(), projects, counted(ballots), ballots=list(reversed(ballots)))
    assert first.funded == again.funded and first.rounds == again.rounds


def test_a_completion_that_would_take_millions_of_raises_stops_and_says_so(monkeypatch):
    import voting.equal_shares as equal_shares

    # One voter wants a project costing nearly the whole budget; 99 others want a cheap
    # one. One unit at a time, that voter would need ~900 000 raises: the count stops.
    monkeypatch.setattr(equal_shares, "MAX_RAISES", 50)
    monkeypatch.setattr(equal_shares.equal_shares_with_completion, "__defaults__", (equal_shares.MAX_RAISES,))
    ballots = [[1]] + [[2]] * 99
    funding = fund_category(
        rule(budget=1_000_000), named(BIG=900_000, SMALL=50_000), counted(ballots), ballots=ballots
    )
    assert funding.completion_capped and funding.completion_steps == 50
    assert funding.funded == [2] and funding.spent <= funding.available


def test_the_cap_is_far_above_what_real_counts_need():
    from voting.equal_shares import MAX_RAISES

    assert MAX_RAISES >= 10 * 843  # Assen 2024, the most of the golden elections
