"""What a drill proves after every fault: each vote the terminals cast is counted exactly
once, and every sign of tampering became an alarm.

The reference comes from the terminals' own store files, not from anything the server
computed: every logged vote is read back with VoteRecord.from_canonical_body, judged by
the cycle's rules and the counting rule (voting.counting), and tallied. The server must
agree in its log entries, its vote table, its running tally and its recount.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from server.models import Alarm, Cycle, Device, DeviceLogEntry, HeldVote, Vote
from server.services.cycle_rules import load_cycle_rules
from server.services.tally import running_tally
from server.sync.log_apply import DAMAGED_KIND
from server.sync.recount import recount_cycle
from sync import log_entries, wire
from voting import CountingInput, VoteRecord, decide, tally

from .harness import Terminal


@dataclass
class Reference:
    """The count as the terminals' logs say it must be."""

    votes: dict[str, VoteRecord] = field(default_factory=dict)
    statuses: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)
    tally: dict[int, int] = field(default_factory=dict)
    through: dict[str, int] = field(default_factory=dict)  # device -> last seq the server must hold


def _listing(ids: Iterable[str], limit: int = 10) -> str:
    ids = sorted(ids)
    return ", ".join(ids[:limit]) + (f" ... ({len(ids)} in all)" if len(ids) > limit else "")


def _server_copy(session: Session, device: Device, seq: int) -> str:
    row = session.scalars(
        select(DeviceLogEntry).where(DeviceLogEntry.device_id == device.id, DeviceLogEntry.seq == seq)
    ).one()
    entry = log_entries.LogEntry(
        device.code, row.seq, row.kind, row.payload, row.package_version, row.clock_offset_ms, row.prev_hash
    )
    return wire.canonical_json(entry.as_dict()).decode()


