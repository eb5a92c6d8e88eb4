"""Printable voting-code cards: a PDF of cut-out cards, one QR image, a CSV for a spreadsheet.

A card: the QR code on the left; on the right the contest, the school, the class and
the card's number, the code in large monospaced characters, a one-line instruction and
the site's address. Cut marks sit at every card corner, in the gutters and page
margins only, so a cut along them never crosses another card.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO, TextIO

import numpy as np
from PIL import Image
from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from .card_address import MIN_MODULE_DOTS, CardAddressError, check_card_url
from .codes import GROUP, format_code, normalise
from .drawing import QUIET_ZONE, draw_qr, with_quiet_zone
from .fonts import BOLD, MONO, REGULAR, printable, register_fonts, wrap
from .layouts import DOT, LAYOUTS, MM, PAGE_HEIGHT, PAGE_WIDTH, CardLayout
from .matrix import qr_matrix
from .texts import translated

__all__ = [
    "LAYOUTS",
    "TEXTS",
    "CardAddressError",
    "CardLayout",
    "CodeCard",
    "cards_pdf",
    "code_png",
    "codes_csv",
]

# The printed card's words, in Ukrainian; the English is in qr_codes/translations/en.
_UKRAINIAN = {
    "instruction": "Відскануйте код телефоном або введіть його на сторінці голосування",
    "card_number": "картка № {number}",
    "page": "аркуш {page}",
    "document": "Коди для голосування",
}
TEXTS: dict[str, dict[str, str]] = {
    locale: {key: translated(text, locale) for key, text in _UKRAINIAN.items()} for locale in ("uk", "en")
}


@dataclass(frozen=True)
class CodeCard:
    code: str  # formatted code
    url: str  # what the QR carries (code_url(...))
    school: str
    class_name: str  # e.g. "6-А"
    contest: str  # contest title, e.g. "Шкільний бюджет 2027"
    number: int  # the card's number within its class (1..n)


def _checked(card: CodeCard) -> str:
    """The card's compact code, once the card is known to be printable."""
    if not isinstance(card, CodeCard):
        raise TypeError(f"cards must be CodeCard, got {type(card).__name__}")
    compact = normalise(card.code)
    # The QR and the printed code must be the same code: a student who types it after a
    # failed scan must land on the same vote.
    if normalise(card.url) != compact:
        raise ValueError(f"card {card.class_name} №{card.number}: the URL does not carry the printed code")
    if isinstance(card.number, bool) or not isinstance(card.number, int) or card.number < 1:
        raise ValueError(f"a card's number counts from 1, got {card.number!r}")
    return compact


def _layout(name: str) -> CardLayout:
    if name not in LAYOUTS:
        raise ValueError(f"unknown card layout {name!r}; choose from {', '.join(LAYOUTS)}")
    return LAYOUTS[name]


def _texts(locale: str) -> dict[str, str]:
    return TEXTS["en"] if locale.lower().startswith("en") else TEXTS["uk"]


@lru_cache(maxsize=256)
def _site(url: str) -> str:
    """The address to type a code at: the card's URL without the code, without https://."""
    base = url[: url.rstrip("/").rfind("/") + 1]
    return base.removeprefix("https://")


def _code_lines(compact: str) -> tuple[str, str]:
    """The 5 groups as 3 + 2 on two lines (all five do not fit beside the QR). No dash at
    the end of the first line: it reads as a hyphen, and text copied from the PDF loses it."""
    formatted = format_code(compact)
    split = 3 * (GROUP + 1)
    return formatted[: split - 1], formatted[split:]


@lru_cache(maxsize=16)
def _cut_marks(layout: CardLayout, cards_on_page: int) -> str:
    """PDF path operators for the marks of the first `cards_on_page` cards: at each corner,
    a short line along each edge, pointing away from the card. Marks stop before the
    middle of a gutter, so two neighbours' marks never join across it."""
    in_gutter = (0.8 * MM, min(1.8 * MM, layout.gutter / 2 - 1.0 * MM))
    in_margin = (1.0 * MM, 4.0 * MM)
    segments = []
    for slot in range(cards_on_page):
        x, y, width, height = layout.card_box(slot)
        row, column = divmod(slot, layout.columns)
        for cx, outward_x, edge_x in ((x, -1, column == 0), (x + width, 1, column == layout.columns - 1)):
            for cy, outward_y, edge_y in ((y, -1, row == layout.rows - 1), (y + height, 1, row == 0)):
                start, length = in_margin if edge_x else in_gutter
                segments.append((cx + outward_x * start, cy, cx + outward_x * (start + length), cy))
                start, length = in_margin if edge_y else in_gutter
                segments.append((cx, cy + outward_y * start, cx, cy + outward_y * (start + length)))
    path = " ".join(f"{x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l" for x1, y1, x2, y2 in segments)
    return f"q 0 G 0.3 w {path} S Q"


