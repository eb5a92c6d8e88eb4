"""An uploaded CSV file as text, for every reader of one (the voter list, the paper-vote
table, the tally sheet): UTF-8 with or without a byte-order mark — what a spreadsheet's
«CSV UTF-8» writes — and nothing else. A file that is not (a NUL byte, which no
spreadsheet writes into a CSV; bytes that are not UTF-8, as in a Windows-1251 or UTF-16
export) is no text: the reader refuses the file as a whole instead of guessing.

Line endings are kept as they are (\\r\\n, \\n or a lone \\r): the csv module reads them all.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

__all__ = ["NUL_SCAN_BYTES", "csv_delimiter", "csv_lines", "csv_text"]

NUL_SCAN_BYTES = 65536  # how far csv_lines looks for a NUL before reading


def csv_text(data: bytes) -> str | None:
    """The whole file as text; None when it is plainly not a text file."""
    if b"\x00" in data:
        return None  # no spreadsheet writes NUL into a CSV: this is some other file
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def csv_lines(data: bytes) -> Iterator[str] | None:
    """The file's lines, decoded as they are read (decoding a large register up front
    would double its memory); None when its first NUL_SCAN_BYTES hold a NUL. Bytes
    further on that are not UTF-8 raise UnicodeDecodeError while the lines are read:
    the reader catches it and refuses the file then."""
    if b"\x00" in data[:NUL_SCAN_BYTES]:
        return None  # no spreadsheet writes NUL into a CSV
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def csv_delimiter(first_line: str) -> str:
    """A semicolon when the header line has more of them than commas (a spreadsheet where
    the comma is the decimal mark writes those), else a comma."""
    return ";" if first_line.count(";") > first_line.count(",") else ","
