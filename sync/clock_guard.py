"""Keeping the terminal's idea of the server's time honest when its clock is stepped.

A terminal places every vote on the server's time line as "device clock minus the
offset last learned from the server" (sync.clock). If someone sets the device clock
back while the terminal is offline, a resident's second vote gets an earlier time
than their first, and the earliest-cast rule counts the wrong one; set forward, votes
cast before the close look late. So the guard watches for steps:

- within a running process, against the monotonic clock, which no one can set: any
  jump of the device clock that the monotonic clock did not make is a step, and the
  offset is corrected by exactly that much;
- at a process start (the step may have happened while it was down), against the
  latest time the terminal knows has passed on the server's time line: its newest
  vote's cast time and the last signed server time. The estimate is never allowed
  behind that floor.

Every correction raises the device alarm "clock.step" for the maintenance screen; the
corrected offset goes into the log entries, so the server sees what the device did.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sync.clock import Clock, system_clock_ms
from sync.device_store import DeviceStore

STEP_TOLERANCE_MS = 2_000  # scheduling and NTP slew never come near this


def monotonic_ms() -> int:
    """A clock no one can set. CLOCK_BOOTTIME goes on through a suspend, as the wall
    clock does (CLOCK_MONOTONIC stops, and a resume would look like a step forward)."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is not None:
        return time.clock_gettime_ns(boottime) // 1_000_000
    return time.monotonic_ns() // 1_000_000


class ClockGuard:
    def __init__(
        self,
        store: DeviceStore,
        clock: Clock = system_clock_ms,
        monotonic: Callable[[], int] = monotonic_ms,
        tolerance_ms: int = STEP_TOLERANCE_MS,
    ) -> None:
        self.store = store
        self.clock = clock
        self.monotonic = monotonic
        self.tolerance_ms = tolerance_ms
        self._last: tuple[int, int] | None = None  # (device clock, monotonic clock) at the last look

    def server_now_ms(self) -> int:
        """The server's time now, as well as this device can tell, after correcting the
        offset for any step of the device clock seen since the last look."""
        device, mono = self.clock(), self.monotonic()
        offset = self.store.clock_offset_ms()
        if self._last is not None:
            step = (device - self._last[0]) - (mono - self._last[1])
            if abs(step) > self.tolerance_ms:
                offset = self._correct(offset + step, device, f"the device clock jumped by {step} ms")
        else:
            floor = self.store.time_floor_ms()
            if floor is not None and device - offset < floor - self.tolerance_ms:
                behind = floor - (device - offset)
                # Just after the floor: a vote cast now comes after every vote before it.
                offset = self._correct(
                    device - floor - 1,
                    device,
                    f"the device clock is {behind} ms behind the newest known time",
                )
        self._last = (device, mono)
        return device - offset

    def _correct(self, offset: int, device: int, why: str) -> int:
        self.store.save_clock_offset(offset, device)
        self.store.raise_alarm("clock.step", f"{why}; votes are placed by the corrected time", device)
        return offset
