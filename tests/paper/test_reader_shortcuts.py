"""The reader's shortcuts give exactly the long way's answers, only sooner.

Reading a page fast does not change a single verdict: the corner marks are looked for in
each corner first (the whole picture only when that cannot show its answer), the page's
paper is measured at its boxes only, zxing-cpp reads the QR code first with zbar and
OpenCV behind it, and a few numpy calls are done by hand. Each is checked here against
the long way it replaced, on our own sheets turned, shifted and photographed."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from paper import corner_marks, ink_measure, overview, qr_decoders
from paper.paper_map import PaperMap
from paper.reader import SheetReader
from paper.sheet_plan import build_layout
from tests.paper.corpus import (
    TEST_FORM_KEY,
    MarkKind,
    make_sheet,
    packaged,
    random_distortion,
    sample_cycle,
)


def _pictures() -> list[np.ndarray]:
    """Scans at 150, 200 and 300 dpi and photos, upright, turned and cropped."""
    rng = random.Random(13)
    cycle = sample_cycle()
    pictures = []
    for number, (kind, dpi) in enumerate(
        [("scan", 150), ("scan", 200), ("scan", 300), ("photo", 150), ("photo", 200), ("scan", 200)]
    ):
        marks = {p["id"]: rng.choice(list(MarkKind)) for p in cycle["projects"]}
        image, _answer = make_sheet(
            cycle,
            marks,
            random_distortion(rng, kind),
            dpi,
            rng.randrange(2**31),
            serial=f"S0001-{number + 1:06d}",
        )
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        pictures += [
            gray,
            cv2.rotate(gray, cv2.ROTATE_180),
            cv2.rotate(gray, cv2.ROTATE_90_CLOCKWISE),
            gray[9:, 13:],
        ]
    return pictures


PICTURES = _pictures()


def _whole_picture_options(gray: np.ndarray) -> list[corner_marks.CornerMarks]:
    view = overview.overview(gray)
    candidates = corner_marks._mark_candidates(view)
    four = corner_marks._four_marks(candidates, view.factor)
    return ([four] if four is not None else []) + corner_marks._three_marks(
        candidates, view.factor, gray.shape
    )


@pytest.mark.parametrize("index", range(len(PICTURES)))
def test_the_corners_searched_first_give_the_marks_the_whole_picture_gives(index):
    gray = PICTURES[index]
    expected = _whole_picture_options(gray)
    found = list(corner_marks.corner_mark_options(gray))
    assert len(found) == len(expected)
    for got, want in zip(found, expected, strict=True):
        assert np.array_equal(got.centres, want.centres)
        assert got.side_px == want.side_px


def test_most_scans_and_photos_find_their_marks_in_the_corners():
    shown = [corner_marks._corner_candidates(overview.overview(g)) is not None for g in PICTURES]
    assert sum(shown) >= 0.75 * len(shown)


def test_a_mark_far_from_its_corner_is_left_to_the_whole_search():
    # The page shrunk into the middle of a white picture: no corner square can show
    # that its nearest mark is the picture's nearest.
    gray = PICTURES[1]
    small = cv2.resize(gray, (gray.shape[1] // 2, gray.shape[0] // 2), interpolation=cv2.INTER_AREA)
    framed = np.full_like(gray, 255)
    top, left = gray.shape[0] // 4, gray.shape[1] // 4
    framed[top : top + small.shape[0], left : left + small.shape[1]] = small
    assert corner_marks._corner_candidates(overview.overview(framed)) is None
    found = list(corner_marks.corner_mark_options(framed))
    expected = _whole_picture_options(framed)
    assert [m.centres.tolist() for m in found] == [m.centres.tolist() for m in expected]


@pytest.mark.parametrize("index", [0, 1, 2, 12, 16])
def test_a_part_of_the_overview_is_the_same_pixels_as_the_whole(index):
    view = overview.overview(PICTURES[index])
    whole = overview.Overview(PICTURES[index]).small
    rows, cols = view.shape
    for top, bottom, left, right in [
        (0, rows, 0, cols),
        (0, 31, 0, 31),
        (rows - 40, rows, cols - 7, cols),
        (100, 171, 50, 90),
    ]:
        assert np.array_equal(view.region(top, bottom, left, right), whole[top:bottom, left:right])


@pytest.mark.parametrize("index", [0, 4, 12, 16, 20])
def test_the_paper_at_a_few_boxes_is_the_whole_maps_paper(index):
    gray = PICTURES[index]
    small = overview.overview(gray).small
    window = max(3, (max(small.shape) // 28) | 1)
    whole = cv2.dilate(cv2.medianBlur(small, 5), cv2.getStructuringElement(cv2.MORPH_RECT, (window, window)))
    factor = overview.overview(gray).factor
    rng = random.Random(index)
    height, width = gray.shape
    for count in (1, 6, 18, 60):
        column = rng.uniform(0, width)
        points = [(column + rng.uniform(-3, 3), rng.uniform(-10, height + 10)) for _ in range(count)]
        levels = PaperMap(gray).levels_at(points)
        for (x, y), level in zip(points, levels, strict=True):
            row = min(small.shape[0] - 1, max(0, int(y / factor)))
            col = min(small.shape[1] - 1, max(0, int(x / factor)))
            assert level == float(whole[row, col])


def test_percentile_and_median_by_hand_are_numpys():
    rng = np.random.default_rng(5)
    for size in [1, 2, 3, 4, 17 * 17, 18 * 18, 68 * 68, 1001]:
        for _ in range(20):
            values = rng.integers(0, 256, size, dtype=np.uint8)
            assert ink_measure._percentile(values, 90) == float(np.percentile(values, 90))
            assert ink_measure._median_exact(values) == float(np.median(values))


def _edges_by_walking(profile: np.ndarray, start: float, side: float, reach: int) -> tuple[int, float, float]:
    """_find_edges as it was: every shift in turn, ties to the smaller shift."""
    before = np.concatenate((profile[-1:], profile[:-1]))
    after = np.concatenate((profile[1:], profile[:1]))
    smooth = np.maximum(profile, np.maximum(before, after))
    first, second = round(start), round(start + side - 1)
    best, best_shift = -1.0, 0
    for shift in range(-reach, reach + 1):
        a, b = first + shift, second + shift
        if a < 0 or b >= len(smooth):
            continue
        total = smooth[a] + smooth[b]
        if total > best + 1e-9 or (abs(total - best) <= 1e-9 and abs(shift) < abs(best_shift)):
            best, best_shift = total, shift
    return best_shift, float(smooth[first + best_shift]), float(smooth[second + best_shift])


def test_a_box_border_is_found_where_the_shift_by_shift_walk_finds_it():
    rng = np.random.default_rng(8)
    for trial in range(3000):
        length = int(rng.integers(20, 70))
        profile = (rng.random(length) * rng.choice([1.0, 1e-3, 0.0])).astype(np.float32)
        if trial % 3 == 0:
            profile = np.round(profile * 4) / 4  # many equal pairs: the tie rule decides
        start, side, reach = float(rng.uniform(5, 20)), float(rng.uniform(10, 40)), 9
        if round(start + side - 1) + reach >= length:
            continue
        assert ink_measure._find_edges(profile, start, side, reach) == _edges_by_walking(
            profile, start, side, reach
        )


@pytest.fixture(scope="module")
def reader() -> SheetReader:
    return SheetReader([build_layout(packaged(sample_cycle()))], TEST_FORM_KEY)


def _verdicts(reading) -> tuple:
    return (
        reading.outcome,
        reading.reasons,
        reading.serial,
        [(b.project_id, b.score, b.verdict) for b in reading.boxes],
    )


@pytest.mark.parametrize("failure", ["raises", "finds_nothing"])
def test_when_zxing_cannot_read_the_code_zbar_and_opencv_still_do(reader, monkeypatch, failure):
    pictures = [PICTURES[0], PICTURES[1], PICTURES[12]]
    expected = [_verdicts(reader.read_gray(gray)) for gray in pictures]
    calls = []

    def failing(image: np.ndarray) -> list:
        calls.append(image.shape)
        if failure == "raises":
            raise RuntimeError("zxing-cpp failed")
        return []

    monkeypatch.setattr(qr_decoders, "zxing_qr_texts", failing)
    assert [_verdicts(reader.read_gray(gray)) for gray in pictures] == expected
    assert calls  # it was asked, and its failure did not cost the page
