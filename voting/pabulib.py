"""Real elections from Pabulib (pabulib.org), read and counted by our own rules.

A `.pb` file has three `;`-separated sections: META (budget, `rule`,
`min_project_score_threshold`, ...), PROJECTS (project_id, cost, votes, selected, ...)
and VOTES (one approval ballot per voter, the projects in a `vote` column). Reading takes
the text, not a path, so the domain stays free of I/O; `spilno count pabulib` reads files.

The votes are counted from the ballots, not copied from the file's `votes` column, and
each ballot counts a project once (a few real ballots list one twice).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .ballot import BallotProject, CategoryRule
from .funding import CategoryFunding, fund_category
from .funding_rules import FundingMethod, TieBreak

# Pabulib's rule names and ours. Equal Shares is completed by one unit ("add1").
RULES: dict[str, FundingMethod] = {
    "greedy": FundingMethod.GREEDY,
    "greedy-threshold": FundingMethod.GREEDY,
    "greedy-no-skip": FundingMethod.GREEDY_NO_SKIP,
    "equalshares/add1": FundingMethod.EQUAL_SHARES,
    "equalshares/add1-comparison": FundingMethod.EQUAL_SHARES_COMPARISON,
}
SECTIONS = ("META", "PROJECTS", "VOTES")
MAX_FIELD = 1_000_000  # a ballot of thousands of projects is still well under this


class PabulibError(ValueError):
    """The file is not a Pabulib election we can count; the message says why."""


@dataclass(frozen=True)
class PabulibProject:
    name: str  # the id as the file writes it, e.g. "L005", "c1", "4"
    cost: int
    selected: bool  # what the city really funded (`selected` is 1)
    project: BallotProject


@dataclass(frozen=True)
class PabulibElection:
    meta: dict[str, str]
    projects: tuple[PabulibProject, ...]
    ballots: tuple[frozenset[int], ...]  # our project ids

    @property
    def budget(self) -> int:
        return _whole(self.meta.get("budget", ""), "budget")

    @property
    def rule(self) -> str:
        return self.meta.get("rule", "")

    @property
    def threshold(self) -> int:
        value = self.meta.get("min_project_score_threshold", "").strip()
        return _whole(value, "min_project_score_threshold") if value else 1


def _whole(text: str, what: str) -> int:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise PabulibError(f"{what} is not a number: {text[:40]!r}") from None
    if value != value.to_integral_value() or value < 0:
        raise PabulibError(f"{what} must be a whole non-negative amount, not {text[:40]!r}")
    return int(value)


def _number_in(name: str, fallback: int) -> int:
    """The number in a project's id ("L005" -> 5): its order of registration."""
    digits = re.sub(r"\D", "", name)
    return int(digits) if digits else fallback


def _rows(text: str) -> list[list[str]]:
    """The file's rows, read with room for a long VOTES cell. The csv module's field
    limit is one for the whole process: raised here for this file only and put back, so
    every other CSV reader keeps its own limit (a voter list's 128 KB, for one)."""
    previous = csv.field_size_limit(MAX_FIELD)
    try:
        return list(csv.reader(io.StringIO(text), delimiter=";"))
    finally:
        csv.field_size_limit(previous)


