"""A terminal on the test's desk: an enrolled store with a signed package, fake hardware
the test controls (card reader, camera, printer), the kiosk app, and for browser tests
the app served on a free localhost port with a real Chromium looking at it.

Under CI (CI=true) a missing Chromium fails the browser tests instead of skipping them.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from appkit.service_pin import hash_pin
from hardware import FakeCardReader, FakeQrScanner, MemoryPrinter
from kiosk import create_kiosk_app
from sync.device_store import DeviceStore

from .terminal_setup import PackageSigner, enrolled_store

IN_CI = os.environ.get("CI", "").lower() == "true"
SERVICE_PIN = "2468"
# Hashing is deliberately slow; one hash for the whole run keeps the tests quick.
SERVICE_PIN_HASH = hash_pin(SERVICE_PIN)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "kiosk"
PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}


class ManualClock:
    """Seconds that pass only when the test says so (idle timeouts, PIN lock-outs)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class KioskUnderTest:
    app: Flask
    reader: FakeCardReader
    scanner: FakeQrScanner
    printer: MemoryPrinter
    server: PackageSigner
    store_path: Path
    base_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def flow(self):
        return self.app.extensions["spilno.kiosk"].flow

    @property
    def store(self) -> DeviceStore:
        return self.app.extensions["spilno.kiosk"].store

    def url(self, path: str = "/") -> str:
        return self.base_url + path


@pytest.fixture
def package_signer() -> PackageSigner:
    return PackageSigner()


@pytest.fixture
def make_kiosk(tmp_path: Path, package_signer: PackageSigner) -> Iterator:
    """make_kiosk(**config) -> KioskUnderTest over a fresh enrolled store."""
    made: list[KioskUnderTest] = []

    def make(
        *, package_options: dict | None = None, with_package: bool = True, **config: Any
    ) -> KioskUnderTest:
        store_path = tmp_path / f"terminal-{len(made)}.db"
        enrolled_store(
            store_path, package_signer, with_package=with_package, **(package_options or {})
        ).close()
        reader, scanner, printer = FakeCardReader(), FakeQrScanner(), MemoryPrinter()
        settings = {
            "STORE_PATH": str(store_path),
            "CARD_READER": reader,
            "CAMERA": scanner,
            "PRINTER": printer,
            "SERVICE_PIN_HASH": SERVICE_PIN_HASH,
            "TESTING": True,
        } | config
        app = create_kiosk_app(settings)
        kiosk = KioskUnderTest(app, reader, scanner, printer, package_signer, store_path)
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.app.extensions["spilno.kiosk"].close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


# --- browser ---------------------------------------------------------------------------


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: object) -> None:
        pass  # hundreds of /state polls per test would bury a failure's output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def serve() -> Iterator:
    """serve(kiosk) -> kiosk with base_url: the app on a free 127.0.0.1 port in a thread."""
    servers = []

    def start(kiosk: KioskUnderTest) -> KioskUnderTest:
        port = _free_port()
        server = make_server("127.0.0.1", port, kiosk.app, threaded=True, request_handler=QuietHandler)
        # A short poll interval: shutting down between tests takes 50 ms, not 500.
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        servers.append((server, thread))
        kiosk.base_url = f"http://127.0.0.1:{port}"
        return kiosk

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(5)
        server.server_close()


@pytest.fixture
def new_page(browser) -> Iterator:
    """new_page(viewport=PORTRAIT) -> a fresh browser context's page (no shared history)."""
    contexts = []

    def open_page(viewport: dict = PORTRAIT):
        context = browser.new_context(viewport=viewport, locale="uk-UA")
        context.set_default_timeout(5000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
