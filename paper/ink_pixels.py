"""Ink as pixels: a box's patch lightly smoothed, and the longest piece of ink in it.

What the mark rule measures beyond the share of ink (paper.ink_measure): a faint trace
is looked for on a smoothed copy, and a stroke is told from a speck by its length.
"""

from __future__ import annotations

import cv2
import numpy as np

import paper.opencv_settings  # noqa: F401  (OpenCV quiet and on one thread before its first call)

__all__ = ["longest_blob_side", "smooth3"]


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
