"""One code as a PNG, and a class's codes as a CSV for a spreadsheet."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from qr_codes.cards import code_png, codes_csv

from .conftest import make_cards


def test_a_code_png_is_read_back_as_its_url():
    card = make_cards(1)[0]
    png = code_png(card.url)
    assert png.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(png))
    assert image.mode == "1"  # black and white: the smallest file
    assert image.size == ((41 + 8) * 8,) * 2  # version 6 with its quiet zone, 8 px a module
    assert [r.text for r in zxingcpp.read_barcodes(np.array(image.convert("L")))] == [card.url]


@pytest.mark.parametrize("module_px", [1, 3, 64])
def test_a_code_png_can_be_any_whole_number_of_pixels_a_module(module_px):
    url = make_cards(1)[0].url
    image = Image.open(io.BytesIO(code_png(url, module_px=module_px)))
    assert image.size == (49 * module_px,) * 2
    pixels = np.array(image)
    assert pixels[: 4 * module_px].all(), "the quiet zone is white"
    if module_px >= 3:
        assert [r.text for r in zxingcpp.read_barcodes(np.array(image.convert("L")))] == [url]


@pytest.mark.parametrize("module_px", [0, 65, 2.5, True, "8"])
def test_a_code_png_refuses_a_silly_module_size(module_px):
    with pytest.raises(ValueError, match="module_px"):
        code_png("https://vote.example.gov.ua/s/x", module_px=module_px)


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_csv_opens_in_excel_with_cyrillic_intact(tmp_path):
    cards = make_cards(3)
    path = Path(tmp_path) / "codes.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        codes_csv(cards, out)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM that tells Excel it is UTF-8
    rows = read_csv(raw.decode("utf-8"))
    assert rows[0] == ["school", "class", "number", "code", "url"]
    assert rows[1:] == [[c.school, c.class_name, str(c.number), c.code, c.url] for c in cards]
    assert b"\r\n" in raw and "Ліцей № 157".encode() in raw


@pytest.mark.parametrize("hostile", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_school_name_like_a_formula_is_neutralised(hostile):
    card = replace(make_cards(1)[0], school=hostile, class_name=hostile)
    out = io.StringIO()
    codes_csv([card], out)
    school, class_name, *_ = read_csv(out.getvalue())[1]
    assert school == class_name == "'" + hostile


def test_ordinary_values_are_left_alone():
    card = replace(make_cards(1)[0], class_name="6-А", school="Гімназія № 5")
    out = io.StringIO()
    codes_csv([card], out)
    assert read_csv(out.getvalue())[1][:2] == ["Гімназія № 5", "6-А"]


def test_a_csv_of_a_card_with_a_mismatched_url_is_refused():
    one, two = make_cards(2)
    with pytest.raises(ValueError, match="does not carry"):
        codes_csv([replace(one, url=two.url)], io.StringIO())
