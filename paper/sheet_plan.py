"""Planning a ballot sheet's pages from a packaged cycle: which category and project
goes on which page, where, and the layout (paper.layout) that results.

The page, top to bottom: the header, then the categories in ballot order (position,
then id), each a heading and its projects in number order, one row per project; a title
wraps to at most two lines. A category moves to the next page whole if it fits on one
page; a longer one continues on the next page under a repeated heading. A category
with no admitted project is left out, heading and all.

The cycle is the typed one (sync.cycle_package.PackagedCycle) that the package parser
made; what the contract allows but no sheet can show (an id below 1, a project without
a number or of a category not on the ballot, a negative count) is LayoutError
("forms.cycle"), and a cycle with nothing to choose is LayoutError("forms.no_projects").
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

from paper.layout import (
    BODY_BOTTOM,
    BODY_TOP,
    BOX_SIZE,
    CATEGORY_GAP,
    CATEGORY_HEADING,
    CONTENT_LEFT,
    MARK_INSET,
    MARK_SIZE,
    PAGE_SIZE,
    QR_RIGHT,
    QR_SIZE,
    QR_TOP,
    ROW_MIN,
    ROW_PADDING,
    TITLE_LEADING,
    TITLE_LINES,
    TITLE_SIZE,
    TITLE_WIDTH,
    BoxRect,
    CategoryRules,
    Layout,
    LayoutError,
    PageLayout,
    Rect,
    canonical_json,
    checked_int,
    clean_text,
    rounded,
)
from qr_codes.fonts import REGULAR, register_fonts, wrap
from sync.cycle_package import PackagedCategory, PackagedCycle, PackagedProject

__all__ = ["PagePlan", "ProjectRow", "build_layout", "page_marks", "plan_sheet"]


@dataclass(frozen=True, slots=True)
class ProjectRow:
    y: float  # top of the row
    height: float
    project: PackagedProject
    title_lines: tuple[str, ...]
    box: BoxRect


@dataclass(slots=True)
class PagePlan:
    """What forms.py draws on one page: headings (top y, category id, continued?) and rows."""

    headings: list[tuple[float, int, bool]] = field(default_factory=list)
    rows: list[ProjectRow] = field(default_factory=list)


def page_marks() -> list[Rect]:
    """The four corner marks, the same on every page of every sheet (ballot or poll)."""
    far_x = PAGE_SIZE[0] - MARK_INSET - MARK_SIZE
    far_y = PAGE_SIZE[1] - MARK_INSET - MARK_SIZE
    size = rounded(MARK_SIZE)
    return [
        Rect(rounded(x), rounded(y), size, size)
        for x, y in ((MARK_INSET, MARK_INSET), (far_x, MARK_INSET), (MARK_INSET, far_y), (far_x, far_y))
    ]


def _checked_cycle(
    cycle: PackagedCycle,
) -> tuple[list[PackagedCategory], dict[int, list[PackagedProject]]]:
    """Categories in ballot order and their projects in number order, every field a
    sheet shows checked (the parser checked the types; these are the ranges)."""
    checked_int(cycle.id, "cycle id", minimum=1)
    clean_text(cycle.title, "cycle title")
    checked_int(cycle.min_total, "min_total")
    checked_int(cycle.max_total, "max_total", optional=True)
    for c in cycle.categories:
        checked_int(c.id, "category id", minimum=1)
        clean_text(c.name, "category name")
        for name, value in (
            ("min_choices", c.min_choices),
            ("max_choices", c.max_choices),
            ("budget", c.budget),
            ("position", c.position),
        ):
            checked_int(value, f"category {name}")
    categories = sorted(cycle.categories, key=lambda c: (c.position, c.id))
    by_category: dict[int, list[PackagedProject]] = {c.id: [] for c in categories}
    for p in cycle.projects:
        if p.category_id not in by_category:
            raise LayoutError("forms.cycle", "a project of no category on the ballot")
        checked_int(p.id, "project id", minimum=1)
        checked_int(p.number, "project number", minimum=1)
        checked_int(p.cost, "project cost")
        clean_text(p.title, "project title")
        by_category[p.category_id].append(p)
    if not any(by_category.values()):
        raise LayoutError("forms.no_projects", f"cycle {cycle.id}")
    for rows in by_category.values():
        rows.sort(key=lambda p: (p.number or 0, p.id))
    return categories, by_category


def plan_sheet(cycle: PackagedCycle) -> tuple[Layout, list[PagePlan]]:
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
        for p in by_category[category.id]:
            title = clean_text(p.title, "title")
            lines = wrap(title, REGULAR, TITLE_SIZE, TITLE_WIDTH, TITLE_LINES) or ("—",)
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
        plans[-1].headings.append((rounded(y), category.id, False))
        y += CATEGORY_HEADING
        for p, lines, height in rows:
            if y + height > BODY_BOTTOM:
                y = new_page()
                plans[-1].headings.append((rounded(y), category.id, True))
                y += CATEGORY_HEADING
            box_y = y + min(4.0, (height - BOX_SIZE) / 2)
            box = BoxRect(
                p.id,
                category.id,
                checked_int(p.number, "project number", minimum=1),
                rounded(CONTENT_LEFT),
                rounded(box_y),
                rounded(BOX_SIZE),
                rounded(BOX_SIZE),
            )
            plans[-1].rows.append(ProjectRow(rounded(y), height, p, lines, box))
            y += height

    qr = Rect(rounded(QR_RIGHT - QR_SIZE), rounded(QR_TOP), rounded(QR_SIZE), rounded(QR_SIZE))
    pages = [
        PageLayout(n, len(plans), page_marks(), qr, [row.box for row in plan.rows])
        for n, plan in enumerate(plans, start=1)
    ]
    rules = [
        CategoryRules(
            c.id, clean_text(c.name, "name"), c.min_choices, c.max_choices, c.budget_limited, c.budget
        )
        for c in categories
    ]
    printed: dict[str, Any] = {
        "title": clean_text(cycle.title, "title"),
        "categories": [asdict(rule) for rule in rules],
        "projects": [
            [p.id, p.number, clean_text(p.title, "title"), p.cost, p.category_id]
            for c in categories
            for p in by_category[c.id]
        ],
        "min_total": cycle.min_total,
        "max_total": cycle.max_total,
    }
    districts = {str(c.id): c.district for c in categories if c.district}
    if districts:
        # Printed in the headings (forms.py); only when set, so other sheets keep their hash.
        printed["districts"] = districts
    layout = Layout(
        cycle_id=cycle.id,
        cycle_title=printed["title"],
        pages=pages,
        categories=rules,
        min_total=cycle.min_total,
        max_total=cycle.max_total,
        printed_sha256=hashlib.sha256(canonical_json(printed)).hexdigest(),
    ).with_hash()
    return layout, plans


def build_layout(cycle: PackagedCycle) -> Layout:
    """The layout of `cycle`'s ballot sheet (LayoutError when the cycle is malformed)."""
    return plan_sheet(cycle)[0]
