"""Receipt printers: a CUPS queue through `lp`, a folder of PDFs, or none at all.

A printer problem must never stop a vote: the vote is stored before the receipt is
printed, so every failure here comes back as PrintResult(False, reason), never as an
exception.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .printer import PrintResult, Receipt
from .receipt_pdf import receipt_pdf

# A receipt is one small page; CUPS accepts a job in well under a second when the
# printer is there. 20 s covers a busy spooler without leaving a voter waiting longer.
LP_TIMEOUT_S = 20.0
# `lpstat` only asks the local CUPS server.
LPSTAT_TIMEOUT_S = 5.0


class NoPrinter:
    """The terminal has no printer: the receipt code is shown on screen only."""

    def print_receipt(self, receipt: Receipt) -> PrintResult:
        return PrintResult(False, "no printer configured")

    def ready(self) -> PrintResult:
        return PrintResult(False, "no printer configured")


class FilePrinter:
    """Writes each receipt as a PDF into a folder: the printer of demos and tests, and a
    way to see exactly what a thermal printer would get."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.printed: list[Path] = []  # the files written, oldest first

    def print_receipt(self, receipt: Receipt) -> PrintResult:
        try:
            pdf = receipt_pdf(receipt)
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self._free_path(receipt)
            path.write_bytes(pdf)
        except OSError as exc:
            return PrintResult(False, f"cannot write the receipt into {self.folder}: {exc}")
        self.printed.append(path)
        return PrintResult(True, str(path))

    def ready(self) -> PrintResult:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.folder):
                pass
        except OSError as exc:
            return PrintResult(False, f"cannot write into {self.folder}: {exc}")
        return PrintResult(True, str(self.folder))

    def _free_path(self, receipt: Receipt) -> Path:
        stem = "receipt-" + _safe(receipt.receipt_code)
        path, n = self.folder / f"{stem}.pdf", 1
        while path.exists():  # the same code twice: a reprint, keep both
            n += 1
            path = self.folder / f"{stem}-{n}.pdf"
        return path


class LpPrinter:
    """Prints through CUPS: `lp -d QUEUE receipt.pdf`. CUPS turns the PDF into what the
    printer speaks (ESC/POS for most thermal printers, through its driver/PPD)."""

    def __init__(self, queue: str, *, timeout_s: float = LP_TIMEOUT_S) -> None:
        self.queue = queue
        self.timeout_s = timeout_s

    def print_receipt(self, receipt: Receipt) -> PrintResult:
        lp = shutil.which("lp")
        if lp is None:
            return PrintResult(False, "the lp command is missing (Debian: apt-get install cups-client)")
        try:
            pdf = receipt_pdf(receipt)
        except OSError as exc:
            return PrintResult(False, f"cannot make the receipt: {exc}")
        with tempfile.TemporaryDirectory(prefix="spilno-receipt-") as folder:
            path = Path(folder) / f"receipt-{_safe(receipt.receipt_code)}.pdf"
            path.write_bytes(pdf)
            # lp copies the file into the spooler before it exits, so the file may go after.
            return _run(
                [lp, "-d", self.queue, "-t", f"receipt {receipt.receipt_code}", str(path)], self.timeout_s
            )

    def ready(self) -> PrintResult:
        lpstat = shutil.which("lpstat")
        if lpstat is None or shutil.which("lp") is None:
            return PrintResult(False, "lp/lpstat are missing (Debian: apt-get install cups-client)")
        result = _run([lpstat, "-p", self.queue], LPSTAT_TIMEOUT_S)
        if not result.printed:
            return result
        # "printer Q is idle.  enabled since ..." / "printer Q disabled since ... - reason"
        if "disabled" in result.detail:
            return PrintResult(False, result.detail)
        return PrintResult(True, result.detail)


def _run(command: list[str], timeout_s: float) -> PrintResult:
    # No shell: the queue name and file path are single arguments, whatever they contain.
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        return PrintResult(False, f"{Path(command[0]).name} did not finish in {timeout_s:g} s")
    except OSError as exc:
        return PrintResult(False, f"cannot run {command[0]}: {exc}")
    output = " ".join((done.stdout + " " + done.stderr).split())
    if done.returncode != 0:
        return PrintResult(False, output or f"{Path(command[0]).name} exited with {done.returncode}")
    return PrintResult(True, output)


def _safe(text: str) -> str:
    """A receipt code as a file-name part: letters, digits and dashes only."""
    return re.sub(r"[^0-9A-Za-z-]+", "_", text)[:64] or "receipt"
