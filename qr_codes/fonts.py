"""The fonts of printed codes (DejaVu: Cyrillic, embedded as subsets) and line wrapping."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

__all__ = ["BOLD", "FONT_DIR", "MONO", "REGULAR", "printable", "register_fonts", "wrap"]

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian package fonts-dejavu-core
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
MONO = "DejaVuSansMono-Bold"  # the code itself: every symbol as wide as the others
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf", MONO: "DejaVuSansMono-Bold.ttf"}


@lru_cache(maxsize=1)
def register_fonts() -> None:
    """Register the fonts with reportlab, once per process (parsing a TTF takes ~20 ms)."""
    for name, file in _FILES.items():
        path = FONT_DIR / file
        if not path.is_file():
            raise FileNotFoundError(f"font {path} is missing: install the Debian package fonts-dejavu-core")
        pdfmetrics.registerFont(TTFont(name, str(path)))


@lru_cache(maxsize=4096)
def wrap(text: str, font: str, size: float, width: float, max_lines: int) -> tuple[str, ...]:
    """`text` broken into at most `max_lines` lines no wider than `width` points; the
    last line ends in "…" when the text is longer. Cached: a school's name or a contest's
    title is the same on hundreds of cards."""
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if pdfmetrics.stringWidth(candidate, font, size) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    lines = [_fit(line, font, size, width) for line in lines]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _fit(lines[-1], font, size, width, cut=True)
    return tuple(lines)


def _fit(line: str, font: str, size: float, width: float, *, cut: bool = False) -> str:
    """`line` if it fits in `width`; otherwise (or when `cut`) shortened to end in "…"."""
    if not cut and pdfmetrics.stringWidth(line, font, size) <= width:
        return line
    while line and pdfmetrics.stringWidth(line + "…", font, size) > width:
        line = line[:-1]
    return line.rstrip() + "…"


@lru_cache(maxsize=1024)
def printable(text: str) -> str:
    """`text` without control and invisible formatting characters (a direction override
    would reorder the printed line), and with "?" for characters beyond the Basic
    Multilingual Plane, emoji say, which reportlab's TrueType subsets cannot hold."""
    kept = []
    for c in text:
        category = unicodedata.category(c)
        if category in ("Cc", "Cf"):
            continue
        kept.append("?" if ord(c) > 0xFFFF or category in ("Cs", "Co", "Cn") else c)
    return "".join(kept)
