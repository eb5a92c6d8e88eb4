"""Sheet serials and the QR text on every page: a sheet printed elsewhere, or a serial
changed by hand, must never pass as one of ours."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from paper.serials import (
    SerialError,
    device_prefix,
    form_key,
    is_serial,
    make_qr_text,
    make_serial,
    parse_qr_text,
    serial_range,
)

KEY = form_key(bytes.fromhex("6b" * 32))
LAYOUT_HASH = "0123456789abcdef" + "e" * 48


def qr(serial: str = "S0001-000042", page: int = 1, pages: int = 2, key: bytes = KEY) -> str:
    return make_qr_text(12, LAYOUT_HASH, serial, page, pages, key)


def test_the_form_key_is_derived_from_the_community_secret_as_the_server_does():
    secret = bytes.fromhex("6b" * 32)
    assert KEY == hmac.new(secret, b"spilno/ballot-forms", hashlib.sha256).digest()
    assert form_key(bytes.fromhex("6c" * 32)) != KEY


def test_a_support_point_numbers_its_own_sheets():
    assert device_prefix("S-0001") == "S0001"
    assert make_serial("S-0001", 42) == "S0001-000042"
    assert serial_range("S-0002", 999_998, 2) == ["S0002-999998", "S0002-999999"]
    assert is_serial("S0001-000042") and not is_serial("S0001-42")


@pytest.mark.parametrize(
    "device", ["S0001", "s-0001", "S-01", "S-0001\n", "\u202eS-0001", "С-0001", "S-0001" * 100, None, 1]
)
def test_a_malformed_device_code_is_refused(device):
    with pytest.raises(SerialError) as refused:
        serial_range(device, 1, 1)
    assert refused.value.code == "ballots.device"


@pytest.mark.parametrize(
    ("first", "count", "code"),
    [
        (0, 1, "ballots.first"),
        (999_999, 2, "ballots.first"),
        (1, 0, "ballots.count"),
        (True, 1, "ballots.first"),
        ("1", 1, "ballots.first"),
        (1, 2.0, "ballots.count"),
    ],
)
def test_sheet_numbers_outside_1_to_999999_are_refused(first, count, code):
    with pytest.raises(SerialError) as refused:
        serial_range("S-0001", first, count)
    assert refused.value.code == code


def test_the_qr_text_has_the_contract_shape_and_reads_back():
    text = qr()
    assert text.startswith("SPB1|12|0123456789abcdef|S0001-000042|1/2|")
    check = text.rsplit("|", 1)[1]
    assert len(check) == 10 and check.isupper()
    fields = parse_qr_text(text, KEY)
    assert (fields.cycle_id, fields.layout_hash_prefix, fields.serial, fields.page_label) == (
        12,
        "0123456789abcdef",
        "S0001-000042",
        "1/2",
    )


def test_a_serial_with_any_one_character_changed_fails_the_checksum():
    text = qr()
    start = text.index("S0001-000042")
    for offset in range(len("S0001-000042")):
        position = start + offset
        original = text[position]
        for replacement in "0123456789ST-":
            if replacement == original:
                continue
            forged = text[:position] + replacement + text[position + 1 :]
            with pytest.raises(SerialError) as refused:
                parse_qr_text(forged, KEY)
            shaped_like_a_serial = is_serial(forged.split("|")[3])
            assert refused.value.code == ("sheet.qr_checksum" if shaped_like_a_serial else "sheet.qr_format")


def test_any_single_changed_character_of_the_qr_text_is_refused():
    text = qr()
    for position in range(len(text)):
        for replacement in ("7", "A", "|", "x"):
            if text[position] == replacement:
                continue
            forged = text[:position] + replacement + text[position + 1 :]
            with pytest.raises(SerialError) as refused:
                parse_qr_text(forged, KEY)
            assert refused.value.code in ("sheet.qr_format", "sheet.qr_checksum")


def test_a_sheet_printed_for_another_community_fails_the_checksum():
    other = form_key(bytes.fromhex("aa" * 32))
    with pytest.raises(SerialError) as refused:
        parse_qr_text(qr(key=other), KEY)
    assert refused.value.code == "sheet.qr_checksum"


@pytest.mark.parametrize(
    "text",
    [
        None,
        42,
        b"SPB1|12|0123456789abcdef|S0001-000042|1/2|AAAAAAAAAA",
        ["SPB1"],
        "",
        "https://example.com/s/ABCD",
        "SPB1|12|0123456789abcdef|S0001-000042|3/2|AAAAAAAAAA",
        "SPB1|12|0123456789abcdef|S0001-000042|0/2|AAAAAAAAAA",
        "SPB1|012|0123456789abcdef|S0001-000042|1/2|AAAAAAAAAA",
        "SPB1|12|0123456789ABCDEF|S0001-000042|1/2|AAAAAAAAAA",
        "SPB1|١٢|0123456789abcdef|S0001-000042|1/2|AAAAAAAAAA",
        "SPB2|12|0123456789abcdef|S0001-000042|1/2|AAAAAAAAAA",
        "SPB1|12|0123456789abcdef|S0001-000042|1/2|aaaaaaaaaa",
    ],
)
def test_malformed_qr_texts_are_refused_as_not_ours(text):
    with pytest.raises(SerialError) as refused:
        parse_qr_text(text, KEY)
    assert refused.value.code == "sheet.qr_format"


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t + "\n",
        lambda t: "\u202e" + t,
        lambda t: t.replace("|", "|\x00", 1),
        lambda t: t + "|" + "A" * 10_000,
        lambda t: t * 2,
        lambda t: " " + t,
    ],
)
def test_hostile_and_oversized_qr_texts_are_refused(damage):
    with pytest.raises(SerialError) as refused:
        parse_qr_text(damage(qr()), KEY)
    assert refused.value.code == "sheet.qr_format"


def test_a_qr_text_that_the_reader_would_refuse_is_never_printed():
    with pytest.raises(ValueError):
        make_qr_text(12, LAYOUT_HASH, "S0001-42", 1, 1, KEY)
    with pytest.raises(ValueError):
        make_qr_text(12, LAYOUT_HASH, "S0001-000042", 3, 2, KEY)
