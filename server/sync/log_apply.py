"""A batch's new entries written to the device's stored log, with their votes: the
chain checked from the stored position, the votes stored through the ballot box or held
for a moderator, poll answers stored once (server.sync.entry_answers), a damaged entry
kept as evidence (server.sync.ingest applies a push).
"""

from __future__ import annotations

import typing
from datetime import datetime

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.models import Device, DeviceCheckpoint, DeviceLogEntry
from server.services import eligibility
from server.services.ballot_box import StoredVote, VoteConflict, store_votes
from server.services.pg_batch import insert_rows
from server.services.tally_delta import TallyDelta
from sync import log_batches, log_entries, wire

from . import alarms
from .auth import DeviceRef
from .entries import EntryInvalid, read_entry_votes
from .entry_answers import KIND as ANSWER_KIND
from .entry_answers import read_entry_answers, store_entry_answers
from .held import batch_districts, hold, hold_reason
from .tampering import Tampering, chain_conflict, check_links, damaged_entry, invalid_entry, vote_conflict

VOTE_KIND = "vote"
DAMAGED_KIND = "damaged"  # a log row kept as evidence of an entry the device could not read
# The log table as Core sees it (the ORM types __table__ as any FROM clause).
LOG_TABLE = typing.cast(Table, DeviceLogEntry.__table__)
# A stored log row's columns, in the order apply_entries writes them.
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


def acked_hash(device: Device) -> str:
    return device.acked_hash or log_entries.genesis_hash(device.code)


def raise_tampering_alarm(
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


def apply_entries(
    session: Session,
    device: Device,
    ref: DeviceRef,
    batch: log_batches.Batch,
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
        intact = votes_only(new)
        answer_entries = [e for e in new if isinstance(e, log_entries.LogEntry) and e.kind == ANSWER_KIND]
        try:
            votes = read_entry_votes(session, ref, intact)
            answers = read_entry_answers(session, device, ref, answer_entries, superseded=superseded)
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
        # The answers' standings are read back with the statuses (server.sync.statuses).
        store_entry_answers(session, ref, answers, now)
        # The log row's vote_id names the vote or the poll answer the entry carries.
        vote_ids = {entry.seq: record.vote_id for entry, record in zip(intact, votes.records, strict=True)}
        vote_ids.update((answer.entry.seq, answer.header.answer_id) for answer in answers)
        rows, link = [], acked_hash(device)
        for entry in new:
            if isinstance(entry, log_entries.DamagedEntry):
                # Kept as evidence in its place in the chain: it links on to the next
                # entry by its recorded hash, carries no vote, and is never counted.
                rows.append(_damaged_row(ref, entry, link, now))
                raise_tampering_alarm(session, ref, damaged_entry(ref, entry), now)
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


def votes_only(entries: list[log_entries.AnyEntry]) -> list[log_entries.LogEntry]:
    return [e for e in entries if isinstance(e, log_entries.LogEntry) and e.kind == VOTE_KIND]


def _damaged_row(ref: DeviceRef, entry: log_entries.DamagedEntry, link: str, now: datetime) -> tuple:
    return (
        ref.community_id,
        ref.id,
        entry.seq,
        entry.recorded_hash,
        link,  # prev_hash: what it should have pointed back to; its own text cannot say
        DAMAGED_KIND,
        wire.canonical_json({"evidence": entry.evidence}).decode("ascii"),
        0,
        0,
        None,
        now,
    )
