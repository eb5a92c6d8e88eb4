"""Receipts: a PDF for an 80 mm roll with the Ukrainian text embedded, written to a
folder (the demo printer) or sent to CUPS with `lp`. A printer problem is an answer,
never an exception: the vote is already stored when the receipt prints."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hardware import PrintResult, Receipt
from hardware.printers import FilePrinter, LpPrinter, NoPrinter
from hardware.receipt_pdf import kyiv_time, receipt_pdf
from tests.hardware.conftest import IN_CI

RECEIPT = Receipt(
    receipt_code="7KQM-2XPD",
    cycle_title="Громадський бюджет Білої Церкви 2026 — загальноміський конкурс",
    terminal="ЦНАП на Соборній (T-0001)",
    cast_at=datetime(2026, 3, 1, 10, 5, tzinfo=UTC),
    lines=["Ваш голос зараховано.", "Перевірте його на сайті громади за кодом квитанції."],
)


def _missing(what: str) -> None:
    # scripts/system-deps.sh installs both: under CI a missing tool is a failure.
    if IN_CI:
        pytest.fail(what)
    pytest.skip(what)


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        _missing("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_receipt_is_an_80_mm_page_with_dejavu_embedded(tmp_path):
    pdf = receipt_pdf(RECEIPT)
    assert pdf.startswith(b"%PDF-")
    width, height = map(float, re.search(rb"/MediaBox \[ 0 0 ([\d.]+) ([\d.]+) \]", pdf).groups())
    assert round(width / 72 * 25.4) == 80  # points to millimetres
    assert 40 < height / 72 * 25.4 < 120  # as tall as the text, not an A4 sheet
    assert b"/FontFile2" in pdf  # a TrueType font program inside the file
    assert b"+DejaVuSans" in pdf and b"Helvetica" not in pdf
    if shutil.which("pdffonts"):
        (tmp_path / "r.pdf").write_bytes(pdf)
        fonts = subprocess.run(["pdffonts", str(tmp_path / "r.pdf")], capture_output=True, text=True).stdout
        rows = [row.split() for row in fonts.splitlines()[2:]]
        assert {row[0].split("+")[1] for row in rows} == {"DejaVuSans", "DejaVuSans-Bold"}
        assert all(row[-5] == "yes" for row in rows)  # the "emb" column


def test_receipt_says_code_cycle_terminal_and_kyiv_time(tmp_path):
    (tmp_path / "r.pdf").write_bytes(receipt_pdf(RECEIPT))
    text = pdf_text(tmp_path / "r.pdf")
    assert "7KQM-2XPD" in text.split()
    assert "Громадський бюджет" in text and "ЦНАП на Соборній (T-0001)" in text
    assert "01.03.2026 12:05" in text  # 10:05 UTC is 12:05 in Kyiv in winter (UTC+2)
    assert "Ваш голос зараховано." in text


def test_kyiv_time_follows_summer_time_and_reads_naive_times_as_utc():
    assert kyiv_time(datetime(2026, 7, 1, 10, 5, tzinfo=UTC)) == "01.07.2026 13:05"
    assert kyiv_time(datetime(2026, 7, 1, 10, 5)) == "01.07.2026 13:05"


def test_a_long_code_shrinks_to_one_line_and_the_same_receipt_gives_the_same_bytes(tmp_path):
    long_code = "SCHOOL-2026-5B-QWERTY-ASDFGH"
    receipt = Receipt(long_code, "Шкільний бюджет", "Ліцей №3", RECEIPT.cast_at)
    (tmp_path / "r.pdf").write_bytes(receipt_pdf(receipt))
    assert long_code in pdf_text(tmp_path / "r.pdf").splitlines()
    assert receipt_pdf(RECEIPT) == receipt_pdf(RECEIPT)


def test_the_check_address_prints_whole_within_the_paper_however_long(tmp_path):
    from reportlab.pdfbase import pdfmetrics

    from hardware.receipt_pdf import TEXT_WIDTH, _layout
    from kiosk.receipt import receipt_for

    long_url = "https://gromadskyi-biudzhet.bila-tserkva-miska-rada.example.gov.ua/golosuvannia/check"
    receipt = receipt_for(
        "7KQM-2XPD",
        cycle_title="Бюджет",
        terminal="T-0001",
        cast_at=RECEIPT.cast_at,
        locale="uk",
        check_url=long_url,
    )
    assert receipt.lines[-1] == long_url
    lines = _layout(receipt)
    assert all(pdfmetrics.stringWidth(line.text, line.font, line.size) <= TEXT_WIDTH for line in lines)
    (tmp_path / "r.pdf").write_bytes(receipt_pdf(receipt))
    printed = "".join(pdf_text(tmp_path / "r.pdf").split())
    assert long_url in printed, "cut across lines, every character of the address is there"
    # Before enrolment there is no server to name: no address line, the rest as ever.
    unenrolled = receipt_for("7KQM-2XPD", cycle_title="Б", terminal="T", cast_at=RECEIPT.cast_at, locale="en")
    assert not any("/check" in line for line in unenrolled.lines) and len(unenrolled.lines) == 3


def test_file_printer_writes_each_receipt_as_a_pdf_and_keeps_reprints(tmp_path):
    printer = FilePrinter(tmp_path / "receipts")
    assert printer.ready().printed
    first, second = printer.print_receipt(RECEIPT), printer.print_receipt(RECEIPT)
    assert first == PrintResult(True, str(tmp_path / "receipts" / "receipt-7KQM-2XPD.pdf"))
    assert second == PrintResult(True, str(tmp_path / "receipts" / "receipt-7KQM-2XPD-2.pdf"))
    assert [path.read_bytes()[:5] for path in printer.printed] == [b"%PDF-", b"%PDF-"]


def test_file_printer_that_cannot_write_says_so(tmp_path):
    (tmp_path / "taken").write_text("a file where the folder should be")
    printer = FilePrinter(tmp_path / "taken")
    ready, printed = printer.ready(), printer.print_receipt(RECEIPT)
    assert not ready.printed and "cannot write into" in ready.detail
    assert not printed.printed and "cannot write the receipt" in printed.detail


def fake_command(folder: Path, name: str, script: str) -> None:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


@pytest.fixture
def fake_bin(tmp_path, monkeypatch) -> Path:
    """A PATH with only our fake CUPS commands, then the system's basics for /bin/sh."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    return folder


