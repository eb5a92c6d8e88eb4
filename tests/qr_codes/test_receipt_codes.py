"""Receipt codes: no look-alikes printed, forgiving reading, old receipts still good."""

from __future__ import annotations

import uuid

import pytest

from qr_codes.receipt_codes import (
    ALPHABET,
    ReceiptCodeError,
    legacy_receipt_code,
    receipt_code,
    receipt_number,
    receipt_numbers,
)

VOTE_ID = "2b8e2f3a-6c1d-4e0b-9a57-3f1c9d2e7b10"


def test_the_alphabet_has_no_letter_that_looks_like_a_digit():
    assert len(set(ALPHABET)) == 32
    assert not set(ALPHABET) & set("IOLU")


def test_a_code_spells_the_same_40_bits_as_the_receipt_printed_before():
    assert receipt_numbers(receipt_code(VOTE_ID))[0] == receipt_number(VOTE_ID)
    assert receipt_number(VOTE_ID) in receipt_numbers(legacy_receipt_code(VOTE_ID))


def test_codes_are_read_in_any_case_with_or_without_dashes_and_look_alikes():
    ids = [str(uuid.uuid4()) for _ in range(300)]
    for vote_id in ids:
        code = receipt_code(vote_id)
        number = receipt_number(vote_id)
        for typed in (
            code.lower(),
            code.replace("-", ""),
            f" {code[:2]} {code[2:]} ",
            code.replace("0", "O").replace("1", "l"),
            code.replace("0", "о"),  # a Cyrillic о on a Ukrainian keyboard
            code.replace("-", "—"),
        ):
            assert number in receipt_numbers(typed), (code, typed)
        # An old receipt copied with 0 for O and 1 for I is found too.
        legacy = legacy_receipt_code(vote_id).replace("O", "0").replace("I", "1")
        assert number in receipt_numbers(legacy), legacy


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("", "receipt.empty"),
        (" - ", "receipt.empty"),
        ("7KQM2XP", "receipt.wrong_length"),
        ("7KQM-2XP0-Z", "receipt.wrong_length"),
        ("7KQM-2XP!", "receipt.bad_symbol"),
        ("7KQM\u00002XP0", "receipt.bad_symbol"),
        ("Ж" * 8, "receipt.bad_symbol"),
        ("x" * 65, "receipt.too_long"),
        ("8UUU-UUUU", "receipt.not_a_code"),
    ],
)
def test_text_that_is_not_a_receipt_code_is_refused_with_a_reason(typed, rule):
    with pytest.raises(ReceiptCodeError) as refused:
        receipt_numbers(typed)
    assert refused.value.code == rule
    assert refused.value.message("uk") and refused.value.message("en")


def test_a_control_character_is_named_not_echoed():
    with pytest.raises(ReceiptCodeError) as refused:
        receipt_numbers("7KQM\u00002XP0")
    assert "U+0000" in refused.value.message("en")
