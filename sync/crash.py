"""Crash points: named places where a fault drill can kill the device process.

This exists so fault drills (tests/faults) can kill a device at the exact moment they
want to prove safe, e.g. after the server answered a push and before the device marked
the entries sent, which no timing trick from outside hits reliably. It does nothing
unless SPILNO_CRASH_AT names the point.
"""

from __future__ import annotations

import os
import signal

CRASH_AT_ENV = "SPILNO_CRASH_AT"


def crash_point(name: str) -> None:
    """Die at once, as a power cut would (SIGKILL: no cleanup, no flush), if the drill
    asked for this point."""
    if os.environ.get(CRASH_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
