"""One row of a paper-vote CSV checked: the header's columns, the voter (a document or a
voter key), their age, the projects ticked, the time of the vote.

Raw document numbers become voter keys as soon as a row is read (the community's
secret, voting.VoterKey) and go no further: not into a problem, a log, or the audit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.paper.vote_csv_messages import paper_message
from server.services.cycle_rules import CycleRules
from voting import IdentityError, IdentityKind, VoterKey, normalise_identifier
from voting.eligibility import EligibilityRules, birth_date, refusal_code
from voting.record import MAX_SELECTIONS

MAX_CELL_CHARS = 500  # a document number is under 64; a date, a kind, a code are shorter
MAX_PROJECTS_CHARS = MAX_SELECTIONS * 11  # every allowed project number (10 digits) with a separator
KYIV = ZoneInfo("Europe/Kyiv")
# Document kinds a person types; a kiosk card's id is read by a machine, never typed.
DOCUMENT_KINDS = tuple(k.value for k in IdentityKind if k is not IdentityKind.CARD)
DOCUMENT_COLUMNS = ("document_kind", "document_number", "projects")
KEY_COLUMNS = ("voter_key", "projects")
OPTIONAL_COLUMNS = ("voted_at",)
# A clock a few minutes fast at the support point is not a vote from the future.
FUTURE_SLACK = timedelta(minutes=10)
_PROJECT_NUMBER = re.compile(r"[0-9]{1,6}")
_SEPARATORS = re.compile(r"[\s|]+")
_VOTER_KEY = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why one row (or, with row None, the whole file) cannot be imported."""

    row: int | None  # the spreadsheet's row number: the header is row 1
    column: str | None
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, locale: str = "uk") -> str:
        return paper_message(self.code, locale, **self.params)


@dataclass(frozen=True, slots=True)
class PaperContext:
    """What rows are checked against: the cycle's rule and ballot numbers, the
    community's voter-key secret, and the support point the file comes from."""

    rules: CycleRules
    project_ids: Mapping[int, int]  # number printed on the ballot -> project id (admitted only)
    voter_secret: bytes
    device_code: str
    # The community's rules (voting.eligibility). The staff who took the paper ballot saw
    # the resident's document, so an age the number cannot show counts as checked.
    min_age: int | None = None
    unlisted: Callable[[list[str]], set[str] | None] = lambda _keys: None
    # Where the community's list places each voter (voting.district): a row that chooses
    # in another district's category is refused, like a row of a voter not listed.
    districts: Callable[[list[str]], Mapping[str, str | None]] = lambda _keys: {}


def read_header(cells: list[str]) -> tuple[list[str], list[RowProblem]]:
    names = [c.strip().lower() for c in cells]
    problems = []
    known = set(DOCUMENT_COLUMNS + KEY_COLUMNS + OPTIONAL_COLUMNS)
    for name in names:
        if name not in known:
            # Shown back to the moderator: printable characters only, and short.
            shown = "".join(ch for ch in name if ch.isprintable())[:40]
            problems.append(RowProblem(None, None, "paper.unknown_column", {"column": shown}))
            break
    for name in dict.fromkeys(n for n in names if names.count(n) > 1 and n in known):
        problems.append(RowProblem(None, None, "paper.repeated_column", {"column": name}))
    required = {n for n in names if n not in OPTIONAL_COLUMNS}
    if not problems and required not in (set(DOCUMENT_COLUMNS), set(KEY_COLUMNS)):
        problems.append(RowProblem(None, None, "paper.bad_header"))
    return names, problems


def _voter_key(
    values: Mapping[str, str], ctx: PaperContext, row: int
) -> tuple[str | None, RowProblem | None]:
    if "voter_key" in values:
        key = values["voter_key"].strip().lower()
        if not _VOTER_KEY.fullmatch(key):
            return None, RowProblem(row, "voter_key", "paper.bad_voter_key")
        return key, None
    kind = values["document_kind"].strip().lower()
    if kind not in DOCUMENT_KINDS:
        return None, RowProblem(row, "document_kind", "identity.unknown_kind")
    try:
        return VoterKey.derive(ctx.voter_secret, kind, values["document_number"]).hex, None
    except IdentityError as exc:
        return None, RowProblem(row, "document_number", exc.code)


