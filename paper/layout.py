"""Where everything sits on a printed ballot sheet, computed from the cycle alone.

The same cycle always gives the same layout and the same `layout_hash`, on the support
point that prints and on whatever machine reads the scans; the QR code on every page
carries the hash's first 16 hex characters, so a reader knows which layout a page was
printed with. Every rectangle is in PDF points with the origin at the TOP-LEFT corner
of an A4 page, y growing down (DESIGN.md's contract for printed forms).

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

from qr_codes.fonts import REGULAR, printable, register_fonts, wrap

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
    "PagePlan",
    "ProjectRow",
    "Rect",
    "build_layout",
    "plan_sheet",
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


def _r(value: float) -> float:
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
        return replace(self, layout_hash=hashlib.sha256(_canonical(self.body())).hexdigest())

    def to_json(self) -> str:
        data = self.body()
        data["layout_hash"] = self.layout_hash
        return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str | bytes) -> Layout:
        """A layout read back from JSON; LayoutError("sheet.unknown_layout") when the text
        is not a layout of this format or its hash does not match its content."""
        try:
            data = json.loads(text)
            layout = _layout_from_dict(data)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            # LayoutError is a ValueError: a bad field is reported under the same code
            raise LayoutError("sheet.unknown_layout", f"not a ballot layout: {exc!s:.100}") from None
        if not isinstance(data.get("layout_hash"), str) or layout.layout_hash != data["layout_hash"]:
            raise LayoutError("sheet.unknown_layout", "the layout's hash does not match its content")
        return layout

    @property
    def boxes(self) -> list[BoxRect]:
        return [box for page in self.pages for box in page.boxes]


def _canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class ProjectRow:
    y: float  # top of the row
    height: float
    project: dict[str, Any]
    title_lines: tuple[str, ...]
    box: BoxRect


@dataclass(slots=True)
class PagePlan:
    """What forms.py draws on one page: headings (top y, category id, continued?) and rows."""

    headings: list[tuple[float, int, bool]] = field(default_factory=list)
    rows: list[ProjectRow] = field(default_factory=list)


def _marks() -> list[Rect]:
    far_x = PAGE_SIZE[0] - MARK_INSET - MARK_SIZE
    far_y = PAGE_SIZE[1] - MARK_INSET - MARK_SIZE
    return [
        Rect(_r(x), _r(y), _r(MARK_SIZE), _r(MARK_SIZE))
        for x, y in ((MARK_INSET, MARK_INSET), (far_x, MARK_INSET), (MARK_INSET, far_y), (far_x, far_y))
    ]


def _int(value: Any, name: str, *, minimum: int = 0, optional: bool = False) -> Any:
    if optional and value is None:
        return None
    if type(value) is not int or value < minimum:
        raise LayoutError("forms.cycle", f"{name} is {value!r:.40}, not an integer ≥ {minimum}")
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise LayoutError("forms.cycle", f"{name} is not text")
    return printable(value[:1000]).strip()


def _checked_cycle(cycle: Any) -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    """Categories in ballot order and their projects in number order, every field checked."""
    if not isinstance(cycle, dict) or not isinstance(cycle.get("categories"), list):
        raise LayoutError("forms.cycle", "not a packaged cycle")
    _int(cycle.get("id"), "cycle id", minimum=1)
    _text(cycle.get("title"), "cycle title")
    _int(cycle.get("min_total", 0), "min_total")
    _int(cycle.get("max_total"), "max_total", optional=True)
    categories = []
    for c in cycle["categories"]:
        if not isinstance(c, dict):
            raise LayoutError("forms.cycle", "a category is not an object")
        _int(c.get("id"), "category id", minimum=1)
        _text(c.get("name"), "category name")
        for name in ("min_choices", "max_choices", "budget", "position"):
            _int(c.get(name), f"category {name}")
        if not isinstance(c.get("budget_limited"), bool):
            raise LayoutError("forms.cycle", "budget_limited is not true/false")
        categories.append(c)
    categories.sort(key=lambda c: (c["position"], c["id"]))
    by_category: dict[int, list[dict[str, Any]]] = {c["id"]: [] for c in categories}
    projects = cycle.get("projects")
    if not isinstance(projects, list):
        raise LayoutError("forms.cycle", "projects is not a list")
    for p in projects:
        if not isinstance(p, dict) or p.get("category_id") not in by_category:
            raise LayoutError("forms.cycle", "a project of no category on the ballot")
        _int(p.get("id"), "project id", minimum=1)
        _int(p.get("number"), "project number", minimum=1)
        _int(p.get("cost"), "project cost")
        _text(p.get("title"), "project title")
        by_category[p["category_id"]].append(p)
    if not any(by_category.values()):
        raise LayoutError("forms.no_projects", f"cycle {cycle['id']}")
    for rows in by_category.values():
        rows.sort(key=lambda p: (p["number"], p["id"]))
    return categories, by_category


def plan_sheet(cycle: dict[str, Any]) -> tuple[Layout, list[PagePlan]]:
    """The layout of `cycle`'s ballot sheet and, per page, what to draw where."""
    register_fonts()  # title wrapping measures text in the printed font
    categories, by_category = _checked_cycle(cycle)
    plans: list[PagePlan] = [PagePlan()]
    y = BODY_TOP
    body_height = BODY_BOTTOM - BODY_TOP

    def new_page() -> float:
        plans.append(PagePlan())
        return BODY_TOP

    for category in categories:
        rows = []
        for p in by_category[category["id"]]:
            lines = wrap(_text(p["title"], "title"), REGULAR, TITLE_SIZE, TITLE_WIDTH, TITLE_LINES) or ("—",)
            rows.append((p, lines, max(ROW_MIN, ROW_PADDING + TITLE_LEADING * len(lines))))
        if not rows:
            continue  # nothing to choose: no heading either
        need = CATEGORY_HEADING + sum(height for _p, _l, height in rows)
        gap = CATEGORY_GAP if plans[-1].headings else 0.0
        whole_fits_empty = need <= body_height
        if plans[-1].headings and (
            (whole_fits_empty and y + gap + need > BODY_BOTTOM)
            or y + gap + CATEGORY_HEADING + rows[0][2] > BODY_BOTTOM
        ):
            y, gap = new_page(), 0.0
        y += gap
        plans[-1].headings.append((_r(y), category["id"], False))
        y += CATEGORY_HEADING
        for p, lines, height in rows:
            if y + height > BODY_BOTTOM:
                y = new_page()
                plans[-1].headings.append((_r(y), category["id"], True))
                y += CATEGORY_HEADING
            box_y = y + min(4.0, (height - BOX_SIZE) / 2)
            box = BoxRect(
                p["id"], category["id"], p["number"], _r(CONTENT_LEFT), _r(box_y), _r(BOX_SIZE), _r(BOX_SIZE)
            )
            plans[-1].rows.append(ProjectRow(_r(y), height, p, lines, box))
            y += height

    qr = Rect(_r(QR_RIGHT - QR_SIZE), _r(QR_TOP), _r(QR_SIZE), _r(QR_SIZE))
    pages = [
        PageLayout(n, len(plans), _marks(), qr, [row.box for row in plan.rows])
        for n, plan in enumerate(plans, start=1)
    ]
    rules = [
        CategoryRules(
            c["id"],
            _text(c["name"], "name"),
            c["min_choices"],
            c["max_choices"],
            c["budget_limited"],
            c["budget"],
        )
        for c in categories
    ]
    printed = {
        "title": _text(cycle["title"], "title"),
        "categories": [asdict(rule) for rule in rules],
        "projects": [
            [p["id"], p["number"], _text(p["title"], "title"), p["cost"], p["category_id"]]
            for c in categories
            for p in by_category[c["id"]]
        ],
        "min_total": cycle.get("min_total", 0),
        "max_total": cycle.get("max_total"),
    }
    districts = {
        str(c["id"]): c["district"]
        for c in categories
        if isinstance(c.get("district"), str) and c["district"]
    }
    if districts:
        # Printed in the headings (forms.py); only when set, so other sheets keep their hash.
        printed["districts"] = districts
    layout = Layout(
        cycle_id=cycle["id"],
        cycle_title=printed["title"],
        pages=pages,
        categories=rules,
        min_total=printed["min_total"],
        max_total=printed["max_total"],
        printed_sha256=hashlib.sha256(_canonical(printed)).hexdigest(),
    ).with_hash()
    return layout, plans


