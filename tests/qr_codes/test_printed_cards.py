"""Checks a printer would make: the sheets are rendered as a printer would (poppler at
150 dpi, a cheap office printer's real resolution for a scan), cut into cards along the
printed geometry, and every card's QR code must be read by two independent decoders
(zxing-cpp and OpenCV) as its own URL. The text must be real, Cyrillic, embedded text.
"""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp
from PIL import Image

from qr_codes.cards import LAYOUTS, CodeCard, cards_pdf
from qr_codes.codes import format_code, normalise
from qr_codes.layouts import MM, PAGE_HEIGHT, Box, CardLayout

from .conftest import make_cards, require_tool

DPI = 150
SCALE = DPI / 72  # pixels per point
CARDS = 30


@dataclass
class PrintedSheets:
    layout: CardLayout
    cards: list[CodeCard]
    pdf: Path
    pages: list[np.ndarray]  # greyscale, 0 = black

    def card_image(self, index: int, box: str = "card") -> np.ndarray:
        page, slot = divmod(index, self.layout.per_page)
        return crop(self.pages[page], getattr(self.layout, f"{box}_box")(slot))


def pixels(box: Box) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) in the rendered page of a box in PDF points."""
    x, y, width, height = box
    return (
        round(x * SCALE),
        round((PAGE_HEIGHT - y - height) * SCALE),
        round((x + width) * SCALE),
        round((PAGE_HEIGHT - y) * SCALE),
    )


def crop(page: np.ndarray, box: Box) -> np.ndarray:
    left, top, right, bottom = pixels(box)
    return page[top:bottom, left:right]


def render(pdf: Path) -> list[np.ndarray]:
    pdftoppm = require_tool("pdftoppm")
    subprocess.run([pdftoppm, "-r", str(DPI), "-png", str(pdf), str(pdf.with_suffix(""))], check=True)
    files = sorted(pdf.parent.glob(f"{pdf.stem}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    return [np.array(Image.open(f).convert("L")) for f in files]


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def sheets(request, tmp_path_factory) -> PrintedSheets:
    layout = LAYOUTS[request.param]
    cards = make_cards(CARDS)
    pdf = tmp_path_factory.mktemp(f"layout{layout.name}") / "cards.pdf"
    with pdf.open("wb") as out:
        pages = cards_pdf(cards, out, layout=layout.name, title="Ліцей № 157, 6-А")
    assert pages == -(-CARDS // layout.per_page)
    return PrintedSheets(layout, cards, pdf, render(pdf))


def test_every_printed_card_is_read_by_zxing_as_its_own_url(sheets):
    for index, card in enumerate(sheets.cards):
        found = [result.text for result in zxingcpp.read_barcodes(sheets.card_image(index))]
        assert found == [card.url], f"card {index + 1} of layout {sheets.layout.name}"


def test_every_printed_card_is_read_by_opencv_as_its_own_url(sheets):
    # OpenCV's classic QRCodeDetector does not find about 1 in 70 perfectly printed
    # symbols, whatever their size, rotation or mask: the same symbols fail as crisp
    # synthetic images and with the `qrcode` library's own mask choice (a known weakness,
    # opencv/opencv#18372). For those, OpenCV's other detector (ArUco-based) must read
    # the card; the classic one must still read nearly all, and neither may ever read a
    # wrong URL.
    classic, aruco = cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()
    missed_by_classic = 0
    for index, card in enumerate(sheets.cards):
        image = sheets.card_image(index)
        text, _, _ = classic.detectAndDecode(image)
        assert text in ("", card.url), f"card {index + 1} read as another URL"
        if not text:
            missed_by_classic += 1
            text, _, _ = aruco.detectAndDecode(image)
        assert text == card.url, f"card {index + 1} of layout {sheets.layout.name}"
    assert missed_by_classic <= len(sheets.cards) // 10


def test_the_qr_code_is_big_enough_to_scan_from_a_phone(sheets):
    # At least 30 mm of symbol (the image less its quiet zone) on the cut-out cards;
    # the 70 × 42 mm stickers have room for 27.7 mm.
    symbol = sheets.layout.qr_size * 41 / 49
    assert symbol >= (27.5 * MM if sheets.layout.name == "21" else 30 * MM)


def test_the_qr_image_prints_where_the_geometry_says(sheets):
    # the finder pattern's outer ring begins 4 modules in from the image's corner
    image = sheets.card_image(0, "qr") < 128
    module = image.shape[0] / 49
    inside = round(4.5 * module)
    assert image[inside, inside] and image[-inside, inside] and image[inside, -inside]
    assert not image[: round(3.5 * module)].any(), "the quiet zone must stay white"


def test_the_outer_edge_of_every_card_is_blank_so_a_crooked_cut_loses_nothing(sheets):
    band = round(1.5 * MM * SCALE)
    for index in range(len(sheets.cards)):
        card = sheets.card_image(index)
        for edge in (card[:band], card[-band:], card[:, :band], card[:, -band:]):
            assert edge.min() > 200, f"something printed within 1.5 mm of card {index + 1}'s edge"


def test_cut_marks_point_at_every_card_corner_from_outside_the_card(sheets):
    layout = sheets.layout
    if not layout.cut_marks:  # pre-cut sticker sheets: nothing at all outside the stickers
        first_page = sheets.pages[0].copy()
        for slot in range(layout.per_page):
            left, top, right, bottom = pixels(layout.card_box(slot))
            first_page[top:bottom, left:right] = 255
        assert first_page.min() > 200
        return
    reach = 1.5 * MM  # within both kinds of mark: 0.8–2.6 mm in gutters, 1–5 mm in margins
    for index in range(len(sheets.cards)):
        page, slot = divmod(index, layout.per_page)
        x, y, width, height = layout.card_box(slot)
        for cx, dx in ((x, -1), (x + width, 1)):
            for cy, dy in ((y, -1), (y + height, 1)):
                for px, py in ((cx + dx * reach, cy), (cx, cy + dy * reach)):
                    left, top, _, _ = pixels((px, py, 0, 0))
                    window = sheets.pages[page][top - 2 : top + 3, left - 2 : left + 3]
                    assert window.min() < 170, f"no mark at ({px / MM:.1f} mm, {py / MM:.1f} mm)"


def pdf_text(pdf: Path, *options: str) -> str:
    command = [require_tool("pdftotext"), *options, "-enc", "UTF-8", str(pdf), "-"]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def test_the_pdf_holds_every_code_and_the_cyrillic_names_as_text(sheets):
    text = " ".join(pdf_text(sheets.pdf).split())  # lines wrap differently per layout
    for card in sheets.cards:
        first, second = card.code[:14], card.code[15:]  # printed on two lines
        assert first in text and second in text
    assert "Ліцей № 157 Київської міської" in text
    assert "6-А" in text and "Шкільний бюджет 2027" in text
    assert "Відскануйте код" in text and "vote.example.gov.ua/s/" in text
    assert "картка № 30" in text


def test_every_font_is_embedded(sheets):
    listing = subprocess.run(
        [require_tool("pdffonts"), str(sheets.pdf)], check=True, capture_output=True, text=True
    ).stdout.splitlines()[2:]
    assert listing, "no fonts at all"
    names = {row.split()[0].split("+")[-1] for row in listing}
    assert names == {"DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono-Bold"}
    for row in listing:
        assert row.split()[-5] == "yes", f"not embedded: {row}"


class _Words(HTMLParser):
    """Word boxes from `pdftotext -bbox`: (page, x_min, y_min, x_max, y_max, word), top-down points."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[tuple[int, float, float, float, float, str]] = []
        self.page = -1
        self._box: tuple[float, ...] | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "page":
            self.page += 1
        elif tag == "word":
            self._box = tuple(float(values[k]) for k in ("xmin", "ymin", "xmax", "ymax"))

    def handle_data(self, data):
        if self._box is not None:
            self.words.append((self.page, *self._box, data))
            self._box = None


