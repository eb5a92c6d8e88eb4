"""The overview: a page's picture shrunk by a whole factor, made once per page.

Finding the corner marks (paper.corner_marks) and measuring the paper's light
(paper.paper_map) both look at it, not at the full picture.
"""

from __future__ import annotations

import cv2
import numpy as np

import paper.opencv_settings  # noqa: F401  (OpenCV quiet and on one thread before its first call)

__all__ = ["Overview", "overview"]

# The marks are found on a copy about this long: an 8 mm mark on A4 is then ~20 px,
# plenty for its centre to sub-pixel precision, at a sixth of the work of a 200 dpi page.
_SEARCH_LONG_SIDE = 800


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
