"""POST /api/v1/sync/log: a device's signed batch of log entries, stored exactly once.

A batch is applied against what the server holds of the device's log, with the device
row locked (SELECT ... FOR UPDATE) so two pushes from one device never apply at once:

- entries the server already has (seq <= acked_seq) must be the very same entries
  (same hash), and are answered again; anything else is a chain conflict;
- the first new entry must be acked_seq + 1. If it is further on, the batch waits as a
  pending batch (checked and kept, never dropped) until the gap is filled;
- new entries must continue the chain from the stored hash, carry valid votes of the
  device's own community, and be vouched for by the checkpoint signature.

Entries, checkpoint, votes (through the ballot box) and the device's new position are
written in one transaction; the answer is given only after it commits. A refusal
rolls everything back, and its alarm is written in a transaction of its own, so the
moderator hears about it although nothing of the batch was kept.

The new entries are written by server.sync.log_apply; batches past a gap wait in
server.sync.pending_batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from server.models import Device
from server.services.tally_delta import TallyDelta
from sync import log_batches, log_entries

from . import alarms
from .alarm_texts import text_of
from .auth import Contact, DeviceRef, is_revoked, note_contact
from .device_keys import device_keys, signer
from .log_apply import acked_hash, apply_entries, raise_tampering_alarm
from .pending_batches import apply_pending, keep_pending
from .refusals import SyncRefused
from .statuses import EntryStatus, statuses_between
from .tampering import Tampering, bad_checkpoint_signature, read_batch, revoked, superseded

CLOCK_STEP_MS = 5 * 60 * 1000  # drift between syncs stays far below; a step does not


@dataclass(frozen=True)
class PushAnswer:
    acked_seq: int
    acked_hash: str
    gap: bool
    statuses: list[EntryStatus]
    revoked: bool = False  # the device is revoked: it must take no more votes
    superseded: bool = False  # signed by an earlier enrolment's key: that store takes no more

    def as_dict(self) -> dict:
        return {
            "acked_seq": self.acked_seq,
            "acked_hash": self.acked_hash,
            "gap": self.gap,
            "statuses": [s.as_dict() for s in self.statuses],
            "revoked": self.revoked,
            "superseded": self.superseded,
        }


def accept_batch(session: Session, device: Device, raw: Any, contact: Contact) -> PushAnswer:
    """Apply a received batch and commit, or roll back and raise SyncRefused."""
    return apply_batch(session, device, raw, now=contact.now, contact=contact)


def apply_batch(
    session: Session, device: Device, raw: Any, *, now: datetime, contact: Contact | None = None
) -> PushAnswer:
    """Apply a signed batch and commit, or roll back and raise SyncRefused (tampering
    also raises an alarm). `contact` is the device's own request; None when the batch
    came another way (a bundle carried on a USB stick, server.sync.bundle_import), so
    the device's last contact, clock and backlog stay as the device last reported them."""
    ref = DeviceRef.of(device)
    try:
        answer = _accept(session, device, ref, raw, now, contact)
        session.commit()
        return answer
    except Tampering as refused:
        session.rollback()
        _remember(session, ref, now, contact, refused)
        session.commit()
        raise SyncRefused(refused.status, refused.code, extra=refused.extra) from None
    except SyncRefused:
        session.rollback()
        _remember(session, ref, now, contact, None)
        session.commit()
        raise
    except (IntegrityError, OperationalError):
        # The device row lock keeps one device's pushes apart, but the same new vote id
        # can still arrive at the same moment by another way (another device's copy, the
        # platform), and the ballot box then loses a race on the primary key; or the
        # voter locks of a push that also applies waiting batches (taken in two rounds)
        # meet another push's in a deadlock, which PostgreSQL breaks by failing one.
        # Sending again sees what committed and gets an ordinary answer.
        session.rollback()
        raise SyncRefused(503, "sync.busy", headers={"Retry-After": "1"}) from None
    except BaseException:
        session.rollback()
        raise


def refuse_revoked_push(session: Session, device: Device, contact: Contact) -> NoReturn:
    """A revoked device tried to push: refuse, and tell the moderators (once, counted up)."""
    ref = DeviceRef.of(device)
    refused = revoked(ref)
    _remember(session, ref, contact.now, contact, refused)
    session.commit()
    raise SyncRefused(refused.status, refused.code)


def refuse_superseded(session: Session, device: Device, contact: Contact) -> NoReturn:
    """A store the device was enrolled past asked for more than delivering its votes:
    refuse (its answer tells it to take no more), and tell the moderators."""
    ref = DeviceRef.of(device)
    refused = superseded(ref)
    _remember(session, ref, contact.now, contact, refused)
    session.commit()
    raise SyncRefused(refused.status, refused.code)


