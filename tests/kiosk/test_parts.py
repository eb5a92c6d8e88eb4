"""The kiosk's small parts on their own: receipt codes, the service PIN, who voted here,
QR handlers, the open/closed switch, hardware from configuration."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest

from appkit.service_pin import PinGuard, hash_pin, pin_matches
from hardware import FakeCardReader, MemoryPrinter, PrintResult
from kiosk.devices import DeviceConfigError, build_devices
from kiosk.qr_handlers import NOT_FOR_VOTING_HERE, QrHandlers, QrRefusal, QrVoter
from kiosk.receipt import PrintStatus, print_receipt, receipt_code, receipt_for
from kiosk.voting_switch import VotingSwitch
from sync.voted_here import VotedHere
from voting import Channel, VoteRecord

from .conftest import ManualClock
from .terminal_setup import DEVICE, PackageSigner, enrolled_store


def test_the_receipt_code_is_short_readable_and_follows_from_the_vote_id():
    vote_id = "2b8e2f3a-6c1d-4e0b-9a57-3f1c9d2e7b10"
    code = receipt_code(vote_id)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code)
    assert receipt_code(vote_id) == code  # the server can compute it again
    codes = {receipt_code(str(uuid.uuid4())) for _ in range(2000)}
    assert len(codes) == 2000


def test_the_printed_receipt_names_no_voter():
    receipt = receipt_for(
        "7KQM-2XPD",
        cycle_title="ГБ 2027",
        terminal="Біла Церква, T-0042",
        cast_at=datetime.now(UTC),
        locale="en",
    )
    assert receipt.lines == [
        "Your vote is recorded.",
        "Keep this receipt code.",
        "Check your vote with this code: “Check your vote” on the community's website.",
    ]


def test_printing_reports_instead_of_raising():
    receipt = receipt_for("7KQM-2XPD", cycle_title="ГБ", terminal="T", cast_at=datetime.now(UTC), locale="uk")
    printer = MemoryPrinter()
    assert print_receipt(printer, receipt).status is PrintStatus.PRINTED
    printer.set_out_of_paper()
    outcome = print_receipt(printer, receipt)
    assert outcome.status is PrintStatus.FAILED and outcome.detail == "out of paper"
    assert print_receipt(None, receipt).status is PrintStatus.NO_PRINTER

    class Broken:
        def print_receipt(self, receipt):
            raise RuntimeError("usb gone")

        def ready(self):
            return PrintResult(False)

    assert print_receipt(Broken(), receipt).status is PrintStatus.FAILED


def test_a_pin_hash_matches_only_its_pin():
    stored = hash_pin("482916")
    assert stored.startswith("scrypt$") and "482916" not in stored
    assert pin_matches("482916", stored)
    for wrong in ["482917", "", "4829160", "x" * 1000]:
        assert not pin_matches(wrong, stored)
    for broken in ["", "scrypt$1$2", "md5$a$b$c$d$e", "scrypt$x$8$1$00$00"]:
        assert not pin_matches("482916", broken)
    with pytest.raises(ValueError):
        hash_pin("12")
    with pytest.raises(ValueError):
        hash_pin("abcd")


def test_wrong_pins_wait_longer_and_longer():
    clock = ManualClock()
    guard = PinGuard(hash_pin("4826"), monotonic=clock)
    assert [guard.try_pin("0000").wait_s for _ in range(3)] == [0, 0, 30]
    assert guard.try_pin("4826").wait_s == 30  # locked: not even checked
    clock.advance(30)
    assert guard.try_pin("0000").wait_s == 60
    clock.advance(60)
    assert guard.try_pin("4826").accepted
    assert guard.try_pin("0000").wait_s == 0  # a success starts the count again
    assert PinGuard(None).try_pin("4826").not_configured


def _vote(cycle_id: int, voter_key: str) -> VoteRecord:
    return VoteRecord.create(
        cycle_id=cycle_id,
        selections=[101],
        channel=Channel.KIOSK,
        cast_at=datetime.now(UTC),
        voter_key=voter_key,
        device_id=DEVICE,
    )


def test_who_voted_here_is_read_from_the_log_and_kept_up_to_date(tmp_path):
    store = enrolled_store(tmp_path / "t.db", PackageSigner())
    store.append_votes([_vote(31, f"{i:064x}") for i in range(1, 1200)])  # more than one read
    voted = VotedHere(store)
    assert voted.contains(31, f"key:{1:064x}") and voted.contains(31, f"key:{1199:064x}")
    assert not voted.contains(32, f"key:{1:064x}")  # another cycle
    assert not voted.contains(31, "key:" + "f" * 64)
    store.append_vote(_vote(31, "f" * 64))
    assert voted.contains(31, "key:" + "f" * 64)
    store.close()


def test_qr_handlers_are_chosen_by_the_longest_prefix():
    handlers = QrHandlers()
    handlers.register("invitation:", lambda text, context: QrRefusal("general"))
    handlers.register("invitation:school:", lambda text, context: QrVoter(Channel.SCHOOL_CODE, code_id="S1"))
    assert handlers.handle("invitation:school:S1", {}) == QrVoter(Channel.SCHOOL_CODE, code_id="S1")
    assert handlers.handle("invitation:X", {}) == QrRefusal("general")
    assert handlers.handle("WIFI:S:cafe;;", {}) == QrRefusal(NOT_FOR_VOTING_HERE)
    assert handlers.handle("invitation:" + "x" * 5000, {}) == QrRefusal(NOT_FOR_VOTING_HERE)
    with pytest.raises(ValueError):
        handlers.register("invitation:", lambda text, context: QrRefusal("again"))
    with pytest.raises(ValueError):
        QrVoter(Channel.KIOSK)


def test_the_voting_switch_remembers_and_fails_closed(tmp_path):
    path = tmp_path / "switch.json"
    assert VotingSwitch(path).is_open()  # a new terminal is open
    VotingSwitch(path).set_open(False)
    assert not VotingSwitch(path).is_open()
    path.write_text("{not json")
    assert not VotingSwitch(path).is_open()


def test_hardware_comes_from_configuration_and_fakes_only_when_asked(tmp_path):
    devices = build_devices({"CARD_READER": "fake", "CAMERA": "none", "PRINTER": "none"})
    assert isinstance(devices.reader, FakeCardReader) and devices.scanner is None and devices.printer is None
    mine = FakeCardReader()
    assert build_devices({"CARD_READER": mine, "CAMERA": "fake", "PRINTER": "fake"}).reader is mine
    for setting in [{"CARD_READER": "magic"}, {"PRINTER": "laser"}, {"PRINTER": "lp:"}]:
        with pytest.raises(DeviceConfigError):
            build_devices({"CARD_READER": "fake", "CAMERA": "none", "PRINTER": "none"} | setting)
    real = build_devices({"CARD_READER": "pcsc", "CAMERA": "none", "PRINTER": f"file:{tmp_path}"})
    assert type(real.reader).__name__ == "PcscCardReader"
    # The real file printer takes the kiosk's receipt and writes it as a PDF.
    receipt = receipt_for(
        "7KQM-2XPD", cycle_title="ГБ", terminal="T-0042", cast_at=datetime.now(UTC), locale="uk"
    )
    assert print_receipt(real.printer, receipt).status is PrintStatus.PRINTED
    [pdf] = tmp_path.glob("*.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
