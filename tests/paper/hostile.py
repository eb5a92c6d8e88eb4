"""Hostile ballot sheets: paper spoilt the way sheets at a support point are, each with
its known answer, to show that the reader never counts a vote nobody made, never drops
one silently, and still reads a sheet whose QR code and boxes are in the picture.

`make_hostile(kind, seed)` fills in page 1 of an 18-box sheet (`hostile_cycle`: four
categories of 4-5 projects, at most 3 choices each), spoils it with one kind of damage
and scans or photographs it (corpus.py's SCAN and PHOTO distortions). Unless the kind
says otherwise the voter marks 1-3 boxes in pen (tick, cross or filled; at most one per
category), so a single false mark never breaks a rule on its own and an accepted sheet
shows it; the damage then lands on ~75 % of the empty boxes. The voter's marks never
break a category rule, so every sheet not accepted was the reader's doing.

Truth: an empty box under damage is acceptable as "unmarked" or "marginal", never
"marked"; a marked box keeps its acceptability whatever lies over it. Every value
below is drawn uniformly in its range; "darker" is the share of the paper's grey level
taken away (0.2: paper at 255 becomes 204). Overlapping damage of one sheet combines
as the darker of the two, so a pixel is never darker than the range says.

    stain          a round stain on (its centre within a quarter side of the centre of) an
                   empty box: 2-35 % darker, diameter 0.5-3 box sides, a hard edge or a soft
                   one fading over 10-40 % of the radius; coffee, tea or water coloured.
    coffee_ring    2-4 rings through empty boxes: ring 0.5-2 mm wide, 8-25 % darker at its
                   outer edge, outer diameter 15-60 mm, the inside at most a quarter as dark.
    speck          1-3 dust or toner specks in an empty box: 0.3-1.0 mm across (elliptic,
                   1-1.6 to 1), black (grey 10-50) or dark grey (60-120), clear of the border.
    erasure        a pen cross (as corpus.py draws it) rubbed out: 3-30 % of its ink left,
                   plus an eraser's grey smear 2-6 % darker (sigma 0.8-3 mm). Empty.
    smudge         a Gaussian grey smudge within 1 mm of an empty box's centre: peak 6-25 %
                   darker, sigma 1-5 mm along each of two axes, turned at random.
    shadow         a phone's shadow over the page, 10-35 % darker, its edge hard or with a
                   0.5-5 mm penumbra: either everything left of a line through the box
                   column at 30-90 % of the box side, or a half-plane whose edge crosses
                   the column at 20-70 degrees. Every box is under it or cut by its edge.
    gradient       a lamp's light across the page, the far side 20-50 % darker (linear in a
                   random direction, or radial from a random point); no other light change.
    fold           1-2 creases across the page, half of them through a box: a line 0.2-0.6
                   mm wide, 10-35 % darker, and one side 2-8 % darker over 1-4 mm.
    holes          a staple's two holes (0.5-1 mm, grey 20-90, 10-13 mm apart) in the left
                   or top margin; in 70 % of sheets two punched holes (5.5-6.5 mm, showing a
                   table or lid at grey 40-170 with a darker rim) 12 mm from the left or
                   right edge, 80 mm apart; in 80 % a staple hole in 1-4 empty boxes.
    highlighter    yellow highlighter (BGR ~(90, 238, 248), multiplied) 4-6 mm wide, tilted
                   up to 1 degree, from up to 3 mm left of an empty box over its number and
                   title, 40-140 mm long, on ~60 % of the empty boxes.
    pencil         the voter's marks in pencil: 1-3 per category, ticks or crosses, grey
                   90-150, 0.3-0.6 mm wide, grainy. Marked; "marginal" is acceptable too.
    ink_colours    the voter's marks in red (BGR ~(45, 45, 200)), blue or black ink: 1-3 per
                   category, ticks or crosses 0.35-0.7 mm wide. Marked ("marginal" also
                   acceptable for red only).
    photocopy      the filled-in page copied 2-3 times before the scan, each copy: scale
                   99-101 %, shifted up to 0.5 mm, blurred (sigma 0.05-0.12 mm), contrast
                   stretched (grey 15-45 to black, 215-240 to white), the paper 5-20 grey
                   levels darker, noise sigma 2-5, 30-150 toner dots 0.1-0.25 mm (grey 80-180).
    crumpled       a crumpled page: every point moved by a smooth random field, at most
                   0.2-0.6 mm, then 4-10 creases each shading one side 3-10 % (fading over
                   3-15 mm) with a 4-15 % darker ridge 0.2-0.4 mm wide.
    clipped_corner a scan turned 3-5 degrees (enlarged by nothing: scale 97-100 %) and
                   shifted so that exactly one corner mark is 25-100 % outside the
                   picture, the other three at least 1 mm inside, the QR code (2 mm around
                   it) and every box inside. Truth as drawn; the reader should read it,
                   and a rejection counts as "rejected although readable".

The same (kind, seed, dpi, capture) gives the same picture; the damage drawn does not
depend on the capture. The known answer's `damage` holds the kind, each thing drawn
with its values, and `readable` (the QR code and every box lie inside the picture).
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from paper.layout import MM, BoxRect, Layout, PageLayout
from paper.sheet_plan import build_layout

from .corpus import (
    EXPECTED,
    BoxAnswer,
    Distortion,
    KnownAnswer,
    MarkKind,
    WarpHook,
    _draw_mark,
    _stroke,
    long_cycle,
    make_sheet,
    packaged,
    random_distortion,
)

__all__ = [
    "CAPTURES",
    "EMPTY_UNDER_DAMAGE",
    "HOSTILE_KINDS",
    "MAX_DARKNESS",
    "RANGES",
    "SheetScore",
    "hostile_cycle",
    "make_hostile",
    "score_sheet",
]

EMPTY_UNDER_DAMAGE = frozenset({"unmarked", "marginal"})
EITHER = frozenset({"marked", "marginal"})

# The values each kind draws (the docstring's ranges); test_hostile checks the record.
RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "stain": {"darkness": (0.02, 0.35), "diameter_sides": (0.5, 3.0)},
    "coffee_ring": {"darkness": (0.08, 0.25), "width_mm": (0.5, 2.0), "diameter_mm": (15, 60)},
    "speck": {"size_mm": (0.3, 1.0), "grey": (10, 120)},
    "erasure": {"ink_left": (0.03, 0.30), "smear": (0.02, 0.06)},
    "smudge": {"darkness": (0.06, 0.25), "sigma_mm": (1.0, 5.0)},
    "shadow": {"darkness": (0.10, 0.35), "penumbra_mm": (0.0, 5.0), "edge_at_side": (0.3, 0.9)},
    "gradient": {"darkness": (0.20, 0.50)},
    "fold": {"line_darkness": (0.10, 0.35), "width_mm": (0.2, 0.6), "step": (0.02, 0.08)},
    "holes": {"staple_mm": (0.5, 1.0), "punch_mm": (5.5, 6.5)},
    "highlighter": {"width_mm": (4.0, 6.0), "length_mm": (40, 140)},
    "pencil": {"grey": (90, 150), "width_mm": (0.3, 0.6)},
    "ink_colours": {"width_mm": (0.35, 0.7)},
    "photocopy": {"copies": (2, 3), "blur_mm": (0.05, 0.12), "noise": (2, 5)},
    "crumpled": {"shift_mm": (0.2, 0.6), "creases": (4, 10)},
    "clipped_corner": {"rotation_deg": (3.0, 5.0), "outside": (0.25, 1.0)},
}
HOSTILE_KINDS = tuple(RANGES)
# How much darker than the clean sheet an empty damaged box may get anywhere (grey).
# An erasure: 30 % of the blue pen's ~83 % grey darkness, under a 6 % smear.
MAX_DARKNESS = {"stain": 0.35, "coffee_ring": 0.25, "erasure": 0.29, "smudge": 0.25, "shadow": 0.35,
                "gradient": 0.50, "fold": 1 - 0.65 * 0.92, "highlighter": 0.16}  # fmt: skip
# Captures the bench draws: a phone's shadow and a crumpled page are photographed, a
# corner cut off is a scan turned on the glass; the rest come both ways.
CAPTURES = {"shadow": ("photo",), "crumpled": ("photo",), "clipped_corner": ("scan",)}
_PAGE_WIDE = {"shadow", "gradient", "fold", "photocopy", "crumpled"}
_GREY = np.array([0.114, 0.587, 0.299], dtype=np.float32)  # BGR weights of OpenCV's grey


@functools.cache
def hostile_cycle() -> dict:
    """Eighteen projects on one page: more positions per printed sheet than sample_cycle."""
    return long_cycle(18, cycle_id=33)


@functools.cache
def _layout() -> Layout:
    return build_layout(packaged(hostile_cycle()))


def _smooth(t):
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _tint(bgr_weights) -> np.ndarray:
    """Per-channel weights of a coloured darkening whose grey darkening is 1 (so a stain
    `d` darker is `d` darker to the reader, whatever its colour)."""
    weights = np.array(bgr_weights, dtype=np.float32)
    return weights / float(weights @ _GREY)


@dataclass
class _Canvas:
    """The flat page being spoilt, with what the damage needs to know about it."""

    image: np.ndarray  # BGR uint8, drawn on in place
    page: PageLayout
    k: float  # pixels per point
    empty: set[int]  # project ids the voter left empty
    rng: random.Random
    record: list[dict] = field(default_factory=list)
    answers: dict[int, BoxAnswer] = field(default_factory=dict)  # marks the damage made
    dark: np.ndarray | None = None

    @property
    def mm(self) -> float:
        return MM * self.k

    def square(self, box: BoxRect) -> tuple[float, float, float]:
        return box.x * self.k, box.y * self.k, box.w * self.k

    def centre(self, box: BoxRect) -> tuple[float, float]:
        x, y, s = self.square(box)
        return x + s / 2, y + s / 2

    def targets(self, share: float, at_least: int = 1, at_most: int = 99) -> list[BoxRect]:
        empty = [b for b in self.page.boxes if b.project_id in self.empty]
        chosen = [b for b in empty if self.rng.random() < share]
        while len(chosen) < min(at_least, len(empty)):
            chosen.append(self.rng.choice([b for b in empty if b not in chosen]))
        return chosen[:at_most]

    def window(self, cx: float, cy: float, reach: float):
        """Origin and offsets from (cx, cy) of the pixels within `reach` (clipped)."""
        h, w = self.image.shape[:2]
        x0, x1 = max(0, int(cx - reach)), min(w, int(cx + reach) + 2)
        y0, y1 = max(0, int(cy - reach)), min(h, int(cy + reach) + 2)
        dx = np.arange(x0, x1, dtype=np.float32)[None, :] - np.float32(cx)
        dy = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(cy)
        return x0, y0, dx, dy

    def darken(self, x0: int, y0: int, patch: np.ndarray) -> None:
        if self.dark is None:
            self.dark = np.zeros(self.image.shape[:2], np.float32)
        h, w = patch.shape
        np.maximum(self.dark[y0 : y0 + h, x0 : x0 + w], patch, out=self.dark[y0 : y0 + h, x0 : x0 + w])

    def lay(self, tint=(1.0, 1.0, 1.0)) -> None:
        """Lays the darkness gathered so far on the page, in the colour `tint`."""
        if self.dark is None:
            return
        rows, cols = np.nonzero(self.dark.max(axis=1))[0], np.nonzero(self.dark.max(axis=0))[0]
        if rows.size:
            ys, xs = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
            self.multiply(ys, xs, 1 - self.dark[ys, xs, None] * _tint(tint))
        self.dark = None

    def multiply(self, ys: slice, xs: slice, factor: np.ndarray) -> None:
        region = self.image[ys, xs].astype(np.float32) * factor
        self.image[ys, xs] = np.clip(np.rint(region), 0, 255).astype(np.uint8)

    def note(self, **values) -> None:
        self.record.append({k: round(v, 3) if isinstance(v, float) else v for k, v in values.items()})


def _stain(c: _Canvas) -> None:
    rng, spec = c.rng, RANGES["stain"]
    colour = rng.choice([(1.4, 1.0, 0.75), (1.2, 1.0, 0.9), (1.0, 1.0, 1.0)])  # coffee, tea, water
    for box in c.targets(0.75):
        darkness, radius = (
            rng.uniform(*spec["darkness"]),
            rng.uniform(*spec["diameter_sides"]) * box.w * c.k / 2,
        )
        edge = rng.uniform(0.1, 0.4) * radius if rng.random() < 0.5 else 1.0
        cx, cy = (v + rng.uniform(-0.25, 0.25) * box.w * c.k for v in c.centre(box))
        x0, y0, dx, dy = c.window(cx, cy, radius)
        mottle = cv2.resize(np.float32([[rng.uniform(0.8, 1) for _ in range(4)] for _ in range(4)]),
                            (dx.shape[1], dy.shape[0]), interpolation=cv2.INTER_CUBIC)  # fmt: skip
        profile = _smooth((radius - np.sqrt(dx * dx + dy * dy)) / edge)
        c.darken(x0, y0, darkness * profile * np.clip(mottle, 0, 1))
        c.note(box=box.project_id, darkness=darkness, diameter_sides=2 * radius / (box.w * c.k),
               soft_edge_mm=edge / c.mm)  # fmt: skip
    c.lay(colour)


def _coffee_ring(c: _Canvas) -> None:
    rng, spec = c.rng, RANGES["coffee_ring"]
    for box in c.targets(0.0, at_least=rng.randint(2, 4)):
        darkness, width = rng.uniform(*spec["darkness"]), rng.uniform(*spec["width_mm"]) * c.mm
        radius, angle = rng.uniform(*spec["diameter_mm"]) * c.mm / 2, rng.uniform(0, 2 * math.pi)
        px, py = (v + rng.uniform(-0.3, 0.3) * box.w * c.k for v in c.centre(box))
        x0, y0, dx, dy = c.window(px + radius * math.cos(angle), py + radius * math.sin(angle), radius + 1)
        rho = np.sqrt(dx * dx + dy * dy)
        # the coffee dries to its rim: darkest at the outer edge, the inside barely tinted
        inside = rng.uniform(0, 0.25)
        band = (rho - (radius - width)) / width
        profile = np.where(band >= 0, 0.35 + 0.65 * np.clip(band, 0, 1), inside)
        c.darken(x0, y0, darkness * profile * _smooth(radius - rho + 0.5))
        c.note(box=box.project_id, darkness=darkness, width_mm=width / c.mm, diameter_mm=2 * radius / c.mm)
    c.lay((1.4, 1.0, 0.75))


def _speck(c: _Canvas) -> None:
    rng, spec = c.rng, RANGES["speck"]
    for box in c.targets(0.75):
        x, y, s = c.square(box)
        placed: list[tuple[float, float, float]] = []
        for _ in range(rng.randint(1, 3)):
            size, aspect = rng.uniform(*spec["size_mm"]) * c.mm, rng.uniform(1, 1.6)
            grey = rng.uniform(10, 50) if rng.random() < 0.5 else rng.uniform(60, 120)
            # clear of the printed border (0.8 pt), so the speck lies on the paper inside,
            # and 0.3 mm from the others: two touching specks would be one too big
            lo, hi = 0.12 * s + size / 2, 0.88 * s - size / 2
            for _try in range(20):
                cx, cy = x + rng.uniform(lo, hi), y + rng.uniform(lo, hi)
                if all(math.hypot(cx - px, cy - py) > (size + ps) / 2 + 0.3 * c.mm for px, py, ps in placed):
                    break
            else:
                continue
            placed.append((cx, cy, size))
            x0, y0, dx, dy = c.window(cx, cy, size)
            mask = np.zeros((dy.shape[0], dx.shape[1]), np.uint8)
            centre = (round((cx - x0) * 16), round((cy - y0) * 16))
            axes = (round(size / 2 * 16), round(size / 2 / aspect * 16))
            cv2.ellipse(mask, centre, axes, rng.uniform(0, 180), 0, 360, 255, -1, cv2.LINE_AA, shift=4)
            a = mask[..., None].astype(np.float32) / 255
            region = c.image[y0 : y0 + mask.shape[0], x0 : x0 + mask.shape[1]]
            region[:] = np.minimum(region, np.rint(region * (1 - a) + grey * a)).astype(np.uint8)
            c.note(box=box.project_id, size_mm=size / c.mm, grey=grey)


def _erasure(c: _Canvas) -> None:
    rng, spec = c.rng, RANGES["erasure"]
    for box in c.targets(0.75):
        x, y, s = c.square(box)
        pad = round(0.6 * s)
        x0, y0 = round(x) - pad, round(y) - pad
        paper = np.full((round(s) + 2 * pad, round(s) + 2 * pad, 3), 255, np.uint8)
        _draw_mark(paper, MarkKind.CROSS, (x - x0, y - y0, s), c.k * 72, rng)
        left = rng.uniform(*spec["ink_left"])
        h, w = paper.shape[:2]
        c.multiply(slice(y0, y0 + h), slice(x0, x0 + w), 1 - left * (1 - paper.astype(np.float32) / 255))
        smear, along, across = rng.uniform(*spec["smear"]), rng.uniform(1.5, 3), rng.uniform(0.8, 1.5)
        c.darken(*_gaussian(c, c.centre(box), smear, along * c.mm, across * c.mm))
        c.note(box=box.project_id, ink_left=left, smear=smear)
    c.lay()


def _gaussian(c: _Canvas, centre, peak: float, sigma_a: float, sigma_b: float):
    angle = c.rng.uniform(0, math.pi)
    x0, y0, dx, dy = c.window(*centre, 3 * max(sigma_a, sigma_b))
    u, v = dx * math.cos(angle) + dy * math.sin(angle), dy * math.cos(angle) - dx * math.sin(angle)
    return x0, y0, peak * np.exp(-0.5 * ((u / sigma_a) ** 2 + (v / sigma_b) ** 2))


def _smudge(c: _Canvas) -> None:
    rng, spec = c.rng, RANGES["smudge"]
    for box in c.targets(0.75):
        peak = rng.uniform(*spec["darkness"])
        sigmas = [rng.uniform(*spec["sigma_mm"]) for _ in range(2)]
        centre = [v + rng.uniform(-1, 1) * c.mm for v in c.centre(box)]
        c.darken(*_gaussian(c, centre, peak, sigmas[0] * c.mm, sigmas[1] * c.mm))
        c.note(box=box.project_id, darkness=peak, sigma_mm=max(sigmas))
    c.lay()


def _page_grid(c: _Canvas, step: int = 1):
    h, w = c.image.shape[:2]
    return (
        np.arange(0, w, step, dtype=np.float32)[None, :],
        np.arange(0, h, step, dtype=np.float32)[:, None],
    )


def _shadow(c: _Canvas) -> None:
    rng, spec = c.rng, RANGES["shadow"]
    darkness = rng.uniform(*spec["darkness"])
    penumbra = 0.0 if rng.random() < 0.3 else rng.uniform(0.5, spec["penumbra_mm"][1])
    boxes = c.page.boxes
    x, _y, s = c.square(boxes[0])
    at = rng.uniform(*spec["edge_at_side"])
    xs, ys = _page_grid(c)
    if rng.random() < 0.5:  # the audit's case: the left of the box column in shade
        inside, shape = (x + at * s) - xs + 0 * ys, "column"
    else:
        cross_y = rng.uniform(c.centre(boxes[0])[1], c.centre(boxes[-1])[1])
        tilt = math.radians(rng.uniform(20, 70)) * rng.choice((-1, 1))
        # the signed distance from the edge line through (x + at s, cross_y)
        inside = (xs - x - at * s) * math.sin(tilt) - (ys - cross_y) * math.cos(tilt)
        inside *= rng.choice((-1, 1))
        shape = "half-plane"
    soft = max(1.0, penumbra * c.mm)
    c.dark = darkness * _smooth(inside / soft + 0.5).astype(np.float32)
    c.lay((1.1, 1.0, 0.95))  # shade under daylight is a little blue
    c.note(shape=shape, darkness=darkness, penumbra_mm=penumbra, edge_at_side=at)


def _gradient(c: _Canvas) -> None:
    rng = c.rng
    darkness = rng.uniform(*RANGES["gradient"]["darkness"])
    xs, ys = _page_grid(c)
    h, w = c.image.shape[:2]
    if rng.random() < 0.5:
        angle = rng.uniform(0, 2 * math.pi)
        along = xs * math.cos(angle) + ys * math.sin(angle)
        t, shape = (along - along.min()) / (along.max() - along.min()), "linear"
    else:
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        far = max(math.hypot(cx - px, cy - py) for px in (0, w) for py in (0, h))
        t, shape = (np.sqrt((xs - cx) ** 2 + (ys - cy) ** 2) / far) ** rng.uniform(1, 2.5), "radial"
    c.dark = (darkness * t).astype(np.float32)
    c.lay()
    c.note(shape=shape, darkness=darkness)


def _fold(c: _Canvas) -> None:
    rng, spec = c.rng, RANGES["fold"]
    xs, ys = _page_grid(c)
    h, w = c.image.shape[:2]
    for _ in range(rng.choice((1, 1, 2))):
        through = None
        if rng.random() < 0.5:  # through a box, as a sheet folded in three often is
            through = rng.choice(c.page.boxes)
            px, py = c.centre(through)
            py += rng.uniform(-0.35, 0.35) * through.w * c.k
            angle = math.radians(rng.uniform(-3, 3))
        else:
            px, py, angle = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0, math.pi)
        across = (ys - py) * math.cos(angle) - (xs - px) * math.sin(angle)
        line, width = rng.uniform(*spec["line_darkness"]), rng.uniform(*spec["width_mm"]) * c.mm
        step, ramp = rng.uniform(*spec["step"]), rng.uniform(1, 4) * c.mm
        crease = line * _smooth(width / 2 - np.abs(across) + 0.5)
        side = step * _smooth(across * rng.choice((-1, 1)) / ramp)
        c.multiply(slice(None), slice(None), ((1 - crease) * (1 - side))[..., None])
        c.note(
            box=through.project_id if through else None, line_darkness=line, width_mm=width / c.mm, step=step
        )


def _dot(c: _Canvas, cx: float, cy: float, diameter: float, grey: float, rim: float = 0.0) -> None:
    x0, y0, dx, dy = c.window(cx, cy, diameter / 2 + 2)
    rho = np.sqrt(dx * dx + dy * dy)
    a = _smooth(diameter / 2 - rho + 0.5)[..., None]
    value = grey * (1 - rim * _smooth(rho - diameter / 2 + 0.3 * c.mm))[..., None]
    region = c.image[y0 : y0 + a.shape[0], x0 : x0 + a.shape[1]].astype(np.float32)
    c.image[y0 : y0 + a.shape[0], x0 : x0 + a.shape[1]] = np.rint(region * (1 - a) + value * a).astype(
        np.uint8
    )


def _holes(c: _Canvas) -> None:
    rng, spec = c.rng, RANGES["holes"]
    h, w = c.image.shape[:2]
    gap = rng.uniform(10, 13) * c.mm
    if rng.random() < 0.5:
        sx, sy, vertical = rng.uniform(3, 7) * c.mm, rng.uniform(40, 240) * c.mm, True
    else:
        sx, sy, vertical = rng.uniform(40, 150) * c.mm, rng.uniform(3, 7) * c.mm, False
    for n in range(2):
        size = rng.uniform(*spec["staple_mm"])
        _dot(
            c,
            sx + (0 if vertical else n * gap),
            sy + (n * gap if vertical else 0),
            size * c.mm,
            rng.uniform(20, 90),
        )
        c.note(hole="staple", staple_mm=size)
    if rng.random() < 0.7:  # ISO 838: two holes 80 mm apart, 12 mm from the edge
        x = 12 * c.mm if rng.random() < 0.7 else w - 12 * c.mm
        grey = rng.uniform(40, 170)  # a table under a photo, a scanner's lid
        for offset in (-40, 40):
            size = rng.uniform(*spec["punch_mm"])
            _dot(c, x, h / 2 + (offset + rng.uniform(-2, 2)) * c.mm, size * c.mm, grey, rim=0.4)
            c.note(hole="punch", punch_mm=size, grey=grey)
    if rng.random() < 0.8:
        for box in c.targets(0.0, at_least=rng.randint(1, 4)):
            x, y, s = c.square(box)
            size = rng.uniform(*spec["staple_mm"])
            _dot(
                c,
                x + rng.uniform(0.3, 0.7) * s,
                y + rng.uniform(0.3, 0.7) * s,
                size * c.mm,
                rng.uniform(20, 90),
            )
            c.note(hole="staple in box", box=box.project_id, staple_mm=size)


def _highlighter(c: _Canvas) -> None:
    rng, spec = c.rng, RANGES["highlighter"]
    mask = np.zeros(c.image.shape[:2], np.uint8)
    for box in c.targets(0.6):
        width, length = rng.uniform(*spec["width_mm"]) * c.mm, rng.uniform(*spec["length_mm"]) * c.mm
        tilt = math.radians(rng.uniform(-1, 1))
        x0 = box.x * c.k - rng.uniform(0, 3) * c.mm
        y0 = c.centre(box)[1] + rng.uniform(-0.5, 0.5) * c.mm
        ends = [(x0, y0), (x0 + length * math.cos(tilt), y0 + length * math.sin(tilt))]
        _stroke(mask, ends, 255, max(1, round(width)))
        c.note(box=box.project_id, width_mm=width / c.mm, length_mm=length / c.mm)
    ink = np.float32([rng.uniform(80, 100), rng.uniform(230, 245), rng.uniform(240, 255)]) / 255
    rows = np.nonzero(mask.max(axis=1))[0]
    ys = slice(rows[0], rows[-1] + 1)
    a = mask[ys, :, None].astype(np.float32) / 255
    c.multiply(ys, slice(None), 1 - a + a * ink)


def _voter_mark(c: _Canvas, box: BoxRect, colour, width: float, grain: bool) -> str:
    """A tick or cross by the voter in `colour`; grain: graphite's broken line."""
    x, y, s = c.square(box)
    shape = c.rng.choice(("tick", "cross"))
    jitter = [c.rng.uniform(-0.06, 0.06) * s for _ in range(4)]
    a, b, d, e = jitter[:4]
    if shape == "tick":
        lines = [
            [
                (x + 0.15 * s + a, y + 0.5 * s),
                (x + 0.42 * s, y + 0.85 * s + b),
                (x + 0.95 * s + d, y + 0.05 * s + e),
            ]
        ]
    else:
        lines = [
            [(x + 0.1 * s + a, y + 0.1 * s), (x + 0.9 * s, y + 0.9 * s + b)],
            [(x + 0.9 * s + d, y + 0.1 * s), (x + 0.1 * s, y + 0.9 * s + e)],
        ]
    pad = round(0.3 * s)
    ys, xs = slice(round(y) - pad, round(y + s) + pad), slice(round(x) - pad, round(x + s) + pad)
    paper = np.full((ys.stop - ys.start, xs.stop - xs.start, 3), 255, np.uint8)
    for points in lines:
        _stroke(paper, [(px - xs.start, py - ys.start) for px, py in points], colour, max(1, round(width)))
    ink = 1 - paper.astype(np.float32) / 255
    if grain:
        noise = np.random.default_rng(c.rng.randrange(2**32)).uniform(0.7, 1.0, ink.shape[:2])
        ink *= noise.astype(np.float32)[..., None]
    c.multiply(ys, xs, 1 - ink)
    return shape


