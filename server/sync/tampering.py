"""Reading a pushed batch, and telling a malformed request from tampering.

Malformed structure (not a batch, too many entries, an unknown protocol) is a plain
422: a bug somewhere, nothing to alarm anyone about. What an honest device cannot send,
although the request is signed by it (an entry that is not an entry, entries that do
not hash to their signed checkpoint or do not follow each other, a vote id reused with
other content, pushing while revoked) is `Tampering`: refused and raised as an alarm.
"""

from __future__ import annotations

from typing import Any

from server.services.ballot_box import VoteConflict
from sync import log_batches, log_entries, wire

from . import alarms
from .alarm_texts import text_of
from .auth import DeviceRef
from .refusals import SyncRefused


class Tampering(Exception):
    """A refusal that is also an alarm: the device sent what an honest device cannot.
    `message` (Ukrainian, for the alarm) and `details` are what the moderator sees;
    `extra` goes into the device's error body."""

    def __init__(
        self,
        status: int,
        code: str,
        alarm_kind: str,
        text: dict,
        details: dict | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.alarm_kind = alarm_kind
        self.text = text
        self.details = details or {}
        self.extra = extra or {}


def revoked(ref: DeviceRef) -> Tampering:
    return Tampering(
        403,
        "device.revoked",
        alarms.REVOKED_PUSH,
        text_of("device.revoked_push", code=ref.code),
    )


def superseded(ref: DeviceRef) -> Tampering:
    return Tampering(
        403,
        "device.superseded",
        alarms.SUPERSEDED_STORE,
        text_of("device.superseded_asked", code=ref.code),
    )


def read_batch(raw: Any, ref: DeviceRef) -> log_batches.Batch:
    """The batch, strictly read. Malformed structure is a plain 422; an entry that is not
    an entry, or entries that do not hash to their signed checkpoint, is tampering."""
    try:
        batch = log_batches.read_batch(raw)
    except wire.ProtocolError as error:
        if error.code.startswith("entry."):
            raise invalid_entry(ref, None, error.code) from None
        if error.code == "batch.checkpoint_mismatch" and _well_formed_checkpoint(raw["checkpoint"]):
            raise broken(ref, None, error.code) from None
        if error.code == "batch.checkpoint_mismatch":
            raise SyncRefused(422, "batch.invalid", extra={"rule": "batch.checkpoint"}) from None
        raise SyncRefused(422, "batch.invalid", extra={"rule": error.code}) from None
    if batch.device != ref.code:
        raise SyncRefused(422, "batch.invalid", extra={"rule": "batch.device"})
    return batch


def _well_formed_checkpoint(checkpoint: dict) -> bool:
    """A checkpoint that could be a device's, so its not matching the entries is tampering
    rather than a malformed request."""
    return (
        type(checkpoint["seq"]) is int
        and isinstance(checkpoint["hash"], str)
        and wire.HEX64.fullmatch(checkpoint["hash"]) is not None
    )


def invalid_entry(ref: DeviceRef, seq: int | None, rule: str) -> Tampering:
    return Tampering(
        422,
        "entry.invalid",
        alarms.ENTRY_INVALID,
        text_of("entry.invalid", code=ref.code, seq=seq, rule=rule)
        if seq is not None
        else text_of("entry.invalid_unnumbered", code=ref.code, rule=rule),
        {"seq": seq, "rule": rule},
        {"seq": seq, "rule": rule},
    )


def broken(ref: DeviceRef, seq: int | None, rule: str) -> Tampering:
    return Tampering(
        422,
        "chain.broken",
        alarms.CHAIN_BROKEN,
        text_of("chain.broken", code=ref.code, seq=seq)
        if seq is not None
        else text_of("chain.broken_unnumbered", code=ref.code),
        {"seq": seq, "rule": rule},
        {"seq": seq},
    )


def chain_conflict(ref: DeviceRef, seq: int, stored_hash: str | None, offered_hash: str) -> Tampering:
    return Tampering(
        409,
        "chain.conflict",
        alarms.CHAIN_CONFLICT,
        text_of("chain.conflict", code=ref.code, seq=seq),
        {"seq": seq, "stored_hash": stored_hash, "offered_hash": offered_hash},
        {"seq": seq},
    )


def bad_checkpoint_signature(ref: DeviceRef, batch: log_batches.Batch) -> Tampering:
    return Tampering(
        422,
        "checkpoint.signature",
        alarms.CHECKPOINT_SIGNATURE,
        text_of("checkpoint.signature", code=ref.code, seq=batch.checkpoint_seq),
        {"seq": batch.checkpoint_seq, "hash": batch.checkpoint_hash},
    )


def check_links(ref: DeviceRef, entries: list[log_entries.AnyEntry], prev_seq: int, prev_hash: str) -> None:
    try:
        log_entries.check_chain(entries, ref.code, prev_seq, prev_hash)
    except wire.ProtocolError as error:
        # Name the first entry that does not follow, for the alarm and the device's log.
        expected, broken_at = prev_hash, None
        for entry in entries:
            damaged = isinstance(entry, log_entries.DamagedEntry)
            if entry.device != ref.code or (not damaged and entry.prev_hash != expected):
                broken_at = entry.seq
                break
            expected = entry.entry_hash()
        if error.code == "chain.device":
            raise invalid_entry(ref, broken_at, "entry.device") from None
        raise broken(ref, broken_at, error.code) from None


def damaged_entry(ref: DeviceRef, entry: log_entries.DamagedEntry) -> Tampering:
    """Not a refusal: the intact entries around it are taken. Only its alarm is used."""
    return Tampering(
        200,
        "entry.damaged",
        alarms.ENTRY_DAMAGED,
        text_of("entry.damaged", code=ref.code, seq=entry.seq),
        {"seq": entry.seq, "hash": entry.recorded_hash},
    )


def vote_conflict(ref: DeviceRef, conflict: VoteConflict) -> Tampering:
    ids = sorted({c.vote_id for c in conflict.conflicts})
    return Tampering(
        409,
        "vote.conflict",
        alarms.VOTE_CONFLICT,
        text_of("vote_conflict.device", code=ref.code, n=len(ids)),
        {
            "conflicts": [
                {"vote_id": c.vote_id, "stored_hash": c.stored_hash, "offered_hash": c.offered_hash}
                for c in conflict.conflicts
            ]
        },
        {"conflicting_ids": ids},
    )


def read_pending(ref: DeviceRef, raw: dict) -> log_batches.Batch:
    # It was read strictly when it arrived; failing now means the stored row changed.
    try:
        return log_batches.read_batch(raw)
    except wire.ProtocolError as error:
        raise broken(ref, None, error.code) from None
