"""One limit on how many projects a vote may choose, the same in the rule and the record.

A vote the ballot rule accepts must be a vote the record, a device's log and the server
can carry: before this limit was shared, a 55-choice vote was accepted at a terminal and
then reported as a broken log entry.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from voting import Ballot, BallotProject, CategoryRule, VoteRecord, check_ballot_rule, check_category_rule
from voting.record import MAX_SELECTIONS

T = datetime(2027, 5, 1, 9, 0, tzinfo=UTC)


def big_ballot(categories: int, per_category: int, max_total: int | None = None) -> Ballot:
    rules = [
        CategoryRule(category_id=c, name=f"К{c}", budget=10**9, max_choices=per_category)
        for c in range(1, categories + 1)
    ]
    projects = [
        BallotProject(project_id=c * 10_000 + i, category_id=c, cost=1)
        for c in range(1, categories + 1)
        for i in range(per_category + 1)
    ]
    return Ballot(rules, projects, max_total=max_total)


def choose(ballot: Ballot, count: int, category: int = 1) -> list[int]:
    return [p.project_id for p in ballot.projects if p.category_id == category][:count]


def record_of(selections: list[int]) -> VoteRecord:
    return VoteRecord.create(
        cycle_id=1, selections=selections, channel="kiosk", cast_at=T, voter_key="a" * 64, device_id="T-1"
    )


def test_the_limit_is_what_the_console_allows_a_category():
    assert MAX_SELECTIONS == 1000


def test_a_55_choice_vote_as_in_wieliczka_is_accepted_and_survives_the_record():
    ballot = big_ballot(1, 64)
    chosen = choose(ballot, 55)
    assert ballot.check(chosen) == []
    record = record_of(chosen)
    assert VoteRecord.from_canonical_body(record.canonical_body()) == record


def test_a_vote_of_exactly_the_limit_is_accepted_everywhere():
    ballot = big_ballot(1, MAX_SELECTIONS)
    chosen = choose(ballot, MAX_SELECTIONS)
    assert ballot.check(chosen) == []
    record = record_of(chosen)
    assert VoteRecord.from_canonical_body(record.canonical_body()) == record


def test_one_more_than_the_limit_is_refused_by_the_rule_and_the_record():
    ballot = big_ballot(1, MAX_SELECTIONS)
    chosen = choose(ballot, MAX_SELECTIONS + 1)
    codes = {p.code for p in ballot.check(chosen)}
    assert {"ballot.too_many_in_category", "ballot.too_many_total"} <= codes
    with pytest.raises(ValueError, match="at most 1000"):
        record_of(chosen)
    body = record_of(chosen[:-1]).canonical_body()
    body["selections"] = sorted(chosen)
    with pytest.raises(ValueError):
        VoteRecord.from_canonical_body(body)


def test_categories_that_together_allow_more_than_the_limit_still_stop_at_it():
    # Two categories of 600 each: the rule may not accept 1 001 choices a record refuses.
    ballot = big_ballot(2, 600)
    chosen = choose(ballot, 600, 1) + choose(ballot, 401, 2)
    problems = ballot.check(chosen)
    assert [p.as_dict() for p in problems] == [{"code": "ballot.too_many_total", "limit": MAX_SELECTIONS}]
    assert ballot.check(chosen[:-1]) == []
    # Live feedback on the terminal says no more may be chosen.
    assert sum(s.choices_left for s in ballot.status(chosen[:-1])) == 0


def test_a_cycle_limit_below_the_record_limit_still_applies():
    ballot = big_ballot(1, 10, max_total=3)
    assert [p.code for p in ballot.check(choose(ballot, 4))] == ["ballot.too_many_total"]


def test_hostile_repeats_beyond_the_limit_are_refused():
    ballot = big_ballot(1, 5)
    problems = {p.code for p in ballot.check([10_000] * (MAX_SELECTIONS + 1))}
    assert "ballot.too_many_total" in problems and "ballot.repeated_project" in problems


@pytest.mark.parametrize("max_choices, refused", [(MAX_SELECTIONS, False), (MAX_SELECTIONS + 1, True)])
def test_a_category_rule_above_the_limit_cannot_be_saved(max_choices, refused):
    rule = CategoryRule(category_id=1, name="x", budget=100, max_choices=max_choices)
    codes = [p.code for p in check_category_rule(rule, [10])]
    assert ("rule.max_above_limit" in codes) is refused


def test_a_cycle_total_above_the_limit_cannot_be_saved():
    ballot = big_ballot(1, 5, max_total=MAX_SELECTIONS + 1)
    assert "rule.max_above_limit" in [p.code for p in check_ballot_rule(ballot)]