LONG = {
    "contest": "Шкільний громадський бюджет Київської міської територіальної громади 2027: ідеї учнів",
    "school": "Комунальний заклад «Спеціалізована школа І–ІІІ ступенів № 157 з поглибленим "
    "вивченням іноземних мов» Київської міської ради",
    "class_name": "11-Б (фізико-математичний профіль)",
}


def inside(word: tuple, box: Box, slack: float = 1.5) -> bool:
    """Whether a pdftotext word box (top-down points) lies in a layout box (bottom-up)."""
    x, y, width, height = box
    _, left, top, right, bottom, _ = word
    return (
        left >= x - slack
        and right <= x + width + slack
        and top >= PAGE_HEIGHT - y - height - slack
        and bottom <= PAGE_HEIGHT - y + slack
    )


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_long_names_stay_inside_the_card_and_no_lines_overlap(layout, tmp_path):
    chosen = LAYOUTS[layout]
    cards = [replace(card, **LONG, number=100 + n) for n, card in enumerate(make_cards(chosen.per_page))]
    pdf = tmp_path / "long.pdf"
    with pdf.open("wb") as out:
        cards_pdf(cards, out, layout=layout, title="Комунальний заклад «Спеціалізована школа № 157» " * 3)
    parser = _Words()
    parser.feed(pdf_text(pdf, "-bbox"))
    words = parser.words
    assert len(words) > 20 * chosen.per_page
    for slot, card in enumerate(cards):
        mine = [word for word in words if inside(word, chosen.text_box(slot))]
        assert any("…" in word[5] for word in mine), "a long name is cut short with …"
        assert any(card.code[:9] in word[5] for word in mine), "the code is inside its card"
    for word in words:
        in_a_card = any(inside(word, chosen.text_box(slot)) for slot in range(chosen.per_page))
        in_the_footer = word[2] >= PAGE_HEIGHT - chosen.margin_y
        assert in_a_card or in_the_footer, f"{word[5]!r} is outside every card"
    for i, a in enumerate(words):
        for b in words[i + 1 :]:
            overlap_x = min(a[3], b[3]) - max(a[1], b[1])
            overlap_y = min(a[4], b[4]) - max(a[2], b[2])
            assert overlap_x <= 0.5 or overlap_y <= 0.5, f"{a[5]!r} overlaps {b[5]!r}"


