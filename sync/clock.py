"""Device time: a clock we can inject, and what we learn about it from the server.

A terminal's clock may be hours off (a flat CMOS battery, a technician who set local
time as UTC). We never correct the clock itself; we keep the difference "device clock
minus server clock" in milliseconds and write it into every log entry, so the server
and a recount can place each vote on the server's time line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

# Milliseconds since the Unix epoch, as the device believes it to be.
Clock = Callable[[], int]


def system_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def skewed_clock(offset_ms: int, base: Clock = system_clock_ms) -> Clock:
    """A clock that runs `offset_ms` ahead of `base` (behind when negative): for tests
    and demos of a terminal whose clock is wrong."""
    return lambda: base() + offset_ms


def offset_from_exchange(sent_ms: int, received_ms: int, server_ms: int) -> int:
    """Device clock minus server clock, from one request/response round trip.

    The server stamped its answer somewhere between our send and our receipt; the
    midpoint is the best guess, off by at most half the round trip (well under a second
    on any network a terminal would sync over)."""
    return (sent_ms + received_ms) // 2 - server_ms


def datetime_from_ms(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


def server_time(device_ms: int, clock_offset_ms: int) -> datetime:
    """What the server's clock reads when ours reads `device_ms`. Votes carry this as
    their cast time: the voting window and "the earliest vote counts" are judged on the
    server's time line, so a terminal an hour off still opens, closes and orders votes
    with everyone else. The offset itself is kept in every log entry for audit."""
    return datetime_from_ms(device_ms - clock_offset_ms)


def iso_from_ms(epoch_ms: int | None) -> str | None:
    """ISO 8601 UTC to the second, for people reading a maintenance screen."""
    if epoch_ms is None:
        return None
    return datetime_from_ms(epoch_ms).strftime("%Y-%m-%dT%H:%M:%SZ")
