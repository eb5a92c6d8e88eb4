"""Filled poll sheets with known answers, made from our own forms (as tests/paper/corpus.py
makes ballots): the sheet is printed with paper.poll_forms, rasterised with pdftoppm
once per serial, and the resident's marks are drawn in chosen boxes. A mark is named by
what it gives: (question number, option number, value), value 1 for one/up_to, the place
for rank, the points for points (tests/kiosk/terminal_setup.packaged_poll's poll: 1 one
of 3, 2 up to 2 of 4, 3 rank up to 3 of 4, 4 points 0..5 for 3)."""

from __future__ import annotations

import functools
import io
import random

import cv2
import numpy as np

from paper.poll_forms import print_poll_sheets
from paper.poll_layout import PollSheet
from sync.cycle_package import PackagedPoll
from sync.package_parser import parse_package
from tests.kiosk.terminal_setup import make_package, option_id, packaged_poll, question_id
from tests.paper.corpus import TEST_FORM_KEY, Distortion, MarkKind, _distort, _draw_mark, render_pdf

__all__ = ["DPI", "POLL", "Mark", "filled", "png", "poll", "rendered"]

POLL = 61
DPI = 150  # small pages keep the suite fast; the reader reads 150 dpi photos too
Mark = tuple[int, int, int]  # (question number, option number, value)


@functools.cache
def poll() -> PackagedPoll:
    """The poll of the four kinds, as a support point's package carries it."""
    return parse_package(make_package("k" * 44, polls=[packaged_poll(POLL)])).polls[0]


@functools.cache
def rendered(serial: str, other: PackagedPoll | None = None) -> tuple[PollSheet, np.ndarray]:
    """The sheet of `serial` (of `other` or the test poll), printed and rasterised once."""
    out = io.BytesIO()
    sheet = print_poll_sheets(other or poll(), [serial], TEST_FORM_KEY, out)
    [page] = render_pdf(out.getvalue(), DPI)
    page.setflags(write=False)
    return sheet, page


def box_of(sheet: PollSheet, mark: Mark) -> int:
    question, option, value = mark
    wanted = (question_id(POLL, question), option_id(POLL, question, option), value)
    return next(b.box_id for b in sheet.boxes.values() if (b.question_id, b.option_id, b.value) == wanted)


def filled(
    serial: str,
    marks: dict[Mark, MarkKind] | list[Mark],
    distortion: Distortion | None = None,
    seed: int = 0,
) -> np.ndarray:
    """The page of sheet `serial` with `marks` drawn (a list: ticks), BGR, distorted."""
    sheet, page = rendered(serial)
    image = page.copy()
    rng = random.Random(seed)
    k = DPI / 72
    kinds = marks if isinstance(marks, dict) else dict.fromkeys(marks, MarkKind.TICK)
    rects = {b.project_id: b for b in sheet.layout.pages[0].boxes}
    for mark, kind in kinds.items():
        box = rects[box_of(sheet, mark)]
        _draw_mark(image, kind, (box.x * k, box.y * k, box.w * k), DPI, rng)
    if distortion is not None:
        image, _matrix = _distort(image, distortion, rng)
    return image


def png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()
