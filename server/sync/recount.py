"""Recount a cycle from the raw records, trusting nothing the server computed on the way.

1. Every device with votes in the cycle: its whole log is verified again from the
   genesis hash, entry by entry (each stored entry must hash to its recorded hash and
   point to the one before), and every stored checkpoint against the key of the
   enrolment that signed it. Changing a stored entry shows even if the attacker also
   rewrote the hashes after it: the device's signatures cannot be redone.
2. Every vote row must hash to its content hash, and a device's vote must be exactly
   the vote in its log entry.
3. Every vote's status is decided again by the counting rule (voting.counting) with the
   cycle's rules, and the tally recomputed; both are compared with what is stored and
   with the running tally.
4. Support points' tally sheets (server.models.paper_tally) are part of the published
   figures, so they are added to both sides; each is first checked against the content
   hash made when it was entered and against the ballot's limits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from server.models import Cycle, Device, DeviceCheckpoint, DeviceEnrolment, DeviceLogEntry, Vote
from server.paper.tally import current_tallies, verify_stored_tallies
from server.services.cycle_rules import load_cycle_rules, resolve_codes
from server.services.funding_recount import FundingDifference, recount_funding
from server.services.tally import add_counts, published_tally
from sync import log_batches, log_entries, signing
from voting import CountingInput, VoteRecord, VoteStatus, decide, tally

from .log_apply import DAMAGED_KIND

_STREAM = 2000  # rows fetched at a time: a device's log can be long


@dataclass
class ChainReport:
    device: str
    entries: int = 0
    verified_up_to: int = 0  # every entry up to here checks out and is signed
    problems: list[str] = field(default_factory=list)
    damaged: list[int] = field(default_factory=list)  # entries kept as evidence, never counted

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class StatusMismatch:
    vote_id: str
    stored: tuple[str, str | None, str | None]  # status, reason, counted_vote_id
    recomputed: tuple[str, str | None, str | None]


@dataclass(frozen=True)
class PaperTallyLineReport:
    device: str
    tally_id: int
    ballots_cast: int
    ballots_spoiled: int
    votes: int


@dataclass
class RecountReport:
    cycle_id: int
    votes: int = 0
    chains: list[ChainReport] = field(default_factory=list)
    record_problems: list[str] = field(default_factory=list)
    status_mismatches: list[StatusMismatch] = field(default_factory=list)
    tally: dict[int, int] = field(default_factory=dict)  # tally sheets included
    running_tally: dict[int, int] = field(default_factory=dict)  # as published: sheets included
    paper_tallies: list[PaperTallyLineReport] = field(default_factory=list)
    # Categories whose funded projects, under the cycle's funding rule, differ between
    # the published results and the recounted votes.
    funding: list[FundingDifference] = field(default_factory=list)

    @property
    def tally_agrees(self) -> bool:
        return self.tally == self.running_tally

    @property
    def ok(self) -> bool:
        return (
            all(c.ok for c in self.chains)
            and not self.record_problems
            and not self.status_mismatches
            and self.tally_agrees
            and not self.funding
        )

    def json_lines(self) -> Iterator[dict]:
        """One object per finding, then a summary: for `spilno server recount --json`."""
        for chain in self.chains:
            yield {
                "type": "chain",
                "device": chain.device,
                "entries": chain.entries,
                "verified_up_to": chain.verified_up_to,
                "ok": chain.ok,
                "problems": chain.problems,
                "damaged": chain.damaged,
            }
        for problem in self.record_problems:
            yield {"type": "record", "problem": problem}
        for m in self.status_mismatches:
            yield {
                "type": "status",
                "vote_id": m.vote_id,
                "stored": dict(zip(("status", "reason", "counted_vote_id"), m.stored, strict=True)),
                "recomputed": dict(zip(("status", "reason", "counted_vote_id"), m.recomputed, strict=True)),
            }
        for sheet in self.paper_tallies:
            yield {
                "type": "paper_tally",
                "device": sheet.device,
                "tally_id": sheet.tally_id,
                "ballots_cast": sheet.ballots_cast,
                "ballots_spoiled": sheet.ballots_spoiled,
                "votes": sheet.votes,
            }
        for difference in self.funding:
            yield difference.as_dict()
        for project_id in sorted(self.tally.keys() | self.running_tally.keys()):
            yield {
                "type": "tally",
                "project_id": project_id,
                "votes": self.tally.get(project_id, 0),
                "running": self.running_tally.get(project_id, 0),
            }
        yield {
            "type": "summary",
            "cycle_id": self.cycle_id,
            "votes": self.votes,
            "devices": len(self.chains),
            "paper_tallies": len(self.paper_tallies),
            "broken_chains": sum(not c.ok for c in self.chains),
            "record_problems": len(self.record_problems),
            "status_mismatches": len(self.status_mismatches),
            "tally_agrees": self.tally_agrees,
            "funding_differences": len(self.funding),
            "ok": self.ok,
        }


class UnknownCycle(LookupError):
    pass


def verify_device_chain(session: Session, device: Device) -> ChainReport:
    """The device's whole stored log, checked from its first entry."""
    report = ChainReport(device.code)
    keys = dict(
        session.execute(
            select(DeviceEnrolment.id, DeviceEnrolment.public_key).where(
                DeviceEnrolment.device_id == device.id
            )
        ).all()
    )
    checkpoints = {
        cp.seq: cp
        for cp in session.scalars(select(DeviceCheckpoint).where(DeviceCheckpoint.device_id == device.id))
    }
    rows = session.execute(
        select(DeviceLogEntry)
        .where(DeviceLogEntry.device_id == device.id)
        .order_by(DeviceLogEntry.seq)
        .execution_options(yield_per=_STREAM)
    ).scalars()
    expected_seq, previous = 1, log_entries.genesis_hash(device.code)
    sound = True  # nothing wrong so far, so a good checkpoint moves verified_up_to
    for row in rows:
        report.entries += 1
        if row.seq != expected_seq:
            report.problems.append(f"entry {expected_seq} is missing (next stored is {row.seq})")
            sound = False
        entry = log_entries.LogEntry(
            device.code,
            row.seq,
            row.kind,
            row.payload,
            row.package_version,
            row.clock_offset_ms,
            row.prev_hash,
        )
        # A damaged entry (the device could not read it back) is kept as evidence under
        # the hash it was written with: its content cannot be checked, and it carries
        # no vote, but the chain still runs through it.
        damaged = row.kind == DAMAGED_KIND
        if damaged:
            report.damaged.append(row.seq)
        actual = row.hash if damaged else entry.entry_hash()
        if row.prev_hash != previous:
            report.problems.append(f"entry {row.seq} does not follow entry {row.seq - 1}")
            sound = False
        if actual != row.hash:
            report.problems.append(
                f"entry {row.seq} does not hash to its recorded hash (changed after receipt)"
            )
            sound = False
        checkpoint = checkpoints.pop(row.seq, None)
        if checkpoint is not None:
            signed = log_batches.checkpoint_bytes(device.code, row.seq, checkpoint.hash)
            if checkpoint.hash != actual:
                report.problems.append(f"checkpoint {row.seq} does not match entry {row.seq}")
                sound = False
            elif not signing.verify(keys.get(checkpoint.enrolment_id) or "", signed, checkpoint.signature):
                report.problems.append(f"checkpoint {row.seq} is not signed by the device's key")
                sound = False
            elif sound:
                report.verified_up_to = row.seq
        # Follow the content as stored: a changed entry breaks the link to the next one.
        previous, expected_seq = actual, row.seq + 1
    last = expected_seq - 1
    for seq in sorted(checkpoints):
        report.problems.append(f"checkpoint {seq} has no entry")
    if report.verified_up_to != last:
        report.problems.append(
            f"entries {report.verified_up_to + 1}..{last} are not vouched for by a signature"
        )
    if device.acked_seq != last:
        report.problems.append(
            f"the device is recorded as acknowledged up to {device.acked_seq}, the log ends at {last}"
        )
    elif last and device.acked_hash != previous:
        report.problems.append(f"entry {last} is not the entry that was acknowledged")
    # Several findings can say the same thing twice; keep the first of each.
    report.problems = list(dict.fromkeys(report.problems))
    return report