def _remember(
    session: Session, ref: DeviceRef, now: datetime, contact: Contact | None, refused: Tampering | None
) -> None:
    device = session.get(Device, ref.id)
    if device is not None and contact is not None:
        note_contact(device, contact)
    if refused is not None:
        raise_tampering_alarm(session, ref, refused, now)


def _accept(
    session: Session, device: Device, ref: DeviceRef, raw: Any, now: datetime, contact: Contact | None
) -> PushAnswer:
    batch = read_batch(raw, ref)
    # Everything below reads the device's position after every earlier push committed.
    locked = session.scalar(
        select(Device).where(Device.id == ref.id).with_for_update().execution_options(populate_existing=True)
    )
    assert locked is not None  # authenticated a moment ago in this transaction
    device = locked
    # A revoked device's push is verified and taken like any other; its votes wait for
    # a moderator (server.sync.held) instead of being refused and lost. So do the votes of
    # a store the device was enrolled past (signed by an earlier key): never stranded,
    # never counted by themselves (server.sync.device_keys).
    signed = log_batches.checkpoint_bytes(ref.code, batch.checkpoint_seq, batch.checkpoint_hash)
    keys = device_keys(session, device)
    key = signer(keys, signed, batch.signature)
    if key is None:
        if device.public_key is None:
            raise SyncRefused(401, "device.signature")
        raise bad_checkpoint_signature(ref, batch)
    enrolment_id, was_superseded = key.enrolment_id, not key.current
    if was_superseded:
        alarms.raise_alarm(
            session,
            community_id=ref.community_id,
            source=ref.code,
            kind=alarms.SUPERSEDED_STORE,
            text=text_of("device.superseded_delivered", code=ref.code),
            details={},
            now=now,
        )
    first_new = next((e for e in batch.entries if e.seq > device.acked_seq), None)
    if first_new is not None and first_new.seq > device.acked_seq + 1:
        keep_pending(session, ref, batch, enrolment_id, now)
        if contact is not None:
            note_contact(device, contact)
        return PushAnswer(device.acked_seq, acked_hash(device), True, [], is_revoked(device), was_superseded)
    tally = TallyDelta()
    if contact is not None:
        _note_clock_steps(session, ref, device.acked_seq, batch, contact, now)
    decided = apply_entries(
        session,
        device,
        ref,
        batch,
        enrolment_id,
        now,
        tally,
        contact.clock_offset_ms if contact else None,
        superseded=was_superseded,
    )
    current = {k.enrolment_id for k in keys if k.current}
    applied_pending = apply_pending(session, device, ref, now, tally, current)
    if contact is not None:
        note_contact(device, contact)
    # Every intact entry, votes and poll answers alike: a batch with answers (whose
    # standings the ballot box does not give) reads them all back below.
    votes_in_batch = [e for e in batch.entries if isinstance(e, log_entries.LogEntry)]
    if len(decided) == len(votes_in_batch) and not applied_pending:
        # All new, and nothing applied after them could have changed their standing:
        # the ballot box's answers are the current ones, no need to read them back.
        statuses = [
            EntryStatus(entry.seq, vote.vote_id, vote.status, vote.reason, vote.counted_vote_id)
            for entry, vote in zip(votes_in_batch, decided, strict=True)
        ]
    else:
        statuses = statuses_between(session, ref.id, batch.entries[0].seq, batch.entries[-1].seq)
    # Last before the commit: the shared project tally rows stay locked only that long.
    tally.apply(session)
    return PushAnswer(
        device.acked_seq, acked_hash(device), False, statuses, is_revoked(device), was_superseded
    )


def _note_clock_steps(
    session: Session,
    ref: DeviceRef,
    acked_seq: int,
    batch: log_batches.Batch,
    contact: Contact,
    now: datetime,
) -> None:
    """New entries cast under a clock offset far from the device's true one now: its
    clock was stepped while it was offline and the device did not catch it (a step
    forward across a restart). Their cast times may be off by that much; the moderators
    see the terminal flagged on the fleet page."""
    off = [
        e
        for e in batch.entries
        if isinstance(e, log_entries.LogEntry)
        and e.seq > acked_seq
        and abs(e.clock_offset_ms - contact.clock_offset_ms) > CLOCK_STEP_MS
    ]
    if not off:
        return
    worst = max(abs(e.clock_offset_ms - contact.clock_offset_ms) for e in off) // 60_000
    alarms.raise_alarm(
        session,
        community_id=ref.community_id,
        source=ref.code,
        kind=alarms.CLOCK_STEP,
        text=text_of("clock.step", code=ref.code, n=len(off), worst=worst),
        details={"first_seq": off[0].seq, "last_seq": off[-1].seq},
        now=now,
    )
