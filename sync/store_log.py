"""The device's vote log: append-only and hash-chained, each entry (a vote, or a poll
answer: sync.log_records) written in one transaction before `append_vote` (or
`append_poll_answer`) returns, so a power cut after the voter is thanked cannot lose
it. No method updates or deletes an entry (only its acked flag and
status columns change), and triggers in the file refuse it too. Reading entries back
to send them, the server's acknowledgements, and checking the whole chain.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from sync import log_entries, wire
from sync.log_entries import LogEntry
from sync.log_records import POLL_ANSWER, VOTE, read_logged
from sync.store_alarms import StoreAlarms
from sync.store_file import StoreError
from sync.store_identity import StoreIdentity
from voting import VoteRecord
from voting.polls import PollAnswerRecord


class AckMismatch(StoreError):
    """The server acknowledged a log entry that differs from ours: the two disagree on
    history, which needs a person, never an automatic fix."""


def next_entry_basis(db: sqlite3.Connection, device: str) -> tuple[int, str, int, int]:
    """What a new entry is made from, read in the writer's transaction: the last entry's
    seq and recorded hash (_link_to), the package version and the clock offset now."""
    row = db.execute(
        "SELECT seq, CAST(entry_hash AS BLOB), CAST(entry_json AS BLOB) FROM log ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    prev_seq, prev_hash = _link_to(row, device)
    version = db.execute("SELECT COALESCE(MAX(version), 0) FROM package").fetchone()[0]
    offset = db.execute("SELECT clock_offset_ms FROM sync_state").fetchone()[0]
    return prev_seq, prev_hash, version, offset


def _link_to(row: tuple[int, bytes, bytes] | None, device: str) -> tuple[int, str]:
    """(seq, hash) for a new entry to point back to: the last entry's hash as recorded
    when it was written. The text is consulted only if the recorded hash itself is
    unreadable."""
    if row is None:
        return 0, log_entries.genesis_hash(device)
    seq, recorded_raw, data = row
    recorded = recorded_raw.decode("ascii", "replace")
    if wire.HEX64.fullmatch(recorded):
        return seq, recorded
    return seq, wire.sha256_hex(data)


def _prev_hash_in(data: bytes) -> str | None:
    """The link an entry's stored text points back along, if it can be read."""
    try:
        value = json.loads(data.decode("utf-8")).get("prev_hash")
    except (ValueError, TypeError, AttributeError):
        return None
    return value if isinstance(value, str) and wire.HEX64.fullmatch(value) else None


def _entry_as_written(
    seq: int, data: bytes, recorded_raw: bytes, successor: bytes | None, device: str
) -> log_entries.AnyEntry:
    """The entry in row `seq`, or a DamagedEntry if its text is not what was written.
    Both columns come as bytes: a changed byte may not even be UTF-8 any more, and
    SQLite would then refuse to hand over the row as text at all. `successor`: the next
    row's text, if read; what it links back to is read only when this row's text is not
    the recorded one (nearly never: one JSON parse less per entry sent)."""
    text_hash = wire.sha256_hex(data)
    recorded = recorded_raw.decode("ascii", "replace")
    recorded_ok = wire.HEX64.fullmatch(recorded) is not None
    as_recorded = text_hash == recorded
    following = None if as_recorded or successor is None else _prev_hash_in(successor)
    if as_recorded or (following is not None and text_hash == following):
        try:
            entry = LogEntry.from_dict(json.loads(data.decode("utf-8")))
            if not as_recorded:  # only the hash column vouches for nothing: check it all
                read_logged(entry.kind, entry.payload)
        except (ValueError, TypeError):
            entry = None
        if entry is not None and (entry.seq, entry.device) == (seq, device):
            if as_recorded:
                # The very bytes hashed when the entry was written (its canonical text):
                # no need to encode it again to know its hash. This runs for every entry
                # of every push.
                object.__setattr__(entry, "_hash", text_hash)
                return entry
            if entry.entry_hash() == text_hash:
                return entry
    # What the next entry links to wins over the recorded hash: it is what the server
    # will check. Without a readable successor, the recorded hash is all there is.
    if following is None and successor is not None:
        following = _prev_hash_in(successor)
    linked = following or (recorded if recorded_ok else text_hash)
    evidence = data[: log_entries.MAX_EVIDENCE_CHARS].decode("utf-8", "replace")
    return log_entries.DamagedEntry(device, seq, linked, evidence)


