"""May this resident vote here, now?

A terminal knows for certain only the votes in its own log. The sync layer will also
learn which residents voted elsewhere (another terminal, paper, online); it plugs in
as `voted_elsewhere`, a callable, so this module does not care where that list comes
from. Whether a resident is old enough or lives in the community cannot be read from
a card id: that is the eligibility list the community uploads, which arrives with
the sync layer (see kiosk/README.md).

Voters are named the way the count names them (`VoteRecord.voter`): "key:<hex>" for
residents, "code:<id>" for one-time voting codes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kiosk.i18n import N_
from sync.device_store import DeviceStore
from voting import VoteRecord

# (cycle id, voter) -> True when the resident is known to have voted in that cycle
# somewhere other than this terminal.
VotedElsewhere = Callable[[int, str], bool]

ALREADY_VOTED_HERE = N_("Ви вже проголосували в цьому голосуванні на цьому терміналі.")
ALREADY_VOTED_ELSEWHERE = N_("Ви вже проголосували в цьому голосуванні в іншому місці.")

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
                if entry.kind == "vote":
                    record = VoteRecord.from_canonical_body(entry.payload)
                    self._voters.add((record.cycle_id, record.voter))
                self._read_up_to = entry.seq
            if len(entries) < _SCAN_BATCH:
                return

    def contains(self, cycle_id: int, voter: str) -> bool:
        with self._lock:
            self._catch_up()
            return (cycle_id, voter) in self._voters


@dataclass(frozen=True, slots=True)
class Refusal:
    text: str  # Ukrainian, translated when shown; a message code when `domain`
    params: dict[str, Any] = field(default_factory=dict)
    domain: bool = False  # a voting.messages code (the community's rules: age, list)


def check_eligibility(
    cycle_id: int, voter: str, *, voted_here: VotedHere, voted_elsewhere: VotedElsewhere | None = None
) -> Refusal | None:
    """Why `voter` may not vote in `cycle_id` on this terminal, or None if they may."""
    if voted_here.contains(cycle_id, voter):
        return Refusal(ALREADY_VOTED_HERE)
    if voted_elsewhere is not None and voted_elsewhere(cycle_id, voter):
        return Refusal(ALREADY_VOTED_ELSEWHERE)
    return None
