"""Batches that arrive past a gap in the device's log: checked as far as they can be,
kept, and applied in order once the gap is filled (server.sync.ingest)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import Device, PendingBatch
from server.services.tally_delta import TallyDelta
from sync import log_batches, wire

from .auth import DeviceRef
from .entries import EntryInvalid, read_entry_votes
from .log_apply import apply_entries, raise_tampering_alarm, votes_only
from .refusals import SyncRefused
from .tampering import Tampering, check_links, invalid_entry, read_pending

# A device that keeps sending batches past a gap it never fills is broken; this bounds
# what it can make the server hold (about 50 MB at the largest batch size).
MAX_PENDING_BATCHES = 50


def keep_pending(
    session: Session, ref: DeviceRef, batch: log_batches.Batch, enrolment_id: int, now: datetime
) -> None:
    """Check a batch that arrived ahead of a gap as far as it can be checked now, and
    keep it for when the gap is filled."""
    entries = batch.entries
    check_links(ref, entries, entries[0].seq - 1, entries[0].prev_hash or "")
    try:
        read_entry_votes(session, ref, votes_only(entries))
    except EntryInvalid as invalid:
        raise invalid_entry(ref, invalid.seq, invalid.rule) from None
    same = select(PendingBatch.id).where(
        PendingBatch.device_id == ref.id,
        PendingBatch.first_seq == entries[0].seq,
        PendingBatch.last_seq == entries[-1].seq,
        PendingBatch.checkpoint_hash == batch.checkpoint_hash,
    )
    if session.scalar(same) is not None:
        return  # sent again while waiting: same answer, kept once
    waiting = session.execute(select(func.count()).where(PendingBatch.device_id == ref.id)).scalar_one()
    if waiting >= MAX_PENDING_BATCHES:
        raise SyncRefused(429, "sync.too_many_pending", headers={"Retry-After": "60"})
    session.add(
        PendingBatch(
            community_id=ref.community_id,
            device_id=ref.id,
            enrolment_id=enrolment_id,
            first_seq=entries[0].seq,
            last_seq=entries[-1].seq,
            checkpoint_hash=batch.checkpoint_hash,
            batch={
                "protocol": wire.PROTOCOL_VERSION,
                "device": batch.device,
                "entries": [e.as_dict() for e in entries],
                "checkpoint": {
                    "seq": batch.checkpoint_seq,
                    "hash": batch.checkpoint_hash,
                    "signature": batch.signature,
                },
            },
            received_at=now,
        )
    )


def apply_pending(
    session: Session, device: Device, ref: DeviceRef, now: datetime, tally: TallyDelta, current: set[int]
) -> bool:
    """Apply the waiting batches the device's log now reaches, in order. One that no
    longer fits (it conflicts with what arrived meanwhile) is dropped with an alarm; the
    device still has it and will send it again, and then hear the refusal itself.
    `current`: the enrolment whose key the device signs with now (a batch another
    enrolment signed is a superseded store's). Whether any was there."""
    found = False
    while True:
        ready = session.scalars(
            select(PendingBatch)
            .where(PendingBatch.device_id == ref.id, PendingBatch.first_seq <= device.acked_seq + 1)
            .order_by(PendingBatch.first_seq, PendingBatch.id)
        ).all()
        if not ready:
            return found
        found = True
        for pending in ready:
            # Its own delta, kept only if its savepoint is: a dropped batch moves nothing.
            pending_tally = TallyDelta()
            try:
                with session.begin_nested():
                    batch = read_pending(ref, pending.batch)
                    apply_entries(
                        session,
                        device,
                        ref,
                        batch,
                        pending.enrolment_id,
                        now,
                        pending_tally,
                        superseded=pending.enrolment_id not in current,
                    )
                tally.merge(pending_tally)
            except Tampering as refused:
                raise_tampering_alarm(session, ref, refused, now, pending_from_seq=pending.first_seq)
            session.delete(pending)
        session.flush()
