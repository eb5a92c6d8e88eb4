"""Whether the terminal's voting data may be out of date.

A terminal votes from the package and the lists it last received. Offline, it cannot
know that the close was moved earlier, the voter list changed, or the device was
replaced since; the server re-checks every vote when it arrives and holds those it
cannot count by itself (server.sync.held). A resident must not be told "your vote is
recorded" as if it were settled when the terminal has not heard from the server for a
long time: past `stale_after_ms` without a complete signed exchange, the ballot and the
receipt say that the server will check the vote when the terminal next syncs, and the
maintenance screen says the data may be stale.

The sync service (a separate process) records each complete round in the store; the
kiosk only reads it. Both times are the device's own clock, so its offset cancels out;
a clock set back past the last contact counts as stale too (the age cannot be known).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sync.clock import datetime_from_ms

if TYPE_CHECKING:
    from kiosk.terminal import Terminal

DEFAULT_STALE_AFTER_MIN = 30  # a connected terminal completes a round every 30 s
CLOCK_SLACK_MS = 60_000  # the two processes read the clock moments apart


@dataclass(frozen=True, slots=True)
class DataAge:
    last_contact: datetime | None  # the last complete signed exchange; None: never
    stale: bool


def data_age(last_contact_ms: int | None, now_ms: int, stale_after_ms: int) -> DataAge:
    """How old the terminal's data is, judged from its last complete sync round."""
    if last_contact_ms is None:
        return DataAge(None, True)
    age = now_ms - last_contact_ms
    try:
        moment = datetime_from_ms(last_contact_ms)
    except (ValueError, OverflowError, OSError):  # a damaged value: say nothing of when
        return DataAge(None, True)
    return DataAge(moment, not -CLOCK_SLACK_MS <= age <= stale_after_ms)


def terminal_data_age(terminal: Terminal, stale_after_min: float) -> DataAge:
    return data_age(terminal.store.last_contact_ms(), terminal.clock(), int(stale_after_min * 60_000))
