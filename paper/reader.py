"""Reading a page of a ballot sheet: QR code, alignment, every box's ink, a verdict.

The steps, for one grayscale page:
1. Find the four solid corner marks (paper.corner_marks: in a square at each corner
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
   as ink (paper.ink_measure).
5. Two thresholds: below UNMARKED a box is empty, from MARKED up it is marked, between
   them a person decides (needs_review with sheet.marginal_mark and a zoomed crop). A
   box whose border is not found where it should be is marginal too: a misaligned box
   is never guessed.
6. The category rules: more marks than max_choices (overvote), fewer than min_choices
   (undervote), none at all (blank sheet) send the sheet to review.

A poll sheet (paper.poll_layout: its QR text says so) is read by the very same steps;
only step 6 differs: its marks are judged as answers (paper.poll_answers), and the
reading's `cycle_id` is the poll's form id (minus the poll's id).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from paper import corner_marks, image_codec, overview, page_warp, qr_decoders
from paper.ink_measure import SPILL_MAX, BoxMeasure, Thresholds, mark_contrast, measure_box
from paper.inputs import PageImage
from paper.layout import BoxRect, Layout, LayoutError, PageLayout, Rect
from paper.paper_map import PaperMap
from paper.poll_answers import page_problems
from paper.poll_layout import PollSheet, poll_sheet
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
from paper.sheet_plan import build_layout
from sync.cycle_package import CyclePackage

__all__ = ["SheetReader", "reader_for_package"]

QR_SCALE = 3.0  # a version-4 module (0.68 mm) becomes ~6 px: zbar reads it at once
BORDER_MIN = 0.2  # mean darkness along a found border; a sharp scan gives ~0.9, a blurred 150 dpi one ~0.5


def _rect_centre(r: Rect) -> tuple[float, float]:
    return r.x + r.w / 2, r.y + r.h / 2


def _page_corners(page: PageLayout) -> np.ndarray:
    """The page's mark centres in the order top-left, top-right, bottom-right, bottom-left."""
    centres = np.array([_rect_centre(m) for m in page.marks])
    sums, diffs = centres.sum(axis=1), centres[:, 0] - centres[:, 1]
    order = [int(np.argmin(sums)), int(np.argmax(diffs)), int(np.argmax(sums)), int(np.argmin(diffs))]
    return centres[order]


