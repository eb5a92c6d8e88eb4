"""Which vote counts: the rule, and its independence from arrival order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from voting import CountingInput, VoteStatus, decide, tally

T0 = datetime(2027, 5, 1, 9, 0, tzinfo=UTC)


def v(vote_id: str, voter: str, minute: int, invalid: str | None = None) -> CountingInput:
    return CountingInput(vote_id, voter, T0 + timedelta(minutes=minute), invalid)


def test_earliest_valid_vote_of_a_voter_counts_and_the_rest_are_duplicates():
    decisions = decide([v("b", "key:1", 5), v("a", "key:1", 9), v("c", "key:1", 1, "ballot.empty")])
    assert decisions["b"].status is VoteStatus.COUNTED
    assert (decisions["a"].status, decisions["a"].counted_vote_id) == (VoteStatus.DUPLICATE, "b")
    assert (decisions["c"].status, decisions["c"].reason) == (VoteStatus.INVALID, "ballot.empty")


def test_same_millisecond_is_broken_by_the_smaller_vote_id():
    decisions = decide([v("f", "key:1", 3), v("e", "key:1", 3)])
    assert decisions["e"].status is VoteStatus.COUNTED
    assert decisions["f"].counted_vote_id == "e"


def test_different_voters_never_affect_each_other():
    decisions = decide([v("a", "key:1", 3), v("b", "key:2", 1), v("c", "code:X", 0)])
    assert {d.status for d in decisions.values()} == {VoteStatus.COUNTED}


def test_tally_counts_only_counted_votes():
    votes = [v("a", "key:1", 1), v("b", "key:1", 2), v("c", "key:2", 1, "vote.outside_window")]
    decisions = decide(votes)
    assert tally({"a": [10, 11], "b": [12], "c": [10]}, decisions) == {10: 1, 11: 1}


arrivals = st.lists(
    st.tuples(
        st.sampled_from(["key:1", "key:2", "key:3", "code:A"]),
        st.integers(min_value=0, max_value=4),  # few distinct times: many ties
        st.sampled_from([None, None, None, "ballot.empty"]),
        st.lists(st.integers(min_value=1, max_value=5), max_size=3, unique=True),
    ),
    max_size=25,
)


@settings(max_examples=300)
@given(arrivals, st.randoms(use_true_random=False))
def test_any_order_of_arrival_gives_the_same_decisions_and_tally(rows, rng):
    votes = [
        v(f"{i:08d}-vote", voter, minute, invalid) for i, (voter, minute, invalid, _s) in enumerate(rows)
    ]
    selections = {vote.vote_id: row[3] for vote, row in zip(votes, rows, strict=True)}
    shuffled = list(votes)
    rng.shuffle(shuffled)
    first, second = decide(votes), decide(shuffled)
    assert first == second
    assert tally(selections, first) == tally(selections, second)
    # Exactly one counted vote per voter who has any valid vote.
    voters_with_valid = {vote.voter for vote in votes if vote.invalid_reason is None}
    counted = [vid for vid, d in first.items() if d.status is VoteStatus.COUNTED]
    assert len(counted) == len(voters_with_valid)
