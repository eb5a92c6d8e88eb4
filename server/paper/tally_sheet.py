"""A support point's tally sheet (протокол підрахунку): what it is checked against, the
checks on its numbers, and reading it from the console's form. Pure: no I/O. Reading
it from a CSV file is server.paper.tally_csv.

A sheet gives one number per project of the ballot (0 when not given) and three totals:
ballots issued (optional), ballots taken out of the box (spoiled included) and spoiled
ones. It carries no voter keys, so its counts cannot be deduplicated against other
channels; the checks here are the only ones it gets, so they are strict: every number a
whole number in digits, no project with more votes than valid ballots, no category with
more votes than valid ballots × the most projects a ballot may choose there, no more
ballots in the box than were issued.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from server.paper.tally_messages import tally_message

# No support point issues a million ballots; anything above is a typo or an attack.
MAX_COUNT = 1_000_000
SUMMARY_NAMES = ("ballots_issued", "ballots_cast", "ballots_spoiled")
# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@")
_DIGITS = re.compile(r"[0-9]+")
_NEGATIVE = re.compile(r"-[0-9]+")


@dataclass(frozen=True, slots=True)
class TallyProblem:
    """Why a sheet cannot be taken. `row` is the file's row (the header is row 1), None
    for the file as a whole or a form; `column` names the CSV column or the form field."""

    row: int | None
    column: str | None
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self, locale: str = "uk") -> str:
        return tally_message(self.code, locale, **self.params)


@dataclass(frozen=True, slots=True)
class TallyProject:
    project_id: int
    number: int
    title: str
    category_id: int


@dataclass(frozen=True, slots=True)
class TallyCategory:
    category_id: int
    name: str
    max_choices: int
    district: str = ""  # a district category: a hand count cannot vote in it


@dataclass(frozen=True)
class TallyBallot:
    """What a sheet is checked against: the cycle's admitted projects and its rule."""

    cycle_id: int
    projects: Sequence[TallyProject]  # by number
    categories: Sequence[TallyCategory]
    max_total: int | None = None

    @cached_property
    def by_number(self) -> dict[int, TallyProject]:
        return {p.number: p for p in self.projects}


@dataclass(frozen=True)
class TallySheet:
    """A checked sheet: every admitted project's votes (0 when not listed)."""

    ballots_issued: int | None
    ballots_cast: int
    ballots_spoiled: int
    votes: Mapping[int, int]  # project id -> votes

    @property
    def valid_ballots(self) -> int:
        return self.ballots_cast - self.ballots_spoiled

    @property
    def total_votes(self) -> int:
        return sum(self.votes.values())

    def content_hash(self, cycle_id: int, device_code: str) -> str:
        """SHA-256 of what the sheet says (not who entered it or when): the same numbers
        entered again have the same hash, and a line changed in the database has not."""
        body = {
            "cycle_id": cycle_id,
            "device": device_code,
            "ballots_issued": self.ballots_issued,
            "ballots_cast": self.ballots_cast,
            "ballots_spoiled": self.ballots_spoiled,
            "votes": sorted([pid, n] for pid, n in self.votes.items()),
        }
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class TallyCheck:
    """A sheet read and checked: the sheet when nothing is wrong, else every problem."""

    sha256: str | None  # of the file; None when typed into the form
    sheet: TallySheet | None = None
    problems: list[TallyProblem] = field(default_factory=list)

    @property
    def file_refused(self) -> bool:
        return any(p.row is None and p.column is None for p in self.problems)

    @property
    def bad_rows(self) -> int:
        return len({p.row for p in self.problems if p.row is not None})

    @property
    def bad_fields(self) -> frozenset[str]:
        """Form fields with a problem, to mark them in the form."""
        return frozenset(p.column for p in self.problems if p.row is None and p.column)


# --- one value ----------------------------------------------------------------------------


def looks_like_formula(text: str) -> bool:
    return text.lstrip().startswith(FORMULA_STARTS)


def read_count(cell: str, row: int | None, column: str) -> tuple[int | None, TallyProblem | None]:
    """A non-negative whole number in ASCII digits, at most MAX_COUNT."""
    text = cell.strip()
    if not text:
        return None, TallyProblem(row, column, "paper_tally.missing_value")
    if _NEGATIVE.fullmatch(text):
        return None, TallyProblem(row, column, "paper_tally.negative")
    if looks_like_formula(text):
        return None, TallyProblem(row, column, "paper_tally.formula")
    # str.isdigit() would take "²" and Arabic-Indic digits; only 0-9 are numbers here.
    if not _DIGITS.fullmatch(text):
        return None, TallyProblem(row, column, "paper_tally.not_integer")
    if len(text) > len(str(MAX_COUNT)) or int(text) > MAX_COUNT:
        return None, TallyProblem(row, column, "paper_tally.too_big", {"limit": MAX_COUNT})
    return int(text), None


# --- the checks on a whole sheet ----------------------------------------------------------


