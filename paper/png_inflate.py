"""A scanned PNG's pixels inflated by ISA-L before libpng sees them.

Why: a grey 200 dpi scan spends two thirds of its decoding in zlib's inflate (21 of 30 ms
here; the reader itself takes 7). ISA-L inflates the same stream about three times
faster. OpenCV's libpng cannot be handed another inflater, so the file is rewritten: the
same chunks, and one IDAT whose deflate stream holds the already inflated rows in stored
(uncompressed) blocks. libpng then copies those rows and undoes their row filters as it
always does, so the pixels are its own, bit for bit.

Only the plain case is taken: 8-bit grey or RGB, not interlaced, every IDAT chunk's CRC
right, one zlib stream that ends exactly where the rows do and whose checksum holds.
Anything else (a broken, truncated, padded or unusual file) returns None and is decoded
from its own bytes by libpng, which then refuses or accepts it exactly as before.
"""

from __future__ import annotations

import struct
import zlib

from isal import isal_zlib

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3}  # colour type: grey, RGB (8-bit only)
# The rewrite holds the rows twice for a moment (inflated, then stored); past this the
# file is decoded as before, so one page's decoding stays inside the input limits.
MAX_ROW_BYTES = 32 * 1024 * 1024
_STORED_LEVEL = 0  # zlib level 0 writes stored blocks: a copy and a checksum


def inflated_png(data: bytes, max_row_bytes: int = MAX_ROW_BYTES) -> bytes | None:
    """`data` rewritten with its image rows inflated and stored, or None when the file is
    not one this rewrites exactly (then decode `data` itself)."""
    if not data.startswith(_SIGNATURE) or len(data) < 33:
        return None
    length, tag = struct.unpack(">I4s", data[8:16])
    if tag != b"IHDR" or length != 13:
        return None
    width, height, depth, colour, method, filtering, interlace = struct.unpack(">IIBBBBB", data[16:29])
    channels = _CHANNELS.get(colour)
    if channels is None or depth != 8 or method or filtering or interlace or not width or not height:
        return None
    row_bytes = height * (1 + width * channels)  # each row: its filter byte, then pixels
    if row_bytes > max_row_bytes:
        return None
    idat = _idat_span(data)
    if idat is None:
        return None
    first, end, pieces = idat
    rows = _inflate(pieces, row_bytes)
    if rows is None:
        return None
    stored = zlib.compress(rows, _STORED_LEVEL)
    del rows
    body = b"IDAT" + stored
    return b"".join(
        (
            data[:first],
            struct.pack(">I", len(stored)),
            body,
            struct.pack(">I", isal_zlib.crc32(body)),
            data[end:],
        )
    )


def _idat_span(data: bytes) -> tuple[int, int, list[memoryview]] | None:
    """Where the IDAT chunks begin and end, and their contents; None unless they are one
    unbroken run with every CRC right (libpng refuses a bad one: so does the caller)."""
    view = memoryview(data)
    at, first, end = 8, -1, -1
    pieces: list[memoryview] = []
    while at + 12 <= len(data):
        length, tag = struct.unpack(">I4s", data[at : at + 8])
        after = at + 12 + length
        if after > len(data):
            return None
        if tag == b"IDAT":
            if end != -1 and end != at:  # a second run of IDAT after another chunk
                return None
            (crc,) = struct.unpack(">I", data[after - 4 : after])
            if isal_zlib.crc32(view[at + 4 : after - 4]) != crc:
                return None
            if first == -1:
                first = at
            end = after
            pieces.append(view[at + 8 : after - 4])
        elif tag == b"IEND":
            break
        at = after
    if first == -1:
        return None
    return first, end, pieces


def _inflate(pieces: list[memoryview], size: int) -> bytes | None:
    """Exactly `size` bytes from one complete zlib stream, never more held in memory,
    or None."""
    inflater = isal_zlib.decompressobj()
    parts: list[bytes] = []
    got = 0
    try:
        for piece in pieces:
            if inflater.eof:
                return None  # data after the stream's end
            chunk = inflater.decompress(piece, size - got + 1)
            got += len(chunk)
            if got > size or inflater.unconsumed_tail:
                return None  # more rows than the header says: a bomb, or a lie
            parts.append(chunk)
        if not inflater.eof or inflater.unused_data or got != size:
            return None
    except isal_zlib.error:  # type: ignore[misc]  # isal's stub declares `error` an instance, not the class
        return None
    return b"".join(parts)
