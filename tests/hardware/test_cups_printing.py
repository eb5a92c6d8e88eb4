"""Receipts through a real CUPS: a private cupsd (see cupsd_daemon.py) whose queues print
into files. The terminal asks the queue before each receipt, sends it with `lp`, and
every CUPS trouble (a paused or refusing queue, no such queue, no scheduler, a hung one)
is an answer that says what is wrong, in time, never an exception."""

from __future__ import annotations

import itertools
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from hardware import HardwareConfigError, PrintResult
from hardware.cli import hardware_group
from hardware.factory import get_printer
from hardware.printers import LpPrinter, QueueState, QueueStatus
from hardware.receipt_pdf import receipt_pdf
from tests.hardware.conftest import require
from tests.hardware.cupsd_daemon import PrivateCupsd, missing_parts, private_cupsd
from tests.hardware.test_receipt_printing import RECEIPT, pdf_text

_names = itertools.count(1)


@pytest.fixture(scope="module")
def cupsd_daemon() -> Iterator[PrivateCupsd]:
    require(missing_parts())
    with private_cupsd() as daemon:
        try:
            daemon.start()
        except RuntimeError as exc:
            require(f"cannot start a private cupsd: {exc}")
        yield daemon


@pytest.fixture
def cups(cupsd_daemon: PrivateCupsd, monkeypatch) -> PrivateCupsd:
    """The private cupsd, running and answering (a test before may have stopped or hung
    it), and this process's CUPS clients pointed at it."""
    cupsd_daemon.start()
    for name, value in cupsd_daemon.env.items():
        monkeypatch.setenv(name, value)
    return cupsd_daemon


@pytest.fixture
def queue(cups: PrivateCupsd) -> tuple[str, Path]:
    """A fresh, enabled queue of its own for each test, and the file it prints into."""
    name = f"receipts{next(_names)}"
    return name, cups.add_queue(name)


def printed_file(cups: PrivateCupsd, printer: LpPrinter, output: Path) -> Path:
    assert printer.last_job_id is not None
    assert cups.wait_for_job(printer.last_job_id), cups.log_tail()
    return output


def test_a_receipt_goes_through_cups_into_the_printers_file(cups, queue):
    name, output = queue
    printer = LpPrinter(name)
    assert printer.ready().printed
    assert printer.queue_status().state is QueueState.READY
    result = printer.print_receipt(RECEIPT)
    assert result.printed, result.detail
    assert result.detail == f"request id is {printer.last_job_id} (1 file(s))"
    assert printer.last_job_id.startswith(f"{name}-")
    pdf = printed_file(cups, printer, output)
    assert pdf.read_bytes() == receipt_pdf(RECEIPT)  # the spooler passed it on untouched
    text = pdf_text(pdf)
    assert "7KQM-2XPD" in text.split() and "ЦНАП на Соборній (T-0001)" in text
    assert "Громадський бюджет" in text and "Ваш голос зараховано." in text


def test_a_queue_with_a_ukrainian_name_prints_too(cups):
    output = cups.add_queue("квитанції")
    printer = LpPrinter("квитанції")
    assert printer.print_receipt(RECEIPT).printed
    assert printer.last_job_id.startswith("квитанції-")
    assert "7KQM-2XPD" in pdf_text(printed_file(cups, printer, output)).split()


