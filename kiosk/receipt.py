"""The receipt a voter takes away: a short code, on screen and on paper.

The code is derived from the vote id alone (qr_codes.receipt_codes), so it says nothing
about who voted or how, and the server finds the vote it names: a resident types it on
the server's «Перевірити свій голос» page (/check) to learn whether the vote has arrived
and counts. Eight symbols without look-alikes (no O, I or L beside 0 and 1).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hardware import Receipt, ReceiptPrinter
from kiosk.i18n import N_, translate
from qr_codes.receipt_codes import receipt_code

log = logging.getLogger(__name__)

__all__ = ["PrintOutcome", "PrintStatus", "poll_receipt_for", "print_receipt", "receipt_code", "receipt_for"]


class PrintStatus(StrEnum):
    PRINTED = "printed"
    FAILED = "failed"  # the vote is recorded all the same
    NO_PRINTER = "no_printer"


@dataclass(frozen=True, slots=True)
class PrintOutcome:
    status: PrintStatus
    detail: str = ""  # the printer's complaint, for the maintenance log only


RECEIPT_LINES = (
    N_("Ваш голос записано."),
    N_("Збережіть цей код квитанції."),
    N_("Перевірити голос за цим кодом: «Перевірити свій голос» на сайті громади."),
)


def check_address(server_url: str | None) -> str | None:
    """The server's «Перевірити свій голос» page, for the voter to note: the address the
    terminal was enrolled with, plus /check. None before enrolment."""
    return f"{server_url.rstrip('/')}/check" if server_url else None


def receipt_for(
    code: str,
    *,
    cycle_title: str,
    terminal: str,
    cast_at: datetime,
    locale: str,
    check_url: str | None = None,
) -> Receipt:
    """What goes on paper: the code, the cycle, the terminal and the time, in the
    voter's language, and where to check the code (`check_url`, the page the terminal's
    server serves). Nothing on it identifies the voter."""
    lines = [translate(line, locale) for line in RECEIPT_LINES]
    if check_url:
        lines.append(check_url)
    return Receipt(
        receipt_code=code, cycle_title=cycle_title, terminal=terminal, cast_at=cast_at, lines=lines
    )


POLL_RECEIPT_LINES = (
    N_("Ваші відповіді записано."),
    N_("Збережіть цей код квитанції."),
    N_("Перевірити відповіді за цим кодом: «Перевірити свій голос» на сайті громади."),
)


def poll_receipt_for(
    code: str,
    *,
    poll_title: str,
    terminal: str,
    cast_at: datetime,
    locale: str,
    check_url: str | None = None,
) -> Receipt:
    """A poll answer's receipt: its code (from the answer id), the poll, the terminal and
    the time, and where to check it: the server's «Перевірити свій голос» page finds poll
    answers by their code as it finds votes."""
    lines = [translate(line, locale) for line in POLL_RECEIPT_LINES]
    if check_url:
        lines.append(check_url)
    return Receipt(receipt_code=code, cycle_title=poll_title, terminal=terminal, cast_at=cast_at, lines=lines)


def print_receipt(printer: ReceiptPrinter | None, receipt: Receipt) -> PrintOutcome:
    """Print if a printer is attached. Never raises: by now the vote is on disk, and a
    jammed printer must not make the voter (or the code) believe otherwise."""
    if printer is None:
        return PrintOutcome(PrintStatus.NO_PRINTER)
    try:
        result = printer.print_receipt(receipt)
    except Exception as exc:  # any driver failure: the vote is already recorded
        log.warning("receipt printer failed: %s", exc)
        return PrintOutcome(PrintStatus.FAILED, str(exc)[:200])
    if not result.printed:
        log.warning("receipt not printed: %s", result.detail)
        return PrintOutcome(PrintStatus.FAILED, result.detail[:200])
    return PrintOutcome(PrintStatus.PRINTED)
