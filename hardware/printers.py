"""Receipt printers: a CUPS queue through `lp`, a folder of PDFs, or none at all.

A printer problem must never stop a vote: the vote is stored before the receipt is
printed, so every failure here comes back as PrintResult(False, reason), never as an
exception. Only a setting that names no possible queue is refused, when the printer is
made (HardwareConfigError), as every hardware setting is.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from .factory import HardwareConfigError
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


class QueueState(StrEnum):
    """What CUPS says about a queue, as `spilno hardware check --json` reports it."""

    READY = "ready"
    PAUSED = "paused"  # cupsdisable: jobs would wait and come out later, for someone else
    REJECTING = "rejecting"  # cupsreject: lp would refuse the job
    NO_QUEUE = "no_queue"
    CUPS_DOWN = "cups_down"  # no scheduler answers on CUPS's socket
    NO_ANSWER = "no_answer"  # a scheduler took the connection and said nothing: hung
    NO_CLIENT = "no_client"  # lp/lpstat are not installed
    ERROR = "error"  # anything else lpstat complains about; its words are in the detail


@dataclass(frozen=True, slots=True)
class QueueStatus:
    state: QueueState
    detail: str


class LpPrinter:
    """Prints through CUPS: `lp -d QUEUE receipt.pdf`. CUPS turns the PDF into what the
    printer speaks (ESC/POS for most thermal printers, through its driver/PPD).

    Before each receipt the queue is asked (`lpstat`) whether it would print now: a job
    sent to a paused queue is accepted and kept, and would come out when staff resume the
    queue, in front of whoever stands at the terminal then. A receipt that cannot print
    now is not sent; the voter sees the code on screen instead.
    """

    def __init__(
        self, queue: str, *, timeout_s: float = LP_TIMEOUT_S, status_timeout_s: float = LPSTAT_TIMEOUT_S
    ) -> None:
        self._queue = check_queue_name(queue)
        self.timeout_s = timeout_s
        self.status_timeout_s = status_timeout_s
        self.last_job_id: str | None = None  # CUPS's id of the last receipt sent, e.g. "receipts-17"

    @property
    def queue(self) -> str:
        return self._queue

    def print_receipt(self, receipt: Receipt) -> PrintResult:
        lp = shutil.which("lp")
        if lp is None:
            return PrintResult(False, "the lp command is missing (Debian: apt-get install cups-client)")
        if (lpstat := _beside(lp, "lpstat")) is not None:
            status = self._status(lpstat)
            if status.state is not QueueState.READY:
                return PrintResult(False, status.detail)
        try:
            pdf = receipt_pdf(receipt)
        except OSError as exc:
            return PrintResult(False, f"cannot make the receipt: {exc}")
        with tempfile.TemporaryDirectory(prefix="spilno-receipt-") as folder:
            # Neither the job's title nor its file name carries the receipt code: CUPS keeps
            # both in its job history (`lpstat -W completed`), readable on the terminal.
            path = Path(folder) / "receipt.pdf"
            path.write_bytes(pdf)
            # lp copies the file into the spooler before it exits, so the file may go after.
            command = [lp, "-d", self.queue, "-t", "spilno-receipt", str(path)]
            done = _run(command, self.timeout_s)
        if done.timed_out:
            return PrintResult(False, f"lp did not finish in {self.timeout_s:g} s")
        if done.returncode != 0:
            return PrintResult(False, done.output or f"lp exited with {done.returncode}")
        # "request id is receipts-17 (1 file(s))": English, as _run asks for it.
        found = re.search(r"request id is (\S+) \(", done.output)
        self.last_job_id = found.group(1) if found else None
        return PrintResult(True, done.output)

    def ready(self) -> PrintResult:
        status = self.queue_status()
        return PrintResult(status.state is QueueState.READY, status.detail)

    def queue_status(self) -> QueueStatus:
        lp = shutil.which("lp")
        lpstat = _beside(lp, "lpstat") if lp else None
        if lpstat is None:
            return QueueStatus(
                QueueState.NO_CLIENT, "lp/lpstat are missing (Debian: apt-get install cups-client)"
            )
        return self._status(lpstat)

    def _status(self, lpstat: str) -> QueueStatus:
        # -p: enabled or disabled (paused), and the reason staff gave; -a: accepting jobs.
        done = _run([lpstat, "-p", self.queue, "-a", self.queue], self.status_timeout_s)
        if done.timed_out:
            return QueueStatus(
                QueueState.NO_ANSWER, f"CUPS did not answer in {self.status_timeout_s:g} s (is cupsd hung?)"
            )
        if done.returncode != 0:
            return self._why_lpstat_failed(lpstat, done.output)
        # "printer Q is idle.  enabled since ..." / "printer Q disabled since ... - Paper out"
        # "Q accepting requests since ..." / "Q not accepting requests since ... - reason"
        if paused := _paragraph(done.text, r"printer \S+ disabled since"):
            return QueueStatus(QueueState.PAUSED, paused)
        if rejecting := _paragraph(done.text, r"\S+ not accepting requests since"):
            return QueueStatus(QueueState.REJECTING, rejecting)
        return QueueStatus(QueueState.READY, done.output)

    def _why_lpstat_failed(self, lpstat: str, said: str) -> QueueStatus:
        """lpstat says "Invalid destination name" both for a queue CUPS does not have and
        when no scheduler is there at all; `lpstat -H -r` tells the two apart."""
        server = _run([lpstat, "-H", "-r"], self.status_timeout_s)
        lines = [line.strip() for line in server.text.splitlines() if line.strip()]
        if not server.timed_out and "scheduler is not running" in lines:
            where = lines[0] if len(lines) > 1 else "the default server"
            return QueueStatus(QueueState.CUPS_DOWN, f"the CUPS scheduler is not running ({where})")
        if "Invalid destination name" in said:
            return QueueStatus(QueueState.NO_QUEUE, f'CUPS has no queue "{self.queue}" ({said})')
        return QueueStatus(QueueState.ERROR, said or "lpstat failed and said nothing")


def check_queue_name(queue: str) -> str:
    """The queue name, or HardwareConfigError naming the rule it broke. CUPS itself takes
    almost anything printable (even "a;b"); a terminal's setting needs far less, and a
    name kept to letters, digits, "_", "." and "-" can never read as an lp option or
    mean something to a shell that logs it."""
    if not isinstance(queue, str) or not _QUEUE_NAME.fullmatch(queue) or len(queue.encode()) > 127:
        shown = repr(queue) if len(repr(queue)) <= 60 else repr(queue)[:57] + "..."
        raise HardwareConfigError(
            f"CUPS queue {shown}: a queue name is 1-127 bytes of letters, digits, "
            '"_", "." and "-", starting with a letter or digit'
        )
    return queue


# \w is Unicode-aware: "квитанції" is a queue name CUPS accepts and a community may use.
_QUEUE_NAME = re.compile(r"[^\W_][\w.-]*")


@dataclass(frozen=True, slots=True)
class _Finished:
    returncode: int | None  # None: killed at the time limit, or could not start
    text: str  # stdout, then stderr, as the command wrote them
    timed_out: bool = False

    @property
    def output(self) -> str:
        return _one_line(self.text)


def _run(command: list[str], timeout_s: float) -> _Finished:
    # No shell: the queue name and file path are single arguments, whatever they contain.
    # CUPS translates its messages (lpstat says "принтер Q отключен" under ru_RU); the
    # words read here are the English ones, so ask for those. Reasons staff typed
    # (cupsdisable -r "Немає паперу") pass through unchanged in UTF-8.
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    try:
        done = subprocess.run(  # noqa: S603
            command,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return _Finished(None, "", timed_out=True)
    except OSError as exc:
        return _Finished(None, f"cannot run {command[0]}: {exc}")
    return _Finished(done.returncode, done.stdout + "\n" + done.stderr)


def _beside(lp: str, name: str) -> str | None:
    """The CUPS command `name` from the same installation as `lp`: two clients from two
    installations could be asking two different schedulers."""
    path = Path(lp).parent / name
    return str(path) if path.is_file() and os.access(path, os.X_OK) else None


def _paragraph(text: str, first_line: str) -> str:
    """The line of `text` starting with `first_line` (a regex) and the indented lines
    under it (where lpstat puts the reason staff gave), as one line; "" if none."""
    found = re.search(rf"^{first_line}.*(?:\n[ \t].*)*", text, re.MULTILINE)
    return _one_line(found.group()) if found else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _safe(text: str) -> str:
    """A receipt code as a file-name part: letters, digits and dashes only."""
    return re.sub(r"[^0-9A-Za-z-]+", "_", text)[:64] or "receipt"
