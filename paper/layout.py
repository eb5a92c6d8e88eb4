"""Where everything sits on a printed ballot sheet: the layout, its geometry and its hash.

A layout is computed from the cycle alone (paper.sheet_plan), so the same cycle always
gives the same layout and the same `layout_hash`, on the support point that prints and
on whatever machine reads the scans; the QR code on every page carries the hash's first
16 hex characters, so a reader knows which layout a page was printed with. Its JSON is
written next to the PDF and read back by paper.layout_json. Every rectangle is in PDF
points with the origin at the TOP-LEFT corner of an A4 page, y growing down
(DESIGN.md's contract for printed forms).

The page, top to bottom: a solid 8 mm alignment mark in each corner; the header (cycle
title, "Бюлетень для голосування", the instruction) with the QR code at the top right;
the categories, each a heading and its projects, one row per project with a 5 mm
checkbox at the left; the footer with the serial and the page number. A category moves
to the next page whole if it fits on one page; a longer one continues on the next page
under a repeated heading.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from qr_codes.fonts import printable

__all__ = [
    "BOX_SIZE",
    "FORMAT",
    "FORM_VERSION",
    "MM",
    "BoxRect",
    "CategoryRules",
    "Layout",
    "LayoutError",
    "PageLayout",
    "Rect",
    "canonical_json",
    "checked_int",
    "clean_text",
    "rounded",
]

FORMAT = "spilno-ballot-layout/1"
FORM_VERSION = 1
MM = 72 / 25.4
PAGE_SIZE = (595.276, 841.89)  # A4
BOX_SIZE = 5 * MM  # the checkbox: large enough for a tick by an unsteady hand
BOX_BORDER = 0.8
MARK_SIZE = 8 * MM
MARK_INSET = 10 * MM  # from the page edge: inside every printer's unprintable margin (~5 mm)
QR_SIZE = 28 * MM  # with its quiet zone; the symbol itself is ~22.5 mm (version 4)
QR_TOP = MARK_INSET
QR_RIGHT = PAGE_SIZE[0] - MARK_INSET - MARK_SIZE - 2 * MM
CONTENT_LEFT = 20 * MM
CONTENT_RIGHT = PAGE_SIZE[0] - 20 * MM
HEADER_LEFT = CONTENT_LEFT
HEADER_RIGHT = QR_RIGHT - QR_SIZE - 4 * MM
BODY_TOP = 44 * MM
BODY_BOTTOM = PAGE_SIZE[1] - 24 * MM
FOOTER_BASELINE = PAGE_SIZE[1] - 13 * MM
CATEGORY_GAP = 8.0
CATEGORY_HEADING = 30.0  # name (11 pt bold) and rule (8.5 pt) lines
TITLE_SIZE = 9.5
TITLE_LEADING = 12.0
TITLE_LINES = 2
ROW_MIN = 22.0  # a one-line row: the box and 4 pt above and below it
ROW_PADDING = 10.0
NUMBER_WIDTH = 34.0
COST_WIDTH = 84.0
TITLE_LEFT = CONTENT_LEFT + BOX_SIZE + 6 + NUMBER_WIDTH
TITLE_WIDTH = CONTENT_RIGHT - COST_WIDTH - 8 - TITLE_LEFT


class LayoutError(ValueError):
    """A cycle that cannot be laid out, or layout JSON that is not one; `code` is a
    message code (paper.messages)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def rounded(value: float) -> float:
    # Two decimals (1/36 mm) keep the JSON, and so the hash, free of float noise.
    return round(float(value), 2)


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True, slots=True)
class BoxRect:
    project_id: int
    category_id: int
    number: int
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True, slots=True)
class PageLayout:
    page: int
    of: int
    marks: list[Rect]
    qr: Rect
    boxes: list[BoxRect]


@dataclass(frozen=True, slots=True)
class CategoryRules:
    category_id: int
    name: str
    min_choices: int
    max_choices: int
    budget_limited: bool
    budget: int  # kopiykas


@dataclass(frozen=True)
class Layout:
    cycle_id: int
    cycle_title: str
    pages: list[PageLayout]
    categories: list[CategoryRules]
    min_total: int
    max_total: int | None
    # sha256 of everything printed from the cycle (titles, costs, rules): a form whose
    # boxes did not move but whose texts changed is another form
    printed_sha256: str
    page_size: tuple[float, float] = PAGE_SIZE
    format: str = FORMAT
    form_version: int = FORM_VERSION
    layout_hash: str = field(default="")

    def body(self) -> dict[str, Any]:
        """The JSON object without `layout_hash`: what the hash is of."""
        data = asdict(self)
        data.pop("layout_hash")
        data["page_size"] = list(self.page_size)
        return data

    def with_hash(self) -> Layout:
        return replace(self, layout_hash=hashlib.sha256(canonical_json(self.body())).hexdigest())

    def to_json(self) -> str:
        data = self.body()
        data["layout_hash"] = self.layout_hash
        return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)

    @property
    def boxes(self) -> list[BoxRect]:
        return [box for page in self.pages for box in page.boxes]


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def checked_int(value: Any, name: str, *, minimum: int = 0, optional: bool = False) -> Any:
    """`value` if it is a whole number ≥ `minimum` (or None when `optional`), else
    LayoutError("forms.cycle")."""
    if optional and value is None:
        return None
    if type(value) is not int or value < minimum:
        raise LayoutError("forms.cycle", f"{name} is {value!r:.40}, not an integer ≥ {minimum}")
    return value


def clean_text(value: Any, name: str) -> str:
    """Text as a layout keeps it (and the sheet prints it): printable, at most 1000
    characters, trimmed; LayoutError("forms.cycle") for anything but text."""
    if not isinstance(value, str):
        raise LayoutError("forms.cycle", f"{name} is not text")
    return printable(value[:1000]).strip()
