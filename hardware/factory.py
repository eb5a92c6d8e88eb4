"""The one place where configuration picks a real device or a fake.

The configuration is a plain mapping (a kiosk's settings file, CLI options):

    reader       "pcsc" | "fake"  (required)
    reader_name  part of the reader's name, when several are attached (pcsc only)
    camera       a camera index (0, "0") | a video file | a stream URL | "fake"  (required)
    printer      "none" (default) | "memory" | "file:DIR" | "lp:QUEUE"

A fake is made only when asked for by name: a terminal whose settings lost their reader
line must refuse to start, not come up with a fake reader (whose test page lets anyone
put any card on it). A missing or empty reader or camera is a HardwareConfigError.

The real drivers are imported only when chosen, so a terminal without pyscard or
OpenCV installed can still run on fakes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .card_reader import CardReader
from .fakes import FakeCardReader, FakeQrScanner, MemoryPrinter
from .printer import ReceiptPrinter
from .qr_scanner import QrScanner


class HardwareConfigError(ValueError):
    """A configuration value that names no device we know."""


def get_card_reader(config: Mapping[str, Any]) -> CardReader:
    setting = config.get("reader")
    if setting is None or not str(setting).strip():
        raise HardwareConfigError('reader is not set: "pcsc" for the real reader, "fake" for none')
    kind = str(setting).strip().lower()
    if kind == "fake":
        return FakeCardReader()
    if kind == "pcsc":
        from .pcsc_reader import PcscCardReader

        return PcscCardReader(config.get("reader_name") or None)
    raise HardwareConfigError(f'reader = {config.get("reader")!r}: must be "fake" or "pcsc"')


def get_qr_scanner(config: Mapping[str, Any]) -> QrScanner:
    camera = config.get("camera")
    if camera is None or (isinstance(camera, str) and not camera.strip()):
        raise HardwareConfigError('camera is not set: a camera index, a video file, a stream URL or "fake"')
    if isinstance(camera, str) and camera.strip().lower() == "fake":
        return FakeQrScanner()
    if isinstance(camera, bool) or not isinstance(camera, int | str):
        raise HardwareConfigError(
            f'camera = {camera!r}: must be "fake", a camera index, a video file or a stream URL'
        )
    from .camera_scanner import CameraQrScanner

    return CameraQrScanner(camera.strip() if isinstance(camera, str) else camera)


def get_printer(config: Mapping[str, Any]) -> ReceiptPrinter:
    from .printers import FilePrinter, LpPrinter, NoPrinter

    setting = str(config.get("printer") or "none").strip()
    kind, _, target = setting.partition(":")
    kind = kind.lower()
    if kind == "none" and not target:
        return NoPrinter()
    if kind == "memory" and not target:
        return MemoryPrinter()
    if kind == "file" and target:
        return FilePrinter(target)
    if kind == "lp" and target:
        return LpPrinter(target)
    raise HardwareConfigError(
        f'printer = {config.get("printer")!r}: must be "none", "memory", "file:DIR" or "lp:QUEUE"'
    )
