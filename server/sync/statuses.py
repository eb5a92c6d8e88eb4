"""Each stored log entry's vote (or poll answer) and its current standing, for the
device that sent it.

A vote's standing can change after it was acknowledged (an earlier vote of the same
resident arrives later from elsewhere), so devices ask again with
GET /api/v1/sync/statuses?since_seq=N.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from server.models import Device, DeviceLogEntry, PollAnswer, Vote

from .entry_answers import KIND as ANSWER_KIND
from .entry_answers import REFUSED
from .held import held_statuses

MAX_STATUSES = 1000


@dataclass(frozen=True)
class EntryStatus:
    seq: int
    vote_id: str | None
    status: str | None
    reason: str | None
    counted_vote_id: str | None

    def as_dict(self) -> dict:
        return {
            "seq": self.seq,
            "vote_id": self.vote_id,
            "status": self.status,
            "reason": self.reason,
            "counted_vote_id": self.counted_vote_id,
        }


def _query(device_id: int):
    return (
        select(
            DeviceLogEntry.seq,
            DeviceLogEntry.vote_id,
            Vote.status,
            Vote.status_reason,
            Vote.counted_vote_id,
            DeviceLogEntry.kind,
            PollAnswer.status.label("answer_status"),
            PollAnswer.counted_answer_id,
        )
        # A vote id names a vote within its community (the entry's, the device's); a
        # poll answer entry's vote_id names its answer the same way.
        .outerjoin(
            Vote, and_(Vote.community_id == DeviceLogEntry.community_id, Vote.id == DeviceLogEntry.vote_id)
        )
        .outerjoin(
            PollAnswer,
            and_(
                DeviceLogEntry.kind == ANSWER_KIND,
                PollAnswer.community_id == DeviceLogEntry.community_id,
                PollAnswer.id == DeviceLogEntry.vote_id,
            ),
        )
        .where(DeviceLogEntry.device_id == device_id, DeviceLogEntry.vote_id.is_not(None))
        .order_by(DeviceLogEntry.seq)
    )


def _with_held(session: Session, device_id: int, rows: Sequence[Any]) -> list[EntryStatus]:
    """Entries whose vote is not in the vote table are held for a moderator (or were
    rejected): their status comes from there (server.sync.held). A poll answer entry's
    comes from its stored answer; one that was not taken is invalid
    (server.sync.entry_answers)."""
    missing = [row.vote_id for row in rows if row.status is None and row.kind != ANSWER_KIND]
    waiting = {}
    if missing:
        community_id = session.scalar(select(Device.community_id).where(Device.id == device_id))
        assert community_id is not None  # the device of these entries
        waiting = held_statuses(session, community_id, missing)
    found = []
    for row in rows:
        if row.kind == ANSWER_KIND:
            if row.answer_status is None:
                found.append(EntryStatus(row.seq, row.vote_id, "invalid", REFUSED, None))
            else:
                found.append(
                    EntryStatus(row.seq, row.vote_id, row.answer_status, None, row.counted_answer_id)
                )
        elif row.status is None and row.vote_id in waiting:
            status, reason = waiting[row.vote_id]
            found.append(EntryStatus(row.seq, row.vote_id, status, reason, None))
        else:
            found.append(
                EntryStatus(row.seq, row.vote_id, row.status, row.status_reason, row.counted_vote_id)
            )
    return found


def statuses_between(session: Session, device_id: int, first_seq: int, last_seq: int) -> list[EntryStatus]:
    """The stored vote entries first_seq..last_seq, in order."""
    rows = session.execute(
        _query(device_id).where(DeviceLogEntry.seq >= first_seq, DeviceLogEntry.seq <= last_seq)
    ).all()
    return _with_held(session, device_id, rows)


def statuses_since(session: Session, device_id: int, since_seq: int) -> list[EntryStatus]:
    """Up to MAX_STATUSES stored vote entries after since_seq, in order."""
    rows = session.execute(_query(device_id).where(DeviceLogEntry.seq > since_seq).limit(MAX_STATUSES)).all()
    return _with_held(session, device_id, rows)