def test_a_paused_queue_is_not_ready_and_gets_no_receipt_to_print_later(cups, queue, tmp_path):
    name, output = queue
    (tmp_path / "r.pdf").write_bytes(receipt_pdf(RECEIPT))
    cups.run("cupsdisable", "-r", "Немає паперу", name, check=True)
    # What CUPS does with a job for a paused queue: keeps it, to print on resume, in
    # front of whoever is at the terminal by then.
    held = cups.run("lp", "-d", name, str(tmp_path / "r.pdf"), check=True).stdout.split()[3]
    assert cups.jobs(name) == [held]

    printer = LpPrinter(name)
    status = printer.queue_status()
    assert status.state is QueueState.PAUSED
    # The line that matters and the reason staff gave, not the whole of lpstat's answer.
    assert status.detail.startswith(f"printer {name} disabled since ")
    assert status.detail.endswith(" - Немає паперу")
    assert printer.ready() == PrintResult(False, status.detail)
    assert printer.print_receipt(RECEIPT) == PrintResult(False, status.detail)
    assert cups.jobs(name) == [held] and printer.last_job_id is None  # nothing more queued

    cups.run("cancel", held, check=True)
    cups.run("cupsenable", name, check=True)
    assert printer.print_receipt(RECEIPT).printed
    assert pdf_text(printed_file(cups, printer, output)).split().count("7KQM-2XPD") == 1


def test_a_queue_refusing_jobs_is_not_ready(cups, queue):
    name, _ = queue
    cups.run("cupsreject", "-r", "Термінал на обслуговуванні", name, check=True)
    printer = LpPrinter(name)
    status = printer.queue_status()
    assert status.state is QueueState.REJECTING
    assert status.detail.startswith(f"{name} not accepting requests since ")
    assert status.detail.endswith(" - Термінал на обслуговуванні")
    assert printer.print_receipt(RECEIPT) == PrintResult(False, status.detail)
    assert cups.jobs(name) == []


