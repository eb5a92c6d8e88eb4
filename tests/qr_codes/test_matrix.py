"""The fast QR encoder: the same modules, bit for bit, as the `qrcode` library, and
symbols that decoders read back."""

from __future__ import annotations

import numpy as np
import pytest
import qrcode
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pyzbar.pyzbar import decode

from qr_codes.drawing import with_quiet_zone
from qr_codes.matrix import DEFAULT_MASK, MAX_VERSION, qr_matrix, qr_version

CARD_URL = "https://vote.example.gov.ua/s/7KQM-2X9R-TB4H-ZP3W-8CXN"
LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
TEXTS = [
    CARD_URL,
    "https://vote.example.gov.ua/s/",
    "7KQM-2X9R-TB4H-ZP3W-8CXN",  # alphanumeric mode
    "HELLO WORLD",
    "0123456789012345",  # numeric mode, a group of 1 left over
    "12",
    "Шкільний бюджет 2027, 6-А",  # bytes, UTF-8
    "ballot:8f14e45f-ceea-467f-a9f2-5b2c1f0e4f55|page=1",
    "a",
]


def reference(text: str, level: str, version: int, mask: int = DEFAULT_MASK) -> np.ndarray:
    qr = qrcode.QRCode(version=version, error_correction=LEVELS[level], mask_pattern=mask, border=0)
    qr.add_data(text, optimize=0)  # one segment, the narrowest mode for the whole text, as ours
    qr.make(fit=False)
    return np.array(qr.get_matrix(), dtype=bool)


def assert_same(text: str, level: str, version: int, mask: int = DEFAULT_MASK) -> None:
    ours = qr_matrix(text, level, version=version, mask=mask)
    theirs = reference(text, level, version, mask)
    assert ours.shape == theirs.shape == (17 + 4 * version,) * 2
    differing = np.argwhere(ours != theirs)
    where = f"{text!r} {level} v{version} mask {mask}"
    assert not differing.size, f"{where}: modules {differing[:5].tolist()} differ"


@pytest.mark.parametrize("level", ["M", "Q", "H", "L"])
@pytest.mark.parametrize("text", TEXTS)
def test_every_version_matches_the_qrcode_library_bit_for_bit(text, level):
    for version in range(qr_version(text, level), MAX_VERSION + 1):
        assert_same(text, level, version)


@pytest.mark.parametrize("mask", range(8))
def test_every_mask_matches_the_qrcode_library(mask):
    for version in (1, 2, 6, 7, 10):
        assert_same("HELLO", "H", version, mask)
    assert_same(CARD_URL, "M", 7, mask)


@pytest.mark.parametrize("level", ["M", "Q", "H"])
def test_the_smallest_version_that_fits_is_chosen_from_1_to_10(level):
    longest = {}  # version -> the longest text of that version
    for length in range(1, 300):
        try:
            longest[qr_version("x" * length, level)] = length
        except ValueError:
            break
    assert set(longest) == set(range(1, MAX_VERSION + 1))
    for version, length in longest.items():
        assert qr_matrix("x" * length, level).shape == (17 + 4 * version,) * 2
        assert_same("x" * length, level, version)


printable = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]),
    min_size=1,
    max_size=80,
)
alphanumeric = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", min_size=1, max_size=120)
numeric = st.text(alphabet="0123456789", min_size=1, max_size=200)


@given(st.one_of(printable, alphanumeric, numeric), st.sampled_from("MQH"), st.integers(0, 3))
@settings(max_examples=150, deadline=None)
def test_any_text_matches_the_qrcode_library(text, level, extra_versions):
    try:
        version = qr_version(text, level)
    except ValueError:
        return  # too long for version 10: refused, tested below
    assert_same(text, level, min(version + extra_versions, MAX_VERSION))


def image_of(matrix: np.ndarray, module_px: int = 4) -> Image.Image:
    light = ~with_quiet_zone(matrix)
    return Image.fromarray(light.repeat(module_px, axis=0).repeat(module_px, axis=1))


@pytest.mark.parametrize("level", ["M", "Q", "H"])
@pytest.mark.parametrize("text", TEXTS)
def test_a_decoder_reads_back_what_was_encoded(text, level):
    found = decode(image_of(qr_matrix(text, level)))
    assert [f.data.decode() for f in found] == [text]


def test_a_card_url_is_a_version_6_symbol_at_level_h():
    # 54 bytes; the cards' layouts are sized for 41 × 41 modules
    assert qr_version(CARD_URL) == 6
    assert qr_matrix(CARD_URL).shape == (41, 41)
    assert qr_version(CARD_URL, "M") == 4


def test_a_matrix_is_bool_with_the_finder_patterns_in_three_corners():
    matrix = qr_matrix(CARD_URL)
    assert matrix.dtype == bool
    finder = np.ones((7, 7), dtype=bool)
    finder[1:6, 1:6] = False
    finder[2:5, 2:5] = True
    n = matrix.shape[0]
    for corner in (matrix[:7, :7], matrix[:7, n - 7 :], matrix[n - 7 :, :7]):
        assert (corner == finder).all()


def test_encoding_one_text_does_not_disturb_an_earlier_result():
    first = qr_matrix(CARD_URL)
    kept = first.copy()
    qr_matrix(CARD_URL.replace("7KQM", "2222"))
    assert (first == kept).all()
    first[:] = False  # nor does changing a result change the next one
    assert (qr_matrix(CARD_URL) == kept).all()


def test_the_same_text_always_gives_the_same_symbol():
    assert (qr_matrix(CARD_URL) == qr_matrix(CARD_URL)).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": ""}, "some text"),
        ({"text": "x" * 200}, "does not fit"),
        ({"text": CARD_URL, "level": "X"}, "L, M, Q, H"),
        ({"text": CARD_URL, "level": "h"}, "L, M, Q, H"),
        ({"text": CARD_URL, "version": 5}, "needs version 6"),
        ({"text": CARD_URL, "version": 11}, "needs version 6"),
        ({"text": CARD_URL, "mask": 8}, "mask"),
    ],
)
def test_what_cannot_be_encoded_is_refused_with_the_reason(kwargs, message):
    with pytest.raises(ValueError, match=message):
        qr_matrix(**kwargs)


def test_the_longest_text_at_level_h_still_fits_version_10():
    longest = "x" * 119  # 119 bytes: version 10 at level H holds 122 codewords
    assert qr_version(longest) == 10
    assert decode(image_of(qr_matrix(longest)))[0].data.decode() == longest
    with pytest.raises(ValueError):
        qr_matrix("x" * 120)
