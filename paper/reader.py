"""Reading a page of a ballot sheet: QR code, alignment, every box's ink, a verdict.

The steps, for one grayscale page:
1. Find the four solid corner marks (paper.sheet_imaging: in a square at each corner
   first, the whole picture when that cannot show its answer).
2. Find the QR code where the layout puts it. The marks are symmetric, so which mark is
   the page's top-left is not known yet: the QR region is cut out for each quarter turn
   of the page in turn (upright first) and the turn whose region decodes is the page's
   orientation; an upside-down scan costs one more small decode. zxing-cpp reads the
   regions first; when it reads none, zbar and then OpenCV's detectors try them, and
   then the whole picture, whose code's position tells the turn.
3. The QR text (checked with the community's form key) names the cycle, the layout and
   the page; the page's marks give the homography from page points to pixels, which
   also undoes a photo's perspective.
4. Each checkbox is cut out at 3 px per point with a margin, re-centred on its printed
   border (a photo's lens bends the page a little; 4 marks cannot model that), and
   scored: the share of its inner area (the box shrunk by 20 % per side, clear of the
   border) darker than a threshold set between the paper around this box and the black
   of the marks. Paper is measured per box, so a shadow across the page does not read
   as ink.
5. Two thresholds: below UNMARKED a box is empty, from MARKED up it is marked, between
   them a person decides (needs_review with sheet.marginal_mark and a zoomed crop). A
   box whose border is not found where it should be is marginal too: a misaligned box
   is never guessed.
6. The category rules: more marks than max_choices (overvote), fewer than min_choices
   (undervote), none at all (blank sheet) send the sheet to review.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from paper import sheet_imaging
from paper.inputs import Limits, PageImage, read_pages
from paper.layout import BoxRect, Layout, LayoutError, PageLayout, Rect, build_layout
from paper.reading import (
    ACCEPTED,
    MARGINAL,
    MARKED,
    NEEDS_REVIEW,
    REJECTED,
    UNMARKED,
    BoxReading,
    SheetReading,
)
from paper.serials import QrFields, SerialError, form_key, parse_qr_text

__all__ = ["SheetReader", "Thresholds", "listed_files", "read_files", "reader_for_package"]

try:  # zbar is the first decoder; OpenCV's (in paper.sheet_imaging) the fallback
    from pyzbar.pyzbar import ZBarSymbol
    from pyzbar.pyzbar import decode as _zbar_decode
except (ImportError, OSError):  # pyzbar raises ImportError when libzbar0 cannot load
    _zbar_decode = None

SCALE = 3.0  # pixels per point for a box: 200 dpi is 2.8, so no detail is lost
QR_SCALE = 3.0  # a version-4 module (0.68 mm) becomes ~6 px: zbar reads it at once
INSET = 0.2  # the inner area: the box shrunk by this share of its side on every side
SEARCH_PT = 3.0  # how far a printed box may sit from where the marks put it
BORDER_MIN = 0.2  # mean darkness along a found border; a sharp scan gives ~0.9, a blurred 150 dpi one ~0.5
# A pixel is ink when it is darker than paper by this share of the paper-to-black
# contrast (measured on the marks): halfway, less a little for pale ballpoint ink.
INK_SHARE = 0.4
SPILL_MAX = 0.2  # ink share in the ring around a box; a box scribbled out spills 0.8+
MIN_CONTRAST = 0.25  # a page whose marks are not at least this much darker than paper is unreadable


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The mark rule's numbers (docs/paper-reading.md explains them).

    Ink is a pixel darker than the box's own paper by INK_SHARE of the paper-to-black
    contrast. A box is marked when ink covers at least `marked` of its inner area and
    its largest connected piece is at least `stroke_pt` long (a tick in a 5 mm box is
    ~10 pt, a cross ~11, a filled box 8.5: the inner area's side). It is empty when ink
    covers at most `unmarked`, no piece reaches `speck_pt` (dust, a pen tap, a staple
    hole: under 1 mm) and the faint trace stays under `trace`. Anything else goes to a
    person."""

    unmarked: float = 0.03  # at most this share of ink: empty (dust, JPEG noise ~0.005)
    marked: float = 0.10  # at least this: marked (a pen tick covers 0.25-0.45)
    stroke_pt: float = 4.0  # ~1.4 mm: the shortest piece of ink that makes a mark
    speck_pt: float = 2.8  # ~1 mm: a piece of ink this long is more than a speck
    # Mean faint darkness above the paper's grain: clean paper under 0.001 in 99 boxes of
    # 100 even on a noisy photo (0.004 at most, seen); a light pencil tick 0.01-0.03, an
    # erased cross or a smudge more, but a faint tick on a blurred, noisy 150 dpi photo
    # only 0.003 (the 300 000-position run's three misses, read as empty under 0.004).
    # The few empty boxes between cost a person a look; a missed mark costs a vote.
    trace: float = 0.0025


