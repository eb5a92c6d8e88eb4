"""Finding a sheet's four solid corner marks in a picture.

The marks are looked for on the page's overview (paper.overview): in a square at each
corner first, the whole picture when that cannot show its answer; sets of three whose
fourth is cut off by the picture's edge are offered after the four. Image points are
pixels (x right, y down).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

import paper.opencv_settings  # noqa: F401  (OpenCV quiet and on one thread before its first call)
from paper.overview import Overview, overview

__all__ = ["CornerMarks", "corner_mark_options"]

# A mark is 8 mm on a 297 mm page: ~2.7 % of the page's long side. A photo may show the
# page at a third of the frame or the scan may be cropped tight: accept 0.6 %...6 %.
_MARK_MIN_SHARE, _MARK_MAX_SHARE = 0.006, 0.06


@dataclass(frozen=True, slots=True)
class CornerMarks:
    """The centres of the four corner marks in image pixels, in the picture's own order:
    top-left, top-right, bottom-right, bottom-left as seen (the page may lie upside
    down; the QR code decides which mark is which)."""

    centres: np.ndarray  # shape (4, 2), float
    side_px: float  # the marks' mean side, pixels


def corner_mark_options(gray: np.ndarray, view: Overview | None = None) -> Iterator[CornerMarks]:
    """Every plausible set of corner marks, the likeliest first: the four found, then
    sets of three found marks whose fourth lies outside the picture (a scan rotated or
    shifted so that one corner mark is cut off), completed as a parallelogram. For a
    scan that is exact (the glass moves the page by rotation, shift, scale and skew
    only); for a photo it is close, and the reader re-finds every box's printed border
    and refuses a page where too few are where the marks say. Lazily: a page read from
    its four marks never pays for the others."""
    view = view if view is not None else overview(gray)
    candidates = _corner_candidates(view)
    if candidates is None:
        candidates = _mark_candidates(view)
    four = _four_marks(candidates, view.factor)
    if four is not None:
        yield four
    yield from _three_marks(candidates, view.factor, gray.shape[:2])


# The side of the square searched at each corner, as a share of the small picture's
# long side, a second (larger) try when the first cannot show its answer: a scanned
# page's mark lies ~37 small pixels from each edge, and a shape as large as a mark may
# be (_MARK_MAX_SHARE * 1.5 of the long side, ~70 px) must fit between it and the
# square's inner edges. Scans of the test corpora need 0.16-0.22; past 0.32 the whole
# picture is searched.
_CORNER_SHARES = (0.22, 0.32)


def _threshold_window(long_side: int) -> int:
    """The local threshold's window: a few marks wide (odd, as OpenCV needs), and at
    least 3 px, so a picture under 24 px (no sheet, but an upload may be one) is read
    as having no marks instead of stopping the reader."""
    return max((long_side // 12) | 1, 3)


def _corner_candidates(view: Overview) -> np.ndarray | None:
    """The four candidates _corner_picks would choose among all of the picture's, found
    in a square at each corner alone, or None when that cannot be shown, and the whole
    picture is searched.

    Within a corner's square every shape that does not touch its inner edges is found
    exactly as in the whole picture (the threshold is worked out with the window it
    needs around the square; a contour traces its own shape only). A shape that does
    touch them, or lies outside, has a pixel on or past an inner edge and a bounding
    box at most `reach` long, so its centre lies no nearer the corner than the inner
    edge less `reach`. The nearest shape found well inside that line is then the
    nearest of the whole picture. Ties fall back to the whole search (which picks the
    first in contour order)."""
    small_h, small_w = view.shape
    long_side = max(small_h, small_w)
    block = _threshold_window(long_side)
    min_side, max_side = _MARK_MIN_SHARE * long_side, _MARK_MAX_SHARE * long_side
    margin = max_side * 1.5 + 1.0  # the first test's largest bounding box, and a pixel
    chosen = []
    for corner in range(4):
        for share in _CORNER_SHARES:
            side = round(share * long_side)
            if 2 * side > min(small_h, small_w):
                return None
            found = _nearest_in_corner(view, corner, side, block, min_side, max_side, margin)
            if found is not None:
                chosen.append(found)
                break
        else:
            return None
    return np.array(chosen, dtype=np.float64)


def _nearest_in_corner(
    view: Overview, corner: int, side: int, block: int, min_side: float, max_side: float, margin: float
) -> np.ndarray | None:
    """The candidate nearest corner `corner` (0..3: top-left, top-right, bottom-right,
    bottom-left) in the square of `side` there, when it is shown to be the nearest of
    the whole picture; else None."""
    small_h, small_w = view.shape
    # (rows, columns of the square; how a centre's nearness to the corner is measured,
    # larger is nearer, as _corner_picks ranks; what it must beat to be sure)
    top, bottom = (0, side) if corner in (0, 1) else (small_h - side, small_h)
    left, right = (0, side) if corner in (0, 3) else (small_w - side, small_w)
    nearness: Callable[[np.ndarray, np.ndarray], np.ndarray]
    nearness, needed = (
        (lambda x, y: -(x + y), -(side - margin)),
        (lambda x, y: x - y, small_w - side + margin),
        (lambda x, y: x + y, small_w + small_h - side + margin),
        (lambda x, y: -(x - y), -(side - margin - small_h)),
    )[corner]
    # The threshold's mean window reaches block // 2 past the square: at the picture's
    # own edge both replicate the same pixels; elsewhere those are shrunk and used too.
    half = block // 2
    y0, y1 = max(0, top - half), min(small_h, bottom + half)
    x0, x1 = max(0, left - half), min(small_w, right + half)
    binary = cv2.adaptiveThreshold(
        view.region(y0, y1, x0, x1), 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 25
    )[top - y0 : bottom - y0, left - x0 : right - x0]
    found = _candidates_in(binary, (left, top), min_side, max_side)
    if len(found) == 0:
        return None
    scores = nearness(found[:, 0], found[:, 1])
    best = int(np.argmax(scores))
    if not scores[best] > needed or np.count_nonzero(scores == scores[best]) > 1:
        return None
    chosen: np.ndarray = found[best]
    return chosen


def _mark_candidates(view: Overview) -> np.ndarray:
    """Solid squares of a corner mark's size: x, y, side (small-image pixels) per row."""
    small = view.small
    long_side = max(small.shape)
    # A local threshold: photos are lit unevenly, and a mark is dark against the paper
    # around it, not against the whole picture. The window is a few marks wide.
    block = _threshold_window(long_side)
    binary = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 25)
    return _candidates_in(binary, (0, 0), _MARK_MIN_SHARE * long_side, _MARK_MAX_SHARE * long_side)


