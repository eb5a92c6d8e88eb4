"""Where cards sit on an A4 sheet, in points (1/72 inch), reportlab's bottom-up convention.

Exported so that tests, previews and anything else that cuts a page into cards use the
same numbers as the printing.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.lib.pagesizes import A4

__all__ = ["DOT", "LAYOUTS", "MM", "PAGE_HEIGHT", "PAGE_WIDTH", "Box", "CardLayout"]

MM = 72 / 25.4
PAGE_WIDTH, PAGE_HEIGHT = A4
# QR modules are whole dots of 1/150 inch, and so whole dots at 300, 600 and 1200 dpi
# too: every module prints (and renders) the same size, with sharp edges. Modules of
# 5.5 or 5.8 dots came out uneven, and OpenCV's decoder missed 1–2 % of such cards.
DOT = 72 / 150
V6_MODULES = 41 + 8  # a card's URL at level H, with the quiet zone

Box = tuple[float, float, float, float]  # x, y of the bottom-left corner, width, height


@dataclass(frozen=True)
class CardLayout:
    name: str
    columns: int
    rows: int
    card_width: float
    card_height: float
    gutter: float  # between cards, for the marks and two cuts; 0 for pre-cut sticker sheets
    qr_size: float  # the QR image including its quiet zone
    padding: float  # card edge to the QR image and to the text
    # font sizes, points
    contest_size: float
    school_size: float
    class_size: float
    code_size: float
    note_size: float  # the instruction and the site address
    contest_lines: int = 2
    school_lines: int = 2
    note_lines: int = 3

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def cut_marks(self) -> bool:
        return self.gutter > 0

    @property
    def margin_x(self) -> float:
        return (PAGE_WIDTH - self.columns * self.card_width - (self.columns - 1) * self.gutter) / 2

    @property
    def margin_y(self) -> float:
        return (PAGE_HEIGHT - self.rows * self.card_height - (self.rows - 1) * self.gutter) / 2

    def card_box(self, slot: int) -> Box:
        """The card in `slot` (0 = top left, then along the row) on its page."""
        if not 0 <= slot < self.per_page:
            raise ValueError(f"slot must be 0…{self.per_page - 1} in layout {self.name!r}, got {slot}")
        row, column = divmod(slot, self.columns)
        x = self.margin_x + column * (self.card_width + self.gutter)
        y = PAGE_HEIGHT - self.margin_y - (row + 1) * self.card_height - row * self.gutter
        return x, y, self.card_width, self.card_height

    def qr_box(self, slot: int) -> Box:
        """The QR image (quiet zone included) of the card in `slot`: left, centred in height,
        its top-left corner on the 1/150-inch grid counted from the page's top-left."""
        x, y, _, height = self.card_box(slot)
        left = round((x + self.padding) / DOT) * DOT
        top = round((PAGE_HEIGHT - y - (height + self.qr_size) / 2) / DOT) * DOT
        return left, PAGE_HEIGHT - top - self.qr_size, self.qr_size, self.qr_size

    def text_box(self, slot: int) -> Box:
        """The area right of the QR image that holds the card's text."""
        x, y, width, height = self.card_box(slot)
        left = self.padding + self.qr_size + 1 * MM  # the quiet zone is already white space
        return x + left, y + self.padding, width - left - self.padding, height - 2 * self.padding


# Card sizes: 2 columns of 92 mm and 6 mm gutters leave 10 mm side margins, wider than
# any printer's unprintable edge (~4–5 mm). A version-6 symbol's modules are 6 dots
# (1.02 mm, symbol 41.6 mm) on the big cards, 5 dots (0.85 mm, 34.7 mm) on the
# 10-a-sheet cards and 4 dots (0.68 mm, 27.7 mm) on the stickers: readable by any phone
# from 10–30 cm, at level H even on a crumpled card.
LAYOUTS: dict[str, CardLayout] = {
    "8": CardLayout(
        name="8", columns=2, rows=4, card_width=92 * MM, card_height=64 * MM, gutter=6 * MM,
        qr_size=V6_MODULES * 6 * DOT, padding=2 * MM,
        contest_size=8, school_size=7.5, class_size=17, code_size=12, note_size=6.5,
    ),
    "10": CardLayout(
        name="10", columns=2, rows=5, card_width=92 * MM, card_height=51 * MM, gutter=6 * MM,
        qr_size=V6_MODULES * 5 * DOT, padding=2 * MM,
        contest_size=7.5, school_size=7, class_size=15, code_size=13, note_size=6,
    ),
    # A4 sheets of 21 pre-cut 70 × 42.3 mm labels: no margins, no gutters, no marks.
    "21": CardLayout(
        name="21", columns=3, rows=7, card_width=70 * MM, card_height=42.3 * MM, gutter=0,
        qr_size=V6_MODULES * 4 * DOT, padding=2.5 * MM,
        contest_size=6.5, school_size=6, class_size=11, code_size=10, note_size=5,
        note_lines=4,
    ),
}  # fmt: skip
