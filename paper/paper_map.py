"""The paper map: how bright the bare paper is around any point of a page's picture.

The reader sets each box's ink threshold against the paper around that box, so a
shadow or a lamp's gradient across the page does not read as ink.
"""

from __future__ import annotations

import cv2
import numpy as np

import paper.opencv_settings  # noqa: F401  (OpenCV quiet and on one thread before its first call)
from paper.overview import Overview, overview

__all__ = ["PaperMap"]


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
