"""Files to page images: what a support point's scanner or phone gives us, made into
grayscale pages for the reader, with every bad file turned into a clear outcome.

Accepted: PNG, JPEG, TIFF (one page or many, as sheet-feeding scanners write them) and
PDF (rendered by poppler's `pdftoppm` at 200 dpi, page by page). The format is told by
the file's first bytes, never by its name.

Nothing is decoded before its header says it fits (image_headers reads it as the
decoder will, and refuses a header that says two things). Limits, per file: 100 MB, 500
pages, 1 200 megapixels in all, 30 s of decoding CPU; per page: 12 000 px on a side,
32 megapixels decoded, 192 MB for the decoder (its result and its work buffers: a
16-bit RGBA PNG needs 8 bytes a pixel, a progressive JPEG 2 per sample). A 200 dpi A4
scan is 1654 x 2339 (4 MP, 8 MB), a 48-megapixel photo is decoded at half size.
A "decompression bomb" (a tiny file claiming a huge picture) is refused unread.

A PDF is measured by `pdfinfo` and rendered by `pdftoppm` in a child process that the
kernel holds to 512 MB of address space and the file's remaining CPU time, cropped to
the size pdfinfo gave (so a page that renders larger than it said is cut, not grown).

A file with more pages or pixels than a file may hold is refused whole, not read in
part: the operator would otherwise have to find out which sheets went in and re-scan
the rest, and a scanner's feeder holds far fewer sheets (~100), so such a file is a
mistake (or an attack) that is best answered by "split it". The refusal is one page
result with the reason sheet.too_large. A file whose pages take longer to decode than
its CPU budget has the pages left refused with sheet.too_slow.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paper import image_codec
from paper.image_headers import PageHeader, image_kind, page_headers

__all__ = ["Limits", "PageImage", "pages_from_bytes", "read_pages"]

PDF_DPI = 200
MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int = 100 * MB
    max_side_px: int = 12_000
    # Decoded pixels of one page: a 400 dpi A4 scan is 15.5 MP, a 48 MP photo is decoded
    # at half size (12 MP). The reader needs ~6 bytes a pixel of its own for a page, so
    # this bounds what reading one page costs as well as decoding it.
    max_pixels: int = 32_000_000
    # One page's decoding: its grey result (twice: OpenCV may turn it by its EXIF
    # orientation) and the decoder's buffers. With a server worker (~120 MB), the file's
    # own bytes (at most 100 MB) and this, or the reader's work on the page, a process
    # stays under 512 MB.
    max_decode_bytes: int = 192 * MB
    max_pages: int = 500
    max_file_pixels: int = 1_200_000_000  # 300 A4 pages at 200 dpi: ~20 s to read
    file_cpu_s: float = 30.0  # decoding CPU for one file, all its pages
    max_jpeg_scans: int = 100  # a progressive JPEG has ~10; each is a pass over every block
    pdf_dpi: int = PDF_DPI
    pdf_page_timeout_s: float = 30.0  # wall clock; a normal page renders in ~0.3 s
    pdfinfo_timeout_s: float = 15.0
    pdf_memory_bytes: int = 512 * MB  # address space of a poppler process
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
    kind = image_kind(data)
    if kind is None:
        yield refused("sheet.not_an_image")
        return
    if kind == "pdf":
        yield from _pdf_pages(name, data, digest, limits, pdf_path)
        return
    transparent = kind == "png" and _png_may_be_transparent(data)
    try:
        headers = page_headers(kind, data, limits.max_pages + 1, transparent=transparent)
    except ValueError:
        yield refused("sheet.unreadable")
        return
    if not headers:
        yield refused("sheet.unreadable")
        return
    reduces = [_reduce(kind, header, limits) for header in headers]
    if (
        len(headers) > limits.max_pages
        or sum(_pixels(h, r) for h, r in zip(headers, reduces, strict=True)) > limits.max_file_pixels
        or any(header.scans > limits.max_jpeg_scans for header in headers)
    ):
        yield refused("sheet.too_large")
        return
    budget = _CpuBudget(limits.file_cpu_s)
    for index, (header, reduce) in enumerate(zip(headers, reduces, strict=True)):
        if not _fits(header, reduce, limits):
            yield refused("sheet.too_large", index)
            continue
        if budget.spent():
            yield refused("sheet.too_slow", index)
            continue
        started = time.perf_counter()
        with budget.counting():
            if kind == "tiff":
                gray = image_codec.decode_pages(data, index, 1)[0]
            else:
                gray = image_codec.decode_image(data, reduce=reduce, transparent=transparent)
        seconds = time.perf_counter() - started
        yield PageImage(name, index, digest, gray, None if gray is not None else "sheet.unreadable", seconds)


def _reduce(kind: str, header: PageHeader, limits: Limits) -> int:
    """The JPEG decoder's own scaling for a large photo (other formats decode whole)."""
    return 2 if kind == "jpeg" and max(header.width, header.height) > limits.reduce_above_px else 1


