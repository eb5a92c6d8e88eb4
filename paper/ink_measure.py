"""Telling ink from paper: the page's contrast measured on its marks, and each
checkbox's ink measured against the paper around it, by the mark rule's numbers.

`mark_contrast` gives the black of the corner marks as a share of the paper beside
them; `measure_box` cuts a box out at SCALE pixels per point, re-finds its printed
border, models the paper under it from a ring around it and measures the ink inside
(score, stroke, faint trace, spill past the border). `Thresholds` holds the numbers the
reader's verdict compares those with (docs/paper-reading.md explains them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from paper import ink_pixels, page_warp
from paper.layout import BoxRect, PageLayout

__all__ = [
    "INK_SHARE",
    "MIN_CONTRAST",
    "SPILL_MAX",
    "BoxMeasure",
    "Thresholds",
    "mark_contrast",
    "measure_box",
]

SCALE = 3.0  # pixels per point for a box: 200 dpi is 2.8, so no detail is lost
INSET = 0.2  # the inner area: the box shrunk by this share of its side on every side
SEARCH_PT = 3.0  # how far a printed box may sit from where the marks put it
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


def mark_contrast(gray: np.ndarray, to_image: np.ndarray, page: PageLayout) -> float | None:
    """The black of the marks as a share of the paper beside them (0.05 on a good scan),
    None when the marks are too pale to tell ink from paper (a washed-out photo)."""
    ratios = []
    for mark in page.marks:
        margin = mark.w * 0.5
        patch = page_warp.warp_region(
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


def measure_box(
    gray: np.ndarray,
    to_image: np.ndarray,
    box: BoxRect,
    black: float,
    paper: float,
    thresholds: Thresholds,
) -> BoxMeasure:
    """`paper`: the page's paper level at the box's centre (paper.paper_map.PaperMap)."""
    margin = box.w * 0.5
    patch = page_warp.warp_region(
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
    stroke = ink_pixels.longest_blob_side(inked) / SCALE if score > 0 else 0.0
    if score > thresholds.unmarked or stroke >= thresholds.speck_pt:
        # Not empty whatever the trace says: only an empty box's verdict needs it.
        return BoxMeasure(score, stroke, INK_SHARE, spill, border)
    # Faint darkness that rises above the paper's own grain (twice its spread): a light
    # pencil line, what an eraser left, a smudge. It never makes a mark; it keeps a box
    # from being called empty. Measured on a lightly smoothed copy: a pencil line is a
    # few pixels long in every direction, sensor and JPEG noise is not.
    soft = ink_pixels.smooth3(patch)
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
