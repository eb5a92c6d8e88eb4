"""A whole cycle's funding: every category by its own rule, leftovers moved on.

A category whose rule names a `leftover_to` category hands what it did not spend to that
one, which is counted after it with the extra money (check_leftover_chain refuses
circles). Categories are otherwise independent, so their order on the ballot does not
change anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .ballot import Ballot, CategoryRule
from .funding import CategoryFunding, fund_category


def funding_order(categories: Sequence[CategoryRule]) -> list[CategoryRule]:
    """Every category after all the categories whose leftover it receives."""
    by_id = {c.category_id: c for c in categories}
    senders: dict[int, list[int]] = {c.category_id: [] for c in categories}
    for category in categories:
        if category.leftover_to in by_id and category.leftover_to != category.category_id:
            senders[category.leftover_to].append(category.category_id)
    ordered: list[CategoryRule] = []
    placed: set[int] = set()

    def place(category_id: int, path: frozenset[int]) -> None:
        if category_id in placed:
            return
        if category_id in path:
            raise ValueError(f"category {category_id}: leftovers move round in a circle")
        for sender in senders[category_id]:
            place(sender, path | {category_id})
        placed.add(category_id)
        ordered.append(by_id[category_id])

    for category in categories:
        place(category.category_id, frozenset())
    return ordered


def fund_ballot(
    ballot: Ballot,
    votes: Mapping[int, int],
    *,
    ballots: Sequence[Iterable[int]] | None = None,
    valid_ballots: Mapping[int, int] | None = None,
) -> list[CategoryFunding]:
    """Every category's funding, in the ballot's order of categories. `ballots`: each
    counted ballot's selections (needed by Equal Shares and share thresholds);
    `valid_ballots`: per category, counted ballots choosing in it, when known apart."""
    ballot_sets = None if ballots is None else [frozenset(b) for b in ballots]
    moved_in: dict[int, int] = {}
    results: dict[int, CategoryFunding] = {}
    for category in funding_order(ballot.categories):
        result = fund_category(
            category,
            ballot.projects,
            votes,
            ballots=ballot_sets,
            valid_ballots=None if valid_ballots is None else valid_ballots.get(category.category_id, 0),
            moved_in=moved_in.get(category.category_id, 0),
        )
        results[category.category_id] = result
        if category.leftover_to is not None and category.leftover_to in {
            c.category_id for c in ballot.categories
        }:
            moved_in[category.leftover_to] = moved_in.get(category.leftover_to, 0) + result.leftover
    return [results[c.category_id] for c in ballot.categories]
