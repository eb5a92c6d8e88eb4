"""From printed page to picture: the homography and the regions cut out through it.

Page regions are in PDF points with the origin top-left (the layout's contract); image
points are pixels (x right, y down). Cutting through the homography makes a photo
taken at an angle read like a flat scan.
"""

from __future__ import annotations

import cv2
import numpy as np

import paper.opencv_settings  # noqa: F401  (OpenCV quiet and on one thread before its first call)

__all__ = ["homography", "warp_region"]


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
