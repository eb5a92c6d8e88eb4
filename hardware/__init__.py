"""Card readers (PC/SC), cameras and printers behind Protocols.

Each device has a Protocol, a real driver (the only code that imports `smartcard` or
`cv2`) and a fake with control methods. `hardware.factory` picks one by configuration.
"""

from .card_reader import CardError, CardPresent, CardReader, CardState, NoCard, NoReader
from .factory import HardwareConfigError, get_card_reader, get_printer, get_qr_scanner
from .fakes import FakeCardReader, FakeQrScanner, MemoryPrinter
from .printer import PrintResult, Receipt, ReceiptPrinter
from .qr_scanner import QrScanner, ScannerStatus

__all__ = [
    "CardError",
    "CardPresent",
    "CardReader",
    "CardState",
    "FakeCardReader",
    "FakeQrScanner",
    "HardwareConfigError",
    "MemoryPrinter",
    "NoCard",
    "NoReader",
    "PrintResult",
    "QrScanner",
    "Receipt",
    "ReceiptPrinter",
    "ScannerStatus",
    "get_card_reader",
    "get_printer",
    "get_qr_scanner",
]
