"""How the CSV readers tell a damaged file from one with an over-long field.

Python's csv module refuses a field longer than csv.field_size_limit() (128 KB) with
the same csv.Error as an unclosed quote; the person who uploaded the file is owed the
true reason (no cell of a voter list or a vote table is anywhere near that long, so
such a file is the wrong file, or an attack), not "fix your quotes"."""

from __future__ import annotations

import csv

__all__ = ["csv_problem", "field_limit_kb", "is_field_too_long"]


def is_field_too_long(error: csv.Error) -> bool:
    # CPython's message: "field larger than field limit (131072)"
    return "field larger than field limit" in str(error)


def field_limit_kb() -> int:
    return csv.field_size_limit() // 1024


def csv_problem(error: csv.Error, prefix: str, row: int) -> tuple[str, dict]:
    """The message code and parameters for a csv.Error met at `row`: `prefix`.malformed
    or `prefix`.field_too_long."""
    if is_field_too_long(error):
        return f"{prefix}.field_too_long", {"row": row, "limit_kb": field_limit_kb()}
    return f"{prefix}.malformed", {"row": row}