def sheet_problems(
    sheet: TallySheet,
    ballot: TallyBallot,
    where: Mapping[str, tuple[int | None, str | None]] | None = None,
) -> list[TallyProblem]:
    """What a complete sheet breaks. `where` places a summary name or a project id (as a
    string) in the file or form; the recount calls this on stored sheets without it."""
    where = where or {}

    def at(key: str) -> tuple[int | None, str | None]:
        return where.get(key, (None, None))

    problems = []
    if sheet.ballots_issued is not None and sheet.ballots_cast > sheet.ballots_issued:
        problems.append(
            TallyProblem(
                *at("ballots_cast"),
                "paper_tally.cast_over_issued",
                {"cast": sheet.ballots_cast, "issued": sheet.ballots_issued},
            )
        )
    if sheet.ballots_spoiled > sheet.ballots_cast:
        problems.append(
            TallyProblem(
                *at("ballots_spoiled"),
                "paper_tally.spoiled_over_cast",
                {"spoiled": sheet.ballots_spoiled, "cast": sheet.ballots_cast},
            )
        )
        return problems  # the limits below need a sound number of valid ballots
    valid = sheet.valid_ballots
    for project in ballot.projects:
        votes = sheet.votes.get(project.project_id, 0)
        if votes > valid:
            problems.append(
                TallyProblem(
                    *at(str(project.project_id)),
                    "paper_tally.votes_over_ballots",
                    {"votes": votes, "ballots": valid},
                )
            )
    for category in ballot.categories:
        votes = sum(
            sheet.votes.get(p.project_id, 0) for p in ballot.projects if p.category_id == category.category_id
        )
        if category.district and votes:
            # A tally sheet names no voters, so nobody can tell whether its votes there
            # came from the district's residents (voting.district): they cannot count.
            problems.append(
                TallyProblem(
                    None,
                    None,
                    "paper_tally.district_category",
                    {"category": category.name, "district": category.district, "votes": votes},
                )
            )
        limit = valid * category.max_choices
        if votes > limit:
            problems.append(
                TallyProblem(
                    None,
                    None,
                    "paper_tally.category_over_limit",
                    {
                        "category": category.name,
                        "votes": votes,
                        "ballots": valid,
                        "max_choices": category.max_choices,
                        "limit": limit,
                    },
                )
            )
    if ballot.max_total is not None and sheet.total_votes > valid * ballot.max_total:
        problems.append(
            TallyProblem(
                None,
                None,
                "paper_tally.total_over_limit",
                {
                    "votes": sheet.total_votes,
                    "ballots": valid,
                    "max_total": ballot.max_total,
                    "limit": valid * ballot.max_total,
                },
            )
        )
    return problems


@dataclass
class SheetEntries:
    """Values read from a file or a form, before the checks on the whole sheet."""

    votes: dict[int, int] = field(default_factory=dict)  # project id -> votes
    summary: dict[str, int] = field(default_factory=dict)
    mentioned: set[str] = field(default_factory=set)  # summary names given, good or bad
    where: dict[str, tuple[int | None, str | None]] = field(default_factory=dict)


def finish_check(check: TallyCheck, entries: SheetEntries, ballot: TallyBallot) -> TallyCheck:
    """The sheet from `entries` when neither they nor its totals have a problem."""
    if "ballots_cast" not in entries.mentioned:
        check.problems.append(TallyProblem(None, "ballots_cast", "paper_tally.missing_ballots_cast"))
    if check.problems:
        check.problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        return check
    sheet = TallySheet(
        ballots_issued=entries.summary.get("ballots_issued"),
        ballots_cast=entries.summary["ballots_cast"],
        ballots_spoiled=entries.summary.get("ballots_spoiled", 0),
        votes={p.project_id: entries.votes.get(p.project_id, 0) for p in ballot.projects},
    )
    check.problems.extend(sheet_problems(sheet, ballot, entries.where))
    if not check.problems:
        check.sheet = sheet
    return check


# --- the form -----------------------------------------------------------------------------

FORM_FIELD_CHARS = 20


def votes_field(number: int) -> str:
    """The form field of a project's votes, named by the number a moderator sees."""
    return f"votes_{number}"


def read_form_count(raw: str, name: str) -> tuple[int | None, TallyProblem | None]:
    if len(raw) > FORM_FIELD_CHARS:
        return None, TallyProblem(None, name, "paper_tally.cell_too_long", {"limit": FORM_FIELD_CHARS})
    return read_count(raw, None, name)


def check_tally_form(form: Mapping[str, str], ballot: TallyBallot) -> TallyCheck:
    """The numbers typed into the form: an empty project field is 0 votes, an empty
    `ballots_issued` is "not given", an empty `ballots_spoiled` is none."""
    check = TallyCheck(sha256=None)
    if not ballot.projects:
        check.problems.append(TallyProblem(None, None, "paper_tally.no_projects"))
        return check
    entries = SheetEntries()
    for name in SUMMARY_NAMES:
        raw = form.get(name, "")
        if not raw.strip():
            continue
        entries.mentioned.add(name)
        value, problem = read_form_count(raw, name)
        if problem is not None:
            check.problems.append(problem)
        else:
            assert value is not None
            entries.summary[name] = value
            entries.where[name] = (None, name)
    for project in ballot.projects:
        name = votes_field(project.number)
        raw = form.get(name, "")
        if not raw.strip():
            continue
        value, problem = read_form_count(raw, name)
        if problem is not None:
            check.problems.append(problem)
        else:
            assert value is not None
            entries.votes[project.project_id] = value
            entries.where[str(project.project_id)] = (None, name)
    return finish_check(check, entries, ballot)


__all__ = [
    "FORM_FIELD_CHARS",
    "MAX_COUNT",
    "SUMMARY_NAMES",
    "SheetEntries",
    "TallyBallot",
    "TallyCategory",
    "TallyCheck",
    "TallyProblem",
    "TallyProject",
    "TallySheet",
    "check_tally_form",
    "finish_check",
    "looks_like_formula",
    "read_count",
    "read_form_count",
    "sheet_problems",
    "votes_field",
]
