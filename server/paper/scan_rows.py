"""The paper-scan tables' rows as the review core's records (paper/sheet_records.py),
and the edge's one conversion: the core counts epoch milliseconds, the tables keep
aware datetimes (server.paper.scan_store)."""

from __future__ import annotations

from datetime import datetime
from typing import overload

from paper.reading import REJECTED, BoxReading
from paper.sheet_records import Decision, SheetRow, StoredPage
from server.models import PaperScanDecision, PaperScanPage, PaperScanSheet


@overload
def ms(moment: datetime) -> int: ...
@overload
def ms(moment: None) -> None: ...
def ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def page_record(row: PaperScanPage, has_preview: bool) -> StoredPage:
    boxes = tuple(BoxReading(b["project_id"], b["category_id"], b["score"], b["verdict"]) for b in row.boxes)
    return StoredPage(
        row.id,
        row.image_sha256,
        row.page_index,
        row.file,
        ms(row.read_at),
        row.serial,
        row.page_no,
        row.pages_total,
        row.cycle_id if row.serial is not None and row.outcome != REJECTED else None,
        row.outcome,
        tuple(row.reasons),
        boxes,
        has_preview,
    )


def sheet_record(row: PaperScanSheet) -> SheetRow:
    return SheetRow(
        row.cycle_id,
        row.serial,
        row.pages_total,
        ms(row.first_seen),
        row.state,
        tuple(row.reasons),
        tuple(row.selections),
        ms(row.ready_at),
        row.vote_id,
        ms(row.committed_at),
    )


def decision_record(row: PaperScanDecision) -> Decision:
    return Decision(
        row.id,
        row.cycle_id,
        row.serial,
        row.kind,
        row.page_id,
        row.page_no,
        row.project_id,
        row.verdict,
        row.reason,
        row.operator,
        ms(row.decided_at),
        row.replaces,
    )
