"""Shared helpers for the code and card tests.

Under CI (CI=true) a missing poppler tool fails the printer checks instead of skipping them.
"""

from __future__ import annotations

import os
import shutil

import pytest

from qr_codes.cards import CodeCard
from qr_codes.codes import ALPHABET, code_url, new_code

IN_CI = os.environ.get("CI", "").lower() == "true"
BASE_URL = "https://vote.example.gov.ua"


def complete(body: str) -> str | None:
    """A compact code from 19 symbols by the documented rule (sum of position × value is
    0 mod 31), written out again here so the tests check the rule, not the code's copy of
    it; None when the check value would be 30, which has no symbol."""
    total = sum(i * ALPHABET.index(s) for i, s in enumerate(body, start=1))
    for check, symbol in enumerate(ALPHABET):
        if (total + 20 * check) % 31 == 0:
            return body + symbol
    return None


def make_cards(count: int, *, school: str = "Ліцей № 157 Київської міської ради", class_name: str = "6-А",
               contest: str = "Шкільний бюджет 2027") -> list[CodeCard]:  # fmt: skip
    codes = [new_code() for _ in range(count)]
    return [
        CodeCard(code, code_url(BASE_URL, code), school, class_name, contest, number)
        for number, code in enumerate(codes, start=1)
    ]


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} (Debian package poppler-utils) is needed for the printer checks"
        if IN_CI:
            pytest.fail(f"{message} and is required under CI")
        pytest.skip(message)
    return path
