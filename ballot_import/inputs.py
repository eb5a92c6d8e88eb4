"""Files to page images: what a support point's scanner or phone gives us, made into
grayscale pages for the reader, with every bad file turned into a clear outcome.

Accepted: PNG, JPEG, TIFF (one page or many, as sheet-feeding scanners write them) and
PDF (rendered by poppler's `pdftoppm` at 200 dpi, page by page, each under a timeout).
The format is told by the file's first bytes, never by its name.

Limits, checked before anything is decoded: a file over 100 MB, a picture over
12 000 px on a side (a 200 dpi A4 scan is 1654 x 2339; a 48-megapixel photo 8000 x
6000), or a file with more than 500 pages. Sizes come from the header (PNG's IHDR,
JPEG's SOF, TIFF's IFDs, pdfinfo), so a "decompression bomb" is refused unread.

A file with more than MAX_PAGES pages is refused whole, not read in part: the operator
would otherwise have to find out which sheets went in and re-scan the rest, and a
scanner's feeder holds far fewer sheets (~100), so such a file is a mistake (or an
attack) that is best answered by "split it". The refusal is one page result with the
reason sheet.too_large.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hardware import sheet_imaging

__all__ = ["Limits", "PageImage", "pages_from_bytes", "read_pages"]

PDF_DPI = 200


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 100 * 1024 * 1024
    max_side_px: int = 12_000
    max_pages: int = 500
    pdf_dpi: int = PDF_DPI
    pdf_page_timeout_s: float = 30.0  # a normal page renders in ~0.3 s
    pdfinfo_timeout_s: float = 15.0
    # A photo this long on its longer side is decoded at half size (JPEG scales while
    # decoding): the page then still has ~110 dpi, 3 px per QR module.
    reduce_above_px: int = 3600


@dataclass(slots=True)
class PageImage:
    """One page of an input file: a grayscale picture, or the reason there is none."""

    file: str
    page_index: int
    image_sha256: str
    gray: np.ndarray | None
    problem: str | None = None  # a message code when gray is None
    seconds: float = 0.0  # decoding time


def read_pages(path: str | os.PathLike[str], limits: Limits = Limits()) -> Iterator[PageImage]:
    """The pages of the file at `path`, one at a time (a long PDF is never all in memory)."""
    name = os.fspath(path)
    try:
        size = os.stat(name).st_size
        if size > limits.max_bytes:
            yield PageImage(name, 0, "", None, "sheet.too_large")
            return
        with open(name, "rb") as handle:
            # The size it had a moment ago, plus one byte: read(max_bytes + 1) at once
            # would allocate 100 MB for every sheet. A file that grew since (a scanner
            # still writing) is read on, up to the limit, as a whole.
            data = handle.read(min(size, limits.max_bytes) + 1)
            if len(data) > size:
                data += handle.read(limits.max_bytes + 1 - len(data))
    except OSError:
        yield PageImage(name, 0, "", None, "sheet.unreadable")
        return
    yield from pages_from_bytes(name, data, limits, pdf_path=name)


def pages_from_bytes(
    name: str, data: bytes, limits: Limits = Limits(), *, pdf_path: str | None = None
) -> Iterator[PageImage]:
    """The pages of a file's bytes (`name` is only reported). A PDF is rendered from
    `pdf_path` when given, otherwise from a temporary copy."""
    digest = hashlib.sha256(data).hexdigest()

    def refused(code: str, index: int = 0) -> PageImage:
        return PageImage(name, index, digest, None, code)

    if len(data) > limits.max_bytes:
        yield refused("sheet.too_large")
        return
    kind = _kind(data)
    if kind is None:
        yield refused("sheet.not_an_image")
        return
    if kind == "pdf":
        yield from _pdf_pages(name, data, digest, limits, pdf_path)
        return
    try:
        sizes = _image_sizes(kind, data, limits.max_pages + 1)
    except (ValueError, struct.error, IndexError):
        yield refused("sheet.unreadable")
        return
    if not sizes:
        yield refused("sheet.unreadable")
        return
    if len(sizes) > limits.max_pages:
        yield refused("sheet.too_large")
        return
    if kind != "tiff":
        width, height = sizes[0]
        if max(width, height) > limits.max_side_px:
            yield refused("sheet.too_large")
            return
        started = time.perf_counter()
        reduce = 2 if kind == "jpeg" and max(width, height) > limits.reduce_above_px else 1
        transparent = kind == "png" and _png_may_be_transparent(data)
        gray = sheet_imaging.decode_image(data, reduce=reduce, transparent=transparent)
        seconds = time.perf_counter() - started
        yield PageImage(name, 0, digest, gray, None if gray is not None else "sheet.unreadable", seconds)
        return
    for index, (width, height) in enumerate(sizes):
        if max(width, height) > limits.max_side_px:
            yield refused("sheet.too_large", index)
            continue
        started = time.perf_counter()
        gray = sheet_imaging.decode_pages(data, index, 1)[0]
        seconds = time.perf_counter() - started
        yield PageImage(name, index, digest, gray, None if gray is not None else "sheet.unreadable", seconds)


def _kind(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if b"%PDF-" in data[:1024]:  # the PDF spec lets the header sit within the first 1 KB
        return "pdf"
    return None


def _image_sizes(kind: str, data: bytes, most: int) -> list[tuple[int, int]]:
    """(width, height) of each page, from the header alone; ValueError when malformed."""
    if kind == "png":
        if data[12:16] != b"IHDR":
            raise ValueError("PNG without IHDR")
        return [struct.unpack(">II", data[16:24])]
    if kind == "jpeg":
        return [_jpeg_size(data)]
    return _tiff_sizes(data, most)


def _png_may_be_transparent(data: bytes) -> bool:
    """Whether a PNG has an alpha channel (colour type 4 or 6) or a tRNS chunk before
    its pixels: such a page is laid on white when decoded. Walks the chunk headers
    only; a malformed chain ends the walk (the decoder then reports the file)."""
    if len(data) < 26:
        return False
    if data[25] in (4, 6):  # IHDR's colour type: grey + alpha, RGBA
        return True
    at = 8
    while at + 8 <= len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        tag = data[at + 4 : at + 8]
        if tag == b"tRNS":
            return True
        if tag in (b"IDAT", b"IEND"):
            return False
        at += 12 + length
    return False


def _jpeg_size(data: bytes) -> tuple[int, int]:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise ValueError("JPEG segment without a marker")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            at += 2
            continue
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        # SOF0..SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[at + 5 : at + 9])
            return width, height
        if marker == 0xDA:  # the scan begins: no size came first
            break
        at += 2 + length
    raise ValueError("JPEG without a frame header")


def _tiff_sizes(data: bytes, most: int) -> list[tuple[int, int]]:
    order = "<" if data[:2] == b"II" else ">"
    offset = struct.unpack(order + "I", data[4:8])[0]
    sizes: list[tuple[int, int]] = []
    seen: set[int] = set()
    while offset and len(sizes) < most:
        if offset in seen or offset + 2 > len(data):  # a loop of IFDs, or one past the end
            raise ValueError("TIFF directory chain is broken")
        seen.add(offset)
        (count,) = struct.unpack(order + "H", data[offset : offset + 2])
        width = height = 0
        for entry in range(count):
            at = offset + 2 + 12 * entry
            tag, kind = struct.unpack(order + "HH", data[at : at + 4])
            if tag in (256, 257):
                value = struct.unpack(
                    order + ("H" if kind == 3 else "I"), data[at + 8 : at + (10 if kind == 3 else 12)]
                )
                if tag == 256:
                    width = value[0]
                else:
                    height = value[0]
        if not width or not height:
            raise ValueError("TIFF page without a size")
        sizes.append((width, height))
        next_at = offset + 2 + 12 * count
        (offset,) = struct.unpack(order + "I", data[next_at : next_at + 4])
    return sizes


_PAGES = re.compile(rb"^Pages:\s+(\d+)\s*$", re.MULTILINE)
_PAGE_SIZE = re.compile(rb"^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts", re.MULTILINE)


def _pdf_pages(
    name: str, data: bytes, digest: str, limits: Limits, pdf_path: str | None
) -> Iterator[PageImage]:
    with tempfile.TemporaryDirectory(prefix="spilno-pdf-") as folder:
        if pdf_path is None:
            pdf_path = str(Path(folder) / "sheets.pdf")
            Path(pdf_path).write_bytes(data)
        pdf_path = os.path.abspath(pdf_path)  # a name like "-l.pdf" must not read as an option
        info = _run(["pdfinfo", pdf_path], limits.pdfinfo_timeout_s)
        match = _PAGES.search(info or b"")
        if match is None or int(match.group(1)) < 1:
            yield PageImage(name, 0, digest, None, "sheet.unreadable")  # a corrupt or empty PDF
            return
        pages = int(match.group(1))
        if pages > limits.max_pages:
            yield PageImage(name, 0, digest, None, "sheet.too_large")
            return
        sizes = _run(["pdfinfo", "-f", "1", "-l", str(pages), pdf_path], limits.pdfinfo_timeout_s) or b""
        points = {int(n): (float(w), float(h)) for n, w, h in _PAGE_SIZE.findall(sizes)}
        for index in range(pages):
            width, height = points.get(index + 1, (0.0, 0.0))
            if max(width, height) * limits.pdf_dpi / 72 > limits.max_side_px:
                yield PageImage(name, index, digest, None, "sheet.too_large")
                continue
            started = time.perf_counter()
            pgm = _run(
                # -gray without -png: a PGM, the cheapest thing to decode; no output name
                # sends the page to stdout
                [
                    "pdftoppm",
                    "-r",
                    str(limits.pdf_dpi),
                    "-gray",
                    "-f",
                    str(index + 1),
                    "-l",
                    str(index + 1),
                    pdf_path,
                ],
                limits.pdf_page_timeout_s,
            )
            gray = sheet_imaging.decode_image(pgm) if pgm else None
            seconds = time.perf_counter() - started
            yield PageImage(
                name, index, digest, gray, None if gray is not None else "sheet.unreadable", seconds
            )


def _run(command: list[str], timeout_s: float) -> bytes | None:
    """A poppler tool's stdout, None when it fails or overruns (run() kills it then)."""
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout_s, check=False)  # noqa: S603
    except (subprocess.TimeoutExpired, OSError):
        return None
    return done.stdout if done.returncode == 0 else None
