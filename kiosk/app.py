"""`create_kiosk_app(config)`: the terminal's touch UI, served to Chromium on localhost.

Configuration: DEFAULTS below, then `SPILNO_KIOSK_*` environment variables, then the
`config` mapping (which wins). Dependencies are passed in: the store path, and the card
reader, camera and printer as objects or specs (see kiosk.devices).

One terminal, one voter: a single TerminalFlow holds the visit, and one lock serialises
requests (the page's poll and the voter's taps), so each request sees the visit as the
previous one left it. The page's long poll (GET /state?wait=) is the one request that
does not hold the lock throughout: it takes it for each look at the reader and lets go
while it waits, so a tap on the screen is never queued behind a waiting poll.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, Response, g, request

from appkit.service_pin import PinGuard
from hardware import CardState, NoReader
from kiosk.devices import Devices, build_devices
from kiosk.freshness import DEFAULT_STALE_AFTER_MIN
from kiosk.qr_handlers import default_qr_handlers
from kiosk.session import TerminalFlow
from kiosk.terminal import Terminal
from kiosk.visit import Timing
from kiosk.voting_switch import VotingSwitch
from sync.clock import system_clock_ms
from sync.device_store import DeviceStore

log = logging.getLogger(__name__)

T = TypeVar("T")

# How often a waiting /state looks at the reader. pcscd itself learns of a card only at
# its own polls (about every 400 ms with vpcd, at once from a USB reader's interrupt), so
# 20 ms adds at most 20 ms to a tap. One look at a PC/SC reader costs ~0.1 ms (bench
# card_poll_ms); the kiosk process used ~1.7 % of a core with a page waiting, against
# ~0.7-1 % with 300 ms short polls (bench card_tap_to_ballot_ms).
READER_CHECK_S = 0.02

DEFAULTS: dict[str, Any] = {
    "STORE_PATH": None,  # required: the device's SQLite file (enrolled, holding a package)
    "CARD_READER": "pcsc",  # "pcsc", "fake", or an object with the CardReader protocol
    "CAMERA": "none",  # "none", "fake", a camera index, a video file or stream, or a QrScanner
    "PRINTER": "none",  # "none", "fake", "file:DIR" (PDFs), "lp:NAME" (CUPS), or a ReceiptPrinter
    "READER_NAME": None,  # part of the PC/SC reader's name, when several are attached
    "SERVICE_PIN_HASH": None,  # from `spilno kiosk hash-pin`; without it staff screens stay locked
    "IDLE_WARNING_AFTER_S": 45.0,
    "IDLE_COUNTDOWN_S": 15.0,
    "RECEIPT_SHOWN_S": 30.0,
    "REFUSAL_SHOWN_S": 15.0,
    "POLL_INTERVAL_MS": 300,  # how often the page asks /state when the terminal answers at once
    # The longest a /state?wait= poll is held until something changes (0: every poll is
    # answered at once, and the page falls back to asking every POLL_INTERVAL_MS).
    "STATE_WAIT_MAX_MS": 20_000,
    # Past this long without a complete sync round, the ballot and the receipt tell the
    # resident that the server will check the vote later (kiosk.freshness).
    "DATA_STALE_AFTER_MIN": DEFAULT_STALE_AFTER_MIN,
    "VOTING_SWITCH_PATH": None,  # default: beside the store, "<store>.voting-switch.json"
    "VOTED_ELSEWHERE": None,  # callable (cycle_id, voter) -> bool, from the sync layer
    "QR_HANDLERS": None,  # a kiosk.qr_handlers.QrHandlers; default: students' code cards
    "SCHOOL_ID": None,  # a school's own terminal: only that school's codes (the server's school id)
    "CLOCK": None,  # device clock in ms (tests); default: the system clock
    "MONOTONIC": None,  # seconds for timeouts (tests); default: time.monotonic
    # Only the terminal's own browser talks to this app: refuse any other Host header
    # (a web page elsewhere cannot reach it through DNS rebinding).
    "TRUSTED_HOSTS": ["127.0.0.1", "localhost"],
    "MAX_CONTENT_LENGTH": 16 * 1024,  # the biggest form here is a PIN or a document number
    "MAX_FORM_MEMORY_SIZE": 4 * 1024,
}

# Static files and project photos need no visit; /state takes the lock itself, for
# each look (Kiosk.watch).
SELF_LOCKING_ENDPOINTS = frozenset({"static", "voter.photo", "voter.state"})
# Served the same to every voter (a photo is named by its content): cacheable.
CACHEABLE_ENDPOINTS = frozenset({"static", "voter.photo"})

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@dataclass
class Kiosk:
    """Everything the views need, kept in app.extensions["spilno.kiosk"]."""

    store: DeviceStore
    devices: Devices
    terminal: Terminal
    flow: TerminalFlow
    lock: threading.RLock
    poll_interval_ms: int
    state_wait_max_ms: int = 20_000
    observed_at: float = float("-inf")  # time.monotonic() of the last look at the hardware
    closed: bool = False

    def observe(self) -> None:
        """Show the visit what the reader and camera see now. The caller holds the lock."""
        self.flow.observe(self.card_state(), self.take_qr_code())
        self.observed_at = time.monotonic()

    def watch(
        self,
        read: Callable[[], T],
        unchanged: Callable[[T], bool],
        wait_s: float,
        client_gone: Callable[[], bool] = lambda: False,
    ) -> T:
        """Observe the hardware and `read()` the visit; while `unchanged(answer)` (the
        page still shows the truth), look again every READER_CHECK_S, for at most
        `wait_s` seconds of real time. The lock is held for each look only.

        Waiting requests share the reader: one that finds the hardware looked at less
        than half a check ago reads the visit as it stands. A page that navigated away
        abandons its poll; `client_gone` ends such a wait at the next look."""
        deadline = time.monotonic() + wait_s
        first = True
        while True:
            with self.lock:
                if not self.closed and (first or time.monotonic() - self.observed_at >= READER_CHECK_S / 2):
                    self.observe()
                answer = read()
                closed = self.closed
            first = False
            left = deadline - time.monotonic()
            if closed or left <= 0 or not unchanged(answer) or client_gone():
                return answer
            time.sleep(min(READER_CHECK_S, left))

    def card_state(self) -> CardState:
        try:
            return self.devices.reader.state()
        except Exception as exc:  # a driver bug must not take the screen down with it
            log.warning("card reader failed: %s", exc)
            return NoReader(str(exc)[:200])

    def take_qr_code(self) -> str | None:
        if self.devices.scanner is None:
            return None
        try:
            return self.devices.scanner.take_code()
        except Exception as exc:
            log.warning("QR scanner failed: %s", exc)
            return None

    def close(self) -> None:
        with self.lock:  # a waiting poll must not look at a closed reader or store
            if self.closed:
                return
            self.closed = True
            self.devices.close()
            self.store.close()


def _school_id(value: Any) -> int | None:
    """SCHOOL_ID as a number: from `--school`, a SPILNO_KIOSK_SCHOOL_ID variable (parsed
    as JSON, so 12 or "12") or the config mapping."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip()) if len(value.strip()) <= 10 else 0
    if type(value) is not int or not 1 <= value < 2**31:  # the server's ids are 32-bit
        raise RuntimeError(f"SCHOOL_ID must be a school's number (a positive integer), got {value!r:.40}")
    return value


