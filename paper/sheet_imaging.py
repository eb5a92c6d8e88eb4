"""Pixels of scanned and photographed ballot sheets: every OpenCV call the sheet reader
makes lives here (the project rule: OpenCV is imported only here and in hardware/).

What the reader needs from images is small: decode a file's bytes to grayscale pages,
find the four solid corner marks, cut a region of the printed page out of the picture
through a homography (so a photo taken at an angle reads like a flat scan), encode a
crop as PNG, and QR decoders: zxing-cpp first, OpenCV's for when zbar finds nothing.

Coordinates: page regions are in PDF points with the origin top-left (the layout's
contract); image points are pixels (x right, y down).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import zxingcpp

from paper import png_inflate

__all__ = [
    "CornerMarks",
    "Overview",
    "PaperMap",
    "corner_mark_options",
    "decode_image",
    "decode_pages",
    "encode_png",
    "homography",
    "longest_blob_side",
    "opencv_qr_texts",
    "overview",
    "sharpen",
    "smooth3",
    "warp_region",
    "zxing_qr_texts",
]

cv2.utils.logging.setLogLevel(
    cv2.utils.logging.LOG_LEVEL_ERROR
)  # a corrupt file is our message, not a log line
cv2.setNumThreads(1)  # the reader's budget is per core; a worker pool scales across cores

# The marks are found on a copy about this long: an 8 mm mark on A4 is then ~20 px,
# plenty for its centre to sub-pixel precision, at a sixth of the work of a 200 dpi page.
_SEARCH_LONG_SIDE = 800
# A mark is 8 mm on a 297 mm page: ~2.7 % of the page's long side. A photo may show the
# page at a third of the frame or the scan may be cropped tight: accept 0.6 %...6 %.
_MARK_MIN_SHARE, _MARK_MAX_SHARE = 0.006, 0.06


def decode_image(data: bytes, *, reduce: int = 1, transparent: bool = False) -> np.ndarray | None:
    """The first (or only) page of an image file as 8-bit grayscale, None if OpenCV
    cannot decode it. `reduce` 2, 4 or 8 decodes at that fraction of the size (JPEG
    scales while decoding, ~3x faster for a 12-megapixel photo).

    A colour file is turned grey while it is decoded (libpng and libjpeg do it row by
    row), never as a whole colour picture first. `transparent`: the file may hold
    transparency (a PNG with an alpha channel or a tRNS chunk); it is decoded whole,
    with its alpha, at full size, and laid on white paper, as a person sees it, not on
    the black that transparent pixels often hide.

    A plain 8-bit grey or colour PNG has its pixels inflated by ISA-L first
    (paper/png_inflate.py): the same pixels, a grey scan decoded ~1.4x faster."""
    if transparent:
        flag = cv2.IMREAD_UNCHANGED
    else:
        flag = {
            1: cv2.IMREAD_GRAYSCALE,
            2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
            4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
        }.get(reduce, cv2.IMREAD_REDUCED_GRAYSCALE_8)
    if flag == cv2.IMREAD_GRAYSCALE and data.startswith(b"\x89PNG"):
        data = png_inflate.inflated_png(data) or data
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    except cv2.error:
        return None
    if transparent and image is not None and image.size:
        return _on_white(image)
    return _gray8(image)


def decode_pages(data: bytes, first: int, count: int) -> list[np.ndarray | None]:
    """Pages first..first+count-1 (0-based) of a multi-page image (TIFF) as grayscale;
    a page OpenCV cannot decode is None. Reading a range keeps a long file's memory to
    the pages asked for."""
    try:
        ok, pages = cv2.imdecodemulti(
            np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE, None, (first, first + count)
        )
    except cv2.error:
        return [None] * count
    if not ok:
        return [None] * count
    decoded = [_gray8(page) for page in pages]
    return decoded + [None] * (count - len(decoded))


def _gray8(image: np.ndarray | None) -> np.ndarray | None:
    if image is None or image.size == 0:
        return None
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    if image.dtype != np.uint8:  # 16-bit TIFF scans
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return image


def _on_white(image: np.ndarray) -> np.ndarray:
    """A picture decoded as it is stored (grey, BGR or BGRA; 8 or 16 bits) as 8-bit
    grayscale, its transparent parts white. Band by band: the decoder's picture is the
    only full-size copy besides the result (the caller's memory budget counts both)."""
    gray = np.empty(image.shape[:2], np.uint8)
    for top in range(0, image.shape[0], _BAND_ROWS):
        gray[top : top + _BAND_ROWS] = _band_on_white(image[top : top + _BAND_ROWS])
    return gray


_BAND_ROWS = 256


def _band_on_white(band: np.ndarray) -> np.ndarray:
    if band.dtype == np.uint16:  # to 8 bits as IMREAD_GRAYSCALE reads a 16-bit PNG
        band = (band >> 8).astype(np.uint8)
    if band.ndim == 2:
        return band
    if band.shape[2] == 3:
        return cv2.cvtColor(band, cv2.COLOR_BGR2GRAY)
    gray = cv2.cvtColor(band, cv2.COLOR_BGRA2GRAY).astype(np.uint16)
    alpha = band[..., 3].astype(np.uint16)
    # gray * a + 255 * (255 - a), over 255, rounded: all within 16 bits (at most 65 152)
    return ((gray * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def encode_png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError(f"cannot encode an image of shape {image.shape} as PNG")
    return data.tobytes()


@dataclass(frozen=True, slots=True)
class CornerMarks:
    """The centres of the four corner marks in image pixels, in the picture's own order:
    top-left, top-right, bottom-right, bottom-left as seen (the page may lie upside
    down; the QR code decides which mark is which)."""

    centres: np.ndarray  # shape (4, 2), float
    side_px: float  # the marks' mean side, pixels


class Overview:
    """The picture shrunk by a whole factor to about _SEARCH_LONG_SIDE on its long side:
    what finding the marks and measuring the paper's light both look at, made once per
    page (shrinking it a second time was ~15 % of reading a 200 dpi page).

    Each small pixel is the mean of its own block of picture pixels, so a part of it
    (`region`) is made alone, pixel for pixel as the whole: a page whose marks are found
    in its corners and whose paper is measured at its boxes never shrinks the rest."""

    def __init__(self, gray: np.ndarray) -> None:
        height, width = gray.shape[:2]
        # A whole factor, on a picture cropped to a multiple of it: each small pixel is the
        # mean of a block, as INTER_AREA makes it (10x quicker than a fractional factor).
        self.factor = max(1, round(max(height, width) / _SEARCH_LONG_SIDE))
        self.shape = (height // self.factor, width // self.factor)  # the small picture's rows, columns
        self._gray = gray
        self._small: np.ndarray | None = gray if self.factor == 1 else None

    @property
    def small(self) -> np.ndarray:
        """The whole small picture (made on first use)."""
        if self._small is None:
            self._small = _shrink(self._gray, self.factor, *self.shape)
        return self._small

    def region(self, top: int, bottom: int, left: int, right: int) -> np.ndarray:
        """Rows top..bottom-1, columns left..right-1 of the small picture."""
        if self._small is not None:
            return self._small[top:bottom, left:right]
        f = self.factor
        # OpenCV's INTER_AREA for a whole factor: the same pixels as _shrink (each the
        # block's sum times 1 / f², rounded), and on a part of the picture the quicker.
        part = self._gray[top * f : bottom * f, left * f : right * f]
        return cv2.resize(part, (right - left, bottom - top), interpolation=cv2.INTER_AREA)


def overview(gray: np.ndarray) -> Overview:
    return Overview(gray)


def _shrink(gray: np.ndarray, factor: int, small_h: int, small_w: int) -> np.ndarray:
    crop = gray[: small_h * factor, : small_w * factor]
    if factor == 2 or factor > 16:  # OpenCV's vector path for 2; 16 bits hold 16 x 16 x 255
        return cv2.resize(crop, (small_w, small_h), interpolation=cv2.INTER_AREA)
    # Block sums from strided rows, then strided columns, in 16 bits: the same pixels
    # as INTER_AREA (rounded alike), in 60-70 % of its time for a factor of 3 and up.
    rows = crop[0::factor].astype(np.uint16)
    for i in range(1, factor):
        rows += crop[i::factor]
    sums = rows[:, 0::factor].copy()
    for j in range(1, factor):
        sums += rows[:, j::factor]
    return cv2.convertScaleAbs(sums, alpha=1 / factor**2)


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


class PaperMap:
    """How bright the bare paper is around any point of the picture: the page's light,
    with the ink taken out (a maximum over ~8 mm, wider than a filled-in box), so that a
    shadow or a lamp's gradient moves the ink threshold with it.

    Each level is the largest value, over a window ~10 mm square, of the overview
    smoothed by a 5x5 median (a maximum of raw pixels would follow the noise's brightest
    specks). A page asks for it at its boxes only, so only the part of the overview
    their windows cover is smoothed, the same pixels as the whole map (the median's
    replicated edges included); when they cover much of the page, the whole map."""

    def __init__(self, gray: np.ndarray, view: Overview | None = None) -> None:
        view = view if view is not None else overview(gray)
        self._view, self.factor = view, view.factor
        small_h, small_w = view.shape
        self._window = max(3, (max(small_w, small_h) // 28) | 1)  # ~10 mm on a page filling the picture
        self._levels: np.ndarray | None = None

    def level_at(self, x: float, y: float) -> float:
        """The paper's grey level (0..255) at picture pixel (x, y)."""
        return self.levels_at([(x, y)])[0]

    def levels_at(self, points: list[tuple[float, float]]) -> list[float]:
        """level_at for each picture pixel (x, y), at once."""
        h, w = self._view.shape
        f = self.factor
        cells = [(min(h - 1, max(0, int(y / f))), min(w - 1, max(0, int(x / f)))) for x, y in points]
        if not cells:
            return []
        if self._levels is not None:
            return [float(self._levels[row, col]) for row, col in cells]
        # The windows as the dilation sees them (the picture's edge clips them), and
        # the median's own 2-pixel reach around those: inside it the median is the
        # whole map's; at the picture's edge both replicate the same border pixels.
        half = self._window // 2
        top = max(0, min(row for row, _ in cells) - half)
        bottom = min(h, max(row for row, _ in cells) + half + 1)
        left = max(0, min(col for _, col in cells) - half)
        right = min(w, max(col for _, col in cells) + half + 1)
        if (bottom - top) * (right - left) > _PART_OF_MAP * h * w:
            self._levels = cv2.dilate(
                cv2.medianBlur(self._view.small, 5),
                cv2.getStructuringElement(cv2.MORPH_RECT, (self._window, self._window)),
            )
            return [float(self._levels[row, col]) for row, col in cells]
        y0, y1 = max(0, top - 2), min(h, bottom + 2)
        x0, x1 = max(0, left - 2), min(w, right + 2)
        # In 32-bit floats: the same medians (of whole numbers), by OpenCV's sorting
        # network, where 8 bits take its histogram method, ~10x slower on a small part.
        smooth = cv2.medianBlur(self._view.region(y0, y1, x0, x1).astype(np.float32), 5)
        return [
            float(
                smooth[
                    max(0, row - half) - y0 : min(h, row + half + 1) - y0,
                    max(0, col - half) - x0 : min(w, col + half + 1) - x0,
                ].max()
            )
            for row, col in cells
        ]


# Past this share of the overview, the boxes' windows are smoothed as the whole map
# (OpenCV's 8-bit median and a dilation): cheaper then than a part in floats.
_PART_OF_MAP = 0.25


def smooth3(image: np.ndarray) -> np.ndarray:
    """Each pixel the mean of its 3x3 neighbourhood (edges replicated)."""
    return cv2.blur(image, (3, 3), borderType=cv2.BORDER_REPLICATE)


def longest_blob_side(mask: np.ndarray) -> int:
    """The longest side, in pixels, of the bounding box of any 8-connected piece of
    `mask` (True where ink is): a pen stroke is long, a speck of dust is not."""
    count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8
    )
    if count <= 1:
        return 0
    pieces = stats[1:]
    return int(max(pieces[:, cv2.CC_STAT_WIDTH].max(), pieces[:, cv2.CC_STAT_HEIGHT].max()))


def homography(page_points: np.ndarray, image_points: np.ndarray) -> np.ndarray:
    """The 3x3 matrix taking page points (PDF points) to image pixels, from 4 pairs."""
    return cv2.getPerspectiveTransform(page_points.astype(np.float32), image_points.astype(np.float32))


def warp_region(
    gray: np.ndarray, page_to_image: np.ndarray, x: float, y: float, w: float, h: float, scale: float
) -> np.ndarray:
    """The page rectangle (x, y, w, h in points) cut out of the picture and flattened, at
    `scale` pixels per point; what lies outside the picture comes out white (paper)."""
    to_page = np.array([[1 / scale, 0, x], [0, 1 / scale, y], [0, 0, 1]], dtype=np.float64)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.warpPerspective(
        gray,
        page_to_image @ to_page,
        size,
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255,
    )


def sharpen(image: np.ndarray) -> np.ndarray:
    """An unsharp mask: a phone's blur (σ ~1.7 px at 150 dpi) melts a QR code's 4 px
    modules together; this brings back the edges zbar needs."""
    blurred = cv2.GaussianBlur(image, (0, 0), 2.0)
    return cv2.addWeighted(image, 2.0, blurred, -1.0, 0)


_QR_DETECTORS: list[Any] = []


def opencv_qr_texts(gray: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """QR codes OpenCV finds: (text, 4 corner points as seen). The ArUco-based detector
    first (better on blurred and tilted codes), then the classic one."""
    if not _QR_DETECTORS:
        _QR_DETECTORS.extend([cv2.QRCodeDetectorAruco(), cv2.QRCodeDetector()])
    for detector in _QR_DETECTORS:
        try:
            found, texts, points, _ = detector.detectAndDecodeMulti(gray)
        except cv2.error:
            continue
        if found and points is not None:
            results = [(text, corners) for text, corners in zip(texts, points, strict=False) if text]
            if results:
                return results
    return []


_QR_FORMAT = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def zxing_qr_texts(gray: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """QR codes zxing-cpp finds: (text, 4 corner points as seen, top-left first). On a
    sheet's QR region ~10x quicker than zbar (0.3 against 3 ms), and it reads small and
    blurred codes zbar misses. The text is the code's bytes as UTF-8, as zbar gives it.
    An error inside zxing-cpp is raised, not taken for "no code": the caller then asks
    the other decoders."""
    found = []
    for code in zxingcpp.read_barcodes(gray, formats=_QR_FORMAT):
        p = code.position
        corners = [p.top_left, p.top_right, p.bottom_right, p.bottom_left]
        points = np.array([[c.x, c.y] for c in corners], dtype=np.float64)
        found.append((code.bytes.decode("utf-8", errors="replace"), points))
    return found
