"""Undoing a camera's blur on the part of a frame that holds a card: the last passes of
hardware/qr_reading.py, for what its other passes cannot read (see docs/qr-reading.md).

    blur_suspected(half)           "defocus", "motion" or None: what the frame's detail says
    busiest_box(half, frame_shape) where a blurred card most likely is
    deblurred(patch, suspected)    the patch with each likely blur undone, enlarged 2x

A card held too close to a fixed-focus camera is blurred like a Gaussian of sigma ~2 px;
a card moved while the shutter is open, along a line of ~9 px. Both are undone by a
Wiener filter (the inverse of the blur, damped where the blur left less signal than
noise), computed in the Fourier domain on a patch only (~0.5 ms for 320x320 px; a whole
1280x720 frame would cost ~10x that). The direction of a motion blur is the one its
gradients avoid (the weak axis of the patch's structure tensor).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import cv2
import numpy as np

__all__ = ["blur_suspected", "busiest_box", "deblurred"]

# (sigma px at the frame's own size, Wiener's noise-to-signal) tried in order for a
# defocus. The noise-to-signal damps the inverse where the blur left less signal than
# noise: on crops of 300 px cards, 0.03 read 0 of 20, 0.01 2, 0.003 15; over 80 frames
# of 300 px cards in the whole reader, 0.003 read 32, 0.002 38, then 0.001 as well 43
# (350 and 400 px cards: 66 and 73 of 80, 65 and 72). Sigma 2 px is the issue's; one off
# by 0.5 px undoes too little or rings (400 px cards with sigma 2.5: 6 of 20 read with 2,
# 13 with 2.5; 300 px with sigma 1.5: 5 with 2, 15 with 1.5, once the patch is found).
DEFOCUS_TRIES = ((2.0, 0.002), (2.0, 0.001), (2.5, 0.003), (1.5, 0.003))
# A frame is suspected of a defocus when its sharpest detail (the 99.8th percentile of
# the difference from a 3 px box blur, on the halved frame) is under this share of its
# mid-scale detail (3 px box against 9 px box). Measured over 40 frames each: defocused
# (sigma 2 px) 0.27-0.48; frames with no card 0.45-2.2 (median 0.7), 1 in 40 under 0.5.
DEFOCUS_BELOW = 0.5
# ... and of a motion blur when, in one of four directions (along x, y and the two
# diagonals), the same percentile of the difference between neighbours is under this
# share of the mid-scale detail: moving smooths along the motion only. Motion-blurred
# (9 px) 0.8-2.0 (median 1.2), no card 0.65-2.9 (median 1.5), sharp cards 1.4-3.0.
MOTION_BELOW = 1.5
# Neither, whatever the shares, when that mid-scale detail is under this many grey
# levels: a bare wall or a dark room has nothing to deblur (blurred cards read: 26 up;
# frames with no card 12-70, median 28).
MIN_DETAIL = 22
# Taken as moving when the gradients of the patch around the busiest point (high-passed,
# so the card's outline does not decide) point mostly one way: coherence 0 all directions
# alike, 1 one direction (stripes, an edge). Motion-blurred cards 0.51-1.0, those read
# 0.51-0.89; defocused 0.04-0.97, median 0.2; the busiest patch of a frame with no card
# 0-0.99 (stripes ~0.97). With MOTION_BELOW and MIN_DETAIL, 2-5 in 40 frames with no
# card were still deblurred in vain (~7 ms each): hence COARSE_COHERENCE.
MOTION_COHERENCE = (0.5, 0.9)
# ... and not when the patch, a quarter of its size, still points one way this much:
# stripes and long edges do at any scale, a blur of 9 px not. The frames with no card
# that were deblurred in vain (7 in 80, all stripes or text) 0.74-0.96; motion-blurred
# cards read 0.02-0.66 (median 0.26, 158 frames).
COARSE_COHERENCE = 0.7
# (length px, turn from the estimated direction in degrees, noise-to-signal) tried in
# order. Lengths: 9 px is the issue's; cropped cards moved 12 px read 0 of 20 undone as
# 9 px, 4 as 12 px (in the whole reader, 1 of 20 before and 8 with these). Estimated
# directions are off by up to ~12 degrees (mean 5): two more tries 10 degrees either
# side read 16 and 15 of 20 cropped cards against 11 and 9 with one. Some read only
# with more damping: over 3 x 40 motion-blurred frames (9 px), the tries (9, 0),
# (9, -10), (9, 10), (12, 0) all at 0.003 read 30, 20, 30; these 31, 20, 33.
MOTION_TRIES = ((9, 0, 0.003), (9, 0, 0.01), (9, -10, 0.003), (9, 10, 0.003), (12, 0, 0.003))
# The patch deblurred: the area around the densest point at least DENSE_SHARE as dense,
# widened to MIN_BOX_SIDE, or cut to MAX_BOX_SIDE around the point (px in the frame; the
# code of a 250 px card is 94 px wide, of a 600 px card 226 px, 320 px turned 45
# degrees). Over 40 frames each, motion 9 px / 300 px cards motion 9 px / 400 px cards
# motion 9 px / defocus 300 px / 400 px read: a fixed 320 px square 23/20/26/16/34;
# sides 200-400 and half as dense 17/16/20/18/32; these 30/20/30/20/38.
MIN_BOX_SIDE = 280
MAX_BOX_SIDE = 400
DENSE_SHARE = 0.3
_SHARE = 0.002  # the 99.8th percentile: what is sharpest in a frame, not a few noisy pixels
_PAD = 16  # px mirrored around a patch so the Fourier transform sees no hard edge


def blur_suspected(half: np.ndarray) -> str | None:
    """ "defocus", "motion" or None: what the halved grey frame's detail says of its blur
    (see DEFOCUS_BELOW, MOTION_BELOW, MIN_DETAIL). Percentiles over every other row,
    which gives the same answers at half the cost (~0.15 ms on a 640x360 frame)."""
    b3 = cv2.blur(half, (3, 3))
    mid = _percentile(cv2.absdiff(b3[::2], cv2.blur(half, (9, 9))[::2]))
    if mid < MIN_DETAIL:
        return None
    rows = half[2:-2:2]  # each of them against its neighbours in four directions
    if _share_above(cv2.absdiff(rows, b3[2:-2:2]), DEFOCUS_BELOW * mid) < _SHARE:
        return "defocus"
    below = half[3:-1:2]  # the next row down, for the diagonals
    pairs = (
        (rows[:, 2:], rows[:, :-2]),  # along x, 2 px
        (rows, half[4::2][: rows.shape[0]]),  # along y, 2 px
        (rows[:, :-1], below[:, 1:]),  # down and right
        (rows[:, 1:], below[:, :-1]),  # down and left
    )
    for mine, neighbour in pairs:
        if _share_above(cv2.absdiff(mine, neighbour), MOTION_BELOW * mid) < _SHARE:
            return "motion"
    return None


def busiest_box(half: np.ndarray, frame_shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) in frame pixels around the halved frame's densest fine detail
    relative to its brightness (in a frame blurred all over, a code's modules are that:
    19 of 20 defocused or motion-blurred cards), spread over the area around it that is
    at least DENSE_SHARE as dense, between MIN_BOX_SIDE and MAX_BOX_SIDE wide."""
    detail = cv2.convertScaleAbs(cv2.absdiff(half, cv2.blur(half, (3, 3))), alpha=8)  # x8: room below 255
    light = cv2.add(cv2.blur(half, (15, 15)), 20)  # +20: dark corners are not all detail
    density = cv2.divide(cv2.blur(detail, (15, 15)), light, scale=16, dtype=cv2.CV_32F)
    _, peak, _, (x, y) = cv2.minMaxLoc(density)
    # the dense area's extent on a map 4x smaller (the density is a 15 px average anyway):
    # labelling the full map costs ~2 ms, this ~0.1 ms
    small = cv2.resize(density, (density.shape[1] // 4, density.shape[0] // 4), interpolation=cv2.INTER_AREA)
    _, dense = cv2.threshold(small, peak * DENSE_SHARE, 255, cv2.THRESH_BINARY)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(dense.astype(np.uint8), connectivity=8)
    label = labels[min(y // 4, small.shape[0] - 1), min(x // 4, small.shape[1] - 1)]
    left, top, width, height = (4 * int(v) for v in stats[label, :4])
    if label == 0:  # the peak averaged below the share: around the peak only
        left, top, width, height = x, y, 0, 0
    height_px, width_px = frame_shape[:2]
    boxes = []
    for start, length, centre, limit in ((left, width, x, width_px), (top, height, y, height_px)):
        low, high = 2 * start, 2 * (start + length)
        if high - low > MAX_BOX_SIDE:  # a dense area too big for one card: around the peak
            low, high = 2 * centre - MAX_BOX_SIDE // 2, 2 * centre + MAX_BOX_SIDE // 2
        grow = max(0, MIN_BOX_SIDE - (high - low)) // 2
        boxes.append((max(0, low - grow), min(limit, high + grow)))
    (x0, x1), (y0, y1) = boxes
    return x0, y0, x1, y1


def deblurred(patch: np.ndarray, suspected: str | None = None) -> Iterator[np.ndarray]:
    """The patch with each likely blur undone, most likely first, enlarged 2x (cubic):
    a defocus (DEFOCUS_TRIES, unless `suspected` is "motion"), then, if its gradients
    say it moved and it does not look striped, a motion (MOTION_TRIES: along the
    estimated direction, 10 degrees either side, longer). Lazy: stop asking once a code
    is read."""
    if suspected != "motion":
        for sigma, noise_to_signal in DEFOCUS_TRIES:
            yield _enlarged(_wiener(patch, ("defocus", sigma), noise_to_signal))
    coherence, angle = blur_direction(patch)
    if MOTION_COHERENCE[0] <= coherence <= MOTION_COHERENCE[1] and not looks_striped(patch):
        for length, turn, noise_to_signal in MOTION_TRIES:
            blur = ("motion", length, round(angle + turn) % 180)
            yield _enlarged(_wiener(patch, blur, noise_to_signal))


def blur_direction(patch: np.ndarray) -> tuple[float, float]:
    """(coherence 0-1, direction in degrees) of a motion blur in the patch: the direction
    (0 along x, 90 along y, image axes) is the one its gradients avoid (the weak axis of
    their structure tensor), and coherence says how much they avoid it."""
    return _orientation(patch, 4)


def looks_striped(patch: np.ndarray) -> bool:
    """Whether the patch still points one way at a quarter of its size: stripes, blinds,
    a row of shelves do; a moving card does not, as its blur (~9 px) is gone at that scale
    and its modules point both ways again (see COARSE_COHERENCE)."""
    small = cv2.resize(patch, (patch.shape[1] // 4, patch.shape[0] // 4), interpolation=cv2.INTER_AREA)
    return _orientation(small, 3)[0] > COARSE_COHERENCE


def _orientation(image: np.ndarray, sigma: float) -> tuple[float, float]:
    """(coherence, the direction its gradients avoid) of the image's detail finer than a
    Gaussian of `sigma` px (so an outline or a shading does not decide)."""
    detail: np.ndarray = image.astype(np.float32)
    detail = cv2.subtract(detail, cv2.GaussianBlur(detail, (0, 0), sigma))
    gx = cv2.Sobel(detail, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(detail, cv2.CV_32F, 0, 1, ksize=3)
    jxx, jyy, jxy = float(np.vdot(gx, gx)), float(np.vdot(gy, gy)), float(np.vdot(gx, gy))
    if jxx + jyy == 0:
        return 0.0, 0.0
    coherence = math.hypot(jxx - jyy, 2 * jxy) / (jxx + jyy)
    gradient = 0.5 * math.degrees(math.atan2(2 * jxy, jxx - jyy))  # where the gradients point
    return coherence, (gradient + 90) % 180


def _enlarged(image: np.ndarray) -> np.ndarray:
    return cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)


def _share_above(image: np.ndarray, level: float) -> float:
    """The share of the image's pixels brighter than `level`."""
    _, above = cv2.threshold(image, level, 255, cv2.THRESH_BINARY)
    return cv2.countNonZero(above) / above.size


def _percentile(image: np.ndarray) -> int:
    """The level under which all but _SHARE of the image's pixels are."""
    counts = cv2.calcHist([image], [0], None, [256], [0, 256]).ravel().cumsum()
    return int(np.searchsorted(counts, (1 - _SHARE) * counts[-1]))


def _gaussian_psf(sigma: float) -> np.ndarray:
    kernel = cv2.getGaussianKernel(2 * math.ceil(3 * sigma) + 1, sigma)
    return (kernel @ kernel.T).astype(np.float32)


def _line_psf(length: int, angle_deg: float) -> np.ndarray:
    """A straight motion of `length` px along `angle_deg` (image axes, y down), drawn as a
    1 px line turned with bilinear sampling: a little wider than one pixel, which matched
    blurred cards better than a thin anti-aliased line (11 against 7 of 20 read). Always
    an odd size, symmetric about its centre pixel (an even length gets half-weight ends)."""
    size = length | 1
    kernel: np.ndarray = np.zeros((size, size), np.float32)
    kernel[size // 2, :] = 1
    if size != length:
        kernel[size // 2, [0, -1]] = 0.5
    centre = ((size - 1) / 2, (size - 1) / 2)
    # OpenCV turns counter-clockwise as seen on screen, that is towards -y
    kernel = cv2.warpAffine(kernel, cv2.getRotationMatrix2D(centre, -angle_deg, 1), (size, size))
    return kernel / kernel.sum()


def _wiener(patch: np.ndarray, blur: tuple, noise_to_signal: float) -> np.ndarray:
    """The patch with `blur` (see _psf) undone by a Wiener filter, in OpenCV's packed
    real spectra (numpy's FFT and big temporaries cost 10x as much here)."""
    height = cv2.getOptimalDFTSize(patch.shape[0] + 2 * _PAD)
    width = cv2.getOptimalDFTSize(patch.shape[1] + 2 * _PAD)
    image = cv2.copyMakeBorder(
        patch,
        _PAD,
        height - patch.shape[0] - _PAD,
        _PAD,
        width - patch.shape[1] - _PAD,
        cv2.BORDER_REFLECT,
    )
    spectrum = cv2.dft(image.astype(np.float32))
    spectrum = cv2.mulSpectrums(spectrum, _inverse(blur, height, width, noise_to_signal), 0)
    restored = cv2.idft(spectrum, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
    inner = restored[_PAD : _PAD + patch.shape[0], _PAD : _PAD + patch.shape[1]]
    return cv2.convertScaleAbs(inner)  # rounded and clipped to 0-255


@functools.lru_cache(maxsize=64)
def _inverse(blur: tuple, height: int, width: int, noise_to_signal: float) -> np.ndarray:
    """Wiener's filter for `blur` at this size, as a packed real spectrum. Every kernel
    here is symmetric about its centre pixel (a Gaussian, a line of odd length), so its
    spectrum is real and the filter, H / (H² + noise_to_signal), can be taken value by
    value in OpenCV's packed layout: ~0.2 ms, which matters as a motion's direction
    changes from frame to frame (numpy's complex FFT took ~20 ms here)."""
    psf = _psf(blur)
    kernel = np.zeros((height, width), np.float32)
    kh, kw = psf.shape
    cy, cx = kh // 2, kw // 2
    # the kernel's centre at (0, 0), the rest wrapped around the edges
    kernel[: kh - cy, : kw - cx] = psf[cy:, cx:]
    kernel[: kh - cy, width - cx :] = psf[cy:, :cx]
    kernel[height - cy :, : kw - cx] = psf[:cy, cx:]
    kernel[height - cy :, width - cx :] = psf[:cy, :cx]
    response = cv2.dft(kernel)
    return cv2.divide(response, cv2.add(cv2.multiply(response, response), noise_to_signal))


def _psf(blur: tuple) -> np.ndarray:
    """("defocus", sigma) or ("motion", length, angle in degrees) as a kernel summing to 1."""
    if blur[0] == "defocus":
        return _gaussian_psf(blur[1])
    return _line_psf(blur[1], blur[2])
