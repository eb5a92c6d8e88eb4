"""What a support point's camera sees, made from the corpus's photographed sheets.

A 1920x1080 camera looks down at a grey table. A sheet (tests/paper/corpus.py,
photographed at 150 dpi with a phone's distortions, so it comes with its known answer)
fills ~96 % of the frame's height. A presentation is the sheet sliding in from the left
(shifted a lot each frame, with the motion blur of a moving hand), held still (sensor
noise on every frame), then slid out; an empty table between sheets.

Noise is a fixed field per frame number, so the same story makes the same frames (and
the same image hashes) every time; another `start` makes other pixels of the same scene.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator

import cv2
import numpy as np

from paper.sheet_plan import build_layout
from tests.paper.corpus import KnownAnswer, MarkKind, make_sheet, packaged, random_distortion, sample_cycle

WIDTH, HEIGHT = 1920, 1080
TABLE_GREY = 100
NOISE_SIGMA = 4.0


@functools.cache
def _photo(marks: tuple[tuple[int, str], ...], serial: str, cycle_id: int, seed: int, glare: bool, kind: str):
    cycle = sample_cycle(cycle_id)
    image, answer = make_sheet(
        cycle, {pid: MarkKind(mark) for pid, mark in marks},
        random_distortion(random.Random(seed), kind), 150, seed, serial=serial,
    )  # fmt: skip
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    scale = HEIGHT * 0.96 / gray.shape[0]
    page = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if glare:  # a lamp's reflection washing out the QR code; the corner marks still show
        qr = build_layout(packaged(cycle)).pages[0].qr
        corners = np.array([[qr.x, qr.y], [qr.x + qr.w, qr.y + qr.h]], dtype=np.float64)
        (x0, y0), (x1, y1) = (
            cv2.perspectiveTransform(corners[None], np.array(answer.page_to_image))[0] * scale
        )
        page[round(y0) : round(y1), round(x0) : round(x1)] = 250
    page.setflags(write=False)
    return page, answer


def sheet(
    marks: dict[int, MarkKind],
    serial: str = "S0001-000001",
    *,
    cycle_id: int = 31,
    seed: int = 1,
    glare: bool = False,
    kind: str = "photo",
) -> tuple[np.ndarray, KnownAnswer]:
    """A photographed sheet scaled as the camera sees it, and its known answer (cached).
    glare: the QR code washed out by a reflection, so the sheet shows but does not read.
    kind "scan": the corpus's scanner distortions (a sheet laid flat), not a phone's."""
    key = tuple(sorted((pid, str(mark)) for pid, mark in marks.items()))
    return _photo(key, serial, cycle_id, seed, glare, kind)


@functools.cache
def _noise_field() -> np.ndarray:
    return np.round(np.random.default_rng(7).normal(0, NOISE_SIGMA, (HEIGHT, WIDTH))).astype(np.int16)


def _noise(number: int) -> np.ndarray:
    """Noise field `number`: one field rolled sideways, so every number gives other pixels."""
    return np.roll(_noise_field(), number * 331, axis=1)


def table() -> np.ndarray:
    return np.full((HEIGHT, WIDTH), TABLE_GREY, np.uint8)


def frame(page: np.ndarray | None, dx: float = 0.0, *, blur: int = 0, noise: int | None = None) -> np.ndarray:
    """The table with `page` centred and shifted `dx` px right; `blur` px of horizontal
    motion blur; sensor noise field number `noise` (None: a noiseless frame)."""
    picture = table()
    if page is not None:
        x = (WIDTH - page.shape[1]) / 2 + dx
        y = (HEIGHT - page.shape[0]) / 2
        move = np.float32([[1, 0, x], [0, 1, y]])
        cv2.warpAffine(page, move, (WIDTH, HEIGHT), dst=picture, borderMode=cv2.BORDER_TRANSPARENT)
    if blur > 1:
        picture = cv2.blur(picture, (blur, 1))
    if noise is not None:
        picture = np.clip(picture + _noise(noise), 0, 255).astype(np.uint8)
    return picture


def slide(page: np.ndarray, frames: int, *, into_view: bool) -> Iterator[np.ndarray]:
    """The sheet moving in (or out) from the left, ~80 px a frame, blurred by its speed."""
    far = -(WIDTH + page.shape[1]) / 2
    for n in range(1, frames + 1):
        share = n / (frames + 1)
        dx = far * (1 - share) if into_view else far * share
        yield frame(page, dx, blur=int(abs(far) / (frames + 1) / 4), noise=n)


def held(page: np.ndarray | None, frames: int, *, noisy: bool = True, start: int = 0) -> list[np.ndarray]:
    """The sheet (or the empty table) still for `frames` frames."""
    return [frame(page, noise=start + n if noisy else None) for n in range(frames)]


def presentation(page: np.ndarray, hold: int = 12, *, noisy: bool = True, start: int = 0) -> list[np.ndarray]:
    """Slide in, hold still, slide out, then the empty table for a moment."""
    return [
        *slide(page, 6, into_view=True),
        *held(page, hold, noisy=noisy, start=start),
        *slide(page, 6, into_view=False),
        *held(None, 8, start=start + hold),
    ]
