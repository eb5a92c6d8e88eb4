"""The receipt a voter takes away: a short code, on screen and on paper.

The code is derived from the vote id alone, so it says nothing about who voted or
how, and the server can compute the same code from the record it received. Eight
base32 characters (40 bits) keep collisions between a community's votes negligible
and stay short enough to copy by hand; base32 has no 0/1/8/9, so no O-or-0 doubt.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hardware import Receipt, ReceiptPrinter
from kiosk.i18n import N_, translate

log = logging.getLogger(__name__)

RECEIPT_CODE_LENGTH = 8


def receipt_code(vote_id: str) -> str:
    """e.g. "7KQM-2XPD": the first 8 base32 characters of sha256(vote id), in two groups."""
    digest = hashlib.sha256(vote_id.encode()).digest()
    letters = base64.b32encode(digest).decode()[:RECEIPT_CODE_LENGTH]
    return f"{letters[:4]}-{letters[4:]}"


class PrintStatus(StrEnum):
    PRINTED = "printed"
    FAILED = "failed"  # the vote is recorded all the same
    NO_PRINTER = "no_printer"


@dataclass(frozen=True, slots=True)
class PrintOutcome:
    status: PrintStatus
    detail: str = ""  # the printer's complaint, for the maintenance log only


RECEIPT_LINES = (N_("Ваш голос записано."), N_("Збережіть цей код квитанції."))


def receipt_for(code: str, *, cycle_title: str, terminal: str, cast_at: datetime, locale: str) -> Receipt:
    """What goes on paper: the code, the cycle, the terminal and the time, in the
    voter's language. Nothing on it identifies the voter."""
    return Receipt(
        receipt_code=code,
        cycle_title=cycle_title,
        terminal=terminal,
        cast_at=cast_at,
        lines=[translate(line, locale) for line in RECEIPT_LINES],
    )


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
