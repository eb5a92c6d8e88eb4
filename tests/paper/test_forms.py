"""Printed ballot sheets and their layout: what the layout JSON says is where the ink is
(checked on the PDF rasterised by poppler), and the QR code decodes with zbar."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import time

import cv2
import numpy as np
import pytest
from pyzbar import pyzbar

from paper.forms import print_forms
from paper.layout import FORMAT, Layout, LayoutError
from paper.layout_json import layout_from_json
from paper.serials import SerialError, parse_qr_text
from paper.sheet_plan import build_layout
from sync.package_fields import PackageError

from .corpus import TEST_FORM_KEY, long_cycle, packaged, render_pdf, sample_cycle

DPI = 150
K = DPI / 72


def printed(cycle: dict, serials: list[str]) -> tuple[Layout, bytes]:
    out = io.BytesIO()
    layout = print_forms(packaged(cycle), serials, TEST_FORM_KEY, out)
    return layout, out.getvalue()


def pixels(image: np.ndarray, x: float, y: float, w: float, h: float) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return grey[round(y * K) : round((y + h) * K), round(x * K) : round((x + w) * K)]


def test_the_same_cycle_always_gives_the_same_layout_and_hash():
    first, second = (
        build_layout(packaged(sample_cycle())),
        build_layout(packaged(copy.deepcopy(sample_cycle()))),
    )
    assert first.layout_hash == second.layout_hash and first.to_json() == second.to_json()
    shuffled = sample_cycle()
    shuffled["projects"].reverse()
    assert build_layout(packaged(shuffled)).layout_hash == first.layout_hash  # package order does not matter
    data = json.loads(first.to_json())
    assert data["format"] == FORMAT and data["page_size"] == [595.276, 841.89]
    assert {"x", "y", "w", "h", "project_id", "category_id", "number"} == set(data["pages"][0]["boxes"][0])


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["projects"][0].update(title="Лавки в парку Перемоги"),
        lambda c: c["projects"][0].update(cost=c["projects"][0]["cost"] + 100),
        lambda c: c["projects"].pop(),
        lambda c: c["categories"][0].update(max_choices=3),
        lambda c: c.update(id=99),
    ],
)
def test_a_changed_project_or_rule_gives_another_layout_hash(change):
    cycle = sample_cycle()
    change(cycle)
    assert build_layout(packaged(cycle)).layout_hash != build_layout(packaged(sample_cycle())).layout_hash


def test_the_layout_json_reads_back_and_a_tampered_one_is_refused():
    layout = build_layout(packaged(sample_cycle()))
    assert layout_from_json(layout.to_json()) == layout
    data = json.loads(layout.to_json())
    data["pages"][0]["boxes"][0]["y"] += 30  # a box moved, the hash left as it was
    with pytest.raises(LayoutError) as refused:
        layout_from_json(json.dumps(data))
    assert refused.value.code == "sheet.unknown_layout"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        "null",
        '{"format": "spilno-ballot-layout/1"}',
        "[" * 100_000 + "]" * 100_000,
        '{"format": "\u202espilno"}',
    ],
)
def test_malformed_layout_json_is_refused(text):
    with pytest.raises(LayoutError) as refused:
        layout_from_json(text)
    assert refused.value.code == "sheet.unknown_layout"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("pages", 0, "boxes", 0, "x"), "12"),
        (("pages", 0, "boxes", 0, "project_id"), -1),
        (("pages", 0, "boxes", 0, "w"), float("nan")),
        (("pages", 0, "marks"), []),
        (("categories", 0, "budget_limited"), "yes"),
        (("cycle_id",), True),
        (("pages",), []),
    ],
)
def test_a_layout_with_wrong_types_is_refused(path, value):
    data = json.loads(build_layout(packaged(sample_cycle())).to_json())
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(LayoutError):
        layout_from_json(json.dumps(data))


def test_every_box_mark_and_qr_code_is_drawn_where_the_layout_says():
    layout, pdf = printed(sample_cycle(), ["S0001-000042"])
    (image,) = render_pdf(pdf, DPI)
    page = layout.pages[0]
    assert len(page.boxes) == 6 and len(page.marks) == 4
    for box in page.boxes:
        inner = 0.2 * box.w
        assert pixels(image, box.x + inner, box.y + inner, box.w - 2 * inner, box.h - 2 * inner).min() > 235
        for edge in (
            pixels(image, box.x, box.y + inner, 0.8, box.h - 2 * inner),  # left border
            pixels(image, box.x + box.w - 0.8, box.y + inner, 0.8, box.h - 2 * inner),  # right border
            pixels(image, box.x + inner, box.y, box.w - 2 * inner, 0.8),  # top border
        ):
            assert edge.mean() < 140, (box, edge.mean())
        # the border is the box's edge: just outside it the paper is white
        assert pixels(image, box.x - 3, box.y + inner, 2, box.h - 2 * inner).min() > 235
    for mark in page.marks:
        assert pixels(image, mark.x + 1, mark.y + 1, mark.w - 2, mark.h - 2).max() < 60
        assert pixels(image, mark.x - 4, mark.y, 3, mark.h).min() > 235
    qr = page.qr
    (decoded,) = pyzbar.decode(pixels(image, qr.x, qr.y, qr.w, qr.h))
    fields = parse_qr_text(decoded.data.decode(), TEST_FORM_KEY)
    assert (fields.serial, fields.page_label, fields.cycle_id) == ("S0001-000042", "1/1", 31)
    assert layout.layout_hash.startswith(fields.layout_hash_prefix)
    assert qr.w >= 20 * 72 / 25.4


def test_the_sheet_shows_the_cycle_the_rules_the_projects_and_its_serial(tmp_path):
    _layout, pdf = printed(sample_cycle(), ["S0001-000042"])
    (tmp_path / "f.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "f.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for expected in (
        "Громадський бюджет 2027",
        "Бюлетень для голосування",
        "Поставте позначку ✓ або ✗ у квадраті біля проєкту, який підтримуєте.",
        "оберіть не більше 2; разом на суму не більше 500 000 грн",
        "оберіть 1",
        "Книжкова шафа в бібліотеці",
        "300 000 грн",
        "аркуш S0001-000042 · сторінка 1 з 1",
    ):
        assert expected in " ".join(text.split()).replace("\u00a0", " "), expected
    assert b"DejaVuSans" in pdf and b"Helvetica" not in pdf


def test_a_long_ballot_takes_several_pages_and_keeps_small_categories_whole():
    cycle = long_cycle(60)
    layout, pdf = printed(cycle, ["S0001-000001", "S0001-000002"])
    assert len(layout.pages) >= 2
    assert sorted(b.project_id for b in layout.boxes) == sorted(p["id"] for p in cycle["projects"])
    for page in layout.pages:
        ys = [b.y for b in page.boxes]
        assert ys and min(ys) > page.qr.y + page.qr.h and max(ys) < 841.89 - 30 * 72 / 25.4
        for a, b in zip(page.boxes, page.boxes[1:], strict=False):
            assert b.y - (a.y + a.h) >= 7  # never two boxes touching
    images = render_pdf(pdf, DPI)
    assert len(images) == 2 * len(layout.pages)
    labels = []
    for image, page in zip(images, layout.pages * 2, strict=True):
        (decoded,) = pyzbar.decode(pixels(image, page.qr.x, page.qr.y, page.qr.w, page.qr.h))
        fields = parse_qr_text(decoded.data.decode(), TEST_FORM_KEY)
        labels.append((fields.serial, fields.page_label))
        for box in page.boxes:
            inner = 0.2 * box.w
            assert (
                pixels(image, box.x + inner, box.y + inner, box.w - 2 * inner, box.h - 2 * inner).min() > 235
            )
    n = len(layout.pages)
    assert labels == [(s, f"{k}/{n}") for s in ("S0001-000001", "S0001-000002") for k in range(1, n + 1)]


def test_a_category_that_fits_on_a_page_is_never_split():
    cycle = long_cycle(24)  # four categories of six: each fits on one page
    layout = build_layout(packaged(cycle))
    for category in {b.category_id for b in layout.boxes}:
        pages = {p.page for p in layout.pages for b in p.boxes if b.category_id == category}
        assert len(pages) == 1


def test_five_hundred_sheets_print_in_a_few_seconds():
    started = time.perf_counter()
    _layout, pdf = printed(sample_cycle(), [f"S0001-{n:06d}" for n in range(1, 501)])
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"500 sheets took {elapsed:.2f} s"
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 500 or pdf.count(b"/Page") >= 500


@pytest.mark.parametrize(
    "title",
    ["\u202eЛавки\u202c в парку", "Лавки\x00\x07 в\r\n парку", "Дуже довга назва " * 500, "😀 Емодзі", ""],
)
def test_hostile_titles_print_on_at_most_two_lines(title):
    cycle = sample_cycle()
    cycle["projects"][0]["title"] = title
    layout, pdf = printed(cycle, ["S0001-000001"])
    assert len(layout.boxes) == 6 and pdf.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda c: c.update(categories="x"), "cycle.categories"),
        (lambda c: c["projects"][0].update(cost="100"), "cycle.projects[0].cost"),
        (lambda c: c["projects"][0].update(id=True), "cycle.projects[0].id"),
        (lambda c: c["categories"][0].update(budget_limited=1), "cycle.categories[0].budget_limited"),
        (lambda c: c.update(title=None), "cycle.title"),
    ],
)
def test_a_cycle_of_the_wrong_types_never_reaches_the_forms(change, where):
    # The package is read once, where it arrives: a field of the wrong type is the
    # parser's refusal, naming the field, before anything is laid out or printed.
    cycle = sample_cycle()
    change(cycle)
    with pytest.raises(PackageError) as refused:
        packaged(cycle)
    assert refused.value.where == where


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda c: c["projects"][0].update(category_id=999), "forms.cycle"),
        (lambda c: c["projects"][0].update(number=None), "forms.cycle"),
        (lambda c: c["projects"][0].update(cost=-100), "forms.cycle"),
        (lambda c: c["projects"][0].update(id=0), "forms.cycle"),
        (lambda c: c["categories"][0].update(max_choices=-1), "forms.cycle"),
        (lambda c: c.update(id=0), "forms.cycle"),
        (lambda c: c.update(projects=[]), "forms.no_projects"),
    ],
)
def test_a_cycle_no_sheet_can_show_is_refused_and_nothing_is_written(change, code):
    cycle = sample_cycle()
    change(cycle)
    out = io.BytesIO()
    with pytest.raises(LayoutError) as refused:
        print_forms(packaged(cycle), ["S0001-000001"], TEST_FORM_KEY, out)
    assert refused.value.code == code
    assert out.getvalue() == b""


@pytest.mark.parametrize(
    "serials", [[], ["S0001-1"], ["S0001-000001", "S0001-000001"], ["s0001-000001"], [None]]
)
def test_malformed_serials_are_refused(serials):
    with pytest.raises(SerialError):
        print_forms(packaged(sample_cycle()), serials, TEST_FORM_KEY, io.BytesIO())
