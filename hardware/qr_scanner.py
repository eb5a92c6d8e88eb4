"""QR scanning from a camera: decoded texts, newest first, for the kiosk to pick up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ScannerStatus:
    running: bool
    camera: str  # device index, file or stream, as configured
    detail: str = ""  # why it is not running, if it is not


class QrScanner(Protocol):
    def start(self) -> None:
        """Begin decoding frames in the background."""
        ...

    def stop(self) -> None: ...

    def take_code(self) -> str | None:
        """The most recent decoded text not yet taken, or None."""
        ...

    def status(self) -> ScannerStatus: ...
