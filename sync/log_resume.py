"""Resuming behind the server: a store restored from an older copy takes its own log's
entries as the server holds them, and logs its diverged votes again after them."""

from __future__ import annotations

import json
import sqlite3

from sync import log_entries, wire
from sync.log_entries import LogEntry
from sync.log_records import read_logged
from sync.store_log import VoteLog, next_entry_basis

_NEVER_DELETED = """CREATE TRIGGER IF NOT EXISTS log_is_never_deleted BEFORE DELETE ON log
BEGIN SELECT RAISE(ABORT, 'the device log is append-only'); END"""


class LogResume(VoteLog):
    def log_generation(self) -> int:
        return self._number("SELECT value FROM log_generation WHERE id = 1")

    def adopt_server_entries(self, entries: list[log_entries.AnyEntry], now_ms: int) -> int:
        """Take consecutive entries of our own log as the server holds them (checked by
        the caller against our chain and our own checkpoint signature), in place of
        whatever this store holds at those seqs. Local entries that differ are moved to
        log_diverged, to be logged again after the server's (relog_diverged). Marks them
        acknowledged. How many local entries were moved aside."""
        if not entries:
            return 0
        moved = 0
        with self._write() as db:
            local = dict(
                db.execute(
                    "SELECT seq, entry_hash FROM log WHERE seq BETWEEN ? AND ?",
                    (entries[0].seq, entries[-1].seq),
                ).fetchall()
            )
            first_diff = next((e.seq for e in entries if local.get(e.seq) != e.entry_hash()), None)
            if first_diff is not None:
                moved = self._move_aside(db, first_diff, now_ms)
                for entry in entries:
                    if entry.seq < first_diff:
                        continue
                    if isinstance(entry, log_entries.DamagedEntry):
                        text, vote_id = entry.evidence, None
                    else:
                        text = wire.canonical_json(entry.as_dict()).decode()
                        vote_id = entry.payload.get("id")
                    db.execute(
                        "INSERT INTO log (seq, entry_hash, entry_json, vote_id, acked)"
                        " VALUES (?, ?, ?, ?, 1)",
                        (entry.seq, entry.entry_hash(), text, vote_id),
                    )
            last = entries[-1]
            db.execute(
                "UPDATE log SET acked = 1 WHERE seq > (SELECT acked_seq FROM sync_state) AND seq <= ?",
                (last.seq,),
            )
            db.execute(
                "UPDATE sync_state SET acked_seq = ?, acked_hash = ? WHERE acked_seq < ?",
                (last.seq, last.entry_hash(), last.seq),
            )
            db.execute("UPDATE log_generation SET value = value + 1 WHERE id = 1")
        return moved

    @staticmethod
    def _move_aside(db: sqlite3.Connection, from_seq: int, now_ms: int) -> int:
        """Move log rows from `from_seq` on to log_diverged (the append-only triggers are
        lifted for this one transaction, and put back before it commits)."""
        count = db.execute(
            "INSERT INTO log_diverged (seq, entry_json, vote_id, moved_at_ms)"
            " SELECT seq, entry_json, vote_id, ? FROM log WHERE seq >= ?",
            (now_ms, from_seq),
        ).rowcount
        db.execute("DROP TRIGGER log_is_never_deleted")
        db.execute("DELETE FROM log WHERE seq >= ?", (from_seq,))
        db.execute(_NEVER_DELETED)
        return count

    def relog_diverged(self) -> int:
        """Log again, after everything the log now holds, the votes of entries moved
        aside that the log does not already hold (the same records: their receipts stay
        valid). How many."""
        identity = self.require_identity()
        relogged = 0
        with self._write() as db:
            rows = db.execute(
                "SELECT rowid, entry_json, vote_id FROM log_diverged WHERE relogged_as IS NULL"
                " ORDER BY seq, rowid"
            ).fetchall()
            for rowid, text, vote_id in rows:
                held = (
                    vote_id is not None
                    and db.execute("SELECT 1 FROM log WHERE vote_id = ?", (vote_id,)).fetchone()
                )
                try:
                    moved = LogEntry.from_dict(json.loads(text))
                    # A vote or a poll answer, logged again as the same record.
                    record = read_logged(moved.kind, moved.payload)
                except (ValueError, TypeError):
                    record = None  # unreadable: kept aside as evidence only
                if held or record is None:
                    db.execute("UPDATE log_diverged SET relogged_as = 0 WHERE rowid = ?", (rowid,))
                    continue
                prev_seq, prev_hash, version, offset = next_entry_basis(db, identity.device)
                entry = log_entries.entry_after(
                    prev_seq, prev_hash, identity.device, moved.kind, moved.payload, version, offset
                )
                db.execute(
                    "INSERT INTO log (seq, entry_hash, entry_json, vote_id) VALUES (?, ?, ?, ?)",
                    (
                        entry.seq,
                        entry.entry_hash(),
                        wire.canonical_json(entry.as_dict()).decode(),
                        record.record_id,
                    ),
                )
                db.execute("UPDATE log_diverged SET relogged_as = ? WHERE rowid = ?", (entry.seq, rowid))
                relogged += 1
            if rows:
                db.execute("UPDATE log_generation SET value = value + 1 WHERE id = 1")
        return relogged