def _rect_centre(r: Rect) -> tuple[float, float]:
    return r.x + r.w / 2, r.y + r.h / 2


def _page_corners(page: PageLayout) -> np.ndarray:
    """The page's mark centres in the order top-left, top-right, bottom-right, bottom-left."""
    centres = np.array([_rect_centre(m) for m in page.marks])
    sums, diffs = centres.sum(axis=1), centres[:, 0] - centres[:, 1]
    order = [int(np.argmin(sums)), int(np.argmax(diffs)), int(np.argmax(sums)), int(np.argmin(diffs))]
    return centres[order]


class SheetReader:
    """Reads pages printed from `layouts` and signed with `key` (the community's form
    key, paper.serials.form_key)."""

    def __init__(self, layouts: Iterable[Layout], key: bytes, thresholds: Thresholds = Thresholds()) -> None:
        self.layouts = {layout.layout_hash[:16]: layout for layout in layouts}
        self.cycle_ids = {layout.cycle_id for layout in self.layouts.values()}
        self.key = key
        self.thresholds = thresholds
        # Distinct (marks, QR place) among the known pages: usually exactly one.
        geometries: dict[tuple[Any, ...], tuple[np.ndarray, Rect]] = {}
        for layout in self.layouts.values():
            for page in layout.pages:
                corners = _page_corners(page)
                geometries.setdefault((corners.round(1).tobytes(), page.qr), (corners, page.qr))
        self._geometries = list(geometries.values())

    # ---- the pipeline ----------------------------------------------------------------
    def read(self, page: PageImage) -> SheetReading:
        reading = SheetReading(page.file, page.page_index, page.image_sha256)
        if page.gray is None:
            return _finish(reading, [page.problem or "sheet.unreadable"], page.seconds)
        started = time.perf_counter()
        self._read_gray(page.gray, reading)
        reading.seconds = page.seconds + time.perf_counter() - started
        return reading

    def read_gray(
        self, gray: np.ndarray, *, file: str = "", page_index: int = 0, sha256: str = ""
    ) -> SheetReading:
        return self.read(PageImage(file, page_index, sha256, gray))

    def _read_gray(self, gray: np.ndarray, reading: SheetReading) -> None:
        view = sheet_imaging.overview(gray)  # shared by the mark search and the paper map
        # The four corner marks first; when they give no readable page, the sets of
        # three whose fourth is cut off by the picture's edge (a scan rotated a few
        # degrees). Every try is checked the same way (the QR code, then each box's
        # printed border where the marks put it), so a wrong guess is refused, never read.
        options = sheet_imaging.corner_mark_options(gray, view)
        # the QR codes found in the whole picture, searched once
        whole_picture: dict[Callable[..., Any], Any] = {}
        self._read_with(gray, view, next(options, None), reading, whole_picture)
        for marks in options:
            if reading.outcome != REJECTED or reading.reasons not in (["sheet.unreadable"], ["sheet.no_qr"]):
                return
            tried = SheetReading(reading.file, reading.page_index, reading.image_sha256)
            self._read_with(gray, view, marks, tried, whole_picture)
            if tried.outcome != REJECTED:
                for name in SheetReading.__slots__:
                    setattr(reading, name, getattr(tried, name))
                return

    def _read_with(
        self,
        gray: np.ndarray,
        view: sheet_imaging.Overview,
        marks: sheet_imaging.CornerMarks | None,
        reading: SheetReading,
        whole_picture: dict[Callable[..., Any], Any],
    ) -> None:
        found = self._find_qr(gray, marks, whole_picture)
        if found is None:
            _finish(reading, ["sheet.no_qr" if marks is not None else "sheet.unreadable"])
            return
        text, turn = found
        try:
            fields = parse_qr_text(text, self.key)
        except SerialError as exc:
            _finish(reading, [exc.code])
            return
        reading.serial, reading.page, reading.cycle_id = fields.serial, fields.page_label, fields.cycle_id
        page_layout, layout, problem = self._page_of(fields)
        if problem:
            _finish(reading, [problem])
            return
        assert page_layout is not None and layout is not None
        if marks is None or turn is None:
            _finish(reading, ["sheet.unreadable"])
            return
        to_image = sheet_imaging.homography(_page_corners(page_layout), np.roll(marks.centres, -turn, axis=0))
        paper_black = _mark_contrast(gray, to_image, page_layout)
        paper_map = sheet_imaging.PaperMap(gray, view)
        if paper_black is None:
            _finish(reading, ["sheet.unreadable"])
            return
        # The page's paper at each box's centre, for finding its printed border.
        centres = [to_image @ np.array([b.x + b.w / 2, b.y + b.h / 2, 1.0]) for b in page_layout.boxes]
        papers = paper_map.levels_at([(cx / cw, cy / cw) for cx, cy, cw in centres])
        boxes, aligned = [], 0
        for box, paper in zip(page_layout.boxes, papers, strict=True):
            measure = _measure_box(gray, to_image, box, paper_black, paper, self.thresholds)
            aligned += measure.border >= BORDER_MIN
            verdict = self._verdict(measure) if measure.border >= BORDER_MIN else MARGINAL
            boxes.append(BoxReading(box.project_id, box.category_id, measure.score, verdict))
        reading.boxes = boxes
        reading.selections = [b.project_id for b in boxes if b.verdict == MARKED]
        # Most borders missing means the page is not where the marks say (a wrong mark
        # was found, a fold): nothing on it can be trusted.
        if page_layout.boxes and aligned < 0.75 * len(page_layout.boxes):
            _finish(reading, ["sheet.unreadable"])
            return
        _finish(reading, _rule_problems(layout, page_layout, boxes))
        if reading.outcome == NEEDS_REVIEW:
            # The person who reviews may correct any box, not only the unclear ones (a
            # shadow can make the reader sure and wrong): each gets its zoomed picture.
            # An accepted page pays nothing for them.
            reading.crops = {box.project_id: _crop_png(gray, to_image, box) for box in page_layout.boxes}

    def _verdict(self, m: BoxMeasure) -> str:
        """Marked only on clear evidence of a deliberate mark: enough ink, dark against
        this box's own paper, in one piece at least a stroke long. Empty only when there
        is neither such ink nor a trace of anything. Everything between is a person's."""
        t = self.thresholds
        if m.score <= t.unmarked and m.stroke < t.speck_pt and m.trace < t.trace:
            return UNMARKED  # whatever a neighbour's scribble left in the ring outside
        if m.spill > SPILL_MAX:  # scribbled out past the border: cancelled, or not? A person says.
            return MARGINAL
        if m.score >= t.marked and m.stroke >= t.stroke_pt:
            return MARKED
        return MARGINAL

    def _page_of(self, fields: QrFields) -> tuple[PageLayout | None, Layout | None, str | None]:
        if fields.cycle_id not in self.cycle_ids:
            return None, None, "sheet.wrong_cycle"
        layout = self.layouts.get(fields.layout_hash_prefix)
        if layout is None or layout.cycle_id != fields.cycle_id or len(layout.pages) != fields.pages:
            return None, None, "sheet.unknown_layout"
        return layout.pages[fields.page - 1], layout, None

    def _find_qr(
        self,
        gray: np.ndarray,
        marks: sheet_imaging.CornerMarks | None,
        whole_picture: dict[Callable[..., Any], Any] | None = None,
    ) -> tuple[str, int | None] | None:
        """The QR text and the quarter turn (0..3) that maps the page onto the picture.

        zxing-cpp reads the QR region first, for each turn: on an ordinary page that is
        all (~0.3 ms). Only when it reads none does the earlier chain run, unchanged:
        zbar on each region, plain then sharpened, zbar on the whole picture, then
        OpenCV's detectors the same way. So a page zbar or OpenCV read before is read
        now, at the same turn: a page has one QR code, and a region holds it at one turn
        only."""
        regions: dict[tuple[int, int], np.ndarray] = {}  # each cut out once, whoever reads it

        def region(geometry: int, turn: int) -> np.ndarray:
            if (geometry, turn) not in regions:
                assert marks is not None
                corners, qr = self._geometries[geometry]
                to_image = sheet_imaging.homography(corners, np.roll(marks.centres, -turn, axis=0))
                margin = qr.w * 0.1
                x, y, w, h = qr.x - margin, qr.y - margin, qr.w + 2 * margin, qr.h + 2 * margin
                regions[geometry, turn] = sheet_imaging.warp_region(gray, to_image, x, y, w, h, QR_SCALE)
            return regions[geometry, turn]

        places = [(g, turn) for g in range(len(self._geometries)) for turn in (0, 2, 1, 3)]
        places = places if marks is not None else []
        for geometry, turn in places:
            try:
                found = sheet_imaging.zxing_qr_texts(region(geometry, turn))
            except (RuntimeError, ValueError, TypeError):
                break  # zxing-cpp failed, not "no code here": the other decoders look
            for text, _points in found:
                return text, turn
        decoders = [d for d in (_zbar_texts_or_none, _opencv_texts) if d is not None]
        for decode in decoders:
            for geometry, turn in places:
                crop = region(geometry, turn)
                for text, _points in decode(crop):
                    return text, turn
                # Sharpened only when the plain crop did not read: most pages
                # never pay for it.
                for text, _points in decode(sheet_imaging.sharpen(crop)):
                    return text, turn
            if whole_picture is None:
                whole_picture = {}
            if decode not in whole_picture:
                whole_picture[decode] = decode(gray)
            for text, points in whole_picture[decode]:
                return text, self._turn_of(points, marks)
        return None

    def _turn_of(self, points: np.ndarray, marks: sheet_imaging.CornerMarks | None) -> int | None:
        """The quarter turn that puts the QR code seen at `points` where the layout has it."""
        if marks is None:
            return None
        centre = np.append(np.asarray(points, dtype=np.float64).reshape(-1, 2).mean(axis=0), 1.0)
        for corners, qr in self._geometries:
            for turn in range(4):
                to_image = sheet_imaging.homography(corners, np.roll(marks.centres, -turn, axis=0))
                x, y, w = np.linalg.solve(to_image, centre)
                if qr.x <= x / w <= qr.x + qr.w and qr.y <= y / w <= qr.y + qr.h:
                    return turn
        return None