def _candidates_in(
    binary: np.ndarray, offset: tuple[int, int], min_side: float, max_side: float
) -> np.ndarray:
    """The mark candidates among the shapes of `binary`, a part of the small picture
    whose top-left pixel is `offset` (x, y) in it: x, y, side per row, in the small
    picture's pixels."""
    # Two levels, not only the outermost shapes: a photo's dark table around the page is
    # one shape with the whole page, marks included, in its hole.
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE, offset=offset)
    dx, dy = offset
    candidates: list[tuple[float, float, float]] = []  # x, y, side (small-image pixels)
    # The first tests (size, near square, filled) for every shape at once; the rest,
    # one by one, for the ~90 shapes left of ~570 on a 200 dpi page (mostly letters).
    for index, x, y, w, h, area in _square_enough(contours, hierarchy, min_side, max_side):
        contour = contours[index]
        (_cx, _cy), (rw, rh), _angle = cv2.minAreaRect(contour)
        if min(rw, rh) < 0.7 * max(rw, rh) or not (min_side <= max(rw, rh) <= max_side):
            continue
        if area < 0.8 * rw * rh:  # not a square: a blob, a tick, a corner of the table
            continue
        # Solid, not a frame: a checkbox's or a QR finder's outline has the same
        # outer contour as a filled square, but far fewer dark pixels inside it.
        if cv2.countNonZero(binary[y - dy : y - dy + h, x - dx : x - dx + w]) < 0.85 * area:
            continue
        moments = cv2.moments(contour)
        if moments["m00"] <= 0:
            continue
        candidates.append((moments["m10"] / moments["m00"], moments["m01"] / moments["m00"], (rw + rh) / 2))
    return np.array(candidates, dtype=np.float64).reshape(-1, 3)


def _square_enough(
    contours: Sequence[np.ndarray], hierarchy: np.ndarray | None, min_side: float, max_side: float
) -> list[tuple[int, int, int, int, int, float]]:
    """(index, x, y, w, h, area) of each outer contour (the boundary of ink, not of a
    hole) whose upright bounding box x, y, w, h is a mark's size and near square (a
    square's is, at any turn) and which fills at least 0.45 of that box (a square turned
    45° fills half): most shapes of a mark's size are letters.

    For all of a page's contours at once, with the very numbers the one-by-one tests
    had: the bounding box is the points' extremes, as cv2.boundingRect gives it, and the
    area the shoelace sum of cv2.contourArea; the points are integers, so each product
    and sum is an exact integer either way."""
    if hierarchy is None or not contours:
        return []
    outer = np.flatnonzero(hierarchy[0][:, 3] == -1)
    if outer.size == 0:
        return []
    chosen = [contours[i] for i in outer.tolist()]
    lengths = np.fromiter((len(c) for c in chosen), dtype=np.intp, count=len(chosen))
    starts = np.zeros(len(chosen), dtype=np.intp)
    np.cumsum(lengths[:-1], out=starts[1:])
    points = np.concatenate(chosen).reshape(-1, 2).astype(np.int64)
    xs, ys = points[:, 0], points[:, 1]
    x, y = np.minimum.reduceat(xs, starts), np.minimum.reduceat(ys, starts)
    w = np.maximum.reduceat(xs, starts) - x + 1
    h = np.maximum.reduceat(ys, starts) - y + 1
    longer, shorter = np.maximum(w, h), np.minimum(w, h)
    # Each point with the one before it in its own contour (the first with its last).
    previous = np.arange(-1, len(points) - 1)
    previous[starts] = starts + lengths - 1
    area = np.abs(np.add.reduceat(xs[previous] * ys - ys[previous] * xs, starts)) * 0.5
    keep = np.flatnonzero(
        (min_side * 0.8 <= longer)
        & (longer <= max_side * 1.5)
        & ~(shorter < 0.6 * longer)
        & ~(area < 0.45 * w * h)
    )
    return list(
        zip(
            outer[keep].tolist(),
            x[keep].tolist(),
            y[keep].tolist(),
            w[keep].tolist(),
            h[keep].tolist(),
            area[keep].tolist(),
            strict=True,
        )
    )


