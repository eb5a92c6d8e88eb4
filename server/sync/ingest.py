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
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from server.models import Device, DeviceCheckpoint, DeviceLogEntry, PendingBatch
from server.services import eligibility
from server.services.ballot_box import StoredVote, TallyDelta, VoteConflict, insert_rows, store_votes
from sync import protocol

from . import alarms
from .alarm_texts import text_of
from .auth import Contact, DeviceRef, is_revoked, note_contact
from .device_keys import device_keys, signer
from .entries import EntryInvalid, read_entry_votes
from .held import batch_districts, hold, hold_reason
from .refusals import SyncRefused
from .statuses import EntryStatus, statuses_between
from .tampering import (
    Tampering,
    bad_checkpoint_signature,
    chain_conflict,
    check_links,
    damaged_entry,
    invalid_entry,
    read_batch,
    read_pending,
    revoked,
    superseded,
    vote_conflict,
)

# A device that keeps sending batches past a gap it never fills is broken; this bounds
# what it can make the server hold (about 50 MB at the largest batch size).
MAX_PENDING_BATCHES = 50
CLOCK_STEP_MS = 5 * 60 * 1000  # drift between syncs stays far below; a step does not
DAMAGED_KIND = "damaged"  # a log row kept as evidence of an entry the device could not read
# The log table as Core sees it (the ORM types __table__ as any FROM clause).
LOG_TABLE = typing.cast(Table, DeviceLogEntry.__table__)
# A stored log row's columns, in the order _apply writes them.
LOG_COLUMNS = (
    "community_id",
    "device_id",
    "seq",
    "hash",
    "prev_hash",
    "kind",
    "payload",
    "package_version",
    "clock_offset_ms",
    "vote_id",
    "received_at",
)


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


def acked_hash(device: Device) -> str:
    return device.acked_hash or protocol.genesis_hash(device.code)


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
        _alarm(session, ref, refused, now)


