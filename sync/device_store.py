"""Everything a terminal or support point keeps: one SQLite file.

Who the device is (its code, community, signing key, the server's key), its
append-only hash-chained vote log, the packages it received, what it learned from the
server (clock offset, vote statuses) and how the last sync went.

Durability: WAL with synchronous=FULL, and a vote's log entry is committed in one
transaction before `append_vote` returns, so a power cut after the voter is thanked
cannot lose the vote. The log is append-only: no method updates or deletes an entry
(only its acked flag and status columns change), and triggers in the file refuse it too.

Threads: each thread gets its own connection (sqlite3 connections are not meant to be
shared); the kiosk UI appends while the sync worker reads and acknowledges.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync import eligibility_list, protocol
from sync.clock import iso_from_ms, system_clock_ms
from sync.packages import StoredPackage, accept_package, photo_digests, verified_photos
from sync.protocol import LogEntry, ProtocolError
from sync.store_migrations import Schema, bring_up_to_date, refuse_newer
from voting import VoteRecord

BUSY_TIMEOUT_MS = 10_000  # the worker and the UI may hold the write lock briefly at once
DEVICE_KINDS = frozenset({"terminal", "support_point"})
VOTE_STATUSES = frozenset({"counted", "duplicate", "invalid", "held"})
NOT_COUNTED = frozenset({"invalid", "held"})  # not a resident's other vote: staff should know
# "held": waiting for a moderator (late for published results, or from a revoked device);
# asked about again until it is decided.

_SCHEMA = """
-- Residents with a counted vote elsewhere (online, other terminals), from the server's
-- increments: a terminal refuses them even while offline later.
CREATE TABLE IF NOT EXISTS voted_elsewhere (
    cycle_id INTEGER NOT NULL,
    voter TEXT NOT NULL,  -- "key:<voter key>" or "code:<code id>", as VoteRecord.voter
    PRIMARY KEY (cycle_id, voter)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS voters_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cursor TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS identity (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    device TEXT NOT NULL,
    kind TEXT NOT NULL,
    community_id INTEGER NOT NULL,
    community_slug TEXT NOT NULL,
    community_name TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    server_url TEXT NOT NULL,
    server_key TEXT NOT NULL,
    enrolled_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY,
    entry_hash TEXT NOT NULL,
    entry_json TEXT NOT NULL,  -- canonical JSON of LogEntry.as_dict(): exactly the hashed bytes
    vote_id TEXT UNIQUE,
    acked INTEGER NOT NULL DEFAULT 0,
    status TEXT,
    status_reason TEXT,
    counted_vote_id TEXT
);
-- Finds the first acknowledged vote whose status we do not know yet without a scan.
CREATE INDEX IF NOT EXISTS log_status_unknown ON log (seq) WHERE status IS NULL;
CREATE TRIGGER IF NOT EXISTS log_is_never_deleted BEFORE DELETE ON log
BEGIN SELECT RAISE(ABORT, 'the device log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS log_is_never_rewritten
BEFORE UPDATE OF seq, entry_hash, entry_json, vote_id ON log
BEGIN SELECT RAISE(ABORT, 'the device log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS log_ack_is_never_withdrawn BEFORE UPDATE OF acked ON log
WHEN NEW.acked < OLD.acked
BEGIN SELECT RAISE(ABORT, 'an acknowledged entry stays acknowledged'); END;
CREATE TABLE IF NOT EXISTS package (
    version INTEGER PRIMARY KEY,  -- every package kept: entries name the one they were cast under
    envelope_json TEXT NOT NULL,
    package_json TEXT NOT NULL,
    stored_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    acked_seq INTEGER NOT NULL DEFAULT 0,
    acked_hash TEXT,
    clock_offset_ms INTEGER NOT NULL DEFAULT 0,
    clock_offset_at_ms INTEGER,
    last_attempt_at_ms INTEGER,
    last_success_at_ms INTEGER,
    last_error TEXT,  -- NULL once a later attempt succeeds
    last_error_at_ms INTEGER
);
INSERT OR IGNORE INTO sync_state (id) VALUES (1);
-- The signed counter of the last request sent (sync.protocol.COUNTER_HEADER).
CREATE TABLE IF NOT EXISTS request_counter (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO request_counter VALUES (1, 0);
-- What the technician must look at: a forged or unbound server answer, a damaged log
-- entry, a clock step. One open row per kind, counted up, so a proxy that forges every
-- answer cannot fill the disk.
CREATE TABLE IF NOT EXISTS alarm (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    first_at_ms INTEGER NOT NULL,
    last_at_ms INTEGER NOT NULL,
    repeats INTEGER NOT NULL DEFAULT 1,
    acknowledged_at_ms INTEGER
);
-- Set when the server, in a signed answer, said this device is revoked: it then takes
-- no more votes (what it holds still goes up, for a moderator to decide on).
CREATE TABLE IF NOT EXISTS revoked (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at_ms INTEGER NOT NULL
);
-- Entries moved out of the log when it was found behind the server's copy of it (a
-- store restored from an older backup, or a copy of a copy): their votes are logged
-- again after the server's entries (`relogged_as`), so none is lost. Kept as evidence.
CREATE TABLE IF NOT EXISTS log_diverged (
    seq INTEGER NOT NULL,
    entry_json TEXT NOT NULL,
    vote_id TEXT,
    moved_at_ms INTEGER NOT NULL,
    relogged_as INTEGER
);
-- Grows whenever entries already read may have changed (a resume), so readers that
-- keep what they read (the kiosk's voted-here set) read the log again.
CREATE TABLE IF NOT EXISTS log_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO log_generation VALUES (1, 0);
-- When every acknowledged vote's status was last asked again: a status can change after
-- it is known (an earlier vote of the same resident arrives from another channel).
CREATE TABLE IF NOT EXISTS status_refresh (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS alarm_open_kind ON alarm (kind) WHERE acknowledged_at_ms IS NULL;
"""


def _add_photos(db: sqlite3.Connection) -> None:
    """2: project photos the newest package names, by the SHA-256 it signed
    (sync.packages.verified_photos); those no package names any more are deleted when a
    new one comes."""
    db.execute("CREATE TABLE IF NOT EXISTS photo (sha256 TEXT PRIMARY KEY, data BLOB NOT NULL)")


# The store's schema: the baseline every release before migrations wrote (version 1),
# then each numbered step (sync.store_migrations). Add a step; never change one.
SCHEMA = Schema(baseline=(_SCHEMA, eligibility_list.SCHEMA), migrations={2: _add_photos})
SCHEMA_VERSION = SCHEMA.version
_NEVER_DELETED = """CREATE TRIGGER IF NOT EXISTS log_is_never_deleted BEFORE DELETE ON log
BEGIN SELECT RAISE(ABORT, 'the device log is append-only'); END"""
MAX_ALARMS = 200  # acknowledged ones beyond this are forgotten, oldest first


class StoreError(Exception):
    """The device store refused something. `code` names the rule broken."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def disk_problem(path: str | os.PathLike[str], exc: BaseException) -> str:
    """What to tell a technician when SQLite cannot read or write the device file:
    most often the disk is full. Bilingual, as every device message."""
    return (
        f"Файл пристрою {path} не вдається записати ({exc}). Найчастіше диск заповнений:"
        " звільніть місце і повторіть; уже записані голоси збережено."
        f" / The device file {path} cannot be written ({exc}). Most often the disk is full:"
        " free some space and try again; the votes already logged are safe."
    )


class AckMismatch(StoreError):
    """The server acknowledged a log entry that differs from ours: the two disagree on
    history, which needs a person, never an automatic fix."""


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    device: str  # e.g. "T-0001": written into every vote and log entry
    kind: str  # "terminal" or "support_point"
    community_id: int
    community_slug: str
    community_name: str
    server_url: str
    server_key: str  # b64 Ed25519 key that must have signed every package
    enrolled_at_ms: int


def _next_entry_basis(db: sqlite3.Connection, device: str) -> tuple[int, str, int, int]:
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
        return 0, protocol.genesis_hash(device)
    seq, recorded_raw, data = row
    recorded = recorded_raw.decode("ascii", "replace")
    if protocol.HEX64.fullmatch(recorded):
        return seq, recorded
    return seq, protocol.sha256_hex(data)


def _prev_hash_in(data: bytes) -> str | None:
    """The link an entry's stored text points back along, if it can be read."""
    try:
        value = json.loads(data.decode("utf-8")).get("prev_hash")
    except (ValueError, TypeError, AttributeError):
        return None
    return value if isinstance(value, str) and protocol.HEX64.fullmatch(value) else None


def _entry_as_written(
    seq: int, data: bytes, recorded_raw: bytes, successor: bytes | None, device: str
) -> protocol.AnyEntry:
    """The entry in row `seq`, or a DamagedEntry if its text is not what was written.
    Both columns come as bytes: a changed byte may not even be UTF-8 any more, and
    SQLite would then refuse to hand over the row as text at all. `successor`: the next
    row's text, if read; what it links back to is read only when this row's text is not
    the recorded one (nearly never: one JSON parse less per entry sent)."""
    text_hash = protocol.sha256_hex(data)
    recorded = recorded_raw.decode("ascii", "replace")
    recorded_ok = protocol.HEX64.fullmatch(recorded) is not None
    as_recorded = text_hash == recorded
    following = None if as_recorded or successor is None else _prev_hash_in(successor)
    if as_recorded or (following is not None and text_hash == following):
        try:
            entry = LogEntry.from_dict(json.loads(data.decode("utf-8")))
            if not as_recorded:  # only the hash column vouches for nothing: check it all
                VoteRecord.from_canonical_body(entry.payload)
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
    evidence = data[: protocol.MAX_EVIDENCE_CHARS].decode("utf-8", "replace")
    return protocol.DamagedEntry(device, seq, linked, evidence)


class DeviceStore:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        # Created private before SQLite touches it: the file will hold the device's
        # signing key. SQLite gives the -wal and -shm files the same mode.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._key: Ed25519PrivateKey | None = None
        refuse_newer(self.path, SCHEMA)  # before our connection sets anything on the file
        bring_up_to_date(self._db(), SCHEMA, self.path, system_clock_ms())
        self.eligibility = eligibility_list.DeviceEligibility(self)

    # --- connections -----------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: we open transactions ourselves, so a write takes the
            # lock up front (BEGIN IMMEDIATE) instead of failing halfway.
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _one(self, sql: str, params: tuple = ()) -> Any:
        """The first row of a query, or None."""
        return self._db().execute(sql, params).fetchone()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # For the modules that keep their own tables in this file (sync/eligibility_list.py).
    query_one = _one
    transaction = _write

    def close_thread_connection(self) -> None:
        """Close this thread's connection (a worker thread calls it on its way out)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            with self._lock:
                self._connections.remove(conn)
            conn.close()

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    # --- identity --------------------------------------------------------------------

    def enrolled(self) -> bool:
        return self.identity() is not None

    def identity(self) -> DeviceIdentity | None:
        row = self._one(
            "SELECT device, kind, community_id, community_slug, community_name, server_url,"
            " server_key, enrolled_at_ms FROM identity"
        )
        return DeviceIdentity(*row) if row else None

    def require_identity(self) -> DeviceIdentity:
        identity = self.identity()
        if identity is None:
            raise StoreError("device.not_enrolled", f"{self.path} holds no enrolment")
        return identity

    def save_enrolment(
        self,
        *,
        device: str,
        kind: str,
        community: dict,
        private_key_pem: bytes,
        server_url: str,
        server_key: str,
        now_ms: int | None = None,
    ) -> DeviceIdentity:
        """Remember who this device is. Once only: a second enrolment would start a
        second log under another code in the same file."""
        if not protocol.DEVICE_CODE.fullmatch(device):
            raise StoreError("enrolment.device", f"{device!r} is not a device code")
        if kind not in DEVICE_KINDS:
            raise StoreError("enrolment.kind", f"{kind!r} is not one of {sorted(DEVICE_KINDS)}")
        protocol.private_key_from_pem(private_key_pem)  # refuse a key we could not use
        protocol.load_public_key(server_key)
        with self._write() as db:
            if db.execute("SELECT 1 FROM identity").fetchone():
                raise StoreError("device.already_enrolled", f"{self.path} is already enrolled")
            db.execute(
                "INSERT INTO identity VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    device,
                    kind,
                    int(community["id"]),
                    str(community["slug"]),
                    str(community["name"]),
                    private_key_pem.decode(),
                    server_url,
                    server_key,
                    system_clock_ms() if now_ms is None else now_ms,
                ),
            )
        os.chmod(self.path, 0o600)
        return self.require_identity()

    def private_key(self) -> Ed25519PrivateKey:
        if self._key is None:
            row = self._one("SELECT private_key_pem FROM identity")
            if row is None:
                raise StoreError("device.not_enrolled", f"{self.path} holds no enrolment")
            self._key = protocol.private_key_from_pem(row[0].encode())
        return self._key

    # --- the log ---------------------------------------------------------------------

    def append_vote(self, record: VoteRecord) -> LogEntry:
        """Add one vote to the log; it is on disk when this returns."""
        return self.append_votes([record])[0]

    def append_votes(self, records: Iterable[VoteRecord]) -> list[LogEntry]:
        """Add votes in one transaction: all of them are on disk, or none (a support
        point sends a whole scanned stack at once)."""
        identity = self.require_identity()
        entries: list[LogEntry] = []
        with self._write() as db:
            prev_seq, prev_hash, version, offset = _next_entry_basis(db, identity.device)
            for record in records:
                if record.device_id != identity.device:
                    raise StoreError(
                        "vote.device", f"vote {record.vote_id} names device {record.device_id!r}"
                    )
                entry = protocol.entry_after(
                    prev_seq, prev_hash, identity.device, "vote", record.canonical_body(), version, offset
                )
                try:
                    db.execute(
                        "INSERT INTO log (seq, entry_hash, entry_json, vote_id) VALUES (?, ?, ?, ?)",
                        (
                            entry.seq,
                            entry.entry_hash(),
                            protocol.canonical_json(entry.as_dict()).decode(),
                            record.vote_id,
                        ),
                    )
                except sqlite3.IntegrityError:
                    raise StoreError(
                        "vote.duplicate_id", f"vote {record.vote_id} is already logged"
                    ) from None
                entries.append(entry)
                prev_seq, prev_hash = entry.seq, entry.entry_hash()
        return entries

    # --- resuming behind the server ---------------------------------------------------

    def log_generation(self) -> int:
        return self._one("SELECT value FROM log_generation WHERE id = 1")[0]

    def adopt_server_entries(self, entries: list[protocol.AnyEntry], now_ms: int) -> int:
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
                    if isinstance(entry, protocol.DamagedEntry):
                        text, vote_id = entry.evidence, None
                    else:
                        text = protocol.canonical_json(entry.as_dict()).decode()
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
                    record = VoteRecord.from_canonical_body(LogEntry.from_dict(json.loads(text)).payload)
                except (ValueError, TypeError):
                    record = None  # unreadable: kept aside as evidence only
                if held or record is None:
                    db.execute("UPDATE log_diverged SET relogged_as = 0 WHERE rowid = ?", (rowid,))
                    continue
                prev_seq, prev_hash, version, offset = _next_entry_basis(db, identity.device)
                entry = protocol.entry_after(
                    prev_seq, prev_hash, identity.device, "vote", record.canonical_body(), version, offset
                )
                db.execute(
                    "INSERT INTO log (seq, entry_hash, entry_json, vote_id) VALUES (?, ?, ?, ?)",
                    (
                        entry.seq,
                        entry.entry_hash(),
                        protocol.canonical_json(entry.as_dict()).decode(),
                        record.vote_id,
                    ),
                )
                db.execute("UPDATE log_diverged SET relogged_as = ? WHERE rowid = ?", (entry.seq, rowid))
                relogged += 1
            if rows:
                db.execute("UPDATE log_generation SET value = value + 1 WHERE id = 1")
        return relogged

    def acked_seq(self) -> int:
        return self._one("SELECT acked_seq FROM sync_state")[0]

    def last_seq(self) -> int:
        return self._one("SELECT COALESCE(MAX(seq), 0) FROM log")[0]

    def pending(self, limit: int) -> list[protocol.AnyEntry]:
        """The oldest `limit` entries the server has not acknowledged. Reads only those
        rows: a terminal offline for weeks may hold 100 000 of them. An entry that no
        longer reads as written comes as a protocol.DamagedEntry (see _checked)."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        rows = self._db().execute(
            "SELECT seq, CAST(entry_json AS BLOB), CAST(entry_hash AS BLOB) FROM log"
            " WHERE seq > (SELECT acked_seq FROM sync_state) ORDER BY seq LIMIT ?",
            (limit + 1,),  # one more, only to see what the last one's successor links to
        )
        return self._checked(rows, limit)

    def entries_from(self, seq: int, limit: int) -> list[protocol.AnyEntry]:
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

    def _checked(self, rows: Iterable[tuple[int, bytes, bytes]], limit: int) -> list[protocol.AnyEntry]:
        """Each row as the entry it was written as, or a DamagedEntry when its text no
        longer is that entry. The text is right when it hashes to the recorded hash, or
        (the hash column was what changed) to the hash the next entry points back to.
        A damaged entry is sent under the hash the next entry links to, so every intact
        entry after it is still delivered; one damaged row never blocks the log."""
        device = self.require_identity().device
        found: list[protocol.AnyEntry] = []
        held: tuple[int, bytes, bytes] | None = None  # a row waits until its successor is read
        for row in rows:
            if held is not None:
                found.append(_entry_as_written(*held, row[1], device))
            held = row if len(found) < limit else None
        if held is not None:
            found.append(_entry_as_written(*held, None, device))
        return found

    def damaged_entries(self, entries: Iterable[protocol.AnyEntry], now_ms: int) -> list[int]:
        """Note the damaged ones among `entries` (found while sending): such a vote will
        never count, so its status says so at once, and an alarm tells the technician.
        Their seqs."""
        damaged = [e.seq for e in entries if isinstance(e, protocol.DamagedEntry)]
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
        return row[0]

    def next_request_counter(self, clock_ms: int) -> int:
        """A number above every one this device sent before, for the next request. It
        follows the clock (so a store restored from a backup still counts above what the
        server has seen) but never goes back with it (a clock stepped back)."""
        with self._write() as db:
            (last,) = db.execute("SELECT value FROM request_counter WHERE id = 1").fetchone()
            counter = max(last + 1, clock_ms)
            db.execute("UPDATE request_counter SET value = ? WHERE id = 1", (counter,))
        return counter

    def add_voted_elsewhere(self, voters: Iterable[tuple[int, str]], cursor: str) -> None:
        """Remember (cycle id, voter) pairs and where the server's list goes on, together."""
        with self._write() as db:
            db.executemany("INSERT OR IGNORE INTO voted_elsewhere VALUES (?, ?)", voters)
            db.execute("INSERT OR REPLACE INTO voters_cursor VALUES (1, ?)", (cursor,))

    def voters_cursor(self) -> str:
        row = self._one("SELECT cursor FROM voters_cursor WHERE id = 1")
        return row[0] if row else ""

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

    def voted_elsewhere(self, cycle_id: int, voter: str) -> bool:
        """Whether the server said this voter ("key:..." or "code:...") has a counted
        vote in the cycle."""
        row = self._one("SELECT 1 FROM voted_elsewhere WHERE cycle_id = ? AND voter = ?", (cycle_id, voter))
        return row is not None

    def backlog_count(self) -> int:
        # Sequence numbers have no gaps, so this needs no count over the rows.
        return self.last_seq() - self.acked_seq()

    def mark_acked(self, seq: int, acked_hash: str) -> None:
        """Mark entries up to `seq` as received by the server, only if the server's hash
        of entry `seq` is ours (AckMismatch otherwise, and nothing changes)."""
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
        expected_seq, expected_prev = 1, protocol.genesis_hash(identity.device)
        rows = self._db().execute("SELECT seq, entry_hash, entry_json, vote_id FROM log ORDER BY seq")
        for seq, stored_hash, text, vote_id in rows:
            if seq != expected_seq:
                return expected_seq
            try:
                entry = LogEntry.from_dict(json.loads(text))
                record = VoteRecord.from_canonical_body(entry.payload)
            except (ValueError, TypeError):  # ProtocolError and JSONDecodeError are ValueErrors
                return seq
            actual_hash = protocol.sha256_hex(text.encode())
            if (
                entry.seq != seq
                or entry.device != identity.device
                or entry.prev_hash != expected_prev
                or entry.entry_hash() != actual_hash  # not in canonical form
                or actual_hash != stored_hash
                or record.vote_id != vote_id
                or record.device_id != identity.device
            ):
                return seq
            expected_seq, expected_prev = seq + 1, actual_hash
        return None

    # --- vote statuses -----------------------------------------------------------------

    def save_statuses(self, statuses: Iterable[dict], now_ms: int | None = None) -> int:
        """Store what the server decided about our votes; returns how many matched one.
        Statuses may change later (an earlier vote by the same resident arrives from
        another channel), so a newer answer replaces an older one. A vote the terminal
        thanked a resident for that the server holds for a moderator or finds invalid
        raises the alarm `votes.not_counted` (with `now_ms`), so staff hear of it."""
        rows = []
        for item in statuses:
            if (
                not isinstance(item, dict)
                or type(item.get("seq")) is not int
                or not isinstance(item.get("vote_id"), str)
                or item.get("status") not in VOTE_STATUSES
                or not isinstance(item.get("reason"), str | None)
                or not isinstance(item.get("counted_vote_id"), str | None)
            ):
                raise ProtocolError("status.shape", f"{item!r:.200}")
            rows.append(
                (item["status"], item["reason"], item["counted_vote_id"], item["seq"], item["vote_id"])
            )
        if not rows:
            return 0
        with self._write() as db:
            # Usually none: only votes turning held or invalid are looked up first.
            turning = [r for r in rows if r[0] in NOT_COUNTED]
            newly: dict[tuple[str, str | None], int] = {}
            for status, reason, _counted, seq, vote_id in turning:
                was = db.execute("SELECT status FROM log WHERE seq = ? AND vote_id = ?", (seq, vote_id))
                found = was.fetchone()
                if found is not None and found[0] != status:
                    newly[(status, reason)] = newly.get((status, reason), 0) + 1
            before = db.total_changes
            db.executemany(
                "UPDATE log SET status = ?, status_reason = ?, counted_vote_id = ?"
                " WHERE seq = ? AND vote_id = ?",
                rows,
            )
            changed = db.total_changes - before
        if newly and now_ms is not None:
            counts = sorted((status, reason or "-", n) for (status, reason), n in newly.items())
            parts = ", ".join(f"{n} {status} ({reason})" for status, reason, n in counts)
            self.raise_alarm(
                "votes.not_counted",
                f"the server did not count votes this terminal took: {parts}",
                now_ms,
            )
        return changed

    def status_refresh_due(self, now_ms: int, every_ms: int) -> bool:
        """Whether every known status should be asked again (never asked, or long ago,
        or the clock went back)."""
        row = self._one("SELECT at_ms FROM status_refresh WHERE id = 1")
        return row is None or not 0 <= now_ms - row[0] < every_ms

    def note_status_refresh(self, now_ms: int) -> None:
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO status_refresh VALUES (1, ?)", (now_ms,))

    def status_of(self, vote_id: str) -> dict | None:
        """What the server said about a vote: None while it is unknown (or not ours)."""
        row = self._one(
            "SELECT seq, status, status_reason, counted_vote_id FROM log WHERE vote_id = ?", (vote_id,)
        )
        if row is None or row[1] is None:
            return None
        return {
            "seq": row[0],
            "vote_id": vote_id,
            "status": row[1],
            "reason": row[2],
            "counted_vote_id": row[3],
        }

    def first_unknown_status_seq(self) -> int | None:
        """The oldest acknowledged vote whose final status the server has not told us
        (unknown, or held for a moderator)."""
        unknown = self._one(
            "SELECT MIN(seq) FROM log WHERE status IS NULL AND seq <= (SELECT acked_seq FROM sync_state)"
        )[0]
        # A held vote's final status comes later; without the index, but rare.
        held = self._one(
            "SELECT MIN(seq) FROM log WHERE status = 'held' AND seq <= (SELECT acked_seq FROM sync_state)"
        )[0]
        return min((s for s in (unknown, held) if s is not None), default=None)

    # --- packages ----------------------------------------------------------------------

    def store_package(self, envelope: Any, now_ms: int | None = None, photos: Any = None) -> StoredPackage:
        """Keep a package only if the server's key signed it, it is for our community and
        it is newer than ours (ProtocolError otherwise, and the current one stays), with
        the photos sent beside it that it names by digest (sync.packages.verified_photos)."""
        identity = self.require_identity()
        with self._write() as db:
            current = self._current_package(db)
            package = accept_package(
                envelope, server_key=identity.server_key, community_id=identity.community_id, current=current
            )
            if package is None:
                assert current is not None
                return current
            db.execute(
                "INSERT INTO package VALUES (?, ?, ?, ?)",
                (
                    package["version"],
                    json.dumps(envelope),
                    envelope["package"],
                    system_clock_ms() if now_ms is None else now_ms,
                ),
            )
            kept = verified_photos(package, photos)
            db.executemany(
                "INSERT OR IGNORE INTO photo (sha256, data) VALUES (?, ?)",
                [(digest, data) for digest, data in kept.items()],
            )
            db.execute("CREATE TEMP TABLE IF NOT EXISTS photo_named (sha256 TEXT PRIMARY KEY)")
            db.execute("DELETE FROM photo_named")
            db.executemany(
                "INSERT OR IGNORE INTO photo_named VALUES (?)", [(d,) for d in photo_digests(package)]
            )
            db.execute("DELETE FROM photo WHERE sha256 NOT IN (SELECT sha256 FROM photo_named)")
        return StoredPackage(package["version"], envelope, package)

    def photo(self, sha256: str) -> bytes | None:
        """A project photo the current package names, as the server made it (a JPEG)."""
        row = self._db().execute("SELECT data FROM photo WHERE sha256 = ?", (sha256,)).fetchone()
        return bytes(row[0]) if row else None

    def package(self) -> StoredPackage | None:
        return self._current_package(self._db())

    @staticmethod
    def _current_package(db: sqlite3.Connection) -> StoredPackage | None:
        row = db.execute(
            "SELECT version, envelope_json, package_json FROM package ORDER BY version DESC LIMIT 1"
        ).fetchone()
        return StoredPackage(row[0], json.loads(row[1]), json.loads(row[2])) if row else None

    def package_version(self) -> int:
        return self._one("SELECT COALESCE(MAX(version), 0) FROM package")[0]

    # --- clock and sync results ---------------------------------------------------------

    def clock_offset_ms(self) -> int:
        return self._one("SELECT clock_offset_ms FROM sync_state")[0]

    def time_floor_ms(self) -> int | None:
        """The latest moment (server time line, ms) this device knows has passed: its
        newest vote's cast time or the last server time it learned, whichever is later."""
        known = []
        row = self._one("SELECT entry_json FROM log ORDER BY seq DESC LIMIT 1")
        if row is not None:
            try:
                payload = json.loads(row[0])["payload"]
                known.append(int(VoteRecord.from_canonical_body(payload).cast_at.timestamp() * 1000))
            except (ValueError, TypeError, KeyError):
                pass  # a damaged newest entry: the server time below still bounds it
        state = self._one("SELECT clock_offset_ms, clock_offset_at_ms FROM sync_state")
        if state is not None and state[1] is not None:
            known.append(state[1] - state[0])
        return max(known) if known else None

    def save_clock_offset(self, offset_ms: int, now_ms: int) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE sync_state SET clock_offset_ms = ?, clock_offset_at_ms = ?", (int(offset_ms), now_ms)
            )

    def last_contact_ms(self) -> int | None:
        """When the last sync round completed (device clock), None if none has."""
        return self._one("SELECT last_success_at_ms FROM sync_state")[0]

    def record_sync_success(self, now_ms: int) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE sync_state SET last_attempt_at_ms = ?, last_success_at_ms = ?, last_error = NULL",
                (now_ms, now_ms),
            )

    def record_sync_error(self, message: str, now_ms: int) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE sync_state SET last_attempt_at_ms = ?, last_error = ?, last_error_at_ms = ?",
                (now_ms, message[:500], now_ms),
            )

    # --- revocation -------------------------------------------------------------------

    def mark_revoked(self, now_ms: int) -> None:
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO revoked VALUES (1, ?)", (now_ms,))

    def revoked(self) -> bool:
        return self._one("SELECT 1 FROM revoked WHERE id = 1") is not None

    # --- alarms ---------------------------------------------------------------------

    def raise_alarm(self, kind: str, message: str, now_ms: int) -> None:
        """Record an alarm for the maintenance screen; an open one of the same kind is
        counted up and takes the newest message."""
        with self._write() as db:
            updated = db.execute(
                "UPDATE alarm SET repeats = repeats + 1, last_at_ms = ?, message = ?"
                " WHERE kind = ? AND acknowledged_at_ms IS NULL",
                (now_ms, message[:500], kind[:80]),
            ).rowcount
            if not updated:
                db.execute(
                    "INSERT INTO alarm (kind, message, first_at_ms, last_at_ms) VALUES (?, ?, ?, ?)",
                    (kind[:80], message[:500], now_ms, now_ms),
                )
                db.execute(
                    "DELETE FROM alarm WHERE acknowledged_at_ms IS NOT NULL AND id NOT IN"
                    " (SELECT id FROM alarm ORDER BY id DESC LIMIT ?)",
                    (MAX_ALARMS,),
                )

    def alarms(self, *, open_only: bool = True) -> list[dict]:
        where = "WHERE acknowledged_at_ms IS NULL" if open_only else ""
        rows = self._db().execute(
            "SELECT kind, message, first_at_ms, last_at_ms, repeats, acknowledged_at_ms"
            f" FROM alarm {where} ORDER BY id DESC LIMIT {MAX_ALARMS}"
        )
        return [
            {
                "kind": kind,
                "message": message,
                "first_at": iso_from_ms(first),
                "last_at": iso_from_ms(last),
                "repeats": repeats,
                "acknowledged_at": iso_from_ms(acknowledged),
            }
            for kind, message, first, last, repeats, acknowledged in rows
        ]

    def acknowledge_alarms(self, now_ms: int) -> int:
        """The technician has seen the open alarms; how many were open."""
        with self._write() as db:
            return db.execute(
                "UPDATE alarm SET acknowledged_at_ms = ? WHERE acknowledged_at_ms IS NULL", (now_ms,)
            ).rowcount

    def summary(self) -> dict:
        """What a technician at the maintenance screen needs to see, as plain data."""
        identity = self.identity()
        state = self._one(
            "SELECT acked_seq, clock_offset_ms, last_attempt_at_ms, last_success_at_ms, last_error,"
            " last_error_at_ms FROM sync_state"
        )
        counts = dict(
            self._db().execute("SELECT status, COUNT(*) FROM log WHERE status IS NOT NULL GROUP BY status")
        )
        last_seq = self.last_seq()
        return {
            "device": identity.device if identity else None,
            "kind": identity.kind if identity else None,
            "community": identity.community_slug if identity else None,
            "server": identity.server_url if identity else None,
            "package_version": self.package_version(),
            "last_seq": last_seq,
            "acked_seq": state[0],
            "backlog": last_seq - state[0],
            "clock_offset_ms": state[1],
            "last_attempt_at": iso_from_ms(state[2]),
            "last_sync_at": iso_from_ms(state[3]),
            "last_sync_result": None if state[2] is None else ("ok" if state[4] is None else "error"),
            "last_error": state[4],
            "last_error_at": iso_from_ms(state[5]),
            "statuses": {status: counts.get(status, 0) for status in sorted(VOTE_STATUSES)},
            "alarms": self.alarms(),
            "revoked": self.revoked(),
        }
