"""Numbered schema migrations for the SQLite files a device keeps.

A terminal in the field is upgraded by installing a new release over its store: the
store must come along, votes and log chain intact. Each file records the schema it
holds in SQLite's `user_version`; opening it with newer code runs, in order, every
migration above that number, each in its own write transaction (BEGIN IMMEDIATE, the
number read again inside it, so the kiosk and the sync service opening the same file at
once migrate it once). A file from a NEWER release is refused, never written: code
that does not know a table's meaning must not touch it.

Version 1 is the schema of the releases before migrations existed (to December 2026;
their stores wrote user_version 1, or 0 before that): tables created with CREATE ... IF
NOT EXISTS, some added over time without a new number, so a file at 0 or 1 gets the
baseline script first (it creates only what is missing). A migration is written once
and never changed: a store made by any release goes through the same steps. A step runs
inside the migration's transaction: it must not call executescript (which commits).
The steps a file went through are also kept in its `schema_migration` table, which a
release before migrations never touches: a terminal rolled back to such a release (it
writes user_version 1 over the file) and upgraded again runs no step twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sync.texts import both

Migration = Callable[[sqlite3.Connection], None]


class StoreTooNew(RuntimeError):
    """The file was written by a newer release than this code."""

    def __init__(self, path: object, found: int, known: int) -> None:
        super().__init__(
            f"{path}: "
            + both(
                "схема файлу {found} новіша за відому цьому випуску ({known}); "
                "оновіть програму, файл не змінено",
                found=found,
                known=known,
            )
        )
        self.found, self.known = found, known


@dataclass(frozen=True)
class Schema:
    """A file's baseline (version 1) and the numbered steps after it."""

    baseline: Sequence[str]  # scripts, each of CREATE ... IF NOT EXISTS statements
    migrations: Mapping[int, Migration]  # 2, 3, ...: each run once, in order

    @property
    def version(self) -> int:
        return max(self.migrations, default=1)

    def __post_init__(self) -> None:
        if sorted(self.migrations) != list(range(2, self.version + 1)):
            raise ValueError(f"migrations must be numbered 2..n without gaps: {sorted(self.migrations)}")


# The steps a file has been through, kept where no release before migrations looks:
# such a release, started again on a newer file (a terminal rolled back after a bad
# update), writes user_version 1 over it; this table still says which steps ran.
_APPLIED = (
    "CREATE TABLE IF NOT EXISTS schema_migration (number INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)"
)


def user_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def schema_version(db: sqlite3.Connection) -> int:
    """The schema the file holds: its user_version, or the last step its table of
    applied steps names when that is higher."""
    applied = 0
    if db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migration'"
    ).fetchone():
        applied = int(db.execute("SELECT coalesce(max(number), 0) FROM schema_migration").fetchone()[0])
    return max(user_version(db), applied)


def refuse_newer(path: object, schema: Schema) -> None:
    """StoreTooNew for a file a newer release wrote, read without writing a byte (no
    journal mode set, no table created): call before opening the file for work."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.OperationalError:
        return  # no file yet: a new store
    try:
        found = schema_version(db)
    except sqlite3.DatabaseError:
        return  # not readable as a database: opening it for work says so
    finally:
        db.close()
    if found > schema.version:
        raise StoreTooNew(path, found, schema.version)


def bring_up_to_date(db: sqlite3.Connection, schema: Schema, path: object = "", now_ms: int = 0) -> int:
    """Migrate the file behind `db` (a connection in autocommit mode) to `schema`'s
    version; return the version it had. StoreTooNew, changing nothing, for a newer file."""
    found = schema_version(db)
    if found > schema.version:
        raise StoreTooNew(path, found, schema.version)
    if found == schema.version and found > 1 and user_version(db) == found:
        return found
    db.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(db)  # another process may have migrated it meanwhile
        if current > schema.version:
            raise StoreTooNew(path, current, schema.version)
        if current <= 1:
            # Releases before migrations added tables to the baseline without a new
            # number: a version-1 file may lack some, and the script adds only those.
            for script in schema.baseline:
                for statement in _statements(script):
                    db.execute(statement)
            current = 1
        db.execute(_APPLIED)
        for number in range(current + 1, schema.version + 1):
            schema.migrations[number](db)
            db.execute("INSERT INTO schema_migration (number, applied_at_ms) VALUES (?, ?)", (number, now_ms))
        db.execute(f"PRAGMA user_version = {schema.version}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # SQLite may have rolled back already (disk full, I/O error)
            db.execute("ROLLBACK")
        raise
    return found


def _statements(script: str) -> list[str]:
    """The statements of a script of CREATE ... statements, for running them inside our
    own transaction (executescript would commit it)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"an incomplete statement in a schema script: {pending.strip()[:80]}")
    return statements
