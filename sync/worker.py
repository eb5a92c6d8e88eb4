"""Sync in the background: a terminal keeps taking votes while this thread, every few
seconds, as soon as it is poked, or as soon as a new vote is in the log, pulls the newest package,
pushes everything pending and learns statuses.

Offline is the normal case: network trouble makes the worker wait longer between
rounds (exponential backoff with full jitter, so terminals that lost the network
together do not come back in step), never stop. `stop()` interrupts a wait at once,
including a retry pause inside the client.
"""

from __future__ import annotations

import logging
import random as random_module
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sync.client import RoundResult, SyncClient
from sync.clock import Clock, system_clock_ms
from sync.device_store import DeviceStore
from sync.store_file import StoreError, disk_problem
from sync.sync_errors import SyncError, SyncRefused
from sync.wire import ProtocolError

log = logging.getLogger(__name__)

FAILURE_BASE_S = 2.0
FAILURE_CAP_S = 300.0  # five minutes: a terminal back online syncs again soon enough
VOTE_CHECK_S = 1.0  # how often a waiting worker looks for a vote cast by the kiosk process


class WorkerStopping(Exception):
    """Raised inside a retry pause when the worker is asked to stop."""


@dataclass(frozen=True, slots=True)
class RoundOutcome:
    result: RoundResult | None  # None when the round failed
    error: str | None
    next_wait_s: float


class SyncWorker:
    def __init__(
        self,
        store: DeviceStore,
        base_url: str | None = None,
        *,
        interval_s: float = 30.0,
        timeout: float = 10.0,
        clock: Clock = system_clock_ms,
        max_attempts: int = 3,
        failure_base_s: float = FAILURE_BASE_S,
        failure_cap_s: float = FAILURE_CAP_S,
        random: Callable[[], float] = random_module.random,
        on_round: Callable[[RoundOutcome], None] | None = None,
    ) -> None:
        self.store = store
        self.interval_s = interval_s
        self.failure_base_s, self.failure_cap_s = failure_base_s, failure_cap_s
        self._random = random
        self._on_round = on_round
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0  # consecutive failed rounds
        self.rounds = 0  # rounds finished, failed or not
        self.client = SyncClient(
            store,
            base_url,
            timeout=timeout,
            clock=clock,
            max_attempts=max_attempts,
            random=random,
            sleep=self._pause,
        )

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the sync worker is already running")
        self._thread = threading.Thread(target=self._run, name="spilno-sync", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Sync now rather than at the next tick (a vote was cast, the network came back)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> bool:
        """Ask the thread to finish and wait for it; False if it is still busy (blocked
        in a request, which its socket timeout bounds)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run_once(self) -> RoundOutcome:
        """One round, here and now; failures are reported, not raised."""
        try:
            result = self.client.sync_round()
        except WorkerStopping:
            return RoundOutcome(None, "stopping", 0.0)
        except SyncRefused as exc:
            # The server will refuse the same thing again until a person acts; keep
            # asking at the normal pace (a revoked device may be reinstated), no faster.
            return self._failed(str(exc), max(self.interval_s, self._backoff()))
        except sqlite3.Error as exc:
            return self._failed(disk_problem(self.store.path, exc), self._backoff())
        except (SyncError, StoreError, ProtocolError, OSError) as exc:
            return self._failed(str(exc), self._backoff())
        self.failures = 0
        return RoundOutcome(result, None, self.interval_s)

    def _failed(self, error: str, wait_s: float) -> RoundOutcome:
        log.warning("sync round failed: %s (next try in %.1f s)", error, wait_s)
        return RoundOutcome(None, error, wait_s)

    def _backoff(self) -> float:
        self.failures += 1
        step = min(self.failure_cap_s, self.failure_base_s * 2.0 ** (self.failures - 1))
        return self._random() * step

    def _pause(self, seconds: float) -> None:
        if self._stopping.wait(seconds):
            raise WorkerStopping

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                try:
                    outcome = self.run_once()
                except Exception as exc:  # a bug must not silently end syncing
                    log.exception("sync round crashed")
                    outcome = self._failed(f"{type(exc).__name__}: {exc}", self._backoff())
                self.rounds += 1
                if self._on_round is not None:
                    self._on_round(outcome)
                self._wait(outcome.next_wait_s)
        finally:
            self.store.close_thread_connection()

    def _wait(self, seconds: float) -> None:
        """Until the next round: `seconds`, a poke, or a new vote in the log. The kiosk
        runs in another process and cannot poke this one, so the log is looked at every
        VOTE_CHECK_S (a lookup on the primary key); a new vote ends even a failure
        backoff, at most once per VOTE_CHECK_S, so a server back from an outage gets the
        votes cast meanwhile at once, not minutes later."""
        try:
            seen = self.store.last_seq()
        except sqlite3.Error:
            seen = None
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._wake.wait(min(VOTE_CHECK_S, left)):
                return
            try:
                if seen is not None and self.store.last_seq() > seen:
                    return
            except sqlite3.Error:
                pass  # a busy or full disk: the timed round will say what is wrong