def _alarm(
    session: Session, ref: DeviceRef, refused: Tampering, now: datetime, **more_details: object
) -> None:
    """The moderators' alarm for what `refused` describes (counted up if already open)."""
    alarms.raise_alarm(
        session,
        community_id=ref.community_id,
        source=ref.code,
        kind=refused.alarm_kind,
        text=refused.text,
        details={**refused.details, **more_details},
        now=now,
    )


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
    signed = protocol.checkpoint_bytes(ref.code, batch.checkpoint_seq, batch.checkpoint_hash)
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
        _keep_pending(session, ref, batch, enrolment_id, now)
        if contact is not None:
            note_contact(device, contact)
        return PushAnswer(device.acked_seq, acked_hash(device), True, [], is_revoked(device), was_superseded)
    tally = TallyDelta()
    if contact is not None:
        _note_clock_steps(session, ref, device.acked_seq, batch, contact, now)
    decided = _apply(
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
    applied_pending = _apply_pending(session, device, ref, now, tally, current)
    if contact is not None:
        note_contact(device, contact)
    votes_in_batch = [e for e in batch.entries if isinstance(e, protocol.LogEntry)]
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


def _keep_pending(
    session: Session, ref: DeviceRef, batch: protocol.Batch, enrolment_id: int, now: datetime
) -> None:
    """Check a batch that arrived ahead of a gap as far as it can be checked now, and
    keep it for when the gap is filled."""
    entries = batch.entries
    check_links(ref, entries, entries[0].seq - 1, entries[0].prev_hash or "")
    try:
        read_entry_votes(session, ref, _votes_only(entries))
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
                "protocol": protocol.PROTOCOL_VERSION,
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


def _apply(
    session: Session,
    device: Device,
    ref: DeviceRef,
    batch: protocol.Batch,
    enrolment_id: int,
    now: datetime,
    tally: TallyDelta,
    offset_now_ms: int | None = None,
    *,
    superseded: bool = False,
) -> list[StoredVote]:
    """Store what is new in a batch that starts at or before acked_seq + 1; the new
    entries' votes as the ballot box decided them (their tally changes added to `tally`)."""
    old = [e for e in batch.entries if e.seq <= device.acked_seq]
    new = [e for e in batch.entries if e.seq > device.acked_seq]
    decided: list[StoredVote] = []
    if old:
        stored = dict(
            session.execute(
                select(DeviceLogEntry.seq, DeviceLogEntry.hash).where(
                    DeviceLogEntry.device_id == ref.id,
                    DeviceLogEntry.seq.between(old[0].seq, old[-1].seq),
                )
            ).all()
        )
        for entry in old:
            offered = entry.entry_hash()
            if stored.get(entry.seq) != offered:
                raise chain_conflict(ref, entry.seq, stored.get(entry.seq), offered)
    if new:
        check_links(ref, new, device.acked_seq, acked_hash(device))
        intact = _votes_only(new)
        try:
            votes = read_entry_votes(session, ref, intact)
        except EntryInvalid as invalid:
            raise invalid_entry(ref, invalid.seq, invalid.rule) from None
        cycles = votes.cycles
        # The server's own voter list decides, not the terminal's copy of it (which may
        # be older, incomplete, or an answer replayed to it).
        keys = sorted({r.voter_key for r in votes.records if r.voter_key is not None})
        unlisted = (eligibility.unlisted_keys(session, ref.community_id, keys) or set()) if keys else set()
        # The same list says where each voter lives, for district categories.
        districts = batch_districts(session, ref.community_id, votes.rules, votes.records)
        # The district check only where the ballot has a district category: elsewhere it
        # finds nothing, vote by vote (voting.district.district_problems).
        district_ballots = {
            cycle_id: rules.ballot if any(c.district for c in rules.ballot.categories) else None
            for cycle_id, rules in votes.rules.items()
        }
        to_store, to_hold, store_hashes = [], [], []
        for entry, record, digest in zip(intact, votes.records, votes.content_hashes, strict=True):
            # The device's clock offset as the server sees it now, less the one the vote
            # was placed by: its drift since (a bundle or a waiting batch: unknown, 0).
            drift = 0 if offset_now_ms is None else entry.clock_offset_ms - offset_now_ms
            reason = hold_reason(
                device,
                cycles[record.cycle_id],
                record,
                unlisted,
                drift,
                superseded=superseded,
                ballot=district_ballots[record.cycle_id],
                districts=districts,
            )
            if reason is None:
                to_store.append(record)
                store_hashes.append(digest)
            else:
                to_hold.append((entry, record, reason))
        try:
            if to_store:
                decided = store_votes(
                    session,
                    votes.rules,
                    to_store,
                    source=ref.code,
                    now=now,
                    tally=tally,
                    content_hashes=store_hashes,
                )
        except VoteConflict as conflict:
            raise vote_conflict(ref, conflict) from None
        hold(session, device, to_hold, now)
        vote_ids = {entry.seq: record.vote_id for entry, record in zip(intact, votes.records, strict=True)}
        rows, link = [], acked_hash(device)
        for entry in new:
            if isinstance(entry, protocol.DamagedEntry):
                # Kept as evidence in its place in the chain: it links on to the next
                # entry by its recorded hash, carries no vote, and is never counted.
                rows.append(_damaged_row(ref, entry, link, now))
                _alarm(session, ref, damaged_entry(ref, entry), now)
            else:
                # In LOG_COLUMNS order; the payload as the text its entry hash was made
                # of (a JSON column takes it as it is: no second encoding).
                rows.append(
                    (
                        ref.community_id,
                        ref.id,
                        entry.seq,
                        entry.entry_hash(),
                        entry.prev_hash,
                        entry.kind,
                        entry.payload_bytes().decode("ascii"),
                        entry.package_version,
                        entry.clock_offset_ms,
                        vote_ids[entry.seq],
                        now,
                    )
                )
            link = entry.entry_hash()
        insert_rows(session, LOG_TABLE, LOG_COLUMNS, rows)
        device.acked_seq = new[-1].seq
        device.acked_hash = new[-1].entry_hash()
    # Kept once: a batch sent again names a checkpoint already stored (one statement,
    # not a look-up and then an insert).
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(DeviceCheckpoint)
        .values(
            community_id=ref.community_id,
            device_id=ref.id,
            enrolment_id=enrolment_id,
            seq=batch.checkpoint_seq,
            hash=batch.checkpoint_hash,
            signature=batch.signature,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["device_id", "seq"])
    )
    session.flush()
    return decided


def _note_clock_steps(
    session: Session, ref: DeviceRef, acked_seq: int, batch: protocol.Batch, contact: Contact, now: datetime
) -> None:
    """New entries cast under a clock offset far from the device's true one now: its
    clock was stepped while it was offline and the device did not catch it (a step
    forward across a restart). Their cast times may be off by that much; the moderators
    see the terminal flagged on the fleet page."""
    off = [
        e
        for e in batch.entries
        if isinstance(e, protocol.LogEntry)
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


def _votes_only(entries: list[protocol.AnyEntry]) -> list[protocol.LogEntry]:
    return [e for e in entries if isinstance(e, protocol.LogEntry)]


def _damaged_row(ref: DeviceRef, entry: protocol.DamagedEntry, link: str, now: datetime) -> tuple:
    return (
        ref.community_id,
        ref.id,
        entry.seq,
        entry.recorded_hash,
        link,  # prev_hash: what it should have pointed back to; its own text cannot say
        DAMAGED_KIND,
        protocol.canonical_json({"evidence": entry.evidence}).decode("ascii"),
        0,
        0,
        None,
        now,
    )


def _apply_pending(
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
                    _apply(
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
                _alarm(session, ref, refused, now, pending_from_seq=pending.first_seq)
            session.delete(pending)
        session.flush()
