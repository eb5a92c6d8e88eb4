"""Everything a terminal or support point keeps: one SQLite file.

Who the device is (its code, community, signing key, the server's key), its
append-only hash-chained vote log, the packages it received, what it learned from the
server (clock offset, vote statuses) and how the last sync went.

The parts live in their own modules (store_file, store_identity, store_log,
log_resume, store_statuses, store_packages, store_alarms, store_schema); DeviceStore
opens the file and is all of them at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import TypedDict

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync import eligibility_list, store_schema
from sync.clock import iso_from_ms, system_clock_ms
from sync.log_records import read_logged
from sync.log_resume import LogResume
from sync.packages import StoredPackage
from sync.store_alarms import Alarm
from sync.store_file import number
from sync.store_migrations import bring_up_to_date, refuse_newer
from sync.store_packages import StorePackages
from sync.store_statuses import VOTE_STATUSES, VoteStatuses


class StoreSummary(TypedDict):
    """What a technician at the maintenance screen needs to see (DeviceStore.summary)."""

    device: str | None  # None: not enrolled
    kind: str | None
    community: str | None
    server: str | None
    package_version: int
    last_seq: int
    acked_seq: int
    backlog: int
    clock_offset_ms: int
    last_attempt_at: str | None
    last_sync_at: str | None
    last_sync_result: str | None  # "ok", "error", or None before the first attempt
    last_error: str | None
    last_error_at: str | None
    statuses: dict[str, int]  # how many of our votes the server gave each status
    alarms: list[Alarm]
    revoked: bool


class DeviceStore(LogResume, VoteStatuses, StorePackages):
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
        self._package_read: tuple[tuple[int, int], StoredPackage] | None = None
        refuse_newer(self.path, store_schema.SCHEMA)  # before our connection sets anything on the file
        bring_up_to_date(self._db(), store_schema.SCHEMA, self.path, system_clock_ms())
        self.eligibility = eligibility_list.DeviceEligibility(self)

    def next_request_counter(self, clock_ms: int) -> int:
        """A number above every one this device sent before, for the next request. It
        follows the clock (so a store restored from a backup still counts above what the
        server has seen) but never goes back with it (a clock stepped back)."""
        with self._write() as db:
            last = number(db, "SELECT value FROM request_counter WHERE id = 1")
            counter = max(last + 1, clock_ms)
            db.execute("UPDATE request_counter SET value = ? WHERE id = 1", (counter,))
        return counter

    # --- clock and sync results ---------------------------------------------------------

    def clock_offset_ms(self) -> int:
        return self._number("SELECT clock_offset_ms FROM sync_state")

    def time_floor_ms(self) -> int | None:
        """The latest moment (server time line, ms) this device knows has passed: its
        newest vote's cast time or the last server time it learned, whichever is later."""
        known = []
        row = self._one("SELECT entry_json FROM log ORDER BY seq DESC LIMIT 1")
        if row is not None:
            try:
                entry = json.loads(row[0])
                cast_at = read_logged(entry["kind"], entry["payload"]).cast_at
                known.append(int(cast_at.timestamp() * 1000))
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
        return self._optional_number("SELECT last_success_at_ms FROM sync_state")

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

    def summary(self) -> StoreSummary:
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
