"""Paper ballot sheets read on the server: a support point that does not read its own
stack sends the scans, and a community moderator uploads, reviews and commits them.

Reading is the support point's (paper.reader, with the community's form key and
this cycle's layout); keeping and judging is the support point's review core
(paper.review) over the server's tables (paper_scan_store). So a sheet is
accepted, sent to review or rejected by the very same rules wherever it was read.

Committing stores each ready sheet as one paper vote straight into the ballot box, with
the support point as its device and "sheet_" + serial as its code: a blank sheet counts
once per serial, whichever channel or place read it.
- Its vote id is made in a namespace of its own: were the point to read the same sheet
  too, its vote (another id, the same code) is a second record of one sheet, which the
  counting rule resolves to one counted vote, not a conflict that would stop the point's
  sync.
- A sheet the point has already sent (its point-side vote id is in the ballot box) is
  held, not stored a second time.
- Sheets issued personally (support_point.issue) are read where they were issued: only
  that point knows whose they are. The README says so; the server cannot tell.

Pages are kept one by one, each in its own transaction, like the support point's store:
an upload cut off midway keeps the pages read so far, and the same file again skips
them (the same image's page is a no-op).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from paper import review
from paper.inputs import Limits
from paper.layout import LayoutError
from paper.reader import SheetReader
from paper.reading import REJECTED
from paper.scan_files import read_with_previews
from paper.serials import device_prefix, form_key
from paper.sheet_plan import build_layout
from paper.sheet_vote import sheet_vote_id
from server.models import Community, Cycle, Device, User, Vote
from server.paper.scan_rows import ms
from server.paper.scan_store import ServerSheetStore
from server.paper.tally import window_problem
from server.services import audit
from server.services.ballot_box import VoteConflict, store_votes
from server.services.cycle_rules import load_cycle_rules
from server.sync.packages import cycle_body
from sync.cycle_package import PackagedCycle
from sync.package_parser import parse_cycle
from voting import VoteRecord, community_voter_secret

__all__ = [
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_FILES",
    "MAX_UPLOAD_PAGES",
    "SERVER_SHEET_NAMESPACE",
    "SOURCE",
    "CommitOutcome",
    "PageOutcome",
    "ScanImport",
    "commit_ready",
    "import_scans",
    "keep_scans",
    "packaged_cycle",
    "scan_reader",
    "server_sheet_vote_id",
    "store_for",
    "upload_details",
]

SOURCE = "paper-scan"
# An upload is read by a job worker (server.jobs) while the console shows its progress:
# ~15 pages a second, so 300 pages take about 20 s. A larger stack goes in several
# uploads or through the command line. A page a file (as most scanners and phones
# write them) is as many files as pages; multi-page TIFFs and PDFs count by their pages.
# The request only stores the files (one at a time, server.jobs.store.create_job), so
# their number costs no reading time in it.
MAX_UPLOAD_PAGES = 300
MAX_UPLOAD_FILES = MAX_UPLOAD_PAGES
MAX_UPLOAD_BYTES = 150 * 1024 * 1024
# Fixed forever: a new namespace would give a sheet committed again a new vote id.
SERVER_SHEET_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://spilno.example/paper-ballot-sheet/server")


def server_sheet_vote_id(device: str, cycle_id: int, serial: str) -> str:
    return str(uuid.uuid5(SERVER_SHEET_NAMESPACE, f"{device}/{cycle_id}/{serial}"))


@dataclass(slots=True)
class PageOutcome:
    file: str
    page_index: int
    serial: str | None
    page: str | None
    outcome: str  # accepted | needs_review | rejected | duplicate
    reasons: list[str]


@dataclass(slots=True)
class ScanImport:
    pages: list[PageOutcome] = field(default_factory=list)
    refused: str | None = None  # a message code when nothing was read at all
    truncated: bool = False  # the page limit stopped the reading

    def count(self, outcome: str) -> int:
        return sum(1 for page in self.pages if page.outcome == outcome)


@dataclass(slots=True)
class CommitOutcome:
    committed: list[tuple[str, str]] = field(default_factory=list)  # (serial, vote id)
    held: list[tuple[str, str]] = field(default_factory=list)  # (serial, message code)
    refused: str | None = None
    refused_params: dict = field(default_factory=dict)


def store_for(
    session: Session, cycle: Cycle, *, device: Device | None = None, user: User | None = None
) -> ServerSheetStore:
    return ServerSheetStore(
        session,
        community_id=cycle.community_id,
        cycle_id=cycle.id,
        device_id=device.id if device else None,
        user_id=user.id if user else None,
    )


def packaged_cycle(session: Session, cycle: Cycle) -> PackagedCycle:
    """The cycle as a package carries it, read as a device reads it: what its sheets'
    layout is built from and the review core checks their rules against."""
    return parse_cycle(cycle_body(session, cycle))


def scan_reader(session: Session, cycle: Cycle, master_secret: bytes) -> tuple[SheetReader, PackagedCycle]:
    """A reader for this cycle's sheets (LayoutError when it has nothing to print) and
    the cycle as a package carries it (for the review core's rule check)."""
    community = session.get_one(Community, cycle.community_id)
    packaged = packaged_cycle(session, cycle)
    layout = build_layout(packaged)
    key = form_key(community_voter_secret(master_secret, community.key_id))
    return SheetReader([layout], key), packaged


def operator_name(user: User | None) -> str:
    if user is None:
        return "spilno"
    # Shown to the next moderator beside the decision; the account id is kept too.
    name = " ".join((user.display_name or user.login).split())
    return name[: review.MAX_OPERATOR] or user.login[: review.MAX_OPERATOR]


def import_scans(
    session: Session,
    cycle: Cycle,
    device: Device,
    files: Iterable[tuple[str, bytes]],
    *,
    master_secret: bytes,
    user: User | None,
    now_ms: int,
    limits: Limits = Limits(),
    max_pages: int = MAX_UPLOAD_PAGES,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> ScanImport:
    """Read every page of the uploaded files (name, bytes) and keep each reading; each
    page is committed as it is kept. Returns what became of every page.
    `on_progress(files_read, files)` is told after each file."""
    result = ScanImport()
    for _page in keep_scans(
        session,
        cycle,
        device,
        files,
        result,
        master_secret=master_secret,
        user=user,
        now_ms=now_ms,
        limits=limits,
        max_pages=max_pages,
        on_progress=on_progress,
    ):
        session.commit()
    if result.refused:
        return result  # nothing was read
    audit.record(
        session,
        "paper_scans.upload",
        user=user,
        community_id=cycle.community_id,
        target=("cycle", cycle.id),
        details=upload_details(device, result),
    )
    session.commit()
    return result


def upload_details(device: Device, result: ScanImport, pages_before: dict | None = None) -> dict:
    """The audit record's figures of an upload (`pages_before`: the counts of a job's
    earlier runs, whose pages `result` does not hold)."""
    counts = {
        "pages": len(result.pages),
        "accepted": result.count("accepted"),
        "needs_review": result.count("needs_review"),
        "rejected": result.count("rejected"),
        "duplicate": result.count("duplicate"),
    }
    for name, count in (pages_before or {}).items():
        if name in counts:
            counts[name] += count
    return {"device": device.code, **counts, "truncated": result.truncated}


def keep_scans(
    session: Session,
    cycle: Cycle,
    device: Device,
    files: Iterable[tuple[str, bytes]],
    result: ScanImport,
    *,
    master_secret: bytes,
    user: User | None,
    now_ms: int,
    limits: Limits = Limits(),
    max_pages: int = MAX_UPLOAD_PAGES,
    skip_pages: int = 0,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> Iterator[PageOutcome]:
    """Read the pages of the files (name, bytes) and keep each reading, yielding each
    page's outcome once it is kept and before it is committed: the caller commits (with
    its own bookkeeping: a job's progress) before asking for the next. The first
    `skip_pages` pages are passed over (a job resumed after a crash kept them). What
    became of the pages, or why none was read, is in `result`. `on_progress(files_read,
    files)` is told after each file."""
    try:
        reader, body = scan_reader(session, cycle, master_secret)
    except LayoutError:
        result.refused = "forms.no_projects"
        return
    store = store_for(session, cycle, device=device, user=user)
    prefix = device_prefix(device.code)
    cycles = {cycle.id: body}
    with tempfile.TemporaryDirectory(prefix="spilno-scans-") as folder:
        # The reader opens files by path: each upload goes to a private temporary file
        # under a neutral name (the uploaded name is never a path here).
        shown: dict[str, str] = {}
        for index, (name, data) in enumerate(files):
            path = os.path.join(folder, f"upload-{index:04d}")
            with open(path, "wb") as handle:
                handle.write(data)
            shown[path] = _shown_name(name)
        readings = read_with_previews(
            list(shown), reader, limits, skip_pages=skip_pages, on_progress=on_progress
        )
        for reading, preview in readings:
            if skip_pages + len(result.pages) >= max_pages:
                result.truncated = True
                break
            reading.file = shown.get(reading.file, _shown_name(reading.file))
            outcome, reasons = review.keep_reading(
                store, reading, preview, cycles=cycles, serial_prefix=prefix, now_ms=now_ms
            )
            if outcome == "duplicate" and reading.outcome == REJECTED:
                # A page refused before is refused again, with its reason: "already
                # here" would tell the moderator it went in.
                outcome, reasons = REJECTED, list(reading.reasons)
            page = PageOutcome(
                reading.file, reading.page_index, reading.serial, reading.page, outcome, reasons
            )
            result.pages.append(page)
            yield page


def _shown_name(name: str) -> str:
    """The uploaded file's name as people see it: its last part, one line, short."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:200] or "scan"


def commit_ready(
    session: Session,
    cycle: Cycle,
    *,
    user: User | None,
    now: datetime,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> CommitOutcome:
    """Store every ready sheet of the cycle as one paper vote; all in one transaction.
    `on_progress(sheets_judged, sheets)` is told as the sheets are judged again."""
    outcome = CommitOutcome()
    problem = window_problem(cycle, now)
    if problem is not None:
        outcome.refused, outcome.refused_params = problem.code, dict(problem.params)
        return outcome
    store = store_for(session, cycle, user=user)
    packaged = packaged_cycle(session, cycle)
    records: list[VoteRecord] = []
    with store.write():
        points = store.point_codes("ready")
        ready = store.sheets("ready")
        point_ids = {sheet_vote_id(points[s.serial], cycle.id, s.serial): s for s in ready}
        already: set[str] = set()
        if point_ids:
            already = set(
                session.scalars(
                    select(Vote.id).where(
                        Vote.community_id == cycle.community_id, Vote.id.in_(list(point_ids))
                    )
                )
            )
        for judged, (point_id, sheet) in enumerate(point_ids.items()):
            if on_progress is not None and judged % 50 == 0:
                on_progress(judged, len(point_ids))
            # Judged again now: a sheet left ready must still keep the rules as they stand.
            state = review.refresh(store, cycle.id, sheet.serial, {cycle.id: packaged}, ms(now))
            if state.state != "ready":
                outcome.held.append((sheet.serial, (state.reasons or ["sheet.marginal_mark"])[0]))
                continue
            if point_id in already:
                outcome.held.append((sheet.serial, "paper_scans.sent_by_point"))
                continue
            current = store.sheet(cycle.id, sheet.serial)
            assert current is not None and current.ready_at_ms is not None
            device = points[sheet.serial]
            records.append(
                VoteRecord.create(
                    vote_id=server_sheet_vote_id(device, cycle.id, sheet.serial),
                    cycle_id=cycle.id,
                    selections=list(current.selections),
                    channel="paper",
                    cast_at=datetime.fromtimestamp(current.ready_at_ms / 1000, tz=UTC),
                    code_id="sheet_" + sheet.serial,
                    device_id=device,
                )
            )
        if not records:
            session.commit()
            return outcome
        try:
            store_votes(session, {cycle.id: load_cycle_rules(session, cycle)}, records, SOURCE, now=now)
        except VoteConflict:
            session.rollback()
            outcome.refused = "paper_scans.conflict"
            return outcome
        pairs = []
        for r in records:
            assert r.code_id is not None  # "sheet_" and the serial, made above
            pairs.append((cycle.id, r.code_id.removeprefix("sheet_"), r.vote_id))
        store.mark_committed(pairs, ms(now))
    outcome.committed = [(serial, vote_id) for _c, serial, vote_id in pairs]
    audit.record(
        session,
        "paper_scans.commit",
        user=user,
        community_id=cycle.community_id,
        target=("cycle", cycle.id),
        details={"committed": len(outcome.committed), "held": len(outcome.held)},
    )
    session.commit()
    return outcome