class _TextWriter:
    """Strings on a canvas, each distinct (font, size, text) formatted by reportlab once per
    document and then reused: all but the code itself repeat from card to card, and
    reportlab's own drawString (~30 µs) was most of the time of 10 000 cards."""

    def __init__(self, canvas: Canvas) -> None:
        self.canvas = canvas
        self.formatted: dict[tuple[str, float, str], str] = {}

    def draw(self, x: float, y: float, text: str, font: str, size: float, *, repeats: bool = True) -> None:
        key = (font, size, text)
        code = self.formatted.get(key)
        if code is None:
            # A text object at the origin, moved into place by the "cm" below. Its font
            # names refer to the document's subsets, which only ever grow, so the
            # code stays valid on every later page.
            text_object = self.canvas.beginText(0, 0)
            text_object.setFont(font, size)
            text_object.textOut(text)
            code = text_object.getCode()
            if repeats:
                self.formatted[key] = code
        self.canvas.addLiteral(f"q 1 0 0 1 {x:.2f} {y:.2f} cm {code} Q")


@lru_cache(maxsize=1024)
def _width(text: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, font, size)


def _draw_card(
    canvas: Canvas,
    writer: _TextWriter,
    layout: CardLayout,
    slot: int,
    card: CodeCard,
    compact: str,
    texts: dict[str, str],
) -> None:
    matrix = _card_matrix(card.url, layout.name)
    qr_x, qr_y, qr_size, _ = layout.qr_box(slot)
    modules = matrix.shape[0] + 2 * QUIET_ZONE
    # whole dots per module (see layouts.DOT); a longer URL's bigger symbol gets smaller
    # modules, kept at the box's top left so they stay on the grid
    dots = int(qr_size / modules / DOT)
    if dots < MIN_MODULE_DOTS:
        check_card_url(card.url, layout.name)  # raises CardAddressError, with its message
    drawn = dots * modules * DOT
    draw_qr(canvas, matrix, qr_x, qr_y + qr_size - drawn, drawn)

    left, bottom, width, height = layout.text_box(slot)
    top = bottom + height
    for text, font, size, max_lines in (
        (printable(card.contest), BOLD, layout.contest_size, layout.contest_lines),
        (printable(card.school), REGULAR, layout.school_size, layout.school_lines),
    ):
        for line in wrap(text, font, size, width, max_lines):
            top -= 1.2 * size
            writer.draw(left, top + 0.2 * size, line, font, size)

    top -= 1.4 * layout.class_size
    # the class on the left, the card's number on the right of the same line
    number = texts["card_number"].format(number=card.number)
    number_size = layout.note_size + 1
    number_width = _width(number, REGULAR, number_size)
    baseline = top + 0.2 * layout.class_size
    for class_name in wrap(printable(card.class_name), BOLD, layout.class_size, width - number_width - 6, 1):
        writer.draw(left, baseline, class_name, BOLD, layout.class_size)
    writer.draw(left + width - number_width, baseline, number, REGULAR, number_size)

    top -= 0.35 * layout.code_size
    for line in _code_lines(compact):
        top -= 1.25 * layout.code_size
        writer.draw(left, top + 0.25 * layout.code_size, line, MONO, layout.code_size, repeats=False)

    # from the bottom up: the site's address, then the instruction above it
    size = layout.note_size
    writer.draw(left, bottom + 0.2 * size, _site(card.url), REGULAR, size)
    instruction = wrap(texts["instruction"], REGULAR, size, width, layout.note_lines)
    for n, line in enumerate(reversed(instruction), start=1):
        writer.draw(left, bottom + (0.2 + 1.2 * n) * size, line, REGULAR, size)


def _card_matrix(url: str, layout: str | None) -> np.ndarray:
    """The card's QR symbol; a URL too long for any symbol is a CardAddressError that says
    so in Ukrainian and English (nothing is written before the whole PDF is made)."""
    try:
        return qr_matrix(url, "H")
    except ValueError:
        check_card_url(url, layout)  # raises the CardAddressError for this URL
        raise