def build_layout(cycle: dict[str, Any]) -> Layout:
    """The layout of `cycle`'s ballot sheet (LayoutError when the cycle is malformed)."""
    return plan_sheet(cycle)[0]


_RECT_KEYS = {"x", "y", "w", "h"}


def _number(value: Any) -> float:
    if type(value) not in (int, float) or not -1e4 < value < 1e4:
        raise LayoutError("sheet.unknown_layout", f"{value!r:.40} is not a coordinate")
    return float(value)


def _exact(data: Any, keys: set[str]) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) != keys:
        raise LayoutError("sheet.unknown_layout", f"expected the keys {sorted(keys)}")
    return data


def _rect(data: Any) -> Rect:
    data = _exact(data, _RECT_KEYS)
    return Rect(*(_number(data[k]) for k in ("x", "y", "w", "h")))


def _layout_from_dict(data: Any) -> Layout:
    """The Layout in parsed JSON, every field checked: the file may come from anywhere."""
    keys = {f for f in Layout.__dataclass_fields__}
    data = _exact(data, keys)
    if data["format"] != FORMAT or data["form_version"] != FORM_VERSION:
        raise LayoutError("sheet.unknown_layout", f"format {data['format']!r:.40}")
    pages = []
    for page in data["pages"]:
        page = _exact(page, {"page", "of", "marks", "qr", "boxes"})
        boxes = []
        for box in page["boxes"]:
            box = _exact(box, {"project_id", "category_id", "number"} | _RECT_KEYS)
            ids = [_int(box[k], k, minimum=1) for k in ("project_id", "category_id", "number")]
            boxes.append(BoxRect(*ids, *(_number(box[k]) for k in ("x", "y", "w", "h"))))
        marks = [_rect(mark) for mark in page["marks"]]
        if len(marks) != 4:
            raise LayoutError("sheet.unknown_layout", "a page has four alignment marks")
        pages.append(
            PageLayout(
                _int(page["page"], "page", minimum=1),
                _int(page["of"], "of", minimum=1),
                marks,
                _rect(page["qr"]),
                boxes,
            )
        )
    if not pages or [p.page for p in pages] != list(range(1, len(pages) + 1)):
        raise LayoutError("sheet.unknown_layout", "pages are not numbered 1…n")
    categories = []
    for c in data["categories"]:
        c = _exact(c, {f for f in CategoryRules.__dataclass_fields__})
        if not isinstance(c["budget_limited"], bool):
            raise LayoutError("sheet.unknown_layout", "budget_limited is not true/false")
        categories.append(
            CategoryRules(
                _int(c["category_id"], "category_id", minimum=1),
                _text(c["name"], "name"),
                _int(c["min_choices"], "min_choices"),
                _int(c["max_choices"], "max_choices"),
                c["budget_limited"],
                _int(c["budget"], "budget"),
            )
        )
    size = data["page_size"]
    if not isinstance(size, list) or len(size) != 2:
        raise LayoutError("sheet.unknown_layout", "page_size is [width, height]")
    printed = data["printed_sha256"]
    if not isinstance(printed, str) or len(printed) != 64:
        raise LayoutError("sheet.unknown_layout", "printed_sha256 is a sha256 hex")
    return Layout(
        cycle_id=_int(data["cycle_id"], "cycle_id", minimum=1),
        cycle_title=_text(data["cycle_title"], "cycle_title"),
        pages=pages,
        categories=categories,
        min_total=_int(data["min_total"], "min_total"),
        max_total=_int(data["max_total"], "max_total", optional=True),
        printed_sha256=printed,
        page_size=(_number(size[0]), _number(size[1])),
    ).with_hash()
