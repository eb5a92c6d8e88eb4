"""Pixels of scanned and photographed ballot sheets: every OpenCV call the sheet reader
makes lives here (the project rule: only hardware/ imports cv2).

What the reader needs from images is small: decode a file's bytes to grayscale pages,
find the four solid corner marks, cut a region of the printed page out of the picture
through a homography (so a photo taken at an angle reads like a flat scan), encode a
crop as PNG, and a second QR decoder for when zbar finds nothing.

Coordinates: page regions are in PDF points with the origin top-left (the layout's
contract); image points are pixels (x right, y down).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

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
    the black that transparent pixels often hide."""
    if transparent:
        flag = cv2.IMREAD_UNCHANGED
    else:
        flag = {
            1: cv2.IMREAD_GRAYSCALE,
            2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
            4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
        }.get(reduce, cv2.IMREAD_REDUCED_GRAYSCALE_8)
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


@dataclass(frozen=True, slots=True)
class Overview:
    """The picture shrunk by a whole factor to about _SEARCH_LONG_SIDE on its long side:
    what finding the marks and measuring the paper's light both look at, made once per
    page (shrinking it a second time was ~15 % of reading a 200 dpi page)."""

    small: np.ndarray
    factor: int  # one small pixel is factor x factor picture pixels


def overview(gray: np.ndarray) -> Overview:
    height, width = gray.shape[:2]
    # A whole factor, on a picture cropped to a multiple of it: each small pixel is the
    # mean of a block, as INTER_AREA makes it (10x quicker than a fractional factor).
    factor = max(1, round(max(height, width) / _SEARCH_LONG_SIDE))
    if factor == 1:
        return Overview(gray, 1)
    small_w, small_h = width // factor, height // factor
    crop = gray[: small_h * factor, : small_w * factor]
    if factor == 2 or factor > 16:  # OpenCV's vector path for 2; 16 bits hold 16 x 16 x 255
        return Overview(cv2.resize(crop, (small_w, small_h), interpolation=cv2.INTER_AREA), factor)
    # Block sums from strided rows, then strided columns, in 16 bits: the same pixels
    # as INTER_AREA (rounded alike), in 60-70 % of its time for a factor of 3 and up.
    rows = crop[0::factor].astype(np.uint16)
    for i in range(1, factor):
        rows += crop[i::factor]
    sums = rows[:, 0::factor].copy()
    for j in range(1, factor):
        sums += rows[:, j::factor]
    return Overview(cv2.convertScaleAbs(sums, alpha=1 / factor**2), factor)


def corner_mark_options(gray: np.ndarray, view: Overview | None = None) -> Iterator[CornerMarks]:
    """Every plausible set of corner marks, the likeliest first: the four found, then
    sets of three found marks whose fourth lies outside the picture (a scan rotated or
    shifted so that one corner mark is cut off), completed as a parallelogram. For a
    scan that is exact (the glass moves the page by rotation, shift, scale and skew
    only); for a photo it is close, and the reader re-finds every box's printed border
    and refuses a page where too few are where the marks say. Lazily: a page read from
    its four marks never pays for the others."""
    view = view if view is not None else overview(gray)
    candidates = _mark_candidates(view)
    four = _four_marks(candidates, view.factor)
    if four is not None:
        yield four
    yield from _three_marks(candidates, view.factor, gray.shape[:2])


def _mark_candidates(view: Overview) -> np.ndarray:
    """Solid squares of a corner mark's size: x, y, side (small-image pixels) per row."""
    small = view.small
    long_side = max(small.shape)
    # A local threshold: photos are lit unevenly, and a mark is dark against the paper
    # around it, not against the whole picture. The window is a few marks wide.
    block = (long_side // 12) | 1
    binary = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 25)
    # Two levels, not only the outermost shapes: a photo's dark table around the page is
    # one shape with the whole page, marks included, in its hole.
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    min_side, max_side = _MARK_MIN_SHARE * long_side, _MARK_MAX_SHARE * long_side
    candidates: list[tuple[float, float, float]] = []  # x, y, side (small-image pixels)
    for contour, (_next, _previous, _child, parent) in zip(
        contours, hierarchy[0] if hierarchy is not None else [], strict=False
    ):
        if parent != -1:  # the boundary of a hole (inside a checkbox, a letter), not of ink
            continue
        x, y, w, h = cv2.boundingRect(contour)
        if not (min_side * 0.8 <= max(w, h) <= max_side * 1.5):
            continue
        # Cheap tests first (most shapes of this size are letters): a square's upright
        # bounding box is square at any turn, and it fills at least half of it (at 45°).
        if min(w, h) < 0.6 * max(w, h):
            continue
        area = cv2.contourArea(contour)
        if area < 0.45 * w * h:
            continue
        (_cx, _cy), (rw, rh), _angle = cv2.minAreaRect(contour)
        if min(rw, rh) < 0.7 * max(rw, rh) or not (min_side <= max(rw, rh) <= max_side):
            continue
        if area < 0.8 * rw * rh:  # not a square: a blob, a tick, a corner of the table
            continue
        # Solid, not a frame: a checkbox's or a QR finder's outline has the same
        # outer contour as a filled square, but far fewer dark pixels inside it.
        if cv2.countNonZero(binary[y : y + h, x : x + w]) < 0.85 * area:
            continue
        moments = cv2.moments(contour)
        if moments["m00"] <= 0:
            continue
        candidates.append((moments["m10"] / moments["m00"], moments["m01"] / moments["m00"], (rw + rh) / 2))
    return np.array(candidates, dtype=np.float64).reshape(-1, 3)


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
    return abs(cos) < np.sin(np.radians(12))


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
    shadow or a lamp's gradient moves the ink threshold with it."""

    def __init__(self, gray: np.ndarray, view: Overview | None = None) -> None:
        view = view if view is not None else overview(gray)
        small, self.factor = view.small, view.factor
        small_h, small_w = small.shape[:2]
        # Median first: a maximum of raw pixels would follow the noise's brightest specks.
        smooth = cv2.medianBlur(small, 5)
        window = max(3, (max(small_w, small_h) // 28) | 1)  # ~10 mm on a page filling the picture
        self._levels = cv2.dilate(smooth, cv2.getStructuringElement(cv2.MORPH_RECT, (window, window)))

    def level_at(self, x: float, y: float) -> float:
        """The paper's grey level (0..255) at picture pixel (x, y)."""
        h, w = self._levels.shape
        col = min(w - 1, max(0, int(x / self.factor)))
        row = min(h - 1, max(0, int(y / self.factor)))
        return float(self._levels[row, col])


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


_QR_DETECTORS: list = []


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
