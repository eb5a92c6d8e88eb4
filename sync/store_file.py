"""The device's SQLite file: a connection per thread, write transactions, and what the
store refuses with.

Durability: WAL with synchronous=FULL, so a transaction committed before a method
returns survives a power cut.

Threads: each thread gets its own connection (sqlite3 connections are not meant to be
shared); the kiosk UI appends while the sync worker reads and acknowledges.

`connect` is how every device-side SQLite file is opened (this one, and the support
point's sheet store, paper.sheet_store).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sync.texts import both

BUSY_TIMEOUT_MS = 10_000  # the worker and the UI may hold the write lock briefly at once


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A connection to a device-side SQLite file, set up as every one of them is.

    isolation_level=None: we open transactions ourselves, so a write takes the lock up
    front (BEGIN IMMEDIATE) instead of failing halfway. check_same_thread=False: a
    connection belongs to one thread, but the store closes them all from any thread.
    WAL with synchronous=FULL: a committed transaction survives a power cut. Foreign
    keys are enforced (SQLite leaves them off unless asked, per connection)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


class StoreError(Exception):
    """The device store refused something. `code` names the rule broken."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def disk_problem(path: str | os.PathLike[str], exc: BaseException) -> str:
    """What to tell a technician when SQLite cannot read or write the device file:
    most often the disk is full. Bilingual, as every device message."""
    return both(
        "Файл пристрою {path} не вдається записати ({error}). Найчастіше диск заповнений: звільніть "
        "місце і повторіть; уже записані голоси збережено.",
        path=path,
        error=exc,
    )


def number(db: sqlite3.Connection, sql: str, params: tuple[object, ...] = ()) -> int:
    """The whole number in the first column of a query's one row (a COUNT or MAX, a
    column of the one-row tables); StoreError if the file holds anything else there."""
    value = optional_number(db, sql, params)
    if value is None:
        raise StoreError("store.damaged", f"{sql[:80]!r} gave no number")
    return value


def optional_number(db: sqlite3.Connection, sql: str, params: tuple[object, ...] = ()) -> int | None:
    """As `number`, for a column that may be NULL (or a query that may find no row)."""
    row = db.execute(sql, params).fetchone()
    value = None if row is None else row[0]
    if value is not None and not isinstance(value, int):
        raise StoreError("store.damaged", f"{sql[:80]!r} gave {value!r:.40}")
    return value


class StoreFile:
    """The connections to the device file that every part of the store works through
    (sync.device_store.DeviceStore opens it)."""

    path: Path
    _local: threading.local
    _connections: list[sqlite3.Connection]
    _lock: threading.Lock

    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _one(self, sql: str, params: tuple[object, ...] = ()) -> Any:
        """The first row of a query, or None (SQLite's rows are untyped)."""
        return self._db().execute(sql, params).fetchone()

    def _number(self, sql: str, params: tuple[object, ...] = ()) -> int:
        return number(self._db(), sql, params)

    def _optional_number(self, sql: str, params: tuple[object, ...] = ()) -> int | None:
        return optional_number(self._db(), sql, params)

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
