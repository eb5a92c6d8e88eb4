"""The demo's kiosk: a terminal's touch screen to try in a browser, beside the console.

`make demo` serves it on 127.0.0.1:8080 (`--kiosk-port`): the real kiosk app on the
fake card reader, its store enrolled with the demo server as terminal T-0002 and synced
before the first page is shown, with the service PIN the README names, and the
terminal's sync running in the background so its votes reach the server while you
watch. Everything here is the code a real terminal runs (kiosk.app, sync.client,
sync.worker); only the card reader is the fake one, driven from /fake-card.
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from spilno.demo_terminal import _wait_for_port
from sync.client import SyncClient
from sync.device_store import DeviceStore
from sync.sync_errors import SyncError
from sync.worker import SyncWorker

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer

log = logging.getLogger(__name__)

SYNC_EVERY_S = 10.0


class DemoKiosk(threading.Thread):
    """Enrols `store_path` with `code` on the demo server, syncs once, then serves the
    kiosk on `listener` (a socket already bound, so the port was checked before the
    demo was built) until `stopping` is set."""

    def __init__(
        self,
        store_path: Path,
        server_url: str,
        server_host: str,
        server_port: int,
        code: str,
        listener: socket.socket,
        service_pin: str,
        receipts: Path,
    ) -> None:
        super().__init__(name="spilno-demo-kiosk", daemon=True)
        self.store_path, self.server_url, self.code = store_path, server_url, code
        self.server_host, self.server_port = server_host, server_port
        self.listener, self.service_pin, self.receipts = listener, service_pin, receipts
        self.stopping = threading.Event()
        self.ready = threading.Event()  # set once the kiosk answers
        self.problem: str | None = None
        self._server: BaseWSGIServer | None = None

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # the demo's console goes on; the log says why
            self.problem = str(exc)
            log.exception("demo kiosk stopped")
        finally:
            self.ready.set()

    def _run(self) -> None:
        from werkzeug.serving import make_server

        from appkit.service_pin import hash_pin
        from kiosk.app import create_kiosk_app

        if not _wait_for_port(self.server_host, self.server_port):
            self.problem = "the demo server did not start"
            return
        for leftover in (self.store_path, Path(f"{self.store_path}-wal"), Path(f"{self.store_path}-shm")):
            leftover.unlink(missing_ok=True)
        store = DeviceStore(self.store_path)
        try:
            SyncClient(store, self.server_url).enrol(self.code)
            worker = SyncWorker(store, self.server_url, interval_s=SYNC_EVERY_S)
            worker.run_once()  # the package and the voter list, before the first resident
        except SyncError as exc:
            self.problem = f"could not enrol: {exc}"
            log.warning("demo kiosk could not enrol: %s", exc)
            return
        worker.start()
        self.receipts.mkdir(parents=True, exist_ok=True)
        app = create_kiosk_app(
            {
                "STORE_PATH": str(self.store_path),
                "CARD_READER": "fake",
                "PRINTER": f"file:{self.receipts}",
                "SERVICE_PIN_HASH": hash_pin(self.service_pin),
            }
        )
        host, port = self.listener.getsockname()[:2]
        self._server = server = make_server(host, port, app, threaded=True, fd=self.listener.fileno())
        self.listener.close()  # the server holds its own copy of the socket
        self.ready.set()
        try:
            server.serve_forever()
        finally:
            worker.stop()
            server.server_close()
            app.extensions["spilno.kiosk"].close()
            store.close()

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
