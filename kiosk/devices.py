"""The terminal's card reader, camera and printer, from configuration.

Each setting is either an object implementing the hardware Protocol (tests and demos
pass their own fakes and keep the control methods) or a short spec as `spilno kiosk
run` takes it. The real drivers come from `hardware.factory`, the one place that picks
a driver. Two kiosk rules on top of it: a fake is used only when configured as "fake"
(the factory's own default is a fake, and a terminal must never end up with a pretend
card reader because a setting was missing), and "none" means no device at all, so a
terminal without a printer shows the code on screen instead of reporting a failed print
for every vote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from hardware import CardReader, QrScanner, ReceiptPrinter
from hardware.factory import HardwareConfigError, get_card_reader, get_printer, get_qr_scanner


class DeviceConfigError(ValueError):
    """A hardware setting that names no device this terminal can use."""


@dataclass(slots=True)
class Devices:
    reader: CardReader
    scanner: QrScanner | None  # None: no camera configured
    printer: ReceiptPrinter | None  # None: receipts are shown on screen only

    def close(self) -> None:
        if self.scanner is not None:
            self.scanner.stop()
        self.reader.close()


def card_reader_from(spec: Any, config: Mapping[str, Any]) -> CardReader:
    if not isinstance(spec, str):
        return spec
    if spec not in ("fake", "pcsc"):
        raise DeviceConfigError(f"CARD_READER={spec!r}: expected 'pcsc' or 'fake'")
    return get_card_reader({"reader": spec, "reader_name": config.get("READER_NAME")})


def scanner_from(spec: Any) -> QrScanner | None:
    if spec is None or not isinstance(spec, str | int) or isinstance(spec, bool):
        return cast("QrScanner | None", spec)  # not a spec: a scanner (or a test's stand-in) as given
    spec = str(spec).strip()
    if spec in ("", "none"):
        return None
    # "fake", a camera index ("0"), a video file or a stream.
    return get_qr_scanner({"camera": int(spec) if spec.isdigit() else spec})


def printer_from(spec: Any) -> ReceiptPrinter | None:
    if not isinstance(spec, str):
        return spec
    if spec in ("", "none"):
        return None
    if spec == "fake":
        return get_printer({"printer": "memory"})
    if not spec.startswith(("file:", "lp:")):
        raise DeviceConfigError(f"PRINTER={spec!r}: expected none, fake, file:DIR or lp:NAME")
    return get_printer({"printer": spec})


def build_devices(config: Mapping[str, Any]) -> Devices:
    try:
        return Devices(
            reader=card_reader_from(config["CARD_READER"], config),
            scanner=scanner_from(config["CAMERA"]),
            printer=printer_from(config["PRINTER"]),
        )
    except HardwareConfigError as exc:
        raise DeviceConfigError(str(exc)) from None
