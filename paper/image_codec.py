"""Image files to grayscale pages, and crops back to PNG: the reader's decoding.

A file's bytes become 8-bit grayscale pages (a colour or 16-bit file turned grey while
it is decoded, a transparent one laid on white paper), and a crop for the person who
reviews becomes PNG bytes.
"""

from __future__ import annotations

import cv2
import numpy as np

import paper.opencv_settings  # noqa: F401  (OpenCV quiet and on one thread before its first call)
from paper import png_inflate

__all__ = ["decode_image", "decode_pages", "encode_png"]


def decode_image(data: bytes, *, reduce: int = 1, transparent: bool = False) -> np.ndarray | None:
    """The first (or only) page of an image file as 8-bit grayscale, None if OpenCV
    cannot decode it. `reduce` 2, 4 or 8 decodes at that fraction of the size (JPEG
    scales while decoding, ~3x faster for a 12-megapixel photo).

    A colour file is turned grey while it is decoded (libpng and libjpeg do it row by
    row), never as a whole colour picture first. `transparent`: the file may hold
    transparency (a PNG with an alpha channel or a tRNS chunk); it is decoded whole,
    with its alpha, at full size, and laid on white paper, as a person sees it, not on
    the black that transparent pixels often hide.

    A plain 8-bit grey or colour PNG has its pixels inflated by ISA-L first
    (paper/png_inflate.py): the same pixels, a grey scan decoded ~1.4x faster."""
    if transparent:
        flag = cv2.IMREAD_UNCHANGED
    else:
        flag = {
            1: cv2.IMREAD_GRAYSCALE,
            2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
            4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
        }.get(reduce, cv2.IMREAD_REDUCED_GRAYSCALE_8)
    if flag == cv2.IMREAD_GRAYSCALE and data.startswith(b"\x89PNG"):
        data = png_inflate.inflated_png(data) or data
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flag)
    except cv2.error:
        return None
    if transparent and image is not None and image.size:
        return _on_white(image)
    return _gray8(image)


def decode_pages(data: bytes, first: int, count: int) -> list[np.ndarray | None]:
    """Pages first..first+count-1 (0-based) of a multi-page image (TIFF) as grayscale;
    a page OpenCV cannot decode is None. Reading a range keeps a long file's memory to
    the pages asked for."""
    try:
        ok, pages = cv2.imdecodemulti(
            np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE, None, (first, first + count)
        )
    except cv2.error:
        return [None] * count
    if not ok:
        return [None] * count
    decoded = [_gray8(page) for page in pages]
    return decoded + [None] * (count - len(decoded))


def _gray8(image: np.ndarray | None) -> np.ndarray | None:
    if image is None or image.size == 0:
        return None
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    if image.dtype != np.uint8:  # 16-bit TIFF scans
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return image


def _on_white(image: np.ndarray) -> np.ndarray:
    """A picture decoded as it is stored (grey, BGR or BGRA; 8 or 16 bits) as 8-bit
    grayscale, its transparent parts white. Band by band: the decoder's picture is the
    only full-size copy besides the result (the caller's memory budget counts both)."""
    gray = np.empty(image.shape[:2], np.uint8)
    for top in range(0, image.shape[0], _BAND_ROWS):
        gray[top : top + _BAND_ROWS] = _band_on_white(image[top : top + _BAND_ROWS])
    return gray


_BAND_ROWS = 256


def _band_on_white(band: np.ndarray) -> np.ndarray:
    if band.dtype == np.uint16:  # to 8 bits as IMREAD_GRAYSCALE reads a 16-bit PNG
        band = (band >> 8).astype(np.uint8)
    if band.ndim == 2:
        return band
    if band.shape[2] == 3:
        return cv2.cvtColor(band, cv2.COLOR_BGR2GRAY)
    gray = cv2.cvtColor(band, cv2.COLOR_BGRA2GRAY).astype(np.uint16)
    alpha = band[..., 3].astype(np.uint16)
    # gray * a + 255 * (255 - a), over 255, rounded: all within 16 bits (at most 65 152)
    return ((gray * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)


def encode_png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError(f"cannot encode an image of shape {image.shape} as PNG")
    return data.tobytes()
