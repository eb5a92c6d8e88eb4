"""Which vote counts.

THE RULE. Per cycle, each voter (a voter key, or a school code) has at most one counted
vote. Among that voter's *valid* votes, the one cast earliest counts, comparing the cast
time in UTC to the millisecond; if two were cast in the same millisecond, the one with
the smaller vote id (as a lowercase UUID string) counts. Every other valid vote of that
voter is kept with status `duplicate` and the id of the counted vote. A vote that breaks
the ballot rule or was cast outside the voting window is kept with status `invalid` and
its reason; it never counts and never blocks a valid vote.

The rule reads only the votes' own content, never when or in which order they arrived,
so a recount from the raw records always reproduces the published result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class VoteStatus(StrEnum):
    COUNTED = "counted"
    DUPLICATE = "duplicate"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class CountingInput:
    vote_id: str
    voter: str
    cast_at: datetime
    invalid_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    status: VoteStatus
    reason: str | None = None
    counted_vote_id: str | None = None  # for duplicates: the vote that counts instead


def precedence(vote: CountingInput) -> tuple[datetime, str]:
    """Smaller wins: earliest cast, then smallest id."""
    return (vote.cast_at, vote.vote_id)


def decide_for_voter(votes: Iterable[CountingInput]) -> dict[str, Decision]:
    """Decisions for all votes of one voter."""
    decisions: dict[str, Decision] = {}
    valid = []
    for vote in votes:
        if vote.invalid_reason is not None:
            decisions[vote.vote_id] = Decision(VoteStatus.INVALID, vote.invalid_reason)
        else:
            valid.append(vote)
    if valid:
        winner = min(valid, key=precedence)
        for vote in valid:
            if vote is winner:
                decisions[vote.vote_id] = Decision(VoteStatus.COUNTED)
            else:
                decisions[vote.vote_id] = Decision(
                    VoteStatus.DUPLICATE, "duplicate.same_voter", winner.vote_id
                )
    return decisions


def decide(votes: Iterable[CountingInput]) -> dict[str, Decision]:
    """Decisions for every vote of a cycle, by the rule above."""
    by_voter: dict[str, list[CountingInput]] = defaultdict(list)
    for vote in votes:
        by_voter[vote.voter].append(vote)
    decisions: dict[str, Decision] = {}
    for voter_votes in by_voter.values():
        decisions.update(decide_for_voter(voter_votes))
    return decisions


def tally(
    selections_by_vote: Mapping[str, Iterable[int]], decisions: Mapping[str, Decision]
) -> dict[int, int]:
    """Votes per project, from counted votes only."""
    counts: dict[int, int] = defaultdict(int)
    for vote_id, selections in selections_by_vote.items():
        if decisions[vote_id].status is VoteStatus.COUNTED:
            for project_id in selections:
                counts[project_id] += 1
    return dict(counts)
