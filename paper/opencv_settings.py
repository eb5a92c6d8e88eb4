"""How the paper library runs OpenCV: quiet and on one thread.

OpenCV is imported only in the paper library's imaging modules (image_codec, overview,
corner_marks, paper_map, page_warp, ink_pixels, qr_decoders) and in hardware/ (the
project rule; lint-imports keeps it out of every other package). Each of those modules
imports this one, so the settings hold before any call, whichever module a caller loads.
"""

from __future__ import annotations

import cv2

__all__: list[str] = []

cv2.utils.logging.setLogLevel(
    cv2.utils.logging.LOG_LEVEL_ERROR
)  # a corrupt file is our message, not a log line
cv2.setNumThreads(1)  # the reader's budget is per core; a worker pool scales across cores