def _marked_boxes(c: _Canvas) -> list[BoxRect]:
    """1-3 boxes of each category: never more than its 3 choices."""
    chosen = []
    for category in dict.fromkeys(b.category_id for b in c.page.boxes):
        boxes = [b for b in c.page.boxes if b.category_id == category]
        chosen += c.rng.sample(boxes, c.rng.randint(1, min(3, len(boxes))))
    return chosen


def _pencil(c: _Canvas) -> None:
    spec = RANGES["pencil"]
    for box in _marked_boxes(c):
        grey, width = c.rng.uniform(*spec["grey"]), c.rng.uniform(*spec["width_mm"])
        shape = _voter_mark(c, box, (grey,) * 3, width * c.mm, grain=True)
        c.answers[box.project_id] = BoxAnswer(shape, "either", EITHER, "pencil")
        c.note(box=box.project_id, grey=grey, width_mm=width)


_INKS = {"red": ((30, 60), (30, 60), (180, 220)), "blue": ((120, 170), (40, 70), (10, 40)),
         "black": ((20, 45), (20, 45), (20, 45))}  # fmt: skip


def _ink_colours(c: _Canvas) -> None:
    for box in _marked_boxes(c):
        name = c.rng.choice(sorted(_INKS))
        colour = tuple(c.rng.uniform(*span) for span in _INKS[name])
        width = c.rng.uniform(*RANGES["ink_colours"]["width_mm"])
        shape = _voter_mark(c, box, colour, width * c.mm, grain=False)
        red = name == "red"  # dark in red light only: a grey scanner may lose some of it
        c.answers[box.project_id] = BoxAnswer(
            shape, "either" if red else "marked", EITHER if red else frozenset({"marked"}), f"{name} ink"
        )
        c.note(box=box.project_id, ink=name, width_mm=width)