def test_the_same_cards_give_the_same_pdf_bytes():
    cards = make_cards(12)
    first, second = io.BytesIO(), io.BytesIO()
    cards_pdf(cards, first, title="6-А")
    cards_pdf(cards, second, title="6-А")
    assert first.getvalue() == second.getvalue()


def test_an_unknown_layout_is_refused_naming_the_ones_there_are():
    with pytest.raises(ValueError, match=r"'12'.*8, 10, 21"):
        cards_pdf(make_cards(1), io.BytesIO(), layout="12")


def test_a_card_whose_qr_would_carry_another_code_is_refused():
    one, two = make_cards(2)
    with pytest.raises(ValueError, match="does not carry the printed code"):
        cards_pdf([replace(one, url=two.url)], io.BytesIO())


@pytest.mark.parametrize("number", [0, -1, True, "1"])
def test_card_numbers_count_from_one(number):
    with pytest.raises(ValueError, match="counts from 1"):
        cards_pdf([replace(make_cards(1)[0], number=number)], io.BytesIO())


def test_nothing_to_print_is_refused_rather_than_an_empty_pdf():
    with pytest.raises(ValueError, match="no cards"):
        cards_pdf([], io.BytesIO())


def test_cards_can_be_streamed_from_a_generator():
    out = io.BytesIO()
    assert cards_pdf((card for card in make_cards(11)), out, layout="10") == 2
    assert out.getvalue().startswith(b"%PDF-")


def test_english_cards_have_the_english_instruction(tmp_path):
    pdf = tmp_path / "en.pdf"
    with pdf.open("wb") as out:
        cards_pdf(make_cards(2), out, locale="en")
    text = pdf_text(pdf)
    assert "Scan the code" in text and "card no. 2" in text


def test_the_formatted_code_on_the_card_matches_format_code():
    card = make_cards(1)[0]
    assert card.code == format_code(normalise(card.code))
    assert re.fullmatch(r"https://vote\.example\.gov\.ua/s/[2-9A-Z-]{24}", card.url)


def test_hostile_names_print_as_plain_text(tmp_path):
    card, empty = make_cards(2)
    school = "Школа 😀 \u202eлицей\u202c (a) \\ \x00" + " дуже" * 5000
    card = replace(card, school=school, class_name="6-А\x07")
    empty = replace(empty, school="", class_name="", contest="")
    pdf = tmp_path / "hostile.pdf"
    with pdf.open("wb") as out:
        assert cards_pdf([card, empty], out, title="\x00\u202e") == 1
    text = pdf_text(pdf)
    assert "Школа ? лицей (a) \\ дуже" in text
    assert not set(text) & {"\x00", "\x07", "\u202e", "\u202c", "😀"}
    assert card.code[:14] in text and empty.code[:14] in text


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_fits_a4_and_its_marks_stay_out_of_the_printers_blind_edge(layout):
    chosen = LAYOUTS[layout]
    if chosen.cut_marks:
        # marks reach 5 mm into the margin; printers cannot print the outer ~4 mm
        assert chosen.margin_x >= 9 * MM and chosen.margin_y >= 9 * MM
    else:
        assert 0 <= chosen.margin_y < 1 * MM and chosen.margin_x == 0  # a 70 × 42.3 mm label sheet
    x, y, width, height = chosen.qr_box(0)
    card_x, card_y, card_width, card_height = chosen.card_box(0)
    assert card_x < x and x + width < card_x + card_width and card_y < y and y + height < card_y + card_height
    text_x, _, text_width, _ = chosen.text_box(0)
    assert text_x >= x + width and text_width > 25 * MM