def _pixels(header: PageHeader, reduce: int) -> int:
    return -(-header.width // reduce) * -(-header.height // reduce)


def _fits(header: PageHeader, reduce: int, limits: Limits) -> bool:
    pixels = _pixels(header, reduce)
    return (
        max(header.width, header.height) <= limits.max_side_px
        and pixels <= limits.max_pixels
        and 2 * pixels + header.work_bytes <= limits.max_decode_bytes
    )


class _CpuBudget:
    """The CPU time one file's decoding has used: this thread's (OpenCV decodes on the
    caller's thread) plus its poppler children's, each measured on its own."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds

    def spent(self) -> bool:
        return self.left <= 0

    def counting(self) -> _Counting:
        return _Counting(self)


class _Counting:
    def __init__(self, budget: _CpuBudget) -> None:
        self.budget = budget

    def __enter__(self) -> None:
        self.started = time.thread_time()

    def __exit__(self, *_exc: object) -> None:
        self.budget.left -= time.thread_time() - self.started


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
        length = int.from_bytes(data[at : at + 4], "big")
        tag = data[at + 4 : at + 8]
        if tag == b"tRNS":
            return True
        if tag in (b"IDAT", b"IEND"):
            return False
        at += 12 + length
    return False


_PAGES = re.compile(rb"^Pages:\s+(\d+)\s*$", re.MULTILINE)
_PAGE_SIZE = re.compile(rb"^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts", re.MULTILINE)
_PAGE_ROTATION = re.compile(rb"^Page\s+(\d+) rot:\s+(\d+)", re.MULTILINE)


def _pdf_pages(
    name: str, data: bytes, digest: str, limits: Limits, pdf_path: str | None
) -> Iterator[PageImage]:
    def refused(code: str, index: int = 0) -> PageImage:
        return PageImage(name, index, digest, None, code)

    budget = _CpuBudget(limits.file_cpu_s)
    with tempfile.TemporaryDirectory(prefix="spilno-pdf-") as folder:
        if pdf_path is None:
            pdf_path = str(Path(folder) / "sheets.pdf")
            Path(pdf_path).write_bytes(data)
        pdf_path = os.path.abspath(pdf_path)  # a name like "-l.pdf" must not read as an option
        info = _run(["pdfinfo", pdf_path], limits, limits.pdfinfo_timeout_s, budget)
        match = _PAGES.search(info or b"")
        if match is None or int(match.group(1)) < 1:
            yield refused("sheet.unreadable")  # a corrupt or empty PDF
            return
        pages = int(match.group(1))
        if pages > limits.max_pages:
            yield refused("sheet.too_large")
            return
        details = (
            _run(["pdfinfo", "-f", "1", "-l", str(pages), pdf_path], limits, limits.pdfinfo_timeout_s, budget)
            or b""
        )
        points = {int(n): (float(w), float(h)) for n, w, h in _PAGE_SIZE.findall(details)}
        turned = {int(n) for n, r in _PAGE_ROTATION.findall(details) if int(r) % 180}
        sizes = {n: _pdf_pixels(w, h, n in turned, limits.pdf_dpi) for n, (w, h) in points.items()}
        if sum(w * h for w, h in sizes.values()) > limits.max_file_pixels:
            yield refused("sheet.too_large")
            return
        for index in range(pages):
            width, height = sizes.get(index + 1, (0, 0))
            if not width or not height:
                yield refused("sheet.unreadable", index)  # pdfinfo could not tell its size
                continue
            if not _fits(PageHeader(width, height, 0), 1, limits):
                yield refused("sheet.too_large", index)
                continue
            if budget.spent():
                yield refused("sheet.too_slow", index)
                continue
            started = time.perf_counter()
            pgm = _run(
                # -gray without -png: a PGM, the cheapest thing to decode; no output name
                # sends the page to stdout. -W/-H crop the page to the size pdfinfo gave
                # (plus a pixel for rounding): poppler allocates the crop, not the page.
                [
                    "pdftoppm",
                    "-r",
                    str(limits.pdf_dpi),
                    "-gray",
                    "-f",
                    str(index + 1),
                    "-l",
                    str(index + 1),
                    "-x",
                    "0",
                    "-y",
                    "0",
                    "-W",
                    str(width + 1),
                    "-H",
                    str(height + 1),
                    pdf_path,
                ],
                limits,
                limits.pdf_page_timeout_s,
                budget,
            )
            with budget.counting():
                gray = image_codec.decode_image(pgm) if pgm else None
            seconds = time.perf_counter() - started
            problem = None if gray is not None else "sheet.too_slow" if budget.spent() else "sheet.unreadable"
            yield PageImage(name, index, digest, gray, problem, seconds)


def _pdf_pixels(width_pt: float, height_pt: float, turned: bool, dpi: int) -> tuple[int, int]:
    """A page's size in pixels as pdftoppm renders it (turned by its /Rotate)."""
    width, height = math.ceil(width_pt * dpi / 72), math.ceil(height_pt * dpi / 72)
    return (height, width) if turned else (width, height)


def _run(command: list[str], limits: Limits, timeout_s: float, budget: _CpuBudget) -> bytes | None:
    """A poppler tool's stdout, None when it fails, overruns its wall-clock time (it is
    killed) or hits its limits. The kernel holds it to `limits.pdf_memory_bytes` of
    address space and to the file's CPU time left (whole seconds, at least one); the
    CPU it used is taken from the budget."""
    cpu_s = max(1, math.ceil(budget.left))
    # The limits are set by the shell that then becomes the tool (exec): no Python code
    # runs between fork and exec, which is not safe in a threaded server.
    limited = [
        "/bin/sh",
        "-c",
        f'ulimit -v {limits.pdf_memory_bytes // 1024} && ulimit -t {cpu_s} && exec "$0" "$@"',
        *command,
    ]
    try:
        process = subprocess.Popen(  # noqa: S603
            limited, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
    except OSError:
        return None
    timer = threading.Timer(timeout_s, process.kill)
    timer.start()
    try:
        assert process.stdout is not None
        output = process.stdout.read()
        process.stdout.close()
    finally:
        timer.cancel()
        timer.join()  # a kill already under way is done before the process is reaped
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    budget.left -= usage.ru_utime + usage.ru_stime
    return output if process.returncode == 0 else None
