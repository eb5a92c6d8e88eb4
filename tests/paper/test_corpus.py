"""The test corpus makes what it says: empty boxes stay white, marks land in their boxes,
stray marks stay away from them, distortions stay within the documented ranges, and the
known answer maps the layout onto the distorted image."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest
from pyzbar import pyzbar

from paper.sheet_plan import build_layout

from .corpus import (
    PHOTO,
    SCAN,
    Distortion,
    MarkKind,
    encode,
    make_corpus,
    make_sheet,
    packaged,
    random_distortion,
    sample_cycle,
)


def inner_ink(image: np.ndarray, box, dpi: int) -> float:
    """Share of dark pixels in the box shrunk by 20 % each side (undistorted image)."""
    k = dpi / 72
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    inset = 0.2 * box.w
    area = grey[
        round((box.y + inset) * k) : round((box.y + box.h - inset) * k),
        round((box.x + inset) * k) : round((box.x + box.w - inset) * k),
    ]
    return float((area < 200).mean())


def test_a_sheet_with_no_marks_and_no_distortion_has_white_boxes():
    cycle = sample_cycle()
    image, answer = make_sheet(cycle, {}, Distortion(), dpi=150)
    layout = build_layout(packaged(cycle))
    assert all(a.expected == "unmarked" for a in answer.boxes.values()) and answer.marked == []
    for box in layout.boxes:
        assert inner_ink(image, box, 150) == 0.0
    assert answer.accepts(dict.fromkeys(answer.boxes, "unmarked"))
    assert not answer.accepts({**dict.fromkeys(answer.boxes, "unmarked"), 101: "marked"})


def test_marks_land_in_their_boxes_and_nowhere_else():
    cycle = sample_cycle()
    marks = {101: MarkKind.TICK, 102: MarkKind.CROSS, 103: MarkKind.FILLED, 104: MarkKind.FAINT}
    image, answer = make_sheet(cycle, marks, Distortion(), dpi=200, seed=3, stray_marks=3)
    layout = build_layout(packaged(cycle))
    ink = {box.project_id: inner_ink(image, box, 200) for box in layout.boxes}
    assert ink[101] > 0.04 and ink[102] > 0.08 and ink[103] > 0.4
    assert 0 < ink[104] < ink[101]  # faint pencil: little and light
    assert ink[105] == ink[106] == 0.0  # stray marks keep away from boxes
    assert answer.marked == [101, 102, 103]
    assert answer.boxes[104].acceptable == {"marked", "marginal"}


def test_a_cancelled_mark_must_go_to_review():
    image, answer = make_sheet(sample_cycle(), {105: MarkKind.CANCELLED}, Distortion(), dpi=150, seed=1)
    assert answer.boxes[105].acceptable == {"marginal"} and answer.needs_review
    box = next(b for b in build_layout(packaged(sample_cycle())).boxes if b.project_id == 105)
    assert inner_ink(image, box, 150) > 0.4
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    k = 150 / 72
    left_of_box = grey[
        round(box.y * k) : round((box.y + box.h) * k), round((box.x - 5) * k) : round((box.x - 1) * k)
    ]
    assert (left_of_box < 200).mean() > 0.1  # the scribble spills past the border


def test_the_known_answer_maps_the_layout_onto_a_distorted_photo():
    cycle = sample_cycle()
    distortion = Distortion(rotation_deg=4.0, skew=0.01, scale=1.02, perspective=0.03, table_margin=0.06)
    image, answer = make_sheet(cycle, {}, distortion, dpi=150, seed=5)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    matrix = np.array(answer.page_to_image)
    for mark in build_layout(packaged(cycle)).pages[0].marks:
        centre = np.array([[[mark.x + mark.w / 2, mark.y + mark.h / 2]]], dtype=np.float64)
        x, y = cv2.perspectiveTransform(centre, matrix)[0, 0]
        assert grey[round(y) - 3 : round(y) + 4, round(x) - 3 : round(x) + 4].max() < 90
    assert image.shape[1] > 1240  # the page lies on a table wider than itself


def test_a_scanned_sheet_still_carries_a_readable_qr_code():
    rng = random.Random(11)
    image, answer = make_sheet(
        sample_cycle(), {101: MarkKind.TICK}, random_distortion(rng, "scan"), 200, seed=2
    )
    decoded = pyzbar.decode(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    assert [d.data.decode() for d in decoded] == [answer.qr_text]
    data = encode(image, answer)
    assert data[:2] == b"\xff\xd8" if answer.distortion.jpeg_quality else data[:4] == b"\x89PNG"


@pytest.mark.parametrize("kind", ["scan", "photo"])
def test_random_distortions_stay_within_the_documented_ranges(kind):
    ranges = PHOTO if kind == "photo" else SCAN
    rng = random.Random(7)
    for _ in range(200):
        d = random_distortion(rng, kind)
        for name, (low, high) in ranges.items():
            value = getattr(d, name)
            assert value is None or low <= value <= high, (name, value)
        assert (d.table_margin > 0) == (kind == "photo")


def test_the_corpus_is_reproducible_and_says_what_it_holds():
    first = list(make_corpus(3, seed=4, kind="photo"))
    again = list(make_corpus(3, seed=4, kind="photo"))
    assert len(first) == 3
    for (image, answer), (image2, answer2) in zip(first, again, strict=True):
        assert np.array_equal(image, image2) and answer.to_dict() == answer2.to_dict()
        assert answer.dpi in (150, 200) and set(answer.boxes) == {101, 102, 103, 104, 105, 106}
    assert len({answer.serial for _image, answer in first}) == 3
    with pytest.raises(ValueError):
        list(make_corpus(1, seed=0, kind="fax"))