class SheetReader:
    """Reads pages printed from `layouts` (and the sheets of `polls`) and signed with
    `key` (the community's form key, paper.serials.form_key)."""

    def __init__(
        self,
        layouts: Iterable[Layout],
        key: bytes,
        thresholds: Thresholds = Thresholds(),
        polls: Iterable[PollSheet] = (),
    ) -> None:
        self.layouts = {layout.layout_hash[:16]: layout for layout in layouts}
        self.cycle_ids = {layout.cycle_id for layout in self.layouts.values()}
        self.polls = {sheet.layout.layout_hash[:16]: sheet for sheet in polls}
        self.layouts.update((prefix, sheet.layout) for prefix, sheet in self.polls.items())
        self.cycle_ids.update(sheet.form_id for sheet in self.polls.values())
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
        view = overview.overview(gray)  # shared by the mark search and the paper map
        # The four corner marks first; when they give no readable page, the sets of
        # three whose fourth is cut off by the picture's edge (a scan rotated a few
        # degrees). Every try is checked the same way (the QR code, then each box's
        # printed border where the marks put it), so a wrong guess is refused, never read.
        options = corner_marks.corner_mark_options(gray, view)
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
        view: overview.Overview,
        marks: corner_marks.CornerMarks | None,
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
        reading.serial, reading.page, reading.cycle_id = fields.serial, fields.page_label, fields.form_id
        page_layout, layout, problem = self._page_of(fields)
        if problem:
            _finish(reading, [problem])
            return
        assert page_layout is not None and layout is not None
        if marks is None or turn is None:
            _finish(reading, ["sheet.unreadable"])
            return
        to_image = page_warp.homography(_page_corners(page_layout), np.roll(marks.centres, -turn, axis=0))
        paper_black = mark_contrast(gray, to_image, page_layout)
        paper_map = PaperMap(gray, view)
        if paper_black is None:
            _finish(reading, ["sheet.unreadable"])
            return
        # The page's paper at each box's centre, for finding its printed border.
        centres = [to_image @ np.array([b.x + b.w / 2, b.y + b.h / 2, 1.0]) for b in page_layout.boxes]
        papers = paper_map.levels_at([(cx / cw, cy / cw) for cx, cy, cw in centres])
        boxes, aligned = [], 0
        for box, paper in zip(page_layout.boxes, papers, strict=True):
            measure = measure_box(gray, to_image, box, paper_black, paper, self.thresholds)
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
        poll = self.polls.get(layout.layout_hash[:16])
        if poll is not None:
            _finish(reading, page_problems(poll, boxes))
        else:
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
        if fields.form_id not in self.cycle_ids:
            return None, None, "sheet.wrong_poll" if fields.kind == "poll" else "sheet.wrong_cycle"
        layout = self.layouts.get(fields.layout_hash_prefix)
        if layout is None or layout.cycle_id != fields.form_id or len(layout.pages) != fields.pages:
            return None, None, "sheet.unknown_layout"
        return layout.pages[fields.page - 1], layout, None

    def _find_qr(
        self,
        gray: np.ndarray,
        marks: corner_marks.CornerMarks | None,
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
                to_image = page_warp.homography(corners, np.roll(marks.centres, -turn, axis=0))
                margin = qr.w * 0.1
                x, y, w, h = qr.x - margin, qr.y - margin, qr.w + 2 * margin, qr.h + 2 * margin
                regions[geometry, turn] = page_warp.warp_region(gray, to_image, x, y, w, h, QR_SCALE)
            return regions[geometry, turn]

        places = [(g, turn) for g in range(len(self._geometries)) for turn in (0, 2, 1, 3)]
        places = places if marks is not None else []
        for geometry, turn in places:
            try:
                found = qr_decoders.zxing_qr_texts(region(geometry, turn))
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
                for text, _points in decode(qr_decoders.sharpen(crop)):
                    return text, turn
            if whole_picture is None:
                whole_picture = {}
            if decode not in whole_picture:
                whole_picture[decode] = decode(gray)
            for text, points in whole_picture[decode]:
                return text, self._turn_of(points, marks)
        return None

    def _turn_of(self, points: np.ndarray, marks: corner_marks.CornerMarks | None) -> int | None:
        """The quarter turn that puts the QR code seen at `points` where the layout has it."""
        if marks is None:
            return None
        centre = np.append(np.asarray(points, dtype=np.float64).reshape(-1, 2).mean(axis=0), 1.0)
        for corners, qr in self._geometries:
            for turn in range(4):
                to_image = page_warp.homography(corners, np.roll(marks.centres, -turn, axis=0))
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


_REVIEW_REASONS = frozenset(
    {
        "sheet.marginal_mark",
        "sheet.overvote",
        "sheet.undervote",
        "sheet.blank",
        "poll_sheet.blank",
        "poll_sheet.rank_row_twice",
        "poll_sheet.rank_place_twice",
        "poll_sheet.points_row_twice",
        "poll_sheet.one_too_many",
        "poll_sheet.too_many",
        "poll_sheet.rule",
    }
)


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


def _crop_png(gray: np.ndarray, to_image: np.ndarray, box: BoxRect) -> bytes:
    """A zoomed picture of the box and its neighbourhood (4 px per point: a 5 mm box is
    57 px) for the person who decides."""
    margin = box.w * 0.6
    patch = page_warp.warp_region(
        gray, to_image, box.x - margin, box.y - margin, box.w + 2 * margin, box.h + 2 * margin, 4.0
    )
    return image_codec.encode_png(patch)


_opencv_texts = qr_decoders.opencv_qr_texts
_zbar_texts_or_none = qr_decoders.zbar_qr_texts


def reader_for_package(package: CyclePackage, thresholds: Thresholds = Thresholds()) -> SheetReader:
    """A reader for every residents' cycle and every poll in a support point's package,
    with the form key derived from its voter-key secret (ValueError when that is too
    short to key)."""
    layouts = []
    for cycle in package.cycles:
        if cycle.for_residents:
            try:
                layouts.append(build_layout(cycle))
            except LayoutError:
                continue  # a cycle with nothing to print has no sheets to read either
    polls = []
    for poll in package.polls:
        try:
            polls.append(poll_sheet(poll))
        except LayoutError:
            continue  # a poll no sheet can show (paper.poll_layout) has no sheets to read
    return SheetReader(layouts, form_key(package.voter_key_secret), thresholds, polls)
