"""Who voted in which cycle on this device, read from its own log (a terminal's votes,
a support point's committed paper sheets): what a device knows for certain."""

from __future__ import annotations

import threading

from sync.device_store import DeviceStore
from sync.log_entries import LogEntry
from voting import VoteRecord

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
        self._generation = store.log_generation()

    def _catch_up(self) -> None:
        generation = self._store.log_generation()
        if generation != self._generation:
            # Entries already read were replaced (the store resumed behind the server's
            # copy of its log): read it all again, with the residents it had forgotten.
            self._read_up_to, self._voters, self._generation = 0, set(), generation
        while True:
            entries = self._store.entries_from(self._read_up_to + 1, _SCAN_BATCH)
            for entry in entries:
                if isinstance(entry, LogEntry) and entry.kind == "vote":
                    record = VoteRecord.from_canonical_body(entry.payload)
                    self._voters.add((record.cycle_id, record.voter))
                self._read_up_to = entry.seq
            if len(entries) < _SCAN_BATCH:
                return

    def contains(self, cycle_id: int, voter: str) -> bool:
        with self._lock:
            self._catch_up()
            return (cycle_id, voter) in self._voters