def check_counted_exactly_once(
    engine: Engine,
    cycle_id: int,
    terminals: Iterable[Terminal],
    fully_synced: Iterable[Terminal],
    context: str = "",
) -> Reference:
    """Compare the server with the terminals' logs; AssertionError naming the difference.

    `fully_synced` terminals must have every logged entry on the server and marked sent
    locally. For the others (a tampered or revoked terminal, or one a drill left behind)
    the server holds a prefix of their log: it must be exactly that prefix, entry for
    entry, and their votes up to it are what must count."""
    terminals = list(terminals)
    must_be_complete = {t.code for t in fully_synced}
    ref = Reference()
    with Session(engine) as session:
        devices = {
            d.code: d
            for d in session.scalars(select(Device).where(Device.code.in_([t.code for t in terminals])))
        }
        not_counted = set(
            session.scalars(
                select(HeldVote.vote_id).where(
                    or_(HeldVote.decision.is_(None), HeldVote.decision == "rejected")
                )
            )
        )
        for terminal in terminals:
            device = devices[terminal.code]
            rows = terminal.log_rows()
            stored, damaged = {}, set()
            for seq, entry_hash, kind in session.execute(
                select(DeviceLogEntry.seq, DeviceLogEntry.hash, DeviceLogEntry.kind).where(
                    DeviceLogEntry.device_id == device.id
                )
            ):
                stored[seq] = entry_hash
                if kind == DAMAGED_KIND:
                    damaged.add(seq)
            if terminal.code in must_be_complete:
                assert device.acked_seq == len(rows), (
                    f"{context}{terminal.code}: the server holds its log up to {device.acked_seq},"
                    f" the terminal logged {len(rows)} entries"
                )
                assert terminal.acked_seq() == len(rows), (
                    f"{context}{terminal.code}: the terminal marked {terminal.acked_seq()} of"
                    f" {len(rows)} entries sent after a complete sync"
                )
            assert device.acked_seq <= len(rows), (
                f"{context}{terminal.code}: the server acknowledged {device.acked_seq} entries"
                f" of a log that has {len(rows)}"
            )
            expected = {seq: entry_hash for seq, entry_hash, _ in rows[: device.acked_seq]}
            differ = sorted(
                seq for seq in stored.keys() | expected.keys() if stored.get(seq) != expected.get(seq)
            )
            assert not differ, (
                f"{context}{terminal.code}: the server's log entries differ from the terminal's first"
                f" {device.acked_seq} at seq {differ[:10]}"
            )
            for seq, entry_hash, text in rows[: device.acked_seq]:
                if seq in damaged:
                    # Kept as evidence, never counted: only an entry that really no
                    # longer reads as written may arrive so.
                    assert wire.sha256_hex(text.encode()) != entry_hash, (
                        f"{context}{terminal.code} entry {seq} is intact but arrived as damaged"
                    )
                    continue
                if wire.sha256_hex(text.encode()) != entry_hash:
                    # Damaged on the terminal after it was delivered: the reference is
                    # the entry the terminal recorded the hash of when writing it, which
                    # the server's copy must still be.
                    text = _server_copy(session, device, seq)
                assert wire.sha256_hex(text.encode()) == entry_hash, f"{terminal.code} entry {seq} altered"
                record = VoteRecord.from_canonical_body(json.loads(text)["payload"])
                if record.vote_id in not_counted:
                    continue  # held for a moderator (or rejected by one): not a vote yet
                assert record.vote_id not in ref.votes, f"vote {record.vote_id} logged twice"
                ref.votes[record.vote_id] = record
            ref.through[terminal.code] = device.acked_seq

        cycle = session.get(Cycle, cycle_id)
        assert cycle is not None
        rules = load_cycle_rules(session, cycle)
        decisions = decide(
            CountingInput(r.vote_id, r.voter, r.cast_at, rules.invalid_reason(r)) for r in ref.votes.values()
        )
        ref.statuses = {
            vote_id: (d.status.value, d.reason, d.counted_vote_id) for vote_id, d in decisions.items()
        }
        ref.tally = {
            p: n for p, n in tally({v: r.selections for v, r in ref.votes.items()}, decisions).items() if n
        }

        on_server = {
            vote.id: (vote.status, vote.status_reason, vote.counted_vote_id)
            for vote in session.scalars(select(Vote).where(Vote.cycle_id == cycle_id))
        }
        missing, extra = ref.votes.keys() - on_server.keys(), on_server.keys() - ref.votes.keys()
        assert not missing, (
            f"{context}{len(missing)} vote(s) logged by terminals are missing: {_listing(missing)}"
        )
        assert not extra, f"{context}{len(extra)} vote(s) on the server no terminal logged: {_listing(extra)}"
        twice = session.execute(
            select(DeviceLogEntry.vote_id, func.count())
            .where(DeviceLogEntry.vote_id.is_not(None))  # damaged entries carry no vote
            .group_by(DeviceLogEntry.vote_id)
            .having(func.count() > 1)
        ).all()
        assert not twice, f"{context}vote ids stored in more than one log entry: {twice[:10]}"
        wrong = {v: (on_server[v], ref.statuses[v]) for v in ref.statuses if on_server[v] != ref.statuses[v]}
        assert not wrong, f"{context}standings differ from the counting rule (server, reference): {wrong}"

        running = running_tally(session, cycle_id)
        assert running == ref.tally, (
            f"{context}running tally {dict(sorted(running.items()))}"
            f" != reference tally {dict(sorted(ref.tally.items()))}"
        )
        report = recount_cycle(session, cycle_id)
        problems = [
            line
            for line in report.json_lines()
            if line.get("ok") is False or line["type"] in ("record", "status")
        ]
        assert report.ok, f"{context}the recount disagrees: {problems}"
        assert report.tally == ref.tally and report.votes == len(ref.votes)
    return ref


@dataclass(frozen=True)
class AlarmSeen:
    kind: str
    source: str
    repeats: int  # how often it was raised during the drill
    details: dict


class AlarmWatch:
    """Which alarms a drill raised: new ones, and repeats counted up on open ones."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.before = self._repeats()

    def _repeats(self) -> dict[int, tuple[Alarm, int]]:
        with Session(self.engine) as session:
            return {a.id: (a, int(a.details.get("repeats", 1))) for a in session.scalars(select(Alarm))}

    def raised(self) -> list[AlarmSeen]:
        seen = []
        for alarm_id, (alarm, repeats) in sorted(self._repeats().items()):
            earlier = self.before.get(alarm_id, (None, 0))[1]
            if repeats > earlier:
                details = {k: v for k, v in alarm.details.items() if k not in ("repeats", "last_at", "text")}
                seen.append(AlarmSeen(alarm.kind, alarm.source, repeats - earlier, details))
        return seen

    def kinds(self) -> Counter[tuple[str, str]]:
        """(kind, source) -> times raised during the drill."""
        counts: Counter[tuple[str, str]] = Counter()
        for alarm in self.raised():
            counts[(alarm.kind, alarm.source)] += alarm.repeats
        return counts