def _age_problem(values: Mapping[str, str], ctx: PaperContext, row: int, now: datetime) -> RowProblem | None:
    """Too young on the day of the vote, when the document number tells the birth date."""
    kind = values["document_kind"].strip().lower()
    born = birth_date(kind, normalise_identifier(kind, values["document_number"]))
    moment, _problem = _voted_at(values.get("voted_at", ""), now, row)
    day = (moment or now).astimezone(KYIV).date()
    rules = EligibilityRules(min_age=ctx.min_age)
    code = refusal_code(rules, born=born, listed=False, day=day, age_confirmed=True)
    return None if code is None else RowProblem(row, "document_number", code, {"min_age": ctx.min_age})


def _selections(cell: str, ctx: PaperContext, row: int) -> tuple[list[int], list[RowProblem]]:
    tokens = [t for t in _SEPARATORS.split(cell.strip()) if t]
    if not tokens:
        return [], [RowProblem(row, "projects", "ballot.empty")]
    if len(tokens) > MAX_SELECTIONS:
        return [], [RowProblem(row, "projects", "paper.too_many_projects", {"limit": MAX_SELECTIONS})]
    if not all(_PROJECT_NUMBER.fullmatch(t) for t in tokens):
        return [], [RowProblem(row, "projects", "paper.bad_project_list")]
    numbers = [int(t) for t in tokens]
    unknown = [n for n in dict.fromkeys(numbers) if n not in ctx.project_ids]
    if unknown:
        return [], [RowProblem(row, "projects", "ballot.unknown_project", {"project": n}) for n in unknown]
    selections = [ctx.project_ids[n] for n in numbers]
    number_of = {pid: n for n, pid in ctx.project_ids.items()}
    problems = []
    for problem in ctx.rules.ballot.check(selections):
        params = dict(problem.params)
        if "project" in params:  # the ballot speaks of ids; the moderator knows numbers
            params["project"] = number_of.get(params["project"], params["project"])
        problems.append(RowProblem(row, "projects", problem.code, params))
    return selections, problems


def _voted_at(cell: str, now: datetime, row: int) -> tuple[datetime | None, RowProblem | None]:
    text = cell.strip()
    if not text:
        return None, None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None, RowProblem(row, "voted_at", "paper.bad_time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=KYIV)
    if moment > now + FUTURE_SLACK:
        return None, RowProblem(row, "voted_at", "paper.future_time")
    return moment, None


def check_row(
    row: int,
    cells: list[str],
    names: list[str],
    ctx: PaperContext,
    now: datetime,
    first_row_of: dict[str, int],
    candidates: list[tuple[int, str, list[int], datetime | None]],
) -> list[RowProblem]:
    """Every problem of one row; a row with none joins `candidates`."""
    if not any(c.strip() for c in cells):
        return [RowProblem(row, None, "paper.empty_row")]
    if len(cells) > len(names):
        return [RowProblem(row, None, "paper.too_many_columns", {"count": len(cells), "limit": len(names)})]
    values = dict(zip(names, cells + [""] * (len(names) - len(cells)), strict=True))
    problems = []
    for name, value in values.items():
        limit = MAX_PROJECTS_CHARS if name == "projects" else MAX_CELL_CHARS
        if len(value) > limit:
            problems.append(RowProblem(row, name, "paper.cell_too_long", {"limit": limit}))
        elif name not in OPTIONAL_COLUMNS and not value.strip():
            problems.append(RowProblem(row, name, "paper.missing_value"))
    if problems:
        return problems
    key, key_problem = _voter_key(values, ctx, row)
    if key_problem is None and ctx.min_age is not None and "document_kind" in values:
        key_problem = _age_problem(values, ctx, row, now)
    if key_problem:
        problems.append(key_problem)
    else:
        assert key is not None  # _voter_key gives a key or a problem
        if key in first_row_of:
            problems.append(RowProblem(row, None, "paper.repeated_voter", {"first_row": first_row_of[key]}))
        else:
            first_row_of[key] = row
    selections, selection_problems = _selections(values["projects"], ctx, row)
    problems.extend(selection_problems)
    voted_at, time_problem = _voted_at(values.get("voted_at", ""), now, row)
    if time_problem:
        problems.append(time_problem)
    if not problems:
        assert key is not None
        candidates.append((row, key, selections, voted_at))
    return problems
