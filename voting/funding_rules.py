"""How a category turns votes into funded projects: the method and the tie-break.

The words a community uses for its rule, as values a moderator picks on the cycle's
form, a terminal reads from its package and a recount reads from the database.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the ballot module reads the enums below to check a rule
    from .ballot import BallotProject


class FundingMethod(StrEnum):
    # Rank by votes; fund each project that fits in what is left, skip one that does
    # not and go on (most Ukrainian and Polish cities; the default).
    GREEDY = "greedy"
    # Rank by votes; stop at the first project that does not fit, leaving the rest of
    # the money unspent (Gdynia, Poznań, Wrocław).
    GREEDY_NO_SKIP = "greedy_no_skip"
    # The Method of Equal Shares, completed by raising every voter's budget one unit at a
    # time while the result still fits the real budget (Świecie, Assen; equalshares.net).
    EQUAL_SHARES = "equal_shares"
    # Equal Shares as above, then compared with GREEDY: the outcome more voters prefer
    # (more money spent on projects they chose) is the result (Wieliczka).
    EQUAL_SHARES_COMPARISON = "equal_shares_comparison"

    @property
    def needs_ballots(self) -> bool:
        """Equal Shares follows each voter's money, so it needs every ballot, not totals."""
        return self in (FundingMethod.EQUAL_SHARES, FundingMethod.EQUAL_SHARES_COMPARISON)


class TieBreak(StrEnum):
    CHEAPER = "cheaper"  # the cheaper project first (the same money funds more); the default
    NUMBER = "number"  # the earlier registered project (lower number) first (Gdynia 2020, Łódź 2024)
    LOT = "lot"  # a lot: a published seed orders the projects, so anyone can redo the draw


def lot_ticket(seed: str, number: int) -> str:
    """A project's lot: SHA-256 of the published seed and its public number. Lower wins.

    Both inputs are published with the results, so anyone can recompute the draw; the
    seed is fixed when the rule is saved, before any vote is known."""
    return hashlib.sha256(f"{seed}:{number}".encode()).hexdigest()


def public_number(project: BallotProject) -> int:
    return project.number if project.number is not None else project.project_id


def tie_key(tie_break: TieBreak | str, project: BallotProject, seed: str = "") -> tuple[int | str, int]:
    """The order among projects with equal votes: smaller first."""
    tie_break = TieBreak(tie_break)
    if tie_break is TieBreak.NUMBER:
        return (public_number(project), project.project_id)
    if tie_break is TieBreak.LOT:
        return (lot_ticket(seed, public_number(project)), project.project_id)
    return (project.cost, project.project_id)


def rank_key(
    project: BallotProject, votes: int, tie_break: TieBreak | str = TieBreak.CHEAPER, seed: str = ""
) -> tuple[int | str, ...]:
    """Most votes first; equal votes by the category's tie-break."""
    return (-votes, *tie_key(tie_break, project, seed))
