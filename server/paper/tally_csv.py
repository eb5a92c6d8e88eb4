"""Reading a support point's tally sheet from a CSV file (Excel style: UTF-8 with or
without a byte-order mark, comma or semicolon). The checks on the numbers themselves are
server.paper.tally_sheet.

    project_id,votes[,title]        header; `title` is optional
    3,125                           the project's number as in the console and on the ballot
    7,88
    ballots_issued,260              summary rows (or the form's fields beside the upload):
    ballots_cast,250                ballots issued, taken out of the box (spoiled
    ballots_spoiled,4               included), spoiled

Projects are keyed by their number only. Titles are not a key: nothing keeps them unique
within a cycle, moderators may still correct them while voting runs, and a title typed
from paper rarely matches to the letter (apostrophes, quotes, spaces). A `title` column
is read as a cross-check instead: when given it must name the project of that number,
which catches the worst mistake a hand-typed sheet can make — a slipped number that
silently moves votes to another project.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Mapping

from server.paper.tally_sheet import (
    SUMMARY_NAMES,
    SheetEntries,
    TallyBallot,
    TallyCheck,
    TallyProblem,
    finish_check,
    looks_like_formula,
    read_count,
    read_form_count,
)
from server.services.csv_limits import csv_problem
from server.services.csv_text import csv_delimiter, csv_text

# One support point's sheet is a few hundred bytes per project; 256 KB is thousands of rows.
MAX_BYTES = 256 * 1024
MAX_ROWS = 2_000
MAX_CELL_CHARS = 300  # a title is at most 200 characters
REQUIRED_COLUMNS = ("project_id", "votes")
OPTIONAL_COLUMNS = ("title",)
_PROJECT_NUMBER = re.compile(r"[0-9]{1,6}")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "‘": "'", "«": '"', "»": '"', "“": '"', "”": '"'})


def _comparable_title(title: str) -> str:
    text = unicodedata.normalize("NFC", title).translate(_APOSTROPHES)
    return " ".join(text.split()).casefold()


def _header(cells: list[str]) -> tuple[list[str], list[TallyProblem]]:
    names = [c.strip().lower() for c in cells]
    known = set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    problems = []
    for name in names:
        if name not in known and name:
            # Shown back to the moderator only when plainly harmless: short, printable,
            # and not something a spreadsheet would run.
            if len(name) <= 40 and name.isprintable() and not looks_like_formula(name):
                problems.append(TallyProblem(None, None, "paper_tally.unknown_column", {"column": name}))
            else:
                problems.append(TallyProblem(None, None, "paper_tally.unknown_column_unnamed"))
            break
    for name in dict.fromkeys(n for n in names if n in known and names.count(n) > 1):
        problems.append(TallyProblem(None, None, "paper_tally.repeated_column", {"column": name}))
    if not problems and not set(REQUIRED_COLUMNS) <= set(names):
        problems.append(TallyProblem(None, None, "paper_tally.bad_header"))
    return names, problems


def _read_row(
    row: int,
    cells: list[str],
    names: list[str],
    ballot: TallyBallot,
    entries: SheetEntries,
    first_row: dict[str, int],
) -> list[TallyProblem]:
    # A spreadsheet adds empty cells after the last column and empty rows between the
    # projects and the summary; they say nothing, so they are not problems.
    while len(cells) > len(names) and not cells[-1].strip():
        cells = cells[:-1]
    if len(cells) > len(names):
        return [
            TallyProblem(
                row, None, "paper_tally.too_many_columns", {"count": len(cells), "limit": len(names)}
            )
        ]
    values = dict(zip(names, cells + [""] * (len(names) - len(cells)), strict=True))
    values.pop("", None)  # an unnamed trailing column (a header ending in a separator)
    problems = []
    for name, value in values.items():
        if len(value) > MAX_CELL_CHARS:
            problems.append(TallyProblem(row, name, "paper_tally.cell_too_long", {"limit": MAX_CELL_CHARS}))
        elif name == "title" and looks_like_formula(value):
            problems.append(TallyProblem(row, name, "paper_tally.formula"))
    if problems:
        return problems

    key = values["project_id"].strip()
    votes, votes_problem = read_count(values["votes"], row, "votes")
    if votes_problem:
        problems.append(votes_problem)
    if not key:
        return [TallyProblem(row, "project_id", "paper_tally.missing_value"), *problems]
    if looks_like_formula(key):
        return [TallyProblem(row, "project_id", "paper_tally.formula"), *problems]

    if key.lower() in SUMMARY_NAMES:
        name = key.lower()
        entries.mentioned.add(name)
        if name in first_row:
            problems.insert(
                0,
                TallyProblem(
                    row,
                    "project_id",
                    "paper_tally.repeated_summary",
                    {"name": name, "first_row": first_row[name]},
                ),
            )
        else:
            first_row[name] = row
        if votes is not None and first_row[name] == row:
            entries.summary[name] = votes
            entries.where[name] = (row, "votes")
        return problems

    if not _PROJECT_NUMBER.fullmatch(key):
        return [TallyProblem(row, "project_id", "paper_tally.bad_project"), *problems]
    number = int(key)
    project = ballot.by_number.get(number)
    if project is None:
        return [
            TallyProblem(row, "project_id", "paper_tally.unknown_project", {"project": number}),
            *problems,
        ]
    seen = f"project:{number}"
    if seen in first_row:
        return [
            TallyProblem(
                row,
                "project_id",
                "paper_tally.repeated_project",
                {"project": number, "first_row": first_row[seen]},
            ),
            *problems,
        ]
    first_row[seen] = row
    title = values.get("title", "").strip()
    if title and _comparable_title(title) != _comparable_title(project.title):
        problems.append(
            TallyProblem(
                row, "title", "paper_tally.title_mismatch", {"project": number, "title": project.title}
            )
        )
    if votes is not None:
        entries.votes[project.project_id] = votes
        entries.where[str(project.project_id)] = (row, "votes")
    return problems


def _merge_form_summary(check: TallyCheck, entries: SheetEntries, form_summary: Mapping[str, str]) -> None:
    """Summary numbers typed beside an uploaded file: used when the file has none, and
    must agree with the file when it has them."""
    for name in SUMMARY_NAMES:
        raw = form_summary.get(name, "")
        if not raw.strip():
            continue
        entries.mentioned.add(name)
        value, problem = read_form_count(raw, name)
        if problem:
            check.problems.append(problem)
        elif name in entries.summary and entries.summary[name] != value:
            check.problems.append(
                TallyProblem(
                    None,
                    name,
                    "paper_tally.summary_disagrees",
                    {"name": name, "in_file": entries.summary[name], "in_form": value},
                )
            )
        elif name not in entries.summary:
            assert value is not None
            entries.summary[name] = value
            entries.where[name] = (None, name)


def check_tally_csv(
    data: bytes, ballot: TallyBallot, form_summary: Mapping[str, str] | None = None
) -> TallyCheck:
    """Read `data` and check it all; every problem names its row and column."""
    check = TallyCheck(sha256=hashlib.sha256(data).hexdigest())
    if len(data) > MAX_BYTES:
        check.problems.append(
            TallyProblem(None, None, "paper_tally.too_large", {"limit_kb": MAX_BYTES // 1024})
        )
        return check
    if not data.strip():
        check.problems.append(TallyProblem(None, None, "paper_tally.empty_file"))
        return check
    text = csv_text(data)
    if text is None:
        check.problems.append(TallyProblem(None, None, "paper_tally.not_text"))
        return check
    if not text.strip():  # a byte-order mark and nothing else
        check.problems.append(TallyProblem(None, None, "paper_tally.empty_file"))
        return check
    if not ballot.projects:
        check.problems.append(TallyProblem(None, None, "paper_tally.no_projects"))
        return check
    delimiter = csv_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    row_number = 1
    rows: list[tuple[int, list[str]]] = []
    try:
        names, header_problems = _header(next(reader, []))
        if header_problems:
            check.problems.extend(header_problems)
            return check
        for row_number, cells in enumerate(reader, start=2):
            if row_number - 1 > MAX_ROWS:
                check.problems.append(
                    TallyProblem(None, None, "paper_tally.too_many_rows", {"limit": MAX_ROWS})
                )
                return check
            if any(c.strip() for c in cells):
                rows.append((row_number, cells))
    except csv.Error as error:
        code, params = csv_problem(error, "paper_tally", row_number + 1)
        check.problems.append(TallyProblem(None, None, code, params))
        return check
    if not rows:
        check.problems.append(TallyProblem(None, None, "paper_tally.no_rows"))
        return check
    entries = SheetEntries()
    first_row: dict[str, int] = {}
    for row, cells in rows:
        check.problems.extend(_read_row(row, cells, names, ballot, entries, first_row))
    _merge_form_summary(check, entries, form_summary or {})
    return finish_check(check, entries, ballot)


def example_csv(ballot: TallyBallot) -> str:
    """A small sheet in the format read here, with this cycle's projects, that passes
    every check as it is."""
    lines = ["project_id,votes,title"]
    for i, project in enumerate(ballot.projects[:3]):
        # A title a spreadsheet would run as a formula stays out: the example must pass.
        title = "" if looks_like_formula(project.title) else project.title.replace('"', '""')
        lines.append(f'{project.number},{i + 1},"{title}"')
    lines += ["ballots_issued,12,", "ballots_cast,10,", "ballots_spoiled,1,"]
    return "\r\n".join(lines) + "\r\n"


__all__ = ["MAX_BYTES", "MAX_ROWS", "check_tally_csv", "example_csv"]