class VoteLog(StoreIdentity, StoreAlarms):
    def append_vote(self, record: VoteRecord) -> LogEntry:
        """Add one vote to the log; it is on disk when this returns."""
        return self.append_votes([record])[0]

    def append_votes(self, records: Iterable[VoteRecord]) -> list[LogEntry]:
        """Add votes in one transaction: all of them are on disk, or none (a support
        point sends a whole scanned stack at once)."""
        return self._append(VOTE, [(r.vote_id, r.device_id, r.canonical_body()) for r in records])

    def append_poll_answer(self, record: PollAnswerRecord) -> LogEntry:
        """Add one poll answer to the log; it is on disk when this returns."""
        return self.append_poll_answers([record])[0]

    def append_poll_answers(self, records: Iterable[PollAnswerRecord]) -> list[LogEntry]:
        """Add poll answers in one transaction: all of them are on disk, or none. They
        travel and are acknowledged exactly as votes are."""
        return self._append(POLL_ANSWER, [(r.answer_id, r.device_id, r.canonical_body()) for r in records])

    def _append(self, kind: str, records: list[tuple[str, str | None, dict[str, Any]]]) -> list[LogEntry]:
        """(id, device, canonical body) of each record, appended as entries of `kind`.
        Votes' and answers' ids are UUIDs made where they are cast: one id column holds
        both, so an id is logged once whatever it names."""
        identity = self.require_identity()
        what = "vote" if kind == VOTE else "answer"
        entries: list[LogEntry] = []
        with self._write() as db:
            prev_seq, prev_hash, version, offset = next_entry_basis(db, identity.device)
            for record_id, device, body in records:
                if device != identity.device:
                    raise StoreError(f"{what}.device", f"{what} {record_id} names device {device!r}")
                entry = log_entries.entry_after(
                    prev_seq, prev_hash, identity.device, kind, body, version, offset
                )
                try:
                    db.execute(
                        "INSERT INTO log (seq, entry_hash, entry_json, vote_id) VALUES (?, ?, ?, ?)",
                        (
                            entry.seq,
                            entry.entry_hash(),
                            wire.canonical_json(entry.as_dict()).decode(),
                            record_id,
                        ),
                    )
                except sqlite3.IntegrityError:
                    raise StoreError(
                        f"{what}.duplicate_id", f"{what} {record_id} is already logged"
                    ) from None
                entries.append(entry)
                prev_seq, prev_hash = entry.seq, entry.entry_hash()
        return entries

    def acked_seq(self) -> int:
        return self._number("SELECT acked_seq FROM sync_state")

    def last_seq(self) -> int:
        return self._number("SELECT COALESCE(MAX(seq), 0) FROM log")

    def pending(self, limit: int) -> list[log_entries.AnyEntry]:
        """The oldest `limit` entries the server has not acknowledged. Reads only those
        rows: a terminal offline for weeks may hold 100 000 of them. An entry that no
        longer reads as written comes as a log_entries.DamagedEntry (see _checked)."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        rows = self._db().execute(
            "SELECT seq, CAST(entry_json AS BLOB), CAST(entry_hash AS BLOB) FROM log"
            " WHERE seq > (SELECT acked_seq FROM sync_state) ORDER BY seq LIMIT ?",
            (limit + 1,),  # one more, only to see what the last one's successor links to
        )
        return self._checked(rows, limit)

    def entries_from(self, seq: int, limit: int) -> list[log_entries.AnyEntry]:
        """Up to `limit` entries from `seq` on, acknowledged or not: to send them again
        to a server that lost them."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        rows = self._db().execute(
            "SELECT seq, CAST(entry_json AS BLOB), CAST(entry_hash AS BLOB) FROM log"
            " WHERE seq >= ? ORDER BY seq LIMIT ?",
            (seq, limit + 1),
        )
        return self._checked(rows, limit)

    def _checked(self, rows: Iterable[tuple[int, bytes, bytes]], limit: int) -> list[log_entries.AnyEntry]:
        """Each row as the entry it was written as, or a DamagedEntry when its text no
        longer is that entry. The text is right when it hashes to the recorded hash, or
        (the hash column was what changed) to the hash the next entry points back to.
        A damaged entry is sent under the hash the next entry links to, so every intact
        entry after it is still delivered; one damaged row never blocks the log."""
        device = self.require_identity().device
        found: list[log_entries.AnyEntry] = []
        held: tuple[int, bytes, bytes] | None = None  # a row waits until its successor is read
        for row in rows:
            if held is not None:
                found.append(_entry_as_written(*held, row[1], device))
            held = row if len(found) < limit else None
        if held is not None:
            found.append(_entry_as_written(*held, None, device))
        return found

    def damaged_entries(self, entries: Iterable[log_entries.AnyEntry], now_ms: int) -> list[int]:
        """Note the damaged ones among `entries` (found while sending): such a vote will
        never count, so its status says so at once, and an alarm tells the technician.
        Their seqs."""
        damaged = [e.seq for e in entries if isinstance(e, log_entries.DamagedEntry)]
        if not damaged:
            return []
        with self._write() as db:
            db.executemany(
                "UPDATE log SET status = 'invalid', status_reason = 'entry.damaged' WHERE seq = ?",
                [(seq,) for seq in damaged],
            )
        shown = ", ".join(str(seq) for seq in damaged[:20]) + (" …" if len(damaged) > 20 else "")
        self.raise_alarm(
            "log.damaged",
            f"entries {shown} no longer read as written; sent as evidence, not counted",
            now_ms,
        )
        return damaged

    def recorded_hash(self, seq: int) -> str:
        """The hash entry `seq` had when it was written. A batch's checkpoint is signed
        over this, not over a hash recomputed from the file: an entry edited in the file
        afterwards then no longer matches the signed checkpoint, and the server refuses
        it and raises an alarm instead of counting the edited vote."""
        row = self._one("SELECT entry_hash FROM log WHERE seq = ?", (seq,))
        if row is None:
            raise StoreError("log.missing", f"no entry {seq}")
        recorded = row[0]
        if not isinstance(recorded, str):  # entry_hash is TEXT NOT NULL: a damaged file
            raise StoreError("store.damaged", f"entry {seq} has no readable hash")
        return recorded

    def logged_vote_ids(self, vote_ids: Iterable[str]) -> set[str]:
        """Which of `vote_ids` the log already holds (its vote_id column is unique and
        indexed): a retried commit of paper sheets must not log a vote twice."""
        wanted = list(dict.fromkeys(vote_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):  # well under SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db().execute(f"SELECT vote_id FROM log WHERE vote_id IN ({marks})", chunk)
            found.update(row[0] for row in rows)
        return found

    def backlog_count(self) -> int:
        # Sequence numbers have no gaps, so this needs no count over the rows.
        return self.last_seq() - self.acked_seq()

    def mark_acked(self, seq: int, acked_hash: object) -> None:
        """Mark entries up to `seq` as received by the server, only if the server's hash
        of entry `seq` is ours (AckMismatch otherwise, and nothing changes). `acked_hash`
        is as the server's answer gave it: anything but our hash is a mismatch."""
        with self._write() as db:
            row = db.execute("SELECT entry_hash FROM log WHERE seq = ?", (seq,)).fetchone()
            if row is None:
                raise AckMismatch("ack.unknown_seq", f"the server acknowledged entry {seq}, which we lack")
            if row[0] != acked_hash:
                raise AckMismatch(
                    "ack.hash_mismatch", f"entry {seq}: ours {row[0]}, the server's {acked_hash!r}"
                )
            # Entries up to acked_seq are already marked (acked_seq only grows, together
            # with the flags): only the newly acknowledged range is visited, not the
            # whole log from its first entry (25 ms a batch on a 100 000-entry log).
            db.execute(
                "UPDATE log SET acked = 1 WHERE seq > (SELECT acked_seq FROM sync_state) AND seq <= ?",
                (seq,),
            )
            db.execute(
                "UPDATE sync_state SET acked_seq = ?, acked_hash = ? WHERE acked_seq < ?",
                (seq, acked_hash, seq),
            )

    def verify_log(self) -> int | None:
        """Walk the whole chain from the first entry; the first seq that is missing,
        unreadable, altered or does not follow its predecessor, or None when all is
        well. Streams the rows, so memory stays flat however long the log."""
        identity = self.identity()
        if identity is None:
            return 1 if self.last_seq() else None
        expected_seq, expected_prev = 1, log_entries.genesis_hash(identity.device)
        # The log table's columns: seq INTEGER PRIMARY KEY, the two TEXT NOT NULL, vote_id TEXT.
        rows: Iterator[tuple[int, str, str, str | None]] = self._db().execute(
            "SELECT seq, entry_hash, entry_json, vote_id FROM log ORDER BY seq"
        )
        for seq, stored_hash, text, vote_id in rows:
            if seq != expected_seq:
                return expected_seq
            try:
                entry = LogEntry.from_dict(json.loads(text))
                record = read_logged(entry.kind, entry.payload)
            except (ValueError, TypeError):  # ProtocolError and JSONDecodeError are ValueErrors
                return seq
            actual_hash = wire.sha256_hex(text.encode())
            if (
                entry.seq != seq
                or entry.device != identity.device
                or entry.prev_hash != expected_prev
                or entry.entry_hash() != actual_hash  # not in canonical form
                or actual_hash != stored_hash
                or record.record_id != vote_id
                or record.device_id != identity.device
            ):
                return seq
            expected_seq, expected_prev = seq + 1, actual_hash
        return None
