"""Receipt printers: a vote's receipt, on paper when a printer is attached."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a receipt says. Nothing on it identifies the voter."""

    receipt_code: str  # e.g. "7KQM-2XPD", lets a voter check their vote was counted
    cycle_title: str
    terminal: str  # the terminal's name and code
    cast_at: datetime
    lines: list[str] = field(default_factory=list)  # e.g. "Ваш голос зараховано"


@dataclass(frozen=True, slots=True)
class PrintResult:
    printed: bool
    detail: str = ""  # the printer's complaint when it did not print


class ReceiptPrinter(Protocol):
    def print_receipt(self, receipt: Receipt) -> PrintResult: ...

    def ready(self) -> PrintResult:
        """Whether a receipt could be printed now (paper, connection)."""
        ...
