"""Paper votes typed into a spreadsheet at a support point, imported from a CSV file.

Staff of a support point type one row per voter: the voter's document (or a voter key
made elsewhere) and the numbers of the projects ticked on the paper ballot. This module
reads such a file and checks every row (one row: server.paper.vote_csv_rows);
server.paper.vote_csv_import stores the good rows through the ballot box.

- Raw document numbers become voter keys as soon as a row is read (the community's
  secret, voting.VoterKey) and go no further: not into a problem, a log, or the audit.
- Vote ids are uuid5 of the cycle, the file's SHA-256 and the row number, so the same
  file imported again gives the same votes, which the ballot box answers as stored.
- A row without `voted_at` is dated at the file's first import (the stored vote's time
  if this row was imported before), so a second import has the same content too.
- All or nothing, unless the moderator asks for the good rows only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from server.services.csv_limits import csv_problem
from server.services.csv_text import csv_delimiter, csv_text
from voting import Channel, VoteRecord
from voting.district import district_problems

from .vote_csv_rows import KYIV, PaperContext, RowProblem, check_row, read_header

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
PAPER_CSV_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://spilno.example/paper-csv-row")
PROGRESS_EVERY = 1000  # rows checked between two progress reports


@dataclass
class PaperCheck:
    """A file read and checked: its good rows as votes, and every problem found."""

    sha256: str
    rows: int = 0
    records: list[tuple[int, VoteRecord]] = field(default_factory=list)  # (row number, vote)
    problems: list[RowProblem] = field(default_factory=list)
    previously_stored: frozenset[str] = frozenset()  # vote ids of the file stored before

    @property
    def file_refused(self) -> bool:
        return any(p.row is None for p in self.problems)

    @property
    def bad_rows(self) -> int:
        return len({p.row for p in self.problems if p.row is not None})


def vote_id_for(cycle_id: int, sha256: str, row: int) -> str:
    return str(uuid.uuid5(PAPER_CSV_NAMESPACE, f"{cycle_id}/{sha256}/{row}"))


def check_paper_csv(
    data: bytes,
    ctx: PaperContext,
    *,
    now: datetime,
    stored_cast_at: Callable[[Sequence[str]], Mapping[str, datetime]] = lambda _ids: {},
    on_progress: Callable[[int, int], None] | None = None,
) -> PaperCheck:
    """Read `data` and check every row; problems name the row and the column.

    `stored_cast_at` answers, for vote ids, the cast time of those already stored: a row
    without `voted_at` imported again keeps the time of its first import.
    `on_progress(rows_checked, rows)` is told every PROGRESS_EVERY rows and at the end
    (a job shows it; it may raise to stop the check: nothing is stored then)."""
    check = PaperCheck(sha256=hashlib.sha256(data).hexdigest())
    if len(data) > MAX_BYTES:
        check.problems.append(RowProblem(None, None, "paper.too_large", {"limit_mb": MAX_BYTES // 2**20}))
        return check
    if not data.strip():
        check.problems.append(RowProblem(None, None, "paper.empty_file"))
        return check
    text = csv_text(data)
    if text is None:
        check.problems.append(RowProblem(None, None, "paper.not_text"))
        return check
    delimiter = csv_delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    row_number = 1
    try:
        names, header_problems = read_header(next(reader, []))
        if header_problems:
            check.problems.extend(header_problems)
            return check
        parsed = []
        for row_number, cells in enumerate(reader, start=2):
            if row_number - 1 > MAX_ROWS:
                check.problems.append(RowProblem(None, None, "paper.too_many_rows", {"limit": MAX_ROWS}))
                return check
            parsed.append((row_number, cells))
    except csv.Error as error:
        code, params = csv_problem(error, "paper", row_number + 1)
        check.problems.append(RowProblem(None, None, code, params))
        return check
    check.rows = len(parsed)
    if not parsed:
        check.problems.append(RowProblem(None, None, "paper.no_rows"))
        return check

    candidates: list[tuple[int, str, list[int], datetime | None]] = []
    first_row_of: dict[str, int] = {}
    for checked, (row, cells) in enumerate(parsed, start=1):
        row_problems = check_row(row, cells, names, ctx, now, first_row_of, candidates)
        check.problems.extend(row_problems)
        if on_progress is not None and checked % PROGRESS_EVERY == 0:
            on_progress(checked, check.rows)
    if on_progress is not None:
        on_progress(check.rows, check.rows)
    unlisted = ctx.unlisted([key for _row, key, *_rest in candidates])
    if unlisted:
        column = "voter_key" if "voter_key" in names else "document_number"
        check.problems.extend(
            RowProblem(row, column, "eligibility.not_listed")
            for row, key, *_rest in candidates
            if key in unlisted
        )
        candidates = [c for c in candidates if c[1] not in unlisted]
    if any(c.district for c in ctx.rules.ballot.categories):
        districts = ctx.districts([key for _row, key, *_rest in candidates])
        kept = []
        for candidate in candidates:
            row, key, selections, _voted_at = candidate
            wrong = district_problems(ctx.rules.ballot, selections, districts.get(key))
            if wrong:
                check.problems.append(RowProblem(row, "projects", wrong[0].code, wrong[0].params))
            else:
                kept.append(candidate)
        candidates = kept

    # A row keeps the time of its first import; only then can its window be judged.
    ids = {row: vote_id_for(ctx.rules.cycle_id, check.sha256, row) for row, *_rest in candidates}
    stored = stored_cast_at(list(ids.values()))
    check.previously_stored = frozenset(stored)
    for row, key, selections, voted_at in candidates:
        record = VoteRecord.create(
            vote_id=ids[row],
            cycle_id=ctx.rules.cycle_id,
            selections=selections,
            channel=Channel.PAPER,
            cast_at=voted_at or stored.get(ids[row], now),
            voter_key=key,
            device_id=ctx.device_code,
        )
        reason = ctx.rules.invalid_reason(record)
        if reason is not None:
            check.problems.append(RowProblem(row, "voted_at", reason))
        else:
            check.records.append((row, record))
    check.problems.sort(key=lambda p: p.row or 0)
    return check


def example_csv(project_numbers: Sequence[int], voted_at: datetime) -> str:
    """A small example file in the format read here, with this cycle's project numbers
    and voting times from `voted_at` on."""
    numbers = list(project_numbers)[:3] or [1, 2, 3]
    local = voted_at.astimezone(KYIV)
    later = local + timedelta(minutes=30)
    both = " ".join(str(n) for n in numbers[:2])
    rows = [
        "document_kind,document_number,projects,voted_at",
        # Made-up numbers of valid shape (the RNOKPP's check digit holds).
        f"rnokpp,1234567899,{numbers[0]},{local:%Y-%m-%d %H:%M}",
        f"passport,АВ123456,{both},",
        f"id_card,001234567,{numbers[-1]},{later.isoformat(timespec='seconds')}",
    ]
    return "\r\n".join(rows) + "\r\n"
