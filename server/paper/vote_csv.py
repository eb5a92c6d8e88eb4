"""Paper votes typed into a spreadsheet at a support point, imported from a CSV file.

Staff of a support point type one row per voter: the voter's document (or a voter key
made elsewhere) and the numbers of the projects ticked on the paper ballot. This module
reads such a file, checks every row, and stores the good rows through the ballot box.

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
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Community, Cycle, Device, Project, ProjectStatus, User, Vote
from server.paper.tally import window_problem
from server.paper.vote_csv_messages import paper_message
from server.services import audit, eligibility
from server.services.ballot_box import VoteConflict, store_votes
from server.services.csv_limits import csv_problem
from server.services.cycle_rules import CycleRules, load_cycle_rules
from voting import (
    Channel,
    IdentityError,
    IdentityKind,
    VoteRecord,
    VoterKey,
    community_voter_secret,
    normalise_identifier,
)
from voting.district import district_problems
from voting.eligibility import EligibilityRules, birth_date, refusal_code
from voting.record import MAX_SELECTIONS

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_CELL_CHARS = 500  # a document number is under 64; a date, a kind, a code are shorter
MAX_PROJECTS_CHARS = MAX_SELECTIONS * 11  # every allowed project number (10 digits) with a separator
SOURCE = "paper-csv"
KYIV = ZoneInfo("Europe/Kyiv")
PAPER_CSV_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://spilno.example/paper-csv-row")
# Document kinds a person types; a kiosk card's id is read by a machine, never typed.
DOCUMENT_KINDS = tuple(k.value for k in IdentityKind if k is not IdentityKind.CARD)
DOCUMENT_COLUMNS = ("document_kind", "document_number", "projects")
KEY_COLUMNS = ("voter_key", "projects")
OPTIONAL_COLUMNS = ("voted_at",)
# A clock a few minutes fast at the support point is not a vote from the future.
FUTURE_SLACK = timedelta(minutes=10)
PROGRESS_EVERY = 1000  # rows checked between two progress reports
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


def _decode(data: bytes) -> str | None:
    if b"\x00" in data:
        return None  # no spreadsheet writes NUL into a CSV: this is some other file
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _header(cells: list[str]) -> tuple[list[str], list[RowProblem]]:
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
    text = _decode(data)
    if text is None:
        check.problems.append(RowProblem(None, None, "paper.not_text"))
        return check
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    row_number = 1
    try:
        names, header_problems = _header(next(reader, []))
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
        row_problems = _row_problems(row, cells, names, ctx, now, first_row_of, candidates)
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


def _row_problems(
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


# --- storing ------------------------------------------------------------------------------


@dataclass
class PaperImport:
    """What an import did: the check, and how the stored votes stand."""

    check: PaperCheck
    stored: int = 0  # new votes written now
    already_stored: int = 0  # votes of this file written by an earlier import
    counted: int = 0
    duplicate: int = 0  # kept, but another vote of the same resident counts
    invalid: int = 0
    refused: bool = False  # nothing stored because of problems (see check.problems)


def context_for(session: Session, cycle: Cycle, device: Device, master_secret: bytes) -> PaperContext:
    community = session.get_one(Community, cycle.community_id)
    numbers = session.execute(
        select(Project.number, Project.id).where(
            Project.cycle_id == cycle.id, Project.status == ProjectStatus.ADMITTED.value
        )
    ).all()
    return PaperContext(
        rules=load_cycle_rules(session, cycle),
        project_ids={number: project_id for number, project_id in numbers},
        voter_secret=community_voter_secret(master_secret, community.key_id),
        device_code=device.code,
        min_age=cycle.min_age,
        unlisted=lambda keys: eligibility.unlisted_keys(session, community.id, keys),
        districts=lambda keys: eligibility.districts_of(session, community.id, keys),
    )


def _stored_cast_at(session: Session, community_id: int) -> Callable[[Sequence[str]], Mapping[str, datetime]]:
    def lookup(vote_ids: Sequence[str]) -> Mapping[str, datetime]:
        found: dict[str, datetime] = {}
        for start in range(0, len(vote_ids), 5000):
            chunk = list(vote_ids[start : start + 5000])
            stored = select(Vote.id, Vote.cast_at).where(
                Vote.community_id == community_id, Vote.id.in_(chunk)
            )
            found.update(session.execute(stored).all())
        return found

    return lookup


def import_paper_csv(
    session: Session,
    cycle: Cycle,
    device: Device,
    data: bytes,
    *,
    master_secret: bytes,
    only_good_rows: bool,
    user: User | None,
    now: datetime,
    on_progress: Callable[[int, int], None] | None = None,
) -> PaperImport:
    """Check the file and store its votes in one transaction (committed here), or nothing.
    `on_progress` is told the rows checked (check_paper_csv)."""
    ctx = context_for(session, cycle, device, master_secret)
    check = check_paper_csv(
        data,
        ctx,
        now=now,
        stored_cast_at=_stored_cast_at(session, cycle.community_id),
        on_progress=on_progress,
    )
    result = PaperImport(check)
    # The paper channel closes for every kind of paper vote at once: scanned sheets and
    # tally sheets check the same window (a published count never moves by itself).
    closed = window_problem(cycle, now)
    if closed is not None:
        code = closed.code.replace("paper_tally.", "paper.", 1)
        check.problems.insert(0, RowProblem(None, None, code, dict(closed.params)))
    if check.file_refused or not check.records or (check.problems and not only_good_rows):
        result.refused = True
        session.rollback()
        return result
    records = [record for _row, record in check.records]
    try:
        answers = store_votes(session, {cycle.id: ctx.rules}, records, SOURCE, now=now)
    except VoteConflict:
        session.rollback()
        check.problems.append(RowProblem(None, None, "paper.already_imported_elsewhere"))
        result.refused = True
        return result
    _count(result, (a.status for a in answers), [r.vote_id for r in records])
    audit.record(
        session,
        "votes.paper_import",
        user=user,
        community_id=cycle.community_id,
        target=("cycle", cycle.id),
        details={
            "file_sha256": check.sha256,
            "device": device.code,
            "rows": check.rows,
            "bad_rows": check.bad_rows,
            "only_good_rows": only_good_rows,
            "stored": result.stored,
            "already_stored": result.already_stored,
            "counted": result.counted,
            "duplicate": result.duplicate,
            "invalid": result.invalid,
        },
    )
    session.commit()
    return result


def _count(result: PaperImport, statuses: Iterable[str], vote_ids: list[str]) -> None:
    for vote_id, status in zip(vote_ids, statuses, strict=True):
        if vote_id in result.check.previously_stored:
            result.already_stored += 1
        else:
            result.stored += 1
        if status == "counted":
            result.counted += 1
        elif status == "duplicate":
            result.duplicate += 1
        else:
            result.invalid += 1


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


__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "PaperCheck",
    "PaperContext",
    "PaperImport",
    "RowProblem",
    "check_paper_csv",
    "context_for",
    "example_csv",
    "import_paper_csv",
    "paper_message",
]
