"""A clock moved by hand, put in place of a module's `utcnow` for one test."""

from __future__ import annotations

from datetime import timedelta
from types import ModuleType

from server.models import utcnow


class HandClock:
    def __init__(self) -> None:
        self.now = utcnow()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def hand_clock(monkeypatch, module: ModuleType) -> HandClock:
    """`module.utcnow` answers this clock's time until the test ends."""
    clock = HandClock()
    monkeypatch.setattr(module, "utcnow", lambda: clock.now)
    return clock
