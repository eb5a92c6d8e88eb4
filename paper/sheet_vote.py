"""A ready sheet's vote record, made the same way wherever it is committed (the support
point's device log, the server's scans): the id is a uuid5 of device, cycle and serial,
so a retried commit makes the very same record and the log or the ballot box recognises
it (support_point/commit.py says how a commit survives a crash)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from paper.sheet_records import SheetRow
from voting import VoteRecord

# Fixed forever: changing it would give a retried commit a new vote id.
PAPER_VOTE_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://spilno.example/paper-ballot-sheet")


def sheet_vote_id(device: str, cycle_id: int, serial: str) -> str:
    return str(uuid.uuid5(PAPER_VOTE_NAMESPACE, f"{device}/{cycle_id}/{serial}"))


def sheet_vote(sheet: SheetRow, device: str, voter_key: str | None = None) -> VoteRecord:
    """The sheet's vote: as its resident when it was issued to `voter_key`, else as its
    serial. The issue record never changes, so a retried commit makes the same record."""
    assert sheet.ready_at_ms is not None
    return VoteRecord.create(
        vote_id=sheet_vote_id(device, sheet.cycle_id, sheet.serial),
        cycle_id=sheet.cycle_id,
        selections=sheet.selections,
        channel="paper",
        cast_at=datetime.fromtimestamp(sheet.ready_at_ms / 1000, tz=UTC),
        voter_key=voter_key,
        code_id=None if voter_key else "sheet_" + sheet.serial,
        device_id=device,
    )
