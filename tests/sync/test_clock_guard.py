"""A terminal's clock set back or forward while it is offline does not reorder a
resident's votes nor move the close: the guard sees the step against a clock no one can
set (within a process) or against the newest time it knows has passed (at a start), and
corrects the offset, with an alarm."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sync.clock_guard import ClockGuard
from sync.simulated_votes import simulated_vote
from voting import CountingInput, decide

HOUR = 3_600_000
START = 1_800_000_000_000  # device clock at the start of each test, ms


class Hands:
    """A device clock and a monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.device, self.mono = START, 5_000

    def wait(self, ms: int) -> None:
        self.device += ms
        self.mono += ms

    def set_device_clock(self, by_ms: int) -> None:
        self.device += by_ms  # the monotonic clock does not move


def guard_for(store, hands: Hands) -> ClockGuard:
    return ClockGuard(store, lambda: hands.device, lambda: hands.mono)


def test_time_passing_and_small_jitter_change_nothing(enrolled):
    hands = Hands()
    guard = guard_for(enrolled, hands)
    first = guard.server_now_ms()
    hands.wait(60_000)
    hands.set_device_clock(1_500)  # NTP slew, scheduling: within tolerance
    assert guard.server_now_ms() == first + 61_500
    assert enrolled.alarms() == [] and enrolled.clock_offset_ms() == 0


def test_a_clock_set_back_in_a_running_terminal_is_corrected_exactly(enrolled):
    hands = Hands()
    guard = guard_for(enrolled, hands)
    before = guard.server_now_ms()
    hands.wait(10_000)
    hands.set_device_clock(-HOUR)
    assert guard.server_now_ms() == before + 10_000
    assert enrolled.clock_offset_ms() == -HOUR
    (alarm,) = enrolled.alarms()
    assert alarm["kind"] == "clock.step" and str(-HOUR) in alarm["message"]
    hands.wait(5_000)
    assert guard.server_now_ms() == before + 15_000


def test_a_clock_set_forward_in_a_running_terminal_is_corrected_exactly(enrolled):
    hands = Hands()
    guard = guard_for(enrolled, hands)
    before = guard.server_now_ms()
    hands.set_device_clock(+2 * HOUR)
    hands.wait(1_000)
    assert guard.server_now_ms() == before + 1_000


def _vote(store, guard, seed: int):
    package = store.package().content
    record = simulated_vote(
        package,
        package.cycles[0],
        device=store.require_identity().device,
        kind="terminal",
        rng=random.Random(seed),
        cast_at=datetime.fromtimestamp(guard.server_now_ms() / 1000, tz=UTC),
    )
    store.append_vote(record)
    return record


def test_a_clock_set_back_while_the_terminal_was_off_never_puts_a_vote_before_the_newest(enrolled):
    hands = Hands()
    first = _vote(enrolled, guard_for(enrolled, hands), seed=7)
    hands.wait(30_000)
    hands.set_device_clock(-HOUR)  # while the terminal was switched off
    restarted = guard_for(enrolled, hands)  # a new process knows no earlier look
    again = _vote(enrolled, restarted, seed=7)  # the same resident votes again
    assert first.voter == again.voter
    assert again.cast_at > first.cast_at
    decided = decide(CountingInput(r.vote_id, r.voter, r.cast_at, None) for r in (first, again))
    assert decided[first.vote_id].status.value == "counted"
    assert decided[again.vote_id].status.value == "duplicate"
    assert [a["kind"] for a in enrolled.alarms()] == ["clock.step"]


def test_the_last_signed_server_time_bounds_a_terminal_that_never_voted(enrolled):
    hands = Hands()
    enrolled.save_clock_offset(0, START)  # learned from a signed answer at START
    hands.set_device_clock(-3 * HOUR)
    assert guard_for(enrolled, hands).server_now_ms() >= START
    assert [a["kind"] for a in enrolled.alarms()] == ["clock.step"]