def _finish(reading: SheetReading, reasons: list[str], seconds: float | None = None) -> SheetReading:
    reading.reasons = list(dict.fromkeys(reasons))
    rejecting = {r for r in reading.reasons if r not in _REVIEW_REASONS}
    reading.outcome = REJECTED if rejecting else NEEDS_REVIEW if reading.reasons else ACCEPTED
    if reading.outcome == REJECTED:
        reading.selections = []  # nothing of a rejected page may be counted
    if seconds is not None:
        reading.seconds = seconds
    return reading


_REVIEW_REASONS = frozenset({"sheet.marginal_mark", "sheet.overvote", "sheet.undervote", "sheet.blank"})


def _rule_problems(layout: Layout, page: PageLayout, boxes: list[BoxReading]) -> list[str]:
    """Review reasons: unclear marks, and marks that break the category rules.

    A category split over pages is checked only for an overvote on this page (more
    marks here than the whole category allows); its undervote, the cycle's totals and a
    blank sheet are judged per page only on a one-page sheet: on a longer sheet they
    need every page, which is the review queue's job once pages are stored together."""
    problems = []
    if any(b.verdict == MARGINAL for b in boxes):
        problems.append("sheet.marginal_mark")
    marked = [b for b in boxes if b.verdict == MARKED]
    single_page = len(layout.pages) == 1
    if single_page and not marked and "sheet.marginal_mark" not in problems:
        return ["sheet.blank"]
    on_page = {b.category_id for b in page.boxes}
    for rules in layout.categories:
        if rules.category_id not in on_page:
            continue
        chosen = sum(b.category_id == rules.category_id for b in marked)
        whole = all(
            b.category_id != rules.category_id for p in layout.pages if p is not page for b in p.boxes
        )
        if chosen > rules.max_choices:
            problems.append("sheet.overvote")
        elif whole and chosen < rules.min_choices:
            problems.append("sheet.undervote")
    if single_page:
        if layout.max_total is not None and len(marked) > layout.max_total:
            problems.append("sheet.overvote")
        if len(marked) < layout.min_total:
            problems.append("sheet.undervote")
    return list(dict.fromkeys(problems))