def _corner_picks(points: np.ndarray) -> list[int]:
    """The candidate nearest each of the picture's corners: top-left, top-right,
    bottom-right, bottom-left."""
    xs, ys = points[:, 0], points[:, 1]
    return [
        int(np.argmin(xs + ys)),
        int(np.argmax(xs - ys)),
        int(np.argmax(xs + ys)),
        int(np.argmin(xs - ys)),
    ]


def _four_marks(points: np.ndarray, factor: int) -> CornerMarks | None:
    if len(points) < 4:
        return None
    chosen = _corner_picks(points)
    if len(set(chosen)) < 4:
        return None
    picked = points[chosen]
    sides = picked[:, 2]
    if sides.max() > 1.6 * sides.min():  # one of them is not a mark (a filled box, a blot)
        return None
    centres = picked[:, :2] * factor + (factor - 1) / 2  # centre of the small pixel in the big picture
    if not _sane_quadrilateral(centres):
        return None
    return CornerMarks(centres=centres, side_px=float(sides.mean() * factor))


def _three_marks(points: np.ndarray, factor: int, shape: tuple[int, int]) -> list[CornerMarks]:
    """Sets of three marks at three corners with the fourth completed outside the
    picture (or within half a mark of its edge), the most clearly cut-off first."""
    if len(points) < 3:
        return []
    height, width = shape
    chosen = _corner_picks(points)
    options: list[tuple[float, CornerMarks]] = []
    for missing in range(4):
        kept = [chosen[(missing + k) % 4] for k in (1, 2, 3)]  # the next three, in order round the page
        if len(set(kept)) < 3:
            continue
        sides = points[kept, 2]
        if sides.max() > 1.4 * sides.min():
            continue
        after, opposite, before = (points[i, :2] * factor + (factor - 1) / 2 for i in kept)
        centres = np.empty((4, 2))
        centres[missing] = after + before - opposite
        centres[(missing + 1) % 4], centres[(missing + 2) % 4], centres[(missing + 3) % 4] = (
            after,
            opposite,
            before,
        )
        side_px = float(sides.mean() * factor)
        x, y = centres[missing]
        # How far outside the picture the completed mark's centre lies, in marks: a
        # mark that should be in the picture but was not found is not cut off, and
        # this is no reason to guess where it is.
        beyond = max(-x, x - (width - 1), -y, y - (height - 1)) / side_px
        if beyond < -0.5 or not _sane_quadrilateral(centres):
            continue
        if not _square_corner(after, opposite, before):
            continue
        options.append((beyond, CornerMarks(centres=centres, side_px=side_px)))
    return [marks for _beyond, marks in sorted(options, key=lambda o: -o[0])]


def _square_corner(a: np.ndarray, corner: np.ndarray, b: np.ndarray) -> bool:
    """The page's corner at `corner` between its neighbours `a` and `b` is within 12
    degrees of square (a skewed scan or a photo's perspective, not three stray shapes)."""
    u, v = a - corner, b - corner
    cos = float(np.dot(u, v) / max(1e-9, np.linalg.norm(u) * np.linalg.norm(v)))
    return abs(cos) < float(np.sin(np.radians(12)))


def _sane_quadrilateral(points: np.ndarray) -> bool:
    """Convex, and no side less than half its opposite: a page seen at an angle, not a
    fold or a mark found on the table."""
    crosses = []
    for i in range(4):
        a, b, c = points[i], points[(i + 1) % 4], points[(i + 2) % 4]
        u, v = b - a, c - b
        crosses.append(float(u[0] * v[1] - u[1] * v[0]))
    if not (all(c > 0 for c in crosses) or all(c < 0 for c in crosses)):
        return False
    sides = [float(np.linalg.norm(points[(i + 1) % 4] - points[i])) for i in range(4)]
    return min(sides[0], sides[2]) > 0.5 * max(sides[0], sides[2]) and min(sides[1], sides[3]) > 0.5 * max(
        sides[1], sides[3]
    )
