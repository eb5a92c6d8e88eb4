"""A ballot layout read back from its JSON (paper.layout.Layout.to_json wrote it).

The layout file lies next to a printed PDF and may come from anywhere: every field is
checked, nothing but the exact keys of the format is taken, and the hash is computed
again from the content; a file that is not a layout of this format, or whose hash does
not match, is LayoutError("sheet.unknown_layout").
"""

from __future__ import annotations

import json
from typing import Any

from paper.layout import (
    FORM_VERSION,
    FORMAT,
    BoxRect,
    CategoryRules,
    Layout,
    LayoutError,
    PageLayout,
    Rect,
    checked_int,
    clean_text,
)

__all__ = ["layout_from_json"]


def layout_from_json(text: str | bytes) -> Layout:
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
            ids = [checked_int(box[k], k, minimum=1) for k in ("project_id", "category_id", "number")]
            boxes.append(BoxRect(*ids, *(_number(box[k]) for k in ("x", "y", "w", "h"))))
        marks = [_rect(mark) for mark in page["marks"]]
        if len(marks) != 4:
            raise LayoutError("sheet.unknown_layout", "a page has four alignment marks")
        pages.append(
            PageLayout(
                checked_int(page["page"], "page", minimum=1),
                checked_int(page["of"], "of", minimum=1),
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
                checked_int(c["category_id"], "category_id", minimum=1),
                clean_text(c["name"], "name"),
                checked_int(c["min_choices"], "min_choices"),
                checked_int(c["max_choices"], "max_choices"),
                c["budget_limited"],
                checked_int(c["budget"], "budget"),
            )
        )
    size = data["page_size"]
    if not isinstance(size, list) or len(size) != 2:
        raise LayoutError("sheet.unknown_layout", "page_size is [width, height]")
    printed = data["printed_sha256"]
    if not isinstance(printed, str) or len(printed) != 64:
        raise LayoutError("sheet.unknown_layout", "printed_sha256 is a sha256 hex")
    return Layout(
        cycle_id=checked_int(data["cycle_id"], "cycle_id", minimum=1),
        cycle_title=clean_text(data["cycle_title"], "cycle_title"),
        pages=pages,
        categories=categories,
        min_total=checked_int(data["min_total"], "min_total"),
        max_total=checked_int(data["max_total"], "max_total", optional=True),
        printed_sha256=printed,
        page_size=(_number(size[0]), _number(size[1])),
    ).with_hash()
