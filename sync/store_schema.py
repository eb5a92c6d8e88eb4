"""The device file's tables: the baseline schema and its numbered migrations."""

from __future__ import annotations

import sqlite3

from sync import eligibility_list
from sync.store_migrations import Schema

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
-- The signed counter of the last request sent (sync.signed_requests.COUNTER_HEADER).
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