def _photocopy(c: _Canvas) -> np.ndarray:
    rng, spec = c.rng, RANGES["photocopy"]
    h, w = c.image.shape[:2]
    grey = cv2.cvtColor(c.image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    noise = np.random.default_rng(rng.randrange(2**32))
    moved = np.eye(3)
    copies = rng.randint(*spec["copies"])
    for _ in range(copies):
        scale = rng.uniform(0.99, 1.01)
        shift = [rng.uniform(-0.5, 0.5) * c.mm for _ in range(2)]
        step = np.array(
            [
                [scale, 0, shift[0] + (1 - scale) * w / 2],
                [0, scale, shift[1] + (1 - scale) * h / 2],
                [0, 0, 1],
            ]
        )
        grey = cv2.warpAffine(grey, step[:2], (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
        moved = step @ moved
        blur = rng.uniform(*spec["blur_mm"])
        grey = cv2.GaussianBlur(grey, (0, 0), blur * c.mm)
        black, white = rng.uniform(15, 45), rng.uniform(215, 240)
        grey = (grey - black) * (255 / (white - black)) - rng.uniform(5, 20)
        grey += noise.standard_normal((h, w), dtype=np.float32) * np.float32(rng.uniform(*spec["noise"]))
        for _dot_n in range(rng.randint(30, 150)):
            centre = (rng.randrange(w), rng.randrange(h))
            cv2.circle(grey, centre, max(1, round(rng.uniform(0.05, 0.125) * c.mm)), rng.uniform(80, 180), -1)
        grey = np.clip(grey, 0, 255)
        c.note(blur_mm=blur, black=black, white=white, scale=scale)
    c.image[:] = cv2.cvtColor(np.rint(grey).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    c.note(copies=copies)
    return moved


def _crumpled(c: _Canvas) -> None:
    rng, spec = c.rng, RANGES["crumpled"]
    h, w = c.image.shape[:2]
    noise = np.random.default_rng(rng.randrange(2**32))
    most = rng.uniform(*spec["shift_mm"]) * c.mm
    grid = noise.standard_normal((rng.randint(4, 8), rng.randint(4, 8), 2)).astype(np.float32)
    field_ = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
    field_ *= most / max(1e-6, float(np.abs(field_).max()))
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    c.image[:] = cv2.remap(c.image, xs + field_[..., 0], ys + field_[..., 1], cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255))  # fmt: skip
    # Creases: one side of each facet turned from the light; a quarter-size map is
    # enough for shading that fades over millimetres, the ridges are drawn full size.
    sx, sy = _page_grid(c, 4)
    light = np.ones((sy.shape[0], sx.shape[1]), np.float32)
    ridges = np.zeros((h, w), np.uint8)
    creases = rng.randint(*spec["creases"])
    for _ in range(creases):
        px, py, angle = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0, math.pi)
        across = ((sy - py) * math.cos(angle) - (sx - px) * math.sin(angle)) * rng.choice((-1, 1))
        shade, fade = rng.uniform(0.03, 0.10), rng.uniform(3, 15) * c.mm
        light *= 1 - shade * np.where(across > 0, np.exp(-across / fade), 0)
        ends = [(px - 2 * w * math.cos(angle), py - 2 * w * math.sin(angle)),
                (px + 2 * w * math.cos(angle), py + 2 * w * math.sin(angle))]  # fmt: skip
        _stroke(
            ridges, ends, round(255 * rng.uniform(0.04, 0.15)), max(1, round(rng.uniform(0.2, 0.4) * c.mm))
        )
        c.note(shade=shade)
    full = cv2.resize(light, (w, h), interpolation=cv2.INTER_LINEAR) * (1 - ridges.astype(np.float32) / 255)
    c.multiply(slice(None), slice(None), full[..., None])
    c.note(shift_mm=most / c.mm, creases=creases)


_DRAW: dict[str, Callable[[_Canvas], object]] = {
    "stain": _stain, "coffee_ring": _coffee_ring, "speck": _speck, "erasure": _erasure,
    "smudge": _smudge, "shadow": _shadow, "gradient": _gradient, "fold": _fold, "holes": _holes,
    "highlighter": _highlighter, "pencil": _pencil, "ink_colours": _ink_colours,
    "photocopy": _photocopy, "crumpled": _crumpled,
}  # fmt: skip


def _clip_one_corner(page: PageLayout, k: float, record: dict) -> WarpHook:
    """A hook that shifts the scan until exactly one corner mark is partly or wholly off
    the picture, with the QR code and every box still on it."""

    def points(rect, pad: float, n: int, to_picture: np.ndarray) -> np.ndarray:
        gx = np.linspace(rect.x - pad, rect.x + rect.w + pad, n)
        gy = np.linspace(rect.y - pad, rect.y + rect.h + pad, n)
        grid = np.array([[x, y] for y in gy for x in gx], dtype=np.float64)
        return cv2.perspectiveTransform(grid[None], to_picture)[0]

    def hook(picture: np.ndarray, matrix: np.ndarray, rng: random.Random):
        h, w = picture.shape[:2]
        to_picture = matrix @ np.diag([k, k, 1.0])
        marks = [points(m, 0.0, 9, to_picture) for m in page.marks]
        near = [points(m, 1 * MM, 2, to_picture) for m in page.marks]
        keep = np.concatenate([points(page.qr, 2 * MM, 2, to_picture)]
                              + [points(b, 0.5 * MM, 2, to_picture) for b in page.boxes])  # fmt: skip

        def outside(p: np.ndarray) -> np.ndarray:
            return (p[:, 0] < 0) | (p[:, 0] >= w) | (p[:, 1] < 0) | (p[:, 1] >= h)

        order = list(range(4))
        rng.shuffle(order)
        for chosen in order:
            centre, side = marks[chosen].mean(axis=0), k * page.marks[chosen].w
            for _ in range(2000):
                # Often no shift at all along the other axis: a turned page may have two
                # marks near the edges already, and only a small shift keeps one inside.
                shift = [rng.choice((0.0, rng.uniform(-1, 1), rng.uniform(-6, 6))) * MM * k for _ in range(2)]
                for axis, limit in ((0, w), (1, h)):  # push it over the nearer edge or both
                    if rng.random() < 0.6:
                        edge = 0 if centre[axis] < limit / 2 else limit
                        sign = -1 if edge == 0 else 1
                        shift[axis] = edge - centre[axis] + sign * rng.uniform(-0.6, 0.6) * side
                moved = [m + shift for m in marks]
                share = float(outside(moved[chosen]).mean())
                others = [outside(near[n] + shift).any() for n in range(4) if n != chosen]
                if 0.25 <= share and not any(others) and not outside(keep + shift).any():
                    step = np.array([[1, 0, shift[0]], [0, 1, shift[1]], [0, 0, 1.0]])
                    fill = tuple(int(v) for v in picture[0, 0]) if picture[0, 0].max() < 200 else (255,) * 3
                    picture = cv2.warpAffine(picture, step[:2], (w, h), borderValue=fill)
                    names = (
                        ("top", "bottom")[int(centre[1] > h / 2)]
                        + "-"
                        + ("left", "right")[int(centre[0] > w / 2)]
                    )
                    record.update(mark=names, outside=round(share, 3))
                    return picture, step @ matrix
        raise RuntimeError("no shift puts exactly one corner mark off the picture")

    return hook


@dataclass(frozen=True)
class SheetScore:
    """One sheet read against its known answer."""

    positions: int
    silent_errors: int  # boxes outside their acceptable verdicts on an accepted sheet
    silent_false_marks: int  # of those, boxes truly empty read "marked"
    caught_by_review: int  # boxes outside their acceptable verdicts, the sheet not accepted
    accepted: bool
    rejected: bool
    rejected_readable: bool  # rejected although the QR code and every box were in the picture


def score_sheet(answer: KnownAnswer, outcome: str, verdicts: dict[int, str]) -> SheetScore:
    """`outcome` is a reading's ("accepted", "needs_review", "rejected"); `verdicts` its
    verdict per project id (none for a rejected page)."""
    wrong = [p for p, v in verdicts.items() if v not in answer.boxes[p].acceptable]
    accepted = outcome == "accepted"
    false_marks = sum(verdicts[p] == "marked" and answer.boxes[p].expected == "unmarked" for p in wrong)
    rejected = outcome == "rejected"
    return SheetScore(
        len(answer.boxes),
        len(wrong) if accepted else 0,
        false_marks if accepted else 0,
        0 if accepted else len(wrong),
        accepted,
        rejected,
        rejected and bool(answer.damage.get("readable")),
    )


def _in_picture(answer: KnownAnswer, shape: tuple[int, ...], page: PageLayout) -> bool:
    rects = [page.qr, *page.boxes]
    corners = np.array([[[r.x + dx * r.w, r.y + dy * r.h] for r in rects for dx in (0, 1) for dy in (0, 1)]])
    points = cv2.perspectiveTransform(corners, np.array(answer.page_to_image))[0]
    h, w = shape[:2]
    return bool(((points >= 0) & (points < [w, h])).all())


def make_hostile(
    kind: str, seed: int, dpi: int = 200, kind_of_capture: str = "scan", *, undamaged: bool = False
) -> tuple[np.ndarray, KnownAnswer]:
    """Sheet `seed` of damage `kind` (one of HOSTILE_KINDS) at `dpi`, as a "scan", a
    "photo", or "flat" (the printed page itself, no capture at all). `undamaged`: the
    same sheet before the damage, for comparison."""
    if kind not in RANGES:
        raise ValueError(f"kind is one of {', '.join(HOSTILE_KINDS)}, not {kind!r}")
    if kind_of_capture not in ("scan", "photo", "flat"):
        raise ValueError(f"kind_of_capture is 'scan', 'photo' or 'flat', not {kind_of_capture!r}")
    rng = random.Random(f"{kind}:{seed}")
    page = _layout().pages[0]
    marks: dict[int, MarkKind] = {}
    if kind not in ("pencil", "ink_colours"):  # those draw the voter's marks themselves
        categories = list(dict.fromkeys(b.category_id for b in page.boxes))
        for category in rng.sample(categories, rng.randint(1, 3)):
            box = rng.choice([b for b in page.boxes if b.category_id == category])
            marks[box.project_id] = rng.choice([MarkKind.TICK] * 3 + [MarkKind.CROSS] * 2 + [MarkKind.FILLED])
    sheet_seed, strays = rng.randrange(2**31), rng.choice((0, 0, 1, 2))
    capture_rng = random.Random(f"{kind}:{seed}:{kind_of_capture}:{dpi}")
    if kind_of_capture == "flat":
        distortion = Distortion()
    else:
        distortion = random_distortion(capture_rng, kind_of_capture)
    if kind == "gradient":  # the page's light is the damage itself: nothing on top of it
        distortion = Distortion(**{**distortion.__dict__, "lighting": 0.0})
    record: dict = {}
    after_warp = None
    if kind == "clipped_corner" and not undamaged:
        turn = capture_rng.uniform(*RANGES[kind]["rotation_deg"]) * capture_rng.choice((-1, 1))
        # At 5 degrees a page scaled up 3 % has all four marks at the picture's edges:
        # no shift leaves exactly one off. A scanner does not enlarge.
        scale = min(distortion.scale, 1.0)
        distortion = Distortion(**{**distortion.__dict__, "rotation_deg": turn, "scale": scale})
        after_warp = _clip_one_corner(page, dpi / 72, record)
        record["rotation_deg"] = round(turn, 3)
    moved = np.eye(3)

    def damage(image: np.ndarray, layout: Layout, number: int, k: float, sheet_rng: random.Random):
        nonlocal moved
        canvas = _Canvas(
            image, layout.pages[number - 1], k, set(b.project_id for b in page.boxes) - set(marks), sheet_rng
        )
        regions = [(b, *_box_slices(b, k)) for b in canvas.page.boxes]
        before = [image[ys, xs].copy() for _b, ys, xs in regions]
        result = _DRAW[kind](canvas)
        if isinstance(result, np.ndarray):
            moved = result
        record["drawn"] = canvas.record
        changed = {}
        for (box, ys, xs), old in zip(regions, before, strict=True):
            hit = kind in _PAGE_WIDE or np.abs(image[ys, xs].astype(np.int16) - old).max() > 3
            if box.project_id in canvas.answers:
                changed[box.project_id] = canvas.answers[box.project_id]
            elif hit and box.project_id in marks:
                expected, acceptable = EXPECTED[marks[box.project_id]]
                changed[box.project_id] = BoxAnswer(marks[box.project_id].value, expected, acceptable, kind)
            elif hit:
                changed[box.project_id] = BoxAnswer(MarkKind.NONE.value, "unmarked", EMPTY_UNDER_DAMAGE, kind)
        return changed

    image, answer = make_sheet(
        hostile_cycle(), marks, distortion, dpi, sheet_seed, serial=f"S0001-{seed % 8 + 1:06d}",
        stray_marks=strays, damage=None if undamaged or kind == "clipped_corner" else damage,
        after_warp=after_warp,
    )  # fmt: skip
    if not np.allclose(moved, np.eye(3)):  # a photocopy moved the page on the paper
        k = dpi / 72
        answer.page_to_image = (
            np.array(answer.page_to_image) @ np.diag([1 / k, 1 / k, 1]) @ moved @ np.diag([k, k, 1])
        ).tolist()
    answer.damage = {"kind": kind, "capture": kind_of_capture, **record}
    answer.damage["readable"] = _in_picture(answer, image.shape, page)
    return image, answer


def _box_slices(box: BoxRect, k: float) -> tuple[slice, slice]:
    """The box and 1 mm around it, in flat-page pixels."""
    pad = MM * k
    x0, y0 = max(0, round(box.x * k - pad)), max(0, round(box.y * k - pad))
    return slice(y0, round((box.y + box.h) * k + pad)), slice(x0, round((box.x + box.w) * k + pad))