def _mark_contrast(gray: np.ndarray, to_image: np.ndarray, page: PageLayout) -> float | None:
    """The black of the marks as a share of the paper beside them (0.05 on a good scan),
    None when the marks are too pale to tell ink from paper (a washed-out photo)."""
    ratios = []
    for mark in page.marks:
        margin = mark.w * 0.5
        patch = sheet_imaging.warp_region(
            gray, to_image, mark.x - margin, mark.y - margin, mark.w + 2 * margin, mark.h + 2 * margin, 1.5
        )
        n = patch.shape[0]
        inner = patch[n * 3 // 8 : n * 5 // 8, n * 3 // 8 : n * 5 // 8]
        paper = _percentile(patch, 90)
        if paper <= 0:
            return None
        ratios.append(_median_exact(inner) / paper)
    black = _median_exact(np.array(ratios))
    return black if 1 - black >= MIN_CONTRAST else None


@dataclass(frozen=True, slots=True)
class BoxMeasure:
    score: float  # share of the inner area that is ink (darker than INK_SHARE against the box's own paper)
    stroke: float  # the longest side of any connected piece of that ink, in points
    # mean faint darkness of the inner area above the paper's own noise (0 for clean paper);
    # measured only where the box could be empty (elsewhere INK_SHARE, its most)
    trace: float
    spill: float  # share of ink in a ring just outside the border (a scribbled-out box spills)
    border: float  # how dark the printed border is where it was found (0..1)


def _measure_box(
    gray: np.ndarray,
    to_image: np.ndarray,
    box: BoxRect,
    black: float,
    paper: float,
    thresholds: Thresholds,
) -> BoxMeasure:
    """`paper`: the page's paper level at the box's centre (sheet_imaging.PaperMap)."""
    margin = box.w * 0.5
    patch = sheet_imaging.warp_region(
        gray, to_image, box.x - margin, box.y - margin, box.w + 2 * margin, box.h + 2 * margin, SCALE
    ).astype(np.float32)
    side, start, reach = box.w * SCALE, margin * SCALE, round(SEARCH_PT * SCALE)
    # Finding the printed border needs only a rough darkness: against the page's light.
    contrast = max(1.0, paper * (1 - black))
    dark = np.clip((paper - patch) / contrast, 0.0, 1.0)
    lo, hi = round(start), round(start + side)
    dx, left, right = _find_edges(dark[lo:hi, :].mean(axis=0), start, side, reach)
    dy, top, bottom = _find_edges(dark[:, lo:hi].mean(axis=1), start, side, reach)
    border = min(left, right, top, bottom)
    # The ring from 1.5 pt outside the border to 4.5 pt (the project number starts 6 pt
    # away): ink there is a scribble spilling out of the box, a cancelled mark; its paper
    # is the paper the box is printed on.
    gap, width = round(1.5 * SCALE), round(3 * SCALE)
    bx0, bx1 = max(0, round(start + dx) - gap), round(start + dx + side) + gap
    by0, by1 = max(0, round(start + dy) - gap), round(start + dy + side) + gap
    ox0, oy0 = max(0, bx0 - width), max(0, by0 - width)
    ox1, oy1 = bx1 + width, by1 + width
    outer = dark[oy0:oy1, ox0:ox1] > INK_SHARE
    hole = dark[by0:by1, bx0:bx1] > INK_SHARE
    ring_count = outer.size - hole.size
    spill = (np.count_nonzero(outer) - np.count_nonzero(hole)) / ring_count if ring_count > 0 else 0.0
    inset = side * INSET
    x0, x1 = round(start + dx + inset), round(start + dx + side - inset)
    y0, y1 = round(start + dy + inset), round(start + dy + side - inset)
    if x1 <= x0 or y1 <= y0:
        return BoxMeasure(0.0, 0.0, 0.0, spill, 0.0)
    # The paper under the box, modelled from the ring's four sides (each its median, so
    # a stroke crossing one side moves it little) and blended across the box: a shadow,
    # a lamp's gradient or a stain wider than the box is the paper here, not ink.
    ring_sides = (
        (slice(by0, by1), slice(ox0, bx0)),  # left
        (slice(by0, by1), slice(bx1, ox1)),  # right
        (slice(oy0, by0), slice(bx0, bx1)),  # top
        (slice(by1, oy1), slice(bx0, bx1)),  # bottom
    )
    sides = [patch[side] for side in ring_sides]
    levels = [_median(p) if p.size else paper for p in sides]
    # A side much darker than the page's paper here is inked (a scribble spilling out of
    # this box or a neighbour's), not paper: the page's level stands in for it. A shadow
    # or a stain up to a quarter of the contrast is still taken as this box's paper.
    levels = [lv if lv >= paper - 0.25 * contrast else paper for lv in levels]
    u = (np.arange(x0, x1, dtype=np.float32) - bx0 + 0.5) / max(1, bx1 - bx0)
    v = (np.arange(y0, y1, dtype=np.float32) - by0 + 0.5) / max(1, by1 - by0)
    across = levels[0] + (levels[1] - levels[0]) * u  # one value per column
    down = levels[2] + (levels[3] - levels[2]) * v  # one value per row
    under = (across[None, :] + down[:, None]) * 0.5
    middle = sorted(levels)[1:3]  # the median of the four sides
    local = max(1.0, (middle[0] + middle[1]) / 2 * (1 - black))
    ink = (under - patch[y0:y1, x0:x1]) / local
    inked = ink > INK_SHARE
    score = np.count_nonzero(inked) / inked.size  # inked.mean(), without its float pass
    stroke = sheet_imaging.longest_blob_side(inked) / SCALE if score > 0 else 0.0
    if score > thresholds.unmarked or stroke >= thresholds.speck_pt:
        # Not empty whatever the trace says: only an empty box's verdict needs it.
        return BoxMeasure(score, stroke, INK_SHARE, spill, border)
    # Faint darkness that rises above the paper's own grain (twice its spread): a light
    # pencil line, what an eraser left, a smudge. It never makes a mark; it keeps a box
    # from being called empty. Measured on a lightly smoothed copy: a pencil line is a
    # few pixels long in every direction, sensor and JPEG noise is not.
    soft = sheet_imaging.smooth3(patch)
    soft_sides = [soft[side] for side in ring_sides]
    spreads = sorted(_median(np.abs(p - _median(p))) * 1.4826 for p in soft_sides if p.size)
    grain = 2.0 * (spreads[len(spreads) // 2] if spreads else 0.0) / local
    faint = (under - soft[y0:y1, x0:x1]) / local
    trace = float(np.clip(faint - grain, 0.0, INK_SHARE).mean())
    return BoxMeasure(score, stroke, trace, spill, border)


def _median(values: np.ndarray) -> float:
    """The (upper) median of an array: np.median's answer for an odd count, at a
    fraction of its fixed cost, which a box's dozen small medians would pay each."""
    flat = values.flatten()  # a copy, ordered in place
    k = flat.size // 2
    flat.partition(k)
    return float(flat[k])


def _median_exact(values: np.ndarray) -> float:
    """np.median's answer (the mean of the two middle values for an even count)."""
    flat = values.flatten()
    k = flat.size // 2
    if flat.size % 2:
        flat.partition(k)
        return float(flat[k])
    flat.partition((k - 1, k))
    return (float(flat[k - 1]) + float(flat[k])) / 2


def _percentile(values: np.ndarray, q: float) -> float:
    """np.percentile(values, q) by its default ('linear') method, the same number at a
    fifth of its cost: the two order statistics around (n - 1) * q / 100, and numpy's
    own interpolation between them (from the lower one below half way, else from the
    upper one)."""
    flat = values.flatten()
    n = flat.size
    virtual = (n - 1) * (q / 100)
    if virtual >= n - 1:
        return float(flat.max())
    below = math.floor(virtual)
    gamma = virtual - below
    flat.partition((below, below + 1))
    a: float = flat[below].item()
    b: float = flat[below + 1].item()
    return b - (b - a) * (1 - gamma) if gamma >= 0.5 else a + (b - a) * gamma


def _find_edges(profile: np.ndarray, start: float, side: float, reach: int) -> tuple[int, float, float]:
    """The shift (pixels) that puts two edges `side` apart on the darkest pair of
    columns, and the darkness found at each edge."""
    # Each column with its two neighbours, wrapping round as np.roll does (at a tenth of
    # its cost): a 0.8 pt line is ~2.4 px.
    before = np.concatenate((profile[-1:], profile[:-1]))
    after = np.concatenate((profile[1:], profile[:1]))
    smooth = np.maximum(profile, np.maximum(before, after))
    first, second = round(start), round(start + side - 1)
    lowest, highest = max(-reach, -first), min(reach, len(smooth) - 1 - second)
    if first <= second and lowest <= highest:  # (a box's side is ~40 px: always the first)
        # Every pair at once (the same float32 sums); when one pair is darker than all
        # others by far more than the tie tolerance below, it is what the walk finds.
        totals = smooth[first + lowest : first + highest + 1] + smooth[second + lowest : second + highest + 1]
        top = int(np.argmax(totals))
        if totals.size == 1 or totals[top] - np.partition(totals, -2)[-2] > 1e-6:
            shift = lowest + top
            return shift, float(smooth[first + shift]), float(smooth[second + shift])
    best, best_shift = -1.0, 0
    for shift in range(-reach, reach + 1):
        a, b = first + shift, second + shift
        if a < 0 or b >= len(smooth):
            continue
        total = smooth[a] + smooth[b]
        if total > best + 1e-9 or (abs(total - best) <= 1e-9 and abs(shift) < abs(best_shift)):
            best, best_shift = total, shift
    return best_shift, float(smooth[first + best_shift]), float(smooth[second + best_shift])


def _crop_png(gray: np.ndarray, to_image: np.ndarray, box: BoxRect) -> bytes:
    """A zoomed picture of the box and its neighbourhood (4 px per point: a 5 mm box is
    57 px) for the person who decides."""
    margin = box.w * 0.6
    patch = sheet_imaging.warp_region(
        gray, to_image, box.x - margin, box.y - margin, box.w + 2 * margin, box.h + 2 * margin, 4.0
    )
    return sheet_imaging.encode_png(patch)


def _zbar_texts(image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    found = _zbar_decode(image, symbols=[ZBarSymbol.QRCODE])
    return [
        (symbol.data.decode("utf-8", errors="replace"), np.array(symbol.polygon, dtype=np.float64))
        for symbol in found
    ]


_zbar_texts_or_none = _zbar_texts if _zbar_decode is not None else None
_opencv_texts = sheet_imaging.opencv_qr_texts


def reader_for_package(package: dict[str, Any], thresholds: Thresholds = Thresholds()) -> SheetReader:
    """A reader for every residents' cycle in a support point's package, with the form
    key derived from its voter-key secret (ValueError when the package has none)."""
    from sync.packages import NOT_RESIDENTS_KINDS

    secret = package.get("voter_key_secret") if isinstance(package, dict) else None
    if not isinstance(secret, str):
        raise ValueError("the package has no voter_key_secret")
    layouts = []
    for cycle in package.get("cycles") or []:
        if isinstance(cycle, dict) and cycle.get("kind") not in NOT_RESIDENTS_KINDS:
            try:
                layouts.append(build_layout(cycle))
            except LayoutError:
                continue  # a cycle with nothing to print has no sheets to read either
    return SheetReader(layouts, form_key(bytes.fromhex(secret)), thresholds)


def listed_files(paths: Iterable[str | os.PathLike[str]]) -> list[str | os.PathLike[str]]:
    """The files `paths` stand for, in reading order: a folder stands for the files in it
    (sorted, not recursive); anything else is itself (the reader says what is wrong)."""
    files: list[str | os.PathLike[str]] = []
    for path in paths:
        if os.path.isdir(path):
            files += sorted(entry.path for entry in os.scandir(path) if entry.is_file())
        else:
            files.append(path)
    return files


def read_files(
    paths: Iterable[str | os.PathLike[str]],
    reader: SheetReader,
    limits: Limits = Limits(),
    on_progress: Callable[[int, int | None], None] | None = None,
) -> Iterator[SheetReading]:
    """Every page of every file, in order; a folder stands for the files in it (sorted,
    not recursive). Each page gives exactly one reading, whatever is wrong with it.
    `on_progress(files_read, files)` is told after each file, the folders listed first."""
    if on_progress is not None:
        files = listed_files(paths)
        on_progress(0, len(files))
        for done, path in enumerate(files, 1):
            yield from read_files([path], reader, limits)
            on_progress(done, len(files))
        return
    for path in paths:
        if os.path.isdir(path):
            inside = sorted(entry.path for entry in os.scandir(path) if entry.is_file())
            yield from read_files(inside, reader, limits)
            continue
        for page in read_pages(path, limits):
            yield reader.read(page)