def _draw_footer(
    writer: _TextWriter, layout: CardLayout, title: str, page: int, texts: dict[str, str]
) -> None:
    """The batch's title and the sheet number in the bottom margin, between the marks."""
    if layout.margin_y < 6 * MM:
        return
    label = " · ".join(part for part in (printable(title), texts["page"].format(page=page)) if part)
    line = wrap(label, REGULAR, 6, layout.card_width - 10 * MM, 1)[0]
    writer.draw(layout.margin_x + 5 * MM, layout.margin_y / 2 - 2, line, REGULAR, 6, repeats=False)


def _save(canvas: Canvas) -> None:
    # reportlab wraps every compressed page in ASCII85 unless told not to: 25 % bigger,
    # and ~1.3 s per 1000 pages without its optional C accelerator. The switch is
    # process-wide and read only while saving; another PDF saved at this very moment
    # would merely skip ASCII85 too, which every PDF reader accepts.
    previous = rl_config.useA85
    rl_config.useA85 = 0
    try:
        canvas.save()
    finally:
        rl_config.useA85 = previous


def cards_pdf(
    cards: Iterable[CodeCard],
    out: BinaryIO,
    *,
    layout: str = "10",
    title: str = "",
    locale: str = "uk",
    on_progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Write a PDF of `cards` to `out` in `layout` ("8", "10" or "21"); return the number
    of pages. The same cards give the same bytes. `title` (say, "Ліцей № 5, 6-А") goes
    into the PDF's properties and each sheet's bottom margin. A card whose address is too
    long for a readable QR code (see card_address) is a CardAddressError, and nothing is
    written to `out`: check_card_address() says so before printing starts.
    `on_progress(cards_drawn, cards)` is told after each card (None: `cards` has no length)."""
    chosen = _layout(layout)
    texts = _texts(locale)
    register_fonts()
    # initialFontName: otherwise every page sets Helvetica, a font that is not embedded
    # types-reportlab takes initialFontName for a number; reportlab wants the font's name.
    canvas = Canvas(
        out,
        pagesize=(PAGE_WIDTH, PAGE_HEIGHT),
        pageCompression=1,
        invariant=1,
        initialFontName=REGULAR,  # type: ignore[arg-type]
    )
    canvas.setTitle(title or texts["document"])
    canvas.setCreator("spilno qr_codes")
    writer = _TextWriter(canvas)
    pages = slot = 0
    total = len(cards) if isinstance(cards, Sized) else None
    for drawn, card in enumerate(cards, 1):
        compact = _checked(card)
        _draw_card(canvas, writer, chosen, slot, card, compact, texts)
        if on_progress is not None:
            on_progress(drawn, total)
        slot += 1
        if slot == chosen.per_page:
            pages += 1
            _finish_page(writer, chosen, slot, title, pages, texts)
            slot = 0
    if slot:
        pages += 1
        _finish_page(writer, chosen, slot, title, pages, texts)
    if not pages:
        raise ValueError("no cards to print")
    _save(canvas)
    return pages


def _finish_page(
    writer: _TextWriter, layout: CardLayout, cards: int, title: str, page: int, texts: dict[str, str]
) -> None:
    if layout.cut_marks:
        writer.canvas.addLiteral(_cut_marks(layout, cards))
    _draw_footer(writer, layout, title, page, texts)
    writer.canvas.showPage()


def code_png(url: str, *, module_px: int = 8) -> bytes:
    """One QR code (level H, with its quiet zone) as a black-and-white PNG, `module_px`
    pixels per module: for a screen, a message or a page that prints a single card.
    CardAddressError if the URL is too long for a QR code."""
    if isinstance(module_px, bool) or not isinstance(module_px, int) or not 1 <= module_px <= 64:
        raise ValueError(f"module_px must be a whole number of pixels from 1 to 64, got {module_px!r}")
    light = ~with_quiet_zone(_card_matrix(url, None))
    pixels = light.repeat(module_px, axis=0).repeat(module_px, axis=1)
    image = Image.fromarray(pixels)  # a bool array makes a 1-bit image
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one starting like a formula gets a leading '."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def codes_csv(cards: Iterable[CodeCard], out: TextIO) -> None:
    """Write a CSV (school, class, number, code, url) to `out`, a text stream opened with
    newline="". A UTF-8 byte-order mark comes first: without it, Excel reads the
    Cyrillic as Windows-1251 mojibake."""
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["school", "class", "number", "code", "url"])
    for card in cards:
        _checked(card)
        writer.writerow([_cell(v) for v in (card.school, card.class_name, card.number, card.code, card.url)])