def read_pabulib(text: str) -> PabulibElection:
    """The election in `text`, or PabulibError naming what is wrong."""
    rows: dict[str, list[list[str]]] = {name: [] for name in SECTIONS}
    section = None
    for row in _rows(text):
        if not row:
            continue
        if len(row) == 1 and row[0].strip() in SECTIONS:
            section = row[0].strip()
            if rows[section]:
                raise PabulibError(f"section {section} appears twice")
            continue
        if section is None:
            raise PabulibError("the file must start with META")
        rows[section].append(row)
    for name in SECTIONS:
        if len(rows[name]) < 1:
            raise PabulibError(f"section {name} is missing or has no header")
    meta = {r[0].strip(): ";".join(r[1:]).strip() for r in rows["META"][1:] if r}
    header = [h.strip() for h in rows["PROJECTS"][0]]
    for needed in ("project_id", "cost"):
        if needed not in header:
            raise PabulibError(f"PROJECTS has no {needed} column")
    projects = []
    index: dict[str, int] = {}
    for position, row in enumerate(rows["PROJECTS"][1:], start=1):
        fields = dict(zip(header, (value.strip() for value in row), strict=False))
        name = fields.get("project_id", "")
        if not name or name in index:
            raise PabulibError(f"project id {name!r} is empty or repeated")
        index[name] = position
        cost = _whole(fields.get("cost", ""), f"cost of project {name}")
        project = BallotProject(position, 1, cost, fields.get("name", ""), _number_in(name, position))
        projects.append(PabulibProject(name, cost, fields.get("selected") == "1", project))
    vote_header = [h.strip() for h in rows["VOTES"][0]]
    if "vote" not in vote_header:
        raise PabulibError("VOTES has no vote column")
    column = vote_header.index("vote")
    ballots = []
    for row in rows["VOTES"][1:]:
        cell = row[column].strip() if column < len(row) else ""
        chosen = set()
        for name in filter(None, (part.strip() for part in cell.split(","))):
            if name not in index:
                raise PabulibError(f"a ballot chooses project {name!r}, which PROJECTS does not list")
            chosen.add(index[name])
        ballots.append(frozenset(chosen))
    election = PabulibElection(meta, tuple(projects), tuple(ballots))
    election.budget, election.threshold  # noqa: B018  refused now, not half-way through a count
    return election


def category_rule(election: PabulibElection, tie_break: TieBreak | str, seed: str = "") -> CategoryRule:
    """The rule the election's META names, as one of our categories."""
    if election.rule not in RULES:
        raise PabulibError(f"rule {election.rule[:60]!r} is not one we count; known: {', '.join(RULES)}")
    return CategoryRule(
        category_id=1,
        name=election.meta.get("description", ""),
        budget=election.budget,
        max_choices=max(len(election.projects), 1),
        method=RULES[election.rule].value,
        tie_break=TieBreak(tie_break).value,
        lot_seed=seed,
        min_votes_to_fund=election.threshold,
        completion_step=1,  # one złoty (or euro): Pabulib amounts are whole currency units
    )


def count_pabulib(
    election: PabulibElection, tie_break: TieBreak | str = TieBreak.CHEAPER, *, seed: str = ""
) -> CategoryFunding:
    """Count the ballots and fund the election under its own rule, budget and threshold."""
    votes: dict[int, int] = {}
    for ballot in election.ballots:
        for project_id in ballot:
            votes[project_id] = votes.get(project_id, 0) + 1
    rule = category_rule(election, tie_break, seed)
    projects = [p.project for p in election.projects]
    return fund_category(rule, projects, votes, ballots=election.ballots)


def report(election: PabulibElection, funding: CategoryFunding) -> dict[str, Any]:
    """The count as JSON-ready data: the funded project ids as the file writes them, and
    every project's decision."""
    names = {p.project.project_id: p.name for p in election.projects}
    numbers = {p.project.project_id: (p.project.number, p.name) for p in election.projects}
    data: dict[str, Any] = {
        "funded": [names[i] for i in sorted(funding.funded, key=numbers.__getitem__)],
        "rule": election.rule,
        "method": funding.method.value,
        "tie_break": funding.tie_break.value,
        "budget": funding.available,
        "spent": funding.spent,
        "threshold": funding.threshold,
        "voters": len(election.ballots),
        "projects": [
            {
                "id": names[line.project_id],
                "rank": line.rank,
                "votes": line.votes,
                "cost": line.cost,
                "outcome": line.outcome.value,
                **({"excluded_by": names[line.excluded_by]} if line.excluded_by else {}),
                **({"stopped_at": names[line.stopped_at]} if line.stopped_at else {}),
                **({"round": line.round, "price": round(line.price or 0, 6)} if line.round else {}),
                **({"supporters_money": line.supporters_money} if line.supporters_money is not None else {}),
                "budget_left_after": line.budget_left_after,
            }
            for line in funding.lines
        ],
    }
    if funding.voter_budget is not None:
        data["equal_shares"] = {
            "voter_budget": round(funding.voter_budget, 6),
            "completion_steps": funding.completion_steps,
            "completion_capped": funding.completion_capped,
            "rounds": [
                {
                    "round": r.round,
                    "project": names[r.project_id],
                    "cost": r.cost,
                    "price": round(r.price, 6),
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
