"""Reading the votes inside a device's log entries, refusing what the device may not send.

A device writes one vote per entry: the canonical vote record, naming the device itself
and a channel its kind may use, for a cycle of its own community. Anything else is an
invalid entry (the whole batch is refused and an alarm raised). Ballot-rule problems are
not: such a vote is stored and counted as `invalid`, like on every other channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Cycle, DeviceKind
from server.services.cycle_rules import CycleRules, load_cycle_rules
from sync.log_entries import LogEntry
from sync.wire import sha256_hex
from voting import Channel, VoteRecord

from .auth import DeviceRef

CHANNELS = {
    # A terminal: a resident's card, an operator typing a resident's document at the
    # terminal (staff-assisted mode), a student's code shown to its camera.
    DeviceKind.TERMINAL.value: frozenset({Channel.KIOSK, Channel.STAFF_ASSISTED, Channel.SCHOOL_CODE}),
    DeviceKind.SUPPORT_POINT.value: frozenset({Channel.PAPER, Channel.STAFF_ASSISTED}),
}
MAX_ID = 2**31 - 1


class EntryInvalid(Exception):
    def __init__(self, seq: int, rule: str) -> None:
        super().__init__(f"entry {seq}: {rule}")
        self.seq = seq
        self.rule = rule


@dataclass(frozen=True)
class EntryVotes:
    records: list[VoteRecord]  # one per entry, in order
    rules: dict[int, CycleRules]
    content_hashes: list[str]  # each record's content_hash(), in the same order
    cycles: dict[int, Cycle]  # the cycles named, by id (the keys of `rules`)


def content_hash(entry: LogEntry, record: VoteRecord) -> str:
    """record.content_hash() for the record read from `entry` (read_vote), from the
    payload's canonical text the entry's hash was made of: the record's canonical body
    is not built and encoded a second time.

    read_vote took the payload only if it equals the record's canonical body. Every
    field's type is fixed by then (from_canonical_body checks cycle, selections, device
    and cast_at; the id, voter key, code and channel are strings equal to canonical
    ones) except "v", where 1.0 or true would equal 1 and encode differently: such a
    payload takes the long way."""
    if type(entry.payload["v"]) is int:
        return sha256_hex(entry.payload_bytes())
    return record.content_hash()


def read_vote(entry: LogEntry, device: DeviceRef) -> VoteRecord:
    """The vote in `entry`, or EntryInvalid naming the rule it breaks."""
    try:
        record = VoteRecord.from_canonical_body(entry.payload)
    # TypeError: a field of the wrong JSON type reaching a regular expression or an enum.
    except (ValueError, TypeError):
        raise EntryInvalid(entry.seq, "entry.vote_record") from None
    # Project ids are PostgreSQL integers: a bigger number could never be on a ballot,
    # and storing it would fail rather than count as an invalid vote.
    if not all(0 < project_id <= MAX_ID for project_id in record.selections):
        raise EntryInvalid(entry.seq, "entry.vote_record")
    if record.device_id != device.code:
        raise EntryInvalid(entry.seq, "entry.vote_device")
    if record.channel not in CHANNELS.get(device.kind, frozenset()):
        raise EntryInvalid(entry.seq, "entry.vote_channel")
    # A blank paper sheet votes as its serial, and a support point numbers only its own
    # sheets (S-0001 prints S0001-000001, ...): another point's serial is not its to send.
    if record.code_id is not None and record.channel == Channel.PAPER:
        if not record.code_id.startswith(f"sheet_{device.code.replace('-', '')}-"):
            raise EntryInvalid(entry.seq, "entry.vote_sheet")
    return record


def read_entry_votes(session: Session, device: DeviceRef, entries: Sequence[LogEntry]) -> EntryVotes:
    """Every entry's vote with the rules of the cycles they name, all of the device's own
    community; EntryInvalid at the first entry that breaks a rule."""
    records = [read_vote(entry, device) for entry in entries]
    wanted = {r.cycle_id for r in records}
    # Ids beyond a PostgreSQL integer cannot name a cycle; asking would be an error.
    cycles = {
        c.id: c
        for c in session.scalars(
            select(Cycle).where(
                Cycle.id.in_(sorted(i for i in wanted if 0 < i <= MAX_ID)),
                Cycle.community_id == device.community_id,
            )
        )
    }
    for entry, record in zip(entries, records, strict=True):
        # Another community's cycle is refused exactly like one that does not exist.
        if record.cycle_id not in cycles:
            raise EntryInvalid(entry.seq, "entry.vote_cycle")
    rules = {i: load_cycle_rules(session, c) for i, c in cycles.items()}
    hashes = [content_hash(entry, record) for entry, record in zip(entries, records, strict=True)]
    return EntryVotes(records, rules, hashes, cycles)