def _entry_of_vote():
    # A vote id names a vote within its community: another community's device may log
    # the same id for a vote of its own.
    return and_(DeviceLogEntry.community_id == Vote.community_id, DeviceLogEntry.vote_id == Vote.id)


def _device_votes_match_their_entries(session: Session, cycle_id: int, report: RecountReport) -> set[str]:
    """Compare each device vote with the vote in its log entry; return their devices' codes."""
    rows = session.execute(
        select(Device.code, DeviceLogEntry.seq, DeviceLogEntry.payload, Vote.id, Vote.content_hash)
        .join(DeviceLogEntry, _entry_of_vote())
        .join(Device, Device.id == DeviceLogEntry.device_id)
        .where(Vote.cycle_id == cycle_id)
        .execution_options(yield_per=_STREAM)
    )
    codes = set()
    for code, seq, payload, vote_id, content_hash in rows:
        codes.add(code)
        try:
            logged = VoteRecord.from_canonical_body(payload).content_hash()
        except (ValueError, TypeError):
            logged = None
        if logged != content_hash:
            report.record_problems.append(f"vote {vote_id} differs from entry {seq} of {code}")
    return codes


def recount_cycle(
    session: Session, cycle_id: int, *, on_progress: Callable[[int, int | None], None] | None = None
) -> RecountReport:
    """Recount `cycle_id` from raw records; read-only. UnknownCycle if there is none.
    `on_progress(votes_recounted, votes)` is told as the votes are recounted."""
    cycle = session.get(Cycle, cycle_id) if 0 < cycle_id < 2**31 else None
    if cycle is None:
        raise UnknownCycle(cycle_id)
    report = RecountReport(cycle_id)
    rules = resolve_codes(session, load_cycle_rules(session, cycle), None)
    if on_progress is not None:
        votes = session.scalar(select(func.count()).select_from(Vote).where(Vote.cycle_id == cycle_id))
        on_progress(0, votes)

    logged_devices = _device_votes_match_their_entries(session, cycle_id, report)
    inputs: list[CountingInput] = []
    selections: dict[str, list[int]] = {}
    stored: dict[str, tuple[str, str | None, str | None]] = {}
    unlogged: dict[str, list[str]] = {}  # source -> vote ids with no log entry
    logged_votes = set(
        session.scalars(
            select(DeviceLogEntry.vote_id).join(Vote, _entry_of_vote()).where(Vote.cycle_id == cycle_id)
        )
    )
    for vote in session.scalars(
        select(Vote).where(Vote.cycle_id == cycle_id).execution_options(yield_per=_STREAM)
    ):
        report.votes += 1
        if on_progress is not None and report.votes % _STREAM == 0:
            on_progress(report.votes, votes)
        record = VoteRecord.create(
            vote_id=vote.id,
            cycle_id=vote.cycle_id,
            selections=vote.selections,
            channel=vote.channel,
            cast_at=vote.cast_at,
            voter_key=vote.voter_key,
            code_id=vote.code_id,
            device_id=vote.device_id,
        )
        if record.content_hash() != vote.content_hash:
            report.record_problems.append(f"vote {vote.id} does not hash to its content hash")
        if vote.id not in logged_votes:
            unlogged.setdefault(vote.source, []).append(vote.id)
        inputs.append(CountingInput(vote.id, record.voter, record.cast_at, rules.invalid_reason(record)))
        selections[vote.id] = list(record.selections)
        stored[vote.id] = (vote.status, vote.status_reason, vote.counted_vote_id)

    if on_progress is not None:
        on_progress(report.votes, votes)
    # A vote that names a device as its source but has no entry in that device's log
    # was not delivered by sync: someone wrote it into the table.
    for code in sorted(session.scalars(select(Device.code).where(Device.code.in_(sorted(unlogged))))):
        ids = sorted(unlogged[code])
        report.record_problems.append(
            f"{len(ids)} vote(s) from {code} without a log entry: {', '.join(ids[:10])}"
        )
        logged_devices.add(code)

    decisions = decide(inputs)
    for vote_id, decision in decisions.items():
        recomputed = (decision.status.value, decision.reason, decision.counted_vote_id)
        if recomputed != stored[vote_id]:
            report.status_mismatches.append(StatusMismatch(vote_id, stored[vote_id], recomputed))
    # Tally sheets: no voter keys to decide about, so their lines add as they are.
    sheets = current_tallies(session, cycle_id)
    for finding in verify_stored_tallies(session, cycle, sheets):
        report.record_problems.append(
            f"tally sheet {finding.tally_id} of {finding.device}: {finding.problem}"
        )
    report.paper_tallies = [
        PaperTallyLineReport(
            s.device_code, s.tally.id, s.tally.ballots_cast, s.tally.ballots_spoiled, sum(s.votes.values())
        )
        for s in sheets
    ]
    report.tally = add_counts(tally(selections, decisions), *(s.votes for s in sheets))
    report.running_tally = published_tally(session, cycle_id)
    # Funding is re-decided from the recounted ballots, by every method the cycle may use.
    counted = [selections[v] for v, d in decisions.items() if d.status is VoteStatus.COUNTED]
    report.funding = list(recount_funding(session, cycle, report.tally, counted))

    for device in session.scalars(
        select(Device).where(Device.code.in_(sorted(logged_devices))).order_by(Device.code)
    ):
        report.chains.append(verify_device_chain(session, device))
    return report
