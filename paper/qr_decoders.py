"""The QR decoders the reader asks, in its order: zxing-cpp, zbar, OpenCV's.

Each takes a grayscale picture and gives (text, 4 corner points as seen) for every code
it reads. zbar may be missing (libzbar0 not installed): `zbar_qr_texts` is then None.
`sharpen` brings back the edges a phone's blur took from a code.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import zxingcpp

import paper.opencv_settings  # noqa: F401  (OpenCV quiet and on one thread before its first call)

__all__ = ["opencv_qr_texts", "sharpen", "zbar_qr_texts", "zxing_qr_texts"]

try:  # zbar is the reader's second decoder; OpenCV's (opencv_qr_texts) the last
    from pyzbar.pyzbar import ZBarSymbol
    from pyzbar.pyzbar import decode as _zbar_decode
except (ImportError, OSError):  # pyzbar raises ImportError when libzbar0 cannot load
    _zbar_decode = None


def sharpen(image: np.ndarray) -> np.ndarray:
    """An unsharp mask: a phone's blur (σ ~1.7 px at 150 dpi) melts a QR code's 4 px
    modules together; this brings back the edges zbar needs."""
    blurred = cv2.GaussianBlur(image, (0, 0), 2.0)
    return cv2.addWeighted(image, 2.0, blurred, -1.0, 0)


_QR_DETECTORS: list[Any] = []


def opencv_qr_texts(gray: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """QR codes OpenCV finds: (text, 4 corner points as seen). The ArUco-based detector
    first (better on blurred and tilted codes), then the classic one."""
    if not _QR_DETECTORS:
        _QR_DETECTORS.extend([cv2.QRCodeDetectorAruco(), cv2.QRCodeDetector()])
    for detector in _QR_DETECTORS:
        try:
            found, texts, points, _ = detector.detectAndDecodeMulti(gray)
        except cv2.error:
            continue
        if found and points is not None:
            results = [(text, corners) for text, corners in zip(texts, points, strict=False) if text]
            if results:
                return results
    return []


_QR_FORMAT = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def zxing_qr_texts(gray: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """QR codes zxing-cpp finds: (text, 4 corner points as seen, top-left first). On a
    sheet's QR region ~10x quicker than zbar (0.3 against 3 ms), and it reads small and
    blurred codes zbar misses. The text is the code's bytes as UTF-8, as zbar gives it.
    An error inside zxing-cpp is raised, not taken for "no code": the caller then asks
    the other decoders."""
    found = []
    for code in zxingcpp.read_barcodes(gray, formats=_QR_FORMAT):
        p = code.position
        corners = [p.top_left, p.top_right, p.bottom_right, p.bottom_left]
        points = np.array([[c.x, c.y] for c in corners], dtype=np.float64)
        found.append((code.bytes.decode("utf-8", errors="replace"), points))
    return found


def _zbar_texts(image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    found = _zbar_decode(image, symbols=[ZBarSymbol.QRCODE])
    return [
        (symbol.data.decode("utf-8", errors="replace"), np.array(symbol.polygon, dtype=np.float64))
        for symbol in found
    ]


zbar_qr_texts = _zbar_texts if _zbar_decode is not None else None
