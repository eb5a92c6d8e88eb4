"""One place picks each device from the terminal's settings; a wrong setting names itself."""

from __future__ import annotations

import pytest

from hardware import (
    FakeCardReader,
    FakeQrScanner,
    HardwareConfigError,
    MemoryPrinter,
    get_card_reader,
    get_printer,
    get_qr_scanner,
)
from hardware.camera_scanner import CameraQrScanner
from hardware.pcsc_reader import PcscCardReader
from hardware.printers import FilePrinter, LpPrinter, NoPrinter


@pytest.mark.parametrize(
    ("config", "kind"),
    [
        ({"reader": "fake"}, FakeCardReader),
        ({"reader": " Fake "}, FakeCardReader),
        ({"reader": "PCSC"}, PcscCardReader),
    ],
)
def test_reader_is_chosen_by_configuration(config, kind):
    assert type(get_card_reader(config)) is kind


def test_pcsc_reader_gets_the_configured_name():
    assert get_card_reader({"reader": "pcsc", "reader_name": "ACR122"}).reader_name == "ACR122"
    assert get_card_reader({"reader": "pcsc", "reader_name": ""}).reader_name is None


@pytest.mark.parametrize(
    ("camera", "source"),
    [
        (0, 0),
        ("1", 1),
        (" 2 ", 2),
        ("/media/usb/demo.avi", "/media/usb/demo.avi"),
        ("rtsp://cam/1", "rtsp://cam/1"),
    ],
)
def test_camera_is_an_index_a_file_or_a_stream(camera, source):
    scanner = get_qr_scanner({"camera": camera})
    assert isinstance(scanner, CameraQrScanner)
    assert scanner.source == source
    assert scanner.status().running is False  # made, not started


def test_the_fake_camera_only_when_asked_for_by_name():
    assert type(get_qr_scanner({"camera": "fake"})) is FakeQrScanner
    assert type(get_qr_scanner({"camera": " FAKE "})) is FakeQrScanner


@pytest.mark.parametrize(
    ("make", "config"),
    [
        (get_card_reader, {}),
        (get_card_reader, {"reader": None}),
        (get_card_reader, {"reader": ""}),
        (get_card_reader, {"reader": "  "}),
        (get_qr_scanner, {}),
        (get_qr_scanner, {"camera": None}),
        (get_qr_scanner, {"camera": " "}),
    ],
)
def test_a_missing_device_setting_is_refused_never_a_fake(make, config):
    """A terminal whose settings lost a line must not come up on a fake reader, whose
    test page would let anyone put any card on it."""
    with pytest.raises(HardwareConfigError, match="is not set"):
        make(config)


@pytest.mark.parametrize(
    ("setting", "kind"),
    [(None, NoPrinter), ("none", NoPrinter), ("memory", MemoryPrinter), ("file:/tmp/r", FilePrinter)],
)
def test_printer_is_chosen_by_configuration(setting, kind):
    assert type(get_printer({"printer": setting})) is kind


def test_lp_printer_gets_its_queue():
    printer = get_printer({"printer": "lp:Receipts_80mm"})
    assert isinstance(printer, LpPrinter) and printer.queue == "Receipts_80mm"


@pytest.mark.parametrize(
    ("make", "config", "message"),
    [
        (get_card_reader, {"reader": "usb"}, 'reader = \'usb\': must be "fake" or "pcsc"'),
        (get_qr_scanner, {"camera": 1.5}, "camera = 1.5: must be"),
        (get_qr_scanner, {"camera": True}, "camera = True: must be"),
        (get_printer, {"printer": "lp:"}, "printer = 'lp:': must be"),
        (get_printer, {"printer": "cups"}, "printer = 'cups': must be"),
    ],
)
def test_a_wrong_setting_is_refused_with_its_value(make, config, message):
    with pytest.raises(HardwareConfigError) as refused:
        make(config)
    assert str(refused.value).startswith(message)
