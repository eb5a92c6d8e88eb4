"""A device's own log as the server holds it, read back by the device: a store restored
from an older copy (or a copy of a copy) learns the entries it lost, checks them
against its own key's checkpoint signatures, and resumes (sync.resume)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import DeviceCheckpoint, DeviceLogEntry
from sync import log_entries

from .log_apply import DAMAGED_KIND

MAX_ENTRIES = 500  # a page stays about as large as a pushed batch


def entries_page(session: Session, device_id: int, device_code: str, from_seq: int, limit: int) -> dict:
    """Entries from `from_seq` on (at most `limit`), each as the device sent it, and the
    newest stored checkpoint at or before the page's last entry that lies inside it
    (the device checks its own signature there)."""
    rows = session.scalars(
        select(DeviceLogEntry)
        .where(DeviceLogEntry.device_id == device_id, DeviceLogEntry.seq >= from_seq)
        .order_by(DeviceLogEntry.seq)
        .limit(min(limit, MAX_ENTRIES))
    ).all()
    entries: list[dict] = []
    for row in rows:
        if row.kind == DAMAGED_KIND:
            damaged = log_entries.DamagedEntry(
                device_code, row.seq, row.hash, row.payload.get("evidence", "")
            )
            entries.append(damaged.as_dict())
        else:
            entry = log_entries.LogEntry(
                device_code,
                row.seq,
                row.kind,
                row.payload,
                row.package_version,
                row.clock_offset_ms,
                row.prev_hash,
            )
            entries.append(entry.as_dict())
    checkpoint = None
    if rows:
        found = session.scalars(
            select(DeviceCheckpoint)
            .where(
                DeviceCheckpoint.device_id == device_id,
                DeviceCheckpoint.seq >= rows[0].seq,
                DeviceCheckpoint.seq <= rows[-1].seq,
            )
            .order_by(DeviceCheckpoint.seq.desc())
            .limit(1)
        ).first()
        if found is not None:
            checkpoint = {"seq": found.seq, "hash": found.hash, "signature": found.signature}
    return {"entries": entries, "checkpoint": checkpoint}
