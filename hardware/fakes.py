"""Fakes of every device, with control methods so tests and demos never reach into
internals: put a card on the reader, show a QR code to the camera, read what printed."""

from __future__ import annotations

import threading
from collections import deque

from .card_reader import CardError, CardPresent, CardState, NoCard, NoReader
from .printer import PrintResult, Receipt
from .qr_scanner import ScannerStatus


class FakeCardReader:
    def __init__(self, reader: str = "Fake Reader 00 00") -> None:
        self.reader = reader
        self._state: CardState = NoCard(reader)
        self._lock = threading.Lock()

    # control methods
    def insert_card(self, card_id: str, atr: str = "3B8F8001804F0CA000000306030001000000006A") -> None:
        with self._lock:
            self._state = CardPresent(self.reader, card_id.upper(), atr.upper())

    def remove_card(self) -> None:
        with self._lock:
            self._state = NoCard(self.reader)

    def unplug(self) -> None:
        with self._lock:
            self._state = NoReader("unplugged")

    def plug_in(self) -> None:
        with self._lock:
            self._state = NoCard(self.reader)

    def fail_card(self, detail: str = "unreadable card") -> None:
        with self._lock:
            self._state = CardError(self.reader, detail)

    # the CardReader protocol
    def state(self) -> CardState:
        with self._lock:
            return self._state

    def close(self) -> None:
        pass


class FakeQrScanner:
    def __init__(self, camera: str = "fake") -> None:
        self.camera = camera
        self._codes: deque[str] = deque(maxlen=16)
        self._running = False
        self._lock = threading.Lock()

    # control method
    def show_code(self, text: str) -> None:
        with self._lock:
            self._codes.append(text)

    # the QrScanner protocol
    def start(self) -> None:
        self._running = True

    def stop(self) -> None:
        self._running = False

    def take_code(self) -> str | None:
        with self._lock:
            code = self._codes.pop() if self._codes else None
            self._codes.clear()
            return code

    def status(self) -> ScannerStatus:
        return ScannerStatus(self._running, self.camera)


class MemoryPrinter:
    def __init__(self) -> None:
        self.printed: list[Receipt] = []
        self.out_of_paper = False

    # control method
    def set_out_of_paper(self, value: bool = True) -> None:
        self.out_of_paper = value

    # the ReceiptPrinter protocol
    def print_receipt(self, receipt: Receipt) -> PrintResult:
        if self.out_of_paper:
            return PrintResult(False, "out of paper")
        self.printed.append(receipt)
        return PrintResult(True)

    def ready(self) -> PrintResult:
        return PrintResult(not self.out_of_paper, "out of paper" if self.out_of_paper else "")