def _build_kiosk(config: Mapping[str, Any]) -> Kiosk:
    if not config["STORE_PATH"]:
        raise RuntimeError("STORE_PATH is required: the terminal's device file (spilno device enrol)")
    store_path = Path(config["STORE_PATH"])
    if not store_path.exists():
        raise RuntimeError(f"no device file at {store_path}: enrol the terminal first (spilno device enrol)")
    school_id = _school_id(config["SCHOOL_ID"])
    store = DeviceStore(store_path)
    switch_path = config["VOTING_SWITCH_PATH"] or f"{store_path}.voting-switch.json"
    terminal = Terminal(
        store,
        switch=VotingSwitch(switch_path),
        # By default, the residents the server listed in the sync round
        # (sync.server_pulls.ServerPulls.pull_voters).
        voted_elsewhere=config["VOTED_ELSEWHERE"] or store.voted_elsewhere,
        clock=config["CLOCK"] or system_clock_ms,
        school_id=school_id,
    )
    devices = build_devices(config)
    monotonic = config["MONOTONIC"] or time.monotonic
    flow = TerminalFlow(
        terminal,
        pin_guard=PinGuard(config["SERVICE_PIN_HASH"], monotonic=monotonic),
        qr_handlers=config["QR_HANDLERS"] or default_qr_handlers(),
        printer=devices.printer,
        timing=Timing(
            idle_warning_after_s=float(config["IDLE_WARNING_AFTER_S"]),
            idle_countdown_s=float(config["IDLE_COUNTDOWN_S"]),
            receipt_shown_s=float(config["RECEIPT_SHOWN_S"]),
            refusal_shown_s=float(config["REFUSAL_SHOWN_S"]),
        ),
        monotonic=monotonic,
    )
    if devices.scanner is not None:
        devices.scanner.start()
    return Kiosk(
        store,
        devices,
        terminal,
        flow,
        threading.RLock(),
        int(config["POLL_INTERVAL_MS"]),
        state_wait_max_ms=max(0, int(config["STATE_WAIT_MAX_MS"])),
    )


def create_kiosk_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("SPILNO_KIOSK")
    app.config.from_mapping(config or {})
    kiosk = _build_kiosk(app.config)
    app.extensions["spilno.kiosk"] = kiosk

    from kiosk import fake_card_controls, poll_views, staff_views, voter_views, web

    web.init_app(app)
    app.register_blueprint(voter_views.bp)
    app.register_blueprint(staff_views.bp)
    app.register_blueprint(poll_views.bp)
    fake_card_controls.init_app(app)

    @app.before_request
    def observe_hardware() -> None:
        if request.endpoint in SELF_LOCKING_ENDPOINTS:
            return
        # Held until teardown: the whole request sees one consistent visit.
        kiosk.lock.acquire()
        g.kiosk_locked = True
        kiosk.observe()

    @app.teardown_request
    def release(_exc: BaseException | None) -> None:
        if g.pop("kiosk_locked", False):
            kiosk.lock.release()

    @app.after_request
    def add_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        # Nothing leaves for another site, and the kiosk's own forms carry its origin:
        # under "no-referrer" Chromium sends `Origin: null` with every POST, and the
        # fake-card page's check (kiosk.fake_card_controls) could not tell it from a
        # sandboxed stranger's.
        response.headers["Referrer-Policy"] = "same-origin"
        if request.endpoint not in CACHEABLE_ENDPOINTS:
            # A previous voter's screen must never come back from a cache (Back, restore).
            response.headers["Cache-Control"] = "no-store"
        return response

    return app