def test_lp_printer_hands_the_pdf_to_the_queue(tmp_path, fake_bin):
    # The fake lp keeps what it was given, as CUPS would spool it.
    fake_command(
        fake_bin,
        "lp",
        f'echo "$@" > {tmp_path}/args\nfor last; do :; done\n/bin/cp "$last" {tmp_path}/spooled.pdf\n'
        'echo "request id is receipts-17 (1 file(s))"\n',
    )
    result = LpPrinter("receipts").print_receipt(RECEIPT)
    assert result == PrintResult(True, "request id is receipts-17 (1 file(s))")
    assert (tmp_path / "args").read_text().startswith("-d receipts -t spilno-receipt /")
    assert "7KQM" not in (tmp_path / "args").read_text()  # the code stays out of CUPS's job history
    assert (tmp_path / "spooled.pdf").read_bytes() == receipt_pdf(RECEIPT)


def test_lp_printer_passes_on_lps_complaint(fake_bin):
    fake_command(fake_bin, "lp", 'echo "lp: Error - The printer or class does not exist." >&2\nexit 1\n')
    result = LpPrinter("receipts").print_receipt(RECEIPT)
    assert result == PrintResult(False, "lp: Error - The printer or class does not exist.")


def test_lp_printer_gives_up_on_a_hanging_lp(fake_bin):
    fake_command(fake_bin, "lp", "exec /bin/sleep 10\n")
    result = LpPrinter("receipts", timeout_s=0.5).print_receipt(RECEIPT)
    assert result == PrintResult(False, "lp did not finish in 0.5 s")


def test_lp_printer_without_lp_installed_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    printer = LpPrinter("receipts")
    assert printer.print_receipt(RECEIPT) == PrintResult(
        False, "the lp command is missing (Debian: apt-get install cups-client)"
    )
    assert not printer.ready().printed


@pytest.mark.parametrize(
    ("lpstat_says", "ready"),
    [
        ("printer receipts is idle.  enabled since Sat 22 Nov 2025 10:00:00", True),
        ("printer receipts disabled since Sat 22 Nov 2025 10:00:00 -\n\tPaper out", False),
    ],
)
def test_lp_printer_is_ready_when_cups_says_the_queue_is_enabled(fake_bin, lpstat_says, ready):
    fake_command(fake_bin, "lp", "exit 0\n")
    fake_command(fake_bin, "lpstat", f"echo '{lpstat_says}'\n")
    result = LpPrinter("receipts").ready()
    assert result.printed is ready
    assert result.detail == " ".join(lpstat_says.split())


def test_real_lp_without_a_cups_queue_is_a_failed_print_not_an_exception():
    if shutil.which("lp") is None:
        _missing("lp (cups-client) is not installed")
    printer = LpPrinter("spilno-no-such-queue", timeout_s=10)
    result = printer.print_receipt(RECEIPT)
    assert result.printed is False and result.detail
    assert printer.ready().printed is False


def test_no_printer_never_prints():
    assert NoPrinter().print_receipt(RECEIPT) == PrintResult(False, "no printer configured")
    assert NoPrinter().ready().printed is False
