"""A terminal that enrols with the demo server and votes while it runs, so the demo
shows sync working: votes arriving, the fleet page's last contact and backlog moving.

It is the real device code (sync.device_store, sync.client, sync.worker) talking HTTP to
the real server; only the residents are simulated.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from pathlib import Path

from server.demo_voters import demo_terminal_residents
from sync.client import SyncClient
from sync.clock import datetime_from_ms, server_time, system_clock_ms
from sync.device_store import DeviceStore
from sync.simulated_votes import simulated_vote
from sync.sync_errors import SyncError
from sync.worker import SyncWorker

log = logging.getLogger(__name__)


def _wait_for_port(host: str, port: int, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


class DemoTerminal(threading.Thread):
    """Enrols with `code`, then casts a vote every `every_s` seconds and syncs."""

    def __init__(self, store_path: Path, host: str, port: int, code: str, every_s: float = 6.0) -> None:
        super().__init__(name="spilno-demo-terminal", daemon=True)
        self.store_path, self.host, self.port, self.code = store_path, host, port, code
        self.every_s = every_s
        self.stopping = threading.Event()

    def run(self) -> None:
        if not _wait_for_port(self.host, self.port):
            return
        base_url = f"http://{self.host}:{self.port}"
        store = DeviceStore(self.store_path)
        try:
            SyncClient(store, base_url).enrol(self.code)
            worker = SyncWorker(store, base_url, interval_s=self.every_s * 2)
            worker.run_once()  # the package first: votes are cast under it
            worker.start()
        except SyncError as exc:
            log.warning("demo terminal could not enrol: %s", exc)
            return
        rng = random.Random(11)
        identity = store.require_identity()
        residents = iter(demo_terminal_residents())  # all on the demo's voter list
        while not self.stopping.wait(self.every_s):
            stored = store.package()
            if stored is None:
                continue
            now = system_clock_ms()
            cycles = stored.content.open_cycles(datetime_from_ms(now - store.clock_offset_ms()))
            resident = next(residents, None)
            if cycles and resident is not None:
                record = simulated_vote(
                    stored.content,
                    cycles[0],
                    device=identity.device,
                    kind=identity.kind,
                    rng=rng,
                    cast_at=server_time(now, store.clock_offset_ms()),
                    rnokpp=resident,
                )
                store.append_vote(record)
                worker.poke()
        worker.stop()
