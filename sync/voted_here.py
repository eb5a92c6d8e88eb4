"""Who voted in which cycle on this device, read from its own log (a terminal's votes,
a support point's committed paper sheets): what a device knows for certain."""

from __future__ import annotations

import threading

from sync.device_store import DeviceStore
from sync.log_entries import LogEntry
from sync.log_records import KINDS, VOTE, read_logged

_SCAN_BATCH = 500


class VotedHere:
    """Who voted in which cycle on this terminal, read from the store's log.

    The log is read once and then only the entries added since (a terminal offline
    for weeks may hold 100 000 votes; a resident must not wait for a full scan)."""

    def __init__(self, store: DeviceStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._read_up_to = 0
        self._voters: set[tuple[int, str]] = set()
        self._answered: set[tuple[int, str]] = set()  # (poll id, voter)
        self._generation = store.log_generation()

    def _catch_up(self) -> None:
        generation = self._store.log_generation()
        if generation != self._generation:
            # Entries already read were replaced (the store resumed behind the server's
            # copy of its log): read it all again, with the residents it had forgotten.
            self._read_up_to, self._generation = 0, generation
            self._voters, self._answered = set(), set()
        while True:
            entries = self._store.entries_from(self._read_up_to + 1, _SCAN_BATCH)
            for entry in entries:
                if isinstance(entry, LogEntry) and entry.kind in KINDS:
                    record = read_logged(entry.kind, entry.payload)
                    seen = self._voters if record.kind == VOTE else self._answered
                    seen.add((record.subject, record.voter))
                self._read_up_to = entry.seq
            if len(entries) < _SCAN_BATCH:
                return

    def contains(self, cycle_id: int, voter: str) -> bool:
        with self._lock:
            self._catch_up()
            return (cycle_id, voter) in self._voters

    def answered(self, poll_id: int, voter: str) -> bool:
        """Whether `voter` ("key:<hex>" or "code:<id>") answered the poll on this device."""
        with self._lock:
            self._catch_up()
            return (poll_id, voter) in self._answered
