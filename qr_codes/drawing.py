"""Drawing a QR matrix on a reportlab canvas, cheaply enough for thousands per PDF.

The symbol goes into the page as a 1-bit inline image, one pixel per module, scaled up
by the viewer or printer. Measured with 10 000 school cards (layout "10"): as images,
2.3 s and 4.7 MB; as one path of rectangles merged along each row's dark runs, 5.5 s
and 8.6 MB (a version-6 symbol has ~400 runs). A reportlab image XObject would add a
hash, an object and a name per code on top.

The quiet zone (4 modules of white on every side, required for scanning) is part of
the image, so it stays white whatever is under it. For the sharpest print, give each
module a whole number of printer dots and put the corner on that grid, as the cards do
(qr_codes.layouts.DOT).
"""

from __future__ import annotations

import numpy as np
from reportlab.pdfgen.canvas import Canvas

__all__ = ["QUIET_ZONE", "draw_qr", "with_quiet_zone"]

QUIET_ZONE = 4  # modules


def with_quiet_zone(matrix: np.ndarray) -> np.ndarray:
    """The matrix (True = dark) with QUIET_ZONE light modules added on every side."""
    size = matrix.shape[0] + 2 * QUIET_ZONE
    padded = np.zeros((size, size), dtype=bool)  # np.pad is ~5× slower for this
    padded[QUIET_ZONE:-QUIET_ZONE, QUIET_ZONE:-QUIET_ZONE] = matrix
    return padded


def _inline_image(matrix: np.ndarray, x: float, y: float, size: float) -> str:
    padded = with_quiet_zone(matrix)
    modules = padded.shape[0]
    # DeviceGray 1-bit: a 0 sample is black, so dark modules are written as 0. Rows are
    # padded to whole bytes, as PDF images require. ASCIIHex because reportlab writes
    # page content as text; the page's Flate compression takes most of the doubling back.
    samples = np.packbits(~padded, axis=1).tobytes().hex()
    return (
        f"q {size:.3f} 0 0 {size:.3f} {x:.3f} {y:.3f} cm\n"
        f"BI /W {modules} /H {modules} /BPC 1 /CS /G /F /AHx ID\n{samples}>\nEI Q"
    )


def draw_qr(canvas: Canvas, matrix: np.ndarray, x: float, y: float, size: float) -> None:
    """Draw `matrix` (2-D bool, True = dark, as from qr_codes.matrix.qr_matrix) as a
    square of `size` points whose bottom-left corner is at (x, y). The square includes
    the quiet zone, so the symbol itself is size × n / (n + 8) wide."""
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"a QR matrix is square, got shape {matrix.shape}")
    if size <= 0:
        raise ValueError(f"size must be positive points, got {size}")
    canvas.addLiteral(_inline_image(matrix, x, y, size))
