"""Hostile files that are tiny on disk and claim (or hold) huge pictures: what an
attacker uploads to make a decoder take gigabytes. Each maker returns the file's
bytes; the pixels they hold are all zero (black) or white, which compresses ~1000:1."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np

__all__ = [
    "deflated_zeros",
    "jpeg_claiming",
    "pdf_with_pages",
    "png_bomb",
    "png_claiming",
    "tiff",
]


def deflated_zeros(length: int, row: int = 0) -> bytes:
    """A zlib stream of `length` zero bytes (with a PNG filter byte every `row` + 1 bytes
    when `row`: filter 0, then zeros), made in 1 MB pieces so making it stays small."""
    squeeze = zlib.compressobj(9)
    parts: list[bytes] = []
    piece = b"\x00" * (1 << 20)
    left = length
    while left > 0:
        parts.append(squeeze.compress(piece[: min(left, len(piece))]))
        left -= len(piece)
    parts.append(squeeze.flush())
    return b"".join(parts)


def _chunk(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))


def png_claiming(width: int, height: int, *, depth: int = 8, colour: int = 0, data: bytes = b"") -> bytes:
    """A PNG whose IHDR says width x height, `depth` bits, colour type `colour`
    (0 grey, 2 RGB, 4 grey+alpha, 6 RGBA), with `data` as its only IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    body = _chunk(b"IHDR", ihdr)
    if data:
        body += _chunk(b"IDAT", data)
    return b"\x89PNG\r\n\x1a\n" + body + _chunk(b"IEND", b"")


def png_bomb(width: int, height: int, *, depth: int = 16, colour: int = 6) -> bytes:
    """A complete, valid PNG of width x height transparent black pixels: ~1 MB on disk
    for 1 GB of 16-bit RGBA. Every row is filter 0 and zeros, so the whole stream is
    zeros."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    row = width * channels * depth // 8
    return png_claiming(width, height, depth=depth, colour=colour, data=deflated_zeros((row + 1) * height))


def jpeg_claiming(width: int, height: int, *, progressive: bool = False, colour: bool = True) -> bytes:
    """A small real JPEG with its frame header changed to say width x height: the data
    ends long before such a picture would."""
    picture = np.full((64, 64, 3) if colour else (64, 64), 200, np.uint8)
    params = [cv2.IMWRITE_JPEG_PROGRESSIVE, 1] if progressive else []
    if colour:  # every component at full resolution: the most memory per pixel
        params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    data = bytearray(cv2.imencode(".jpg", picture, params)[1].tobytes())
    sof = data.index(b"\xff\xc2" if progressive else b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def tiff(
    pages: list[list[tuple[int, int, int]]] | None = None,
    *,
    width: int = 0,
    height: int = 0,
    strip: bytes = b"",
    compression: int = 8,
    bits: int = 8,
    samples: int = 1,
    extra: list[tuple[int, int, int]] = (),
    page_count: int = 1,
) -> bytes:
    """A little-endian TIFF. Either `pages`: each page's IFD entries (tag, type, value)
    given whole (so one can hold a tag twice), the strip data shared by every page; or
    `page_count` pages of width x height (`samples` of `bits` each), each with `extra` entries added.
    Every page points at the same strip (`strip`, deflated unless `compression` 1), so a
    thousand pages of a 144-megapixel picture are a few hundred kilobytes."""
    strip_at = 8
    if pages is None:
        page = [
            (256, 4, width),
            (257, 4, height),
            (258, 3, bits),
            (259, 3, compression),
            (262, 3, 1 if samples == 1 else 2),
            (273, 4, strip_at),
            (277, 3, samples),
            (278, 4, height),
            (279, 4, len(strip)),
            *extra,
        ]
        page.sort(key=lambda entry: entry[0])
        pages = [page] * page_count
    out = bytearray(b"II*\x00" + struct.pack("<I", 0) + strip)
    if len(out) % 2:
        out += b"\x00"
    previous_link = 4  # where the offset of the next IFD is written
    for entries in pages:
        at = len(out)
        struct.pack_into("<I", out, previous_link, at)
        out += struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            value = strip_at if tag == 273 else value
            out += struct.pack("<HHI", tag, kind, 1)
            out += struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
        previous_link = len(out)
        out += struct.pack("<I", 0)
    return bytes(out)


def pdf_with_pages(
    count: int, width: float = 595, height: float = 842, *, user_unit: float | None = None
) -> bytes:
    """A minimal PDF of `count` empty pages of width x height points (a page tree of one
    level), written by hand so a thousand pages are a few tens of kilobytes."""
    unit = f" /UserUnit {user_unit}" if user_unit else ""
    kids = " ".join(f"{3 + n} 0 R" for n in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Count {count} /Kids [{kids}] >>".encode(),
    ]
    for _ in range(count):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}]{unit} >>".encode())
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
