"""A vote receipt as a PDF page the width of an 80 mm thermal roll.

80 mm paper has about 72 mm of printable width (the print head), so the text keeps 4 mm
from each edge. The page is exactly as tall as its content: a roll printer cuts after
the page, and a fixed A-size page would waste paper. Text is set in DejaVu Sans,
embedded in the PDF, so Ukrainian prints the same on any printer or viewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from .printer import Receipt
from .texts import both

PAPER_WIDTH = 80 * mm  # points
MARGIN = 4 * mm  # points; keeps text inside the ~72 mm a thermal head reaches
TEXT_WIDTH = PAPER_WIDTH - 2 * MARGIN
KYIV = ZoneInfo("Europe/Kyiv")
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian: fonts-dejavu-core
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
CODE_SIZE = 24  # points: the receipt code is what the voter types in later; it must stand out


@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    font: str
    size: float  # points
    space_before: float = 0.0  # points


def register_fonts(font_dir: Path = FONT_DIR) -> None:
    """Load DejaVu Sans (regular, bold) into reportlab once; a clear error when missing."""
    for name in (REGULAR, BOLD):
        if name in pdfmetrics.getRegisteredFontNames():
            continue
        path = font_dir / f"{name}.ttf"
        if not path.exists():
            raise FileNotFoundError(f"font {path} is missing (Debian: apt-get install fonts-dejavu-core)")
        pdfmetrics.registerFont(TTFont(name, str(path)))


def kyiv_time(moment: datetime) -> str:
    """Wall-clock time in Kyiv, as voters read it. A naive datetime is taken as UTC,
    which is how the kiosk stores times."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(KYIV).strftime("%d.%m.%Y %H:%M")


def receipt_pdf(receipt: Receipt) -> bytes:
    """The receipt as PDF bytes: one page, 80 mm wide, as tall as its text."""
    register_fonts()
    lines = _layout(receipt)
    height = 2 * MARGIN + sum(line.space_before + line.size * 1.25 for line in lines)
    out = BytesIO()
    # invariant: no creation date or random id, so the same receipt gives the same bytes
    # types-reportlab takes initialFontName for a number; reportlab wants the font's name.
    canvas = Canvas(out, pagesize=(PAPER_WIDTH, height), invariant=True, initialFontName=REGULAR)  # type: ignore[arg-type]
    canvas.setTitle(f"Квитанція {receipt.receipt_code}")
    y = height - MARGIN
    for line in lines:
        y -= line.space_before + line.size
        canvas.setFont(line.font, line.size)
        canvas.drawCentredString(PAPER_WIDTH / 2, y, line.text)
        y -= line.size * 0.25
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _layout(receipt: Receipt) -> list[_Line]:
    lines = _paragraph(receipt.cycle_title, BOLD, 10)
    lines.append(_Line(both("Код квитанції"), REGULAR, 8, space_before=3 * mm))
    code_size = _fitting_size(receipt.receipt_code, BOLD, CODE_SIZE)
    lines.append(_Line(receipt.receipt_code, BOLD, code_size, space_before=1 * mm))
    lines += _paragraph(f"Термінал: {receipt.terminal}", REGULAR, 8, space_before=3 * mm)
    lines += _paragraph(f"Час (Київ): {kyiv_time(receipt.cast_at)}", REGULAR, 8)
    for index, text in enumerate(receipt.lines):
        lines += _paragraph(text, REGULAR, 9, space_before=3 * mm if index == 0 else 0)
    return lines


def _paragraph(text: str, font: str, size: float, space_before: float = 0.0) -> list[_Line]:
    """`text` wrapped to the paper's width; the space goes above its first line only. A
    word wider than the paper (a web address) is cut where it must, never off the edge."""
    wrapped = [
        piece for line in simpleSplit(text, font, size, TEXT_WIDTH) for piece in _cut(line, font, size)
    ]
    wrapped = wrapped or [""]
    return [_Line(line, font, size, space_before if n == 0 else 0.0) for n, line in enumerate(wrapped)]


def _cut(line: str, font: str, size: float) -> list[str]:
    pieces = []
    while pdfmetrics.stringWidth(line, font, size) > TEXT_WIDTH and len(line) > 1:
        fits = max(
            (n for n in range(1, len(line)) if pdfmetrics.stringWidth(line[:n], font, size) <= TEXT_WIDTH),
            default=1,
        )
        pieces.append(line[:fits])
        line = line[fits:]
    return [*pieces, line]


def _fitting_size(text: str, font: str, size: float) -> float:
    """The largest size up to `size` at which `text` fits on one line: a code must not wrap."""
    width = pdfmetrics.stringWidth(text, font, size)
    return size if width <= TEXT_WIDTH else size * TEXT_WIDTH / width
