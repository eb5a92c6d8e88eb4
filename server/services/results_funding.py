"""The funding part of a cycle's results: each category funded by its own rule, and each
project's decision with the numbers that explain it.

Greedy rules read only the per-project tallies. Equal Shares and a threshold given as a
share of valid ballots need the counted ballots themselves, so those categories read the
counted votes' selections (one indexed scan of the cycle's votes). Tally sheets carry
totals, not ballots: their votes count in the ranking and in greedy funding, and add
their valid ballots to every category's count for a share threshold, but they cannot
take part in Equal Shares, which follows each voter's money (the JSON says how many
ballots Equal Shares followed).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Cycle, Vote
from server.services.cycle_rules import ballot_for
from voting import (
    Ballot,
    CategoryFunding,
    FundingLine,
    FundingMethod,
    FundingOutcome,
    VoteStatus,
    explanation,
    fund_ballot,
)


@dataclass(frozen=True, slots=True)
class ProjectResult:
    rank: int
    project_id: int
    number: int
    title: str
    district: str
    cost: int  # kopiykas
    votes: int
    share: float  # of all counted voters, 0..1
    outcome: FundingOutcome
    budget_left_after: int  # kopiykas left in the category after this line
    line: FundingLine | None = None  # the decision with its numbers (why)

    @property
    def funded(self) -> bool:
        return self.outcome is FundingOutcome.FUNDED


@dataclass(frozen=True, slots=True)
class CategoryResult:
    category_id: int
    name: str
    budget: int
    min_votes_to_fund: int
    projects: tuple[ProjectResult, ...]
    funding: CategoryFunding | None = None
    numbers: dict[int, int] | None = None  # project id -> its public number, for the reasons
    moved_out: int = 0  # leftover handed to another category
    district: str = ""  # only this district's residents voted in the category ("": all)

    @property
    def allocated(self) -> int:
        return sum(p.cost for p in self.projects if p.funded)

    @property
    def moved_in(self) -> int:
        return self.funding.moved_in if self.funding else 0

    @property
    def left(self) -> int:
        return self.budget + self.moved_in - self.allocated - self.moved_out

    def number_of(self, project_id: int) -> int:
        return (self.numbers or {}).get(project_id, project_id)

    def reason(self, project: ProjectResult) -> tuple[str, dict[str, Any]] | None:
        """The decision as a message code and raw parameters (money in kopiykas)."""
        if project.line is None:
            return None
        return explanation(project.line, number=self.number_of, money=lambda amount: int(amount))


def counted_ballots(session: Session, cycle_id: int) -> list[list[int]]:
    return [
        list(selections)
        for selections in session.scalars(
            select(Vote.selections).where(Vote.cycle_id == cycle_id, Vote.status == VoteStatus.COUNTED.value)
        )
    ]


_CACHE_SIZE = 16
_CACHE_LOCK = threading.Lock()
_FUNDING_CACHE: OrderedDict[str, list[CategoryFunding]] = OrderedDict()


def needs_ballots(ballot: Ballot) -> bool:
    return any(FundingMethod(c.method).needs_ballots or c.min_votes_share for c in ballot.categories)


def fund_cycle(
    session: Session,
    cycle: Cycle,
    ballot: Ballot,
    votes: dict[int, int],
    sheet_ballots: int,
    ballots: list[list[int]] | None = None,
) -> list[CategoryFunding]:
    """Every category funded by its rule. `ballots`: the counted ballots, read from the
    stored statuses when not given (a recount passes the ones it decided itself)."""
    valid_ballots = None
    if needs_ballots(ballot):
        if ballots is None:
            ballots = counted_ballots(session, cycle.id)
        valid_ballots = {}
        for category in ballot.categories:
            own = {p.project_id for p in ballot.projects if p.category_id == category.category_id}
            in_category = sum(1 for selections in ballots if own.intersection(selections))
            # A district category counts only its own residents' ballots; a tally sheet's
            # ballots carry no residents (and sheets may not vote there at all).
            sheets = 0 if category.district else sheet_ballots
            valid_ballots[category.category_id] = in_category + sheets
    else:
        ballots = None  # greedy rules read only the totals
        return fund_ballot(ballot, votes, ballots=ballots, valid_ballots=valid_ballots)
    # Equal Shares takes seconds on a city's ballots and every results page asks for it:
    # the same rules, totals and ballots give the same funding, so it is kept by a
    # digest of all three (a cache only: a worker without it computes the same).
    digest = hashlib.sha256(
        repr((list(ballot.categories), list(ballot.projects), sorted(votes.items()), valid_ballots)).encode()
    )
    for selections in ballots:
        digest.update(repr(selections).encode())
    key = digest.hexdigest()
    with _CACHE_LOCK:
        if key in _FUNDING_CACHE:
            _FUNDING_CACHE.move_to_end(key)
            return _FUNDING_CACHE[key]
    funded = fund_ballot(ballot, votes, ballots=ballots, valid_ballots=valid_ballots)
    with _CACHE_LOCK:
        _FUNDING_CACHE[key] = funded
        while len(_FUNDING_CACHE) > _CACHE_SIZE:
            _FUNDING_CACHE.popitem(last=False)
    return funded


def category_results(
    session: Session,
    cycle: Cycle,
    counted_voters: int,
    votes: dict[int, int],
    sheet_ballots: int,
    titles: dict[int, tuple[str, str]],
) -> tuple[CategoryResult, ...]:
    """Every category funded by its rule. `votes`: per project, vote rows and tally
    sheets together; `sheet_ballots`: valid ballots on the current tally sheets;
    `titles`: project id -> (title, district)."""
    ballot = ballot_for(session, cycle)
    fundings = fund_cycle(session, cycle, ballot, votes, sheet_ballots)
    category_ids = {c.category_id for c in ballot.categories}
    numbers = {p.project_id: p.number or p.project_id for p in ballot.projects}
    names = {c.category_id: c.name for c in ballot.categories}
    results = []
    for category, funding in zip(ballot.categories, fundings, strict=True):
        moves = funding.moved_to is not None and funding.moved_to in category_ids
        results.append(
            CategoryResult(
                category_id=category.category_id,
                name=names[category.category_id],
                district=category.district,
                budget=category.budget,
                min_votes_to_fund=category.min_votes_to_fund,
                projects=tuple(
                    ProjectResult(
                        rank=line.rank,
                        project_id=line.project_id,
                        number=numbers[line.project_id],
                        title=titles[line.project_id][0],
                        district=titles[line.project_id][1],
                        cost=line.cost,
                        votes=line.votes,
                        share=line.votes / counted_voters if counted_voters else 0.0,
                        outcome=line.outcome,
                        budget_left_after=line.budget_left_after,
                        line=line,
                    )
                    for line in funding.lines
                ),
                funding=funding,
                numbers=numbers,
                moved_out=funding.leftover if moves else 0,
            )
        )
    return tuple(results)


def project_dict(category: CategoryResult, p: ProjectResult) -> dict[str, Any]:
    """The explanation fields of one project line in the JSON results."""
    data: dict[str, Any] = {}
    reason = category.reason(p)
    if reason is not None:
        data["reason"] = {"code": reason[0], **reason[1]}
    line = p.line
    if line is None:
        return data
    data["threshold"] = line.threshold
    if line.excluded_by is not None:
        data["excluded_by"] = category.number_of(line.excluded_by)
    if line.stopped_at is not None:
        data["stopped_at"] = category.number_of(line.stopped_at)
    if line.round is not None:
        data["round"] = line.round
        data["price"] = round(line.price or 0.0, 4)
    if line.supporters_money is not None:
        data["supporters_money"] = line.supporters_money
    return data


def category_dict(category: CategoryResult) -> dict[str, Any]:
    """The rule and the money's path for one category in the JSON results."""
    funding = category.funding
    if funding is None:
        return {}
    data: dict[str, Any] = {
        "method": funding.method.value,
        "tie_break": funding.tie_break.value,
        "lot_seed": funding.lot_seed,
        "threshold": funding.threshold,
        "valid_ballots": funding.valid_ballots,
        "moved_in": funding.moved_in,
        "moved_out": category.moved_out,
        "moved_to": funding.moved_to if category.moved_out or funding.moved_to else None,
    }
    if funding.voter_budget is not None or funding.method.needs_ballots:
        data["equal_shares"] = {
            "voter_budget": None if funding.voter_budget is None else round(funding.voter_budget, 4),
            "completion_steps": funding.completion_steps,
            "completion_capped": funding.completion_capped,
            "rounds": [
                {
                    "round": r.round,
                    "project_id": r.project_id,
                    "number": category.number_of(r.project_id),
                    "cost": r.cost,
                    "price": round(r.price, 4),
                    "full_payers": r.full_payers,
                    "partial_payers": r.partial_payers,
                    "supporters": r.supporters,
                }
                for r in funding.rounds
            ],
        }
    if funding.comparison is not None:
        data["comparison"] = {
            "prefer_equal_shares": funding.comparison.prefer_equal_shares,
            "prefer_greedy": funding.comparison.prefer_greedy,
            "chosen": funding.comparison.chosen.value,
        }
    return data
