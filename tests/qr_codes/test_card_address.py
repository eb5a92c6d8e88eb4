"""A public address is checked before cards are printed: up to 31 characters the cards
are as designed, up to 92 they are readable with smaller modules, from 93 nothing is
printed and the person is told why, Ukrainian first. Never a bare ValueError."""

from __future__ import annotations

import io

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from qr_codes.card_address import (
    DESIGNED_ADDRESS_LENGTH,
    LONGEST_ADDRESS,
    MIN_MODULE_DOTS,
    CardAddressError,
    check_card_address,
    check_card_url,
)
from qr_codes.cards import cards_pdf, code_png
from qr_codes.codes import code_url, new_code
from qr_codes.layouts import LAYOUTS

from .conftest import make_cards


def address(length: int) -> str:
    """An https address of exactly `length` characters."""
    return "https://" + "a" * (length - len("https://.ua")) + ".ua"


def test_the_limits_are_the_documented_ones():
    assert (DESIGNED_ADDRESS_LENGTH, LONGEST_ADDRESS) == (31, 92)


@pytest.mark.parametrize(
    ("length", "layout", "version", "module_mm", "smaller"),
    [
        (27, "10", 6, 0.85, False),  # https://vote.example.gov.ua
        (31, "10", 6, 0.85, False),
        (32, "10", 7, 0.68, True),
        (32, "8", 7, 0.85, True),
        (32, "21", 7, 0.51, True),
        (92, "10", 10, 0.51, True),
        (92, "8", 10, 0.68, True),
    ],
)
def test_an_address_gives_cards_of_a_known_version_and_module(length, layout, version, module_mm, smaller):
    card = check_card_address(address(length), layout)
    assert (card.version, card.module_mm, card.smaller_than_designed) == (version, module_mm, smaller)
    assert card.module_mm >= round(MIN_MODULE_DOTS * 25.4 / 150, 2)
    assert (card.notice() is None) == (not smaller)


def test_every_code_of_an_address_has_the_same_version_as_the_check_says():
    base = address(LONGEST_ADDRESS)
    expected = check_card_address(base).version
    for _ in range(50):
        assert check_card_url(code_url(base, new_code())).version == expected


@pytest.mark.parametrize(
    "base",
    [address(93), address(400), "https://бюджет." + "а" * 40 + ".укр"],
    ids=["93-characters", "400-characters", "cyrillic-59-characters"],
)
def test_an_address_too_long_for_any_card_is_refused_with_a_message(base):
    with pytest.raises(CardAddressError) as refused:
        check_card_address(base)
    assert refused.value.code == "address.too_long"
    uk, en = refused.value.message("uk"), refused.value.message("en-GB")
    assert uk.startswith("Публічна адреса задовга для QR-коду картки") and "92" in uk
    assert en.startswith("The public address is too long") and "Nothing was printed" in en
    assert f"— {len(base)}," in uk


@pytest.mark.parametrize("base", ["", "   ", "/", None])
def test_no_address_is_refused_with_a_message(base):
    with pytest.raises(CardAddressError) as refused:
        check_card_address(base)
    assert refused.value.message() == (
        "Публічна адреса порожня: задайте адресу сайту голосування (PUBLIC_URL або --base-url)."
    )


def test_a_trailing_slash_is_not_counted():
    assert check_card_address(address(31) + "/").version == 6


def test_an_unknown_layout_is_named():
    with pytest.raises(ValueError, match="unknown card layout '12'"):
        check_card_address(address(30), "12")


def test_cards_with_an_address_too_long_are_a_card_address_error_and_nothing_is_written():
    code = new_code()
    cards = make_cards(3)
    url = f"{address(93)}/s/{code}"
    too_long = [*cards[:2], type(cards[0])(code, url, "Ліцей", "6-А", "Бюджет", 3)]
    out = io.BytesIO()
    with pytest.raises(CardAddressError) as refused:
        cards_pdf(too_long, out)
    assert refused.value.code == "address.too_long"
    assert out.getvalue() == b""
    with pytest.raises(CardAddressError):
        code_png(url)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_the_longest_address_still_prints_and_its_code_reads_back(layout):
    url = code_url(address(LONGEST_ADDRESS), new_code())
    assert check_card_url(url, layout).version == 10
    image = Image.open(io.BytesIO(code_png(url, module_px=3)))
    assert [r.text for r in zxingcpp.read_barcodes(np.array(image.convert("L")))] == [url]
    card = type(make_cards(1)[0])(url.rsplit("/", 1)[1], url, "Ліцей", "6-А", "Бюджет", 1)
    assert cards_pdf([card], io.BytesIO(), layout=layout) == 1