@pytest.mark.parametrize("locale", ["ru_RU.UTF-8", "de_DE.UTF-8", "uk_UA.UTF-8"])
def test_the_terminals_language_does_not_change_what_cups_is_understood_to_say(
    cups, queue, monkeypatch, locale
):
    # CUPS has its own catalogues: under ru_RU lpstat says "принтер Q отключен", not
    # "printer Q disabled", whether or not the system has that locale.
    name, _ = queue
    for variable in ("LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.setenv(variable, locale)
    printer = LpPrinter(name)
    assert printer.print_receipt(RECEIPT).detail.startswith(f"request id is {name}-")
    cups.run("cupsdisable", name, check=True)
    assert printer.queue_status().state is QueueState.PAUSED
    assert not printer.print_receipt(RECEIPT).printed


def test_an_unknown_queue_is_named_in_the_answer(cups):
    printer = LpPrinter("spilno-no-such-queue")
    status = printer.queue_status()
    assert status.state is QueueState.NO_QUEUE
    assert status.detail.startswith('CUPS has no queue "spilno-no-such-queue"')
    assert printer.ready() == PrintResult(False, status.detail)
    assert printer.print_receipt(RECEIPT) == PrintResult(False, status.detail)


def test_cups_not_running_is_an_answer_at_once(cups, queue, tmp_path):
    name, _ = queue
    (tmp_path / "r.pdf").write_bytes(receipt_pdf(RECEIPT))
    cups.stop()
    printer = LpPrinter(name)
    started = time.monotonic()
    ready, printed = printer.ready(), printer.print_receipt(RECEIPT)
    assert time.monotonic() - started < 2.0
    detail = f"the CUPS scheduler is not running ({cups.socket_path})"
    assert printer.queue_status() == QueueStatus(QueueState.CUPS_DOWN, detail)
    assert (ready, printed) == (PrintResult(False, detail), PrintResult(False, detail))
    # Asked alone, lp blames the queue: "The printer or class does not exist."
    assert "does not exist" in cups.run("lp", "-d", name, str(tmp_path / "r.pdf")).stderr


def test_a_hung_cupsd_is_given_up_on_within_the_time_limit(cups, queue, tmp_path, monkeypatch):
    name, _ = queue
    printer = LpPrinter(name, timeout_s=1.0, status_timeout_s=0.5)
    cups.hang()  # the socket still takes connections; nobody answers
    try:
        started = time.monotonic()
        ready = printer.ready()
        printed = printer.print_receipt(RECEIPT)
        took = time.monotonic() - started
        assert ready == printed == PrintResult(False, "CUPS did not answer in 0.5 s (is cupsd hung?)")
        assert took < 2.5  # two lpstat calls of 0.5 s at most, and what starting them costs
        # An lp with no lpstat beside it goes straight to the spooler: its own time limit.
        alone = tmp_path / "bin"
        alone.mkdir()
        (alone / "lp").symlink_to(shutil.which("lp"))
        monkeypatch.setenv("PATH", str(alone))
        started = time.monotonic()
        assert printer.print_receipt(RECEIPT) == PrintResult(False, "lp did not finish in 1 s")
        assert time.monotonic() - started < 2.0
    finally:
        cups.resume()


HOSTILE_QUEUE_NAMES = [
    "receipts queue",  # a space: two words to anything that splits
    "-o",  # would read as an lp option
    "-oraw",
    "receipts;reboot",  # shell metacharacters, should anything ever pass it to a shell
    "$(reboot)",
    "`id`",
    "receipts|cat",
    "receipts&",
    "receipts>/etc/passwd",
    "../receipts",
    "receipts\n",
    "receipts\x00",
    "",
    " receipts",
    "_receipts",
    ".receipts",
    "r" * 128,  # CUPS's limit is 127 bytes
    "ї" * 64,  # 64 letters, 128 bytes
    "r" * 10_000,
]


@pytest.mark.parametrize("name", HOSTILE_QUEUE_NAMES, ids=lambda name: repr(name)[:20])
def test_a_hostile_queue_name_is_refused_before_lp_runs(name):
    with pytest.raises(HardwareConfigError, match="a queue name is 1-127 bytes") as refused:
        LpPrinter(name)
    assert len(str(refused.value)) < 200  # 10 kB of setting is not echoed back
    if name == name.rstrip():  # the factory strips a setting's trailing newline, as a file's
        with pytest.raises(HardwareConfigError):
            get_printer({"printer": f"lp:{name}"})


@pytest.mark.parametrize("name", ["receipts", "Receipts_80mm.2", "квитанції", "r" * 127, "ї" * 63])
def test_ordinary_queue_names_are_taken(name):
    assert LpPrinter(name).queue == name


def test_cups_takes_names_the_terminal_refuses(cups):
    # The rule is ours, not CUPS's: it would have accepted this one.
    cups.add_queue("a;b")
    assert "printer a;b is idle" in cups.run("lpstat", "-p", "a;b").stdout
    with pytest.raises(HardwareConfigError):
        LpPrinter("a;b")


def check(*args: str):
    return CliRunner().invoke(hardware_group, ["check", "--reader", "fake", "--camera", "fake", *args])


def test_hardware_check_prints_a_test_receipt_on_a_ready_queue(cups, queue):
    name, output = queue
    result = check("--printer", f"lp:{name}", "--print-test", "--json")
    assert result.exit_code == 0, result.output
    line = json.loads(result.output.splitlines()[-1])
    assert (line["device"], line["ok"], line["state"], line["test_print"]) == ("printer", True, "ready", True)
    job_id = line["detail"].split()[3]
    assert cups.wait_for_job(job_id)
    assert "TEST-0000" in pdf_text(output).split()


def test_hardware_check_says_why_a_queue_is_not_ready(cups, queue):
    name, output = queue
    cups.run("cupsdisable", "-r", "Немає паперу", name, check=True)
    result = check("--printer", f"lp:{name}", "--print-test")
    assert result.exit_code == 1
    assert f"Принтер / printer (lp:{name}): НЕ ПРАЦЮЄ / NOT WORKING — state: paused" in result.output
    assert "Немає паперу" in result.output
    assert cups.jobs(name) == [] and not output.exists()  # no test receipt either
    cups.stop()
    result = check("--printer", f"lp:{name}", "--json")
    line = json.loads(result.output.splitlines()[-1])
    assert (result.exit_code, line["ok"], line["state"]) == (1, False, "cups_down")
