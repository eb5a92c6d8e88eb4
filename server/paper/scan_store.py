"""The server's sheet store: the support point's SheetStore (paper/sheet_store.py)
over the server's database, so the one review core (paper/review.py) judges a
sheet the same way wherever it was read.

One store serves one cycle of one community: every read and write is filtered by both,
so a page id from another community's URL finds nothing. The review core works in epoch
milliseconds; the tables keep aware datetimes, converted at this edge (server.paper.scan_rows).

`write()` joins the caller's transaction and, on PostgreSQL, takes a transaction-level
advisory lock for the cycle's paper scans: two moderators deciding on the same sheet,
or an upload racing a decision, run one after the other, so the review core's
check-then-write ("nobody decided this box meanwhile") sees no change between the two.
The caller commits or rolls back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from paper.reading import REJECTED, SheetReading
from paper.sheet_records import Decision, SheetRow, StoredPage
from server.models import Device, PaperScanCrop, PaperScanDecision, PaperScanPage, PaperScanSheet
from server.models.paper_scan import DECISION_KINDS, SHEET_STATES
from sync.clock import datetime_from_ms

from .scan_rows import decision_record, page_record, sheet_record

MAX_FILE_NAME = 255


class ServerSheetStore:
    def __init__(
        self,
        session: Session,
        *,
        community_id: int,
        cycle_id: int,
        device_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        self.session = session
        self.community_id = community_id
        self.cycle_id = cycle_id
        self.device_id = device_id  # the support point whose scans are being added
        self.user_id = user_id  # the moderator: kept with every upload and decision

    @contextmanager
    def write(self) -> Iterator[Session]:
        if self.session.get_bind().dialect.name == "postgresql":
            # Re-taking a lock this transaction holds is free: nested uses are fine.
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtext('paper_scan'), :cycle)"), {"cycle": self.cycle_id}
            )
        yield self.session
        self.session.flush()

    def _pages(self):  # a select of this cycle's pages, with whether each has a preview
        return select(PaperScanPage, PaperScanPage.preview.is_not(None)).where(
            PaperScanPage.community_id == self.community_id, PaperScanPage.cycle_id == self.cycle_id
        )

    # --- pages ---------------------------------------------------------------------

    def add_reading(self, reading: SheetReading, preview: bytes | None, now_ms: int) -> StoredPage | None:
        """Keep one page reading; None when this image's page was kept before for this
        cycle (nothing changes). A reading of another cycle's sheet is kept rejected."""
        if self.device_id is None:
            raise ValueError("the store was opened without the support point the scans came from")
        if reading.outcome != REJECTED and reading.cycle_id != self.cycle_id:
            reading.outcome, reading.reasons, reading.selections = REJECTED, ["sheet.wrong_cycle"], []
        page_no = pages_total = None
        if reading.page and reading.outcome != REJECTED:
            first, _, last = reading.page.partition("/")
            page_no, pages_total = int(first), int(last)
        with self.write():
            known = self.session.scalar(
                select(PaperScanPage.id).where(
                    PaperScanPage.cycle_id == self.cycle_id,
                    PaperScanPage.image_sha256 == reading.image_sha256,
                    PaperScanPage.page_index == reading.page_index,
                )
            )
            if known is not None:
                return None
            now = datetime_from_ms(now_ms)
            counts = reading.outcome != REJECTED and reading.serial is not None
            row = PaperScanPage(
                community_id=self.community_id,
                cycle_id=self.cycle_id,
                device_id=self.device_id,
                image_sha256=reading.image_sha256,
                page_index=reading.page_index,
                file=reading.file[:MAX_FILE_NAME],
                read_at=now,
                serial=reading.serial if counts else None,
                page_no=page_no,
                pages_total=pages_total,
                outcome=reading.outcome,
                reasons=list(reading.reasons),
                boxes=[b.to_json() for b in reading.boxes],
                preview=preview,
                uploaded_by=self.user_id,
            )
            self.session.add(row)
            self.session.flush()
            self.session.add_all(
                PaperScanCrop(page_id=row.id, project_id=pid, community_id=self.community_id, png=png)
                for pid, png in reading.crops.items()
            )
            if counts and reading.serial is not None and self.sheet(self.cycle_id, reading.serial) is None:
                self.session.add(
                    PaperScanSheet(
                        cycle_id=self.cycle_id,
                        serial=reading.serial,
                        community_id=self.community_id,
                        device_id=self.device_id,
                        pages_total=pages_total or 1,
                        first_seen=now,
                        state="review",
                        reasons=[],
                        selections=[],
                    )
                )
            self.session.flush()
            return page_record(row, preview is not None)

    def page(self, page_id: int) -> StoredPage | None:
        found = self.session.execute(self._pages().where(PaperScanPage.id == page_id)).first()
        return page_record(*found) if found else None

    def pages_of(self, cycle_id: int, serial: str) -> list[StoredPage]:
        """The sheet's page readings that can count (not rejected), oldest first."""
        if cycle_id != self.cycle_id:
            return []
        rows = self.session.execute(
            self._pages()
            .where(PaperScanPage.serial == serial, PaperScanPage.outcome != REJECTED)
            .order_by(PaperScanPage.page_no, PaperScanPage.id)
        )
        return [page_record(*row) for row in rows]

    def recent_pages(self, limit: int = 200) -> list[StoredPage]:
        """The newest readings of this cycle, rejected ones included: what the last uploads gave."""
        rows = self.session.execute(self._pages().order_by(PaperScanPage.id.desc()).limit(limit))
        return [page_record(*row) for row in rows]

    def preview(self, page_id: int) -> bytes | None:
        return self.session.scalar(
            select(PaperScanPage.preview).where(
                PaperScanPage.id == page_id,
                PaperScanPage.community_id == self.community_id,
                PaperScanPage.cycle_id == self.cycle_id,
            )
        )

    def crop(self, page_id: int, project_id: int) -> bytes | None:
        return self.session.scalar(
            select(PaperScanCrop.png)
            .join(PaperScanPage, PaperScanPage.id == PaperScanCrop.page_id)
            .where(
                PaperScanCrop.page_id == page_id,
                PaperScanCrop.project_id == project_id,
                PaperScanPage.community_id == self.community_id,
                PaperScanPage.cycle_id == self.cycle_id,
            )
        )

    def cropped_boxes(self, page_ids: Iterable[int]) -> set[tuple[int, int]]:
        """(page id, project id) of every kept crop of these pages (of this community):
        the review page shows a zoomed picture only where one exists."""
        ids = list(page_ids)
        if not ids:
            return set()
        rows = self.session.execute(
            select(PaperScanCrop.page_id, PaperScanCrop.project_id).where(
                PaperScanCrop.page_id.in_(ids), PaperScanCrop.community_id == self.community_id
            )
        )
        return {(page_id, project_id) for page_id, project_id in rows}

    def page_count(self) -> int:
        return self.session.execute(
            select(func.count()).select_from(PaperScanPage).where(PaperScanPage.cycle_id == self.cycle_id)
        ).scalar_one()

    # --- sheets ----------------------------------------------------------------------

    def _sheet_row(self, cycle_id: int, serial: str) -> PaperScanSheet | None:
        if cycle_id != self.cycle_id:
            return None
        return self.session.scalar(
            select(PaperScanSheet).where(
                PaperScanSheet.community_id == self.community_id,
                PaperScanSheet.cycle_id == cycle_id,
                PaperScanSheet.serial == serial,
            )
        )

    def sheet(self, cycle_id: int, serial: str) -> SheetRow | None:
        row = self._sheet_row(cycle_id, serial)
        return sheet_record(row) if row else None

    def sheet_device(self, serial: str) -> int | None:
        row = self._sheet_row(self.cycle_id, serial)
        return row.device_id if row else None

    def point_codes(self, state: str) -> dict[str, str]:
        """serial -> the device code of its support point, for this cycle's sheets in
        `state` (one query, for a commit of many sheets)."""
        rows = self.session.execute(
            select(PaperScanSheet.serial, Device.code)
            .join(Device, Device.id == PaperScanSheet.device_id)
            .where(
                PaperScanSheet.community_id == self.community_id,
                PaperScanSheet.cycle_id == self.cycle_id,
                PaperScanSheet.state == state,
            )
        )
        return dict(rows.all())

    def sheets(self, state: str | None = None, limit: int | None = None) -> list[SheetRow]:
        """Sheets in `state` (all when None), oldest first: the review queue's order."""
        query = select(PaperScanSheet).where(
            PaperScanSheet.community_id == self.community_id, PaperScanSheet.cycle_id == self.cycle_id
        )
        if state is not None:
            query = query.where(PaperScanSheet.state == state)
        query = query.order_by(PaperScanSheet.first_seen, PaperScanSheet.serial).limit(limit)
        return [sheet_record(row) for row in self.session.scalars(query)]

    def counts(self) -> dict[str, int]:
        found = dict(
            self.session.execute(
                select(PaperScanSheet.state, func.count())
                .where(
                    PaperScanSheet.community_id == self.community_id,
                    PaperScanSheet.cycle_id == self.cycle_id,
                )
                .group_by(PaperScanSheet.state)
            ).all()
        )
        return {state: found.get(state, 0) for state in SHEET_STATES}

    def save_state(
        self,
        cycle_id: int,
        serial: str,
        state: str,
        reasons: Iterable[str],
        selections: Iterable[int],
        ready_at_ms: int | None,
    ) -> None:
        with self.write():
            self.session.execute(
                update(PaperScanSheet)
                .where(
                    PaperScanSheet.community_id == self.community_id,
                    PaperScanSheet.cycle_id == cycle_id,
                    PaperScanSheet.serial == serial,
                    PaperScanSheet.state != "committed",
                )
                .values(
                    state=state,
                    reasons=list(reasons),
                    selections=sorted(selections),
                    ready_at=None if ready_at_ms is None else datetime_from_ms(ready_at_ms),
                )
                .execution_options(synchronize_session=False)
            )
            self.session.expire_all()

    def mark_committed(self, votes: Iterable[tuple[int, str, str]], now_ms: int) -> None:
        """Mark (cycle id, serial, vote id) sheets committed, in the caller's transaction."""
        with self.write():
            for cycle_id, serial, vote_id in votes:
                self.session.execute(
                    update(PaperScanSheet)
                    .where(
                        PaperScanSheet.community_id == self.community_id,
                        PaperScanSheet.cycle_id == cycle_id,
                        PaperScanSheet.serial == serial,
                        PaperScanSheet.state == "ready",
                    )
                    .values(state="committed", vote_id=vote_id, committed_at=datetime_from_ms(now_ms))
                    .execution_options(synchronize_session=False)
                )
            self.session.expire_all()

    # --- decisions -------------------------------------------------------------------

    def decisions(self, cycle_id: int, serial: str) -> list[Decision]:
        if cycle_id != self.cycle_id:
            return []
        rows = self.session.scalars(
            select(PaperScanDecision)
            .where(
                PaperScanDecision.community_id == self.community_id,
                PaperScanDecision.cycle_id == cycle_id,
                PaperScanDecision.serial == serial,
            )
            .order_by(PaperScanDecision.id)
        )
        return [decision_record(row) for row in rows]

    def add_decision(
        self,
        cycle_id: int,
        serial: str,
        kind: str,
        *,
        operator: str,
        now_ms: int,
        page_id: int | None = None,
        page_no: int | None = None,
        project_id: int | None = None,
        verdict: str | None = None,
        reason: str | None = None,
        replaces: int | None = None,
    ) -> int:
        if kind not in DECISION_KINDS:
            raise ValueError(f"decision kind {kind!r} is not one of {DECISION_KINDS}")
        with self.write():
            row = PaperScanDecision(
                community_id=self.community_id,
                cycle_id=cycle_id,
                serial=serial,
                kind=kind,
                page_id=page_id,
                page_no=page_no,
                project_id=project_id,
                verdict=verdict,
                reason=reason,
                operator=operator,
                user_id=self.user_id,
                decided_at=datetime_from_ms(now_ms),
                replaces=replaces,
            )
            self.session.add(row)
            self.session.flush()
            return row.id
