"""The background sync: a terminal keeps voting while a thread carries the votes up
whenever the network allows, and the thread stops when asked."""

from __future__ import annotations

import threading
import time

from sync.device_store import DeviceStore
from sync.worker import VOTE_CHECK_S, SyncWorker

from .conftest import cast_votes
from .test_client import closed_port_url


def wait_until(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def quick_worker(store, url, **options) -> SyncWorker:
    """Tiny pauses, so network trouble costs milliseconds in tests, not minutes."""
    options.setdefault("interval_s", 60.0)
    options.setdefault("failure_base_s", 0.01)
    options.setdefault("random", lambda: 0.01)
    return SyncWorker(store, url, **options)


def test_a_poke_syncs_a_new_vote_without_waiting_for_the_next_tick(enrolled, server):
    worker = quick_worker(enrolled, server.url)
    worker.start()
    try:
        assert wait_until(lambda: worker.rounds == 1)
        cast_votes(enrolled, 3, one_by_one=True)
        worker.poke()
        assert wait_until(lambda: server.device(enrolled.require_identity().device).acked_seq == 3)
        assert wait_until(lambda: enrolled.backlog_count() == 0)
    finally:
        assert worker.stop(timeout=2)


def test_the_worker_rides_out_a_failing_server_and_catches_up(enrolled, server):
    cast_votes(enrolled, 40)
    server.fail_next(503, times=7)  # more than one round's retries
    outcomes = []
    worker = quick_worker(enrolled, server.url, max_attempts=2, on_round=outcomes.append)
    worker.start()
    try:
        assert wait_until(lambda: enrolled.backlog_count() == 0)
    finally:
        assert worker.stop(timeout=2)
    failed = [o for o in outcomes if o.error]
    assert failed and all("server.unavailable" in o.error for o in failed)
    assert outcomes[-1].error is None
    assert enrolled.summary()["last_sync_result"] == "ok"


def test_stop_interrupts_a_long_backoff_at_once(enrolled):
    cast_votes(enrolled, 1)
    worker = SyncWorker(enrolled, closed_port_url(), failure_base_s=600, interval_s=600)
    worker.start()
    assert wait_until(lambda: worker.rounds >= 1 or worker.failures >= 1, timeout=10)
    started = time.monotonic()
    assert worker.stop(timeout=2)
    assert time.monotonic() - started < 1.0
    assert not worker.running


def test_stop_interrupts_a_retry_pause_inside_a_request(enrolled, server):
    server.fail_next(503, times=100)
    worker = SyncWorker(enrolled, server.url, max_attempts=10, random=lambda: 1.0)  # 0.5 s, 1 s, 2 s...
    worker.start()
    assert wait_until(lambda: len(server.requests) >= 2)
    started = time.monotonic()
    assert worker.stop(timeout=2)
    assert time.monotonic() - started < 1.0
    assert worker.rounds == 1 and worker.failures == 0  # abandoned, not counted as a failure


def test_the_kiosk_keeps_voting_while_the_worker_syncs(enrolled, server):
    worker = quick_worker(enrolled, server.url, interval_s=0.01)
    worker.start()
    errors = []

    def kiosk() -> None:
        try:
            for seed in range(30):
                cast_votes(enrolled, 1, seed=100 + seed, one_by_one=True)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    voting = threading.Thread(target=kiosk)
    voting.start()
    voting.join()
    worker.poke()
    try:
        assert wait_until(lambda: enrolled.backlog_count() == 0)
    finally:
        assert worker.stop(timeout=2)
    assert errors == []
    assert enrolled.verify_log() is None
    assert server.device(enrolled.require_identity().device).acked_seq == 30


def test_a_vote_cast_by_another_process_ends_even_a_failure_backoff(enrolled, server):
    """The kiosk and the sync service are separate processes: no poke reaches the worker."""
    server.fail_next(503, times=2)  # the server is down at first: a long backoff follows
    worker = quick_worker(
        enrolled, server.url, max_attempts=2, failure_base_s=600, random=lambda: 1.0, interval_s=600
    )
    worker.start()
    try:
        assert wait_until(lambda: worker.failures == 1)
        kiosk = DeviceStore(enrolled.path)  # the kiosk's own connection to the same file
        try:
            cast_votes(kiosk, 2, seed=5, one_by_one=True)
        finally:
            kiosk.close()
        # No poke and a ten-minute backoff, yet the votes go up within the check period.
        assert wait_until(lambda: enrolled.backlog_count() == 0, timeout=VOTE_CHECK_S * 5)
    finally:
        assert worker.stop(timeout=2)
