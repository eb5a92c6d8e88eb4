"""What a picture file's header says it holds, read the way its decoder reads it, and
what decoding it will cost: the bytes the decoder allocates for each page.

The sizes here decide whether a file is decoded at all, so they must be the sizes the
decoder (OpenCV with libpng, libjpeg-turbo, libtiff) will use, not merely plausible
ones. Where the format lets a file say two things, the file is refused as malformed
rather than guessed at:
- PNG: IHDR must be the first chunk (libpng refuses anything else, and a second IHDR);
  an animated PNG (acTL) is refused, its frames are decoded on a canvas of their own.
- JPEG: the first frame header (SOF) in the marker chain, walked by segment lengths as
  libjpeg walks it; libjpeg itself refuses a second SOF.
- TIFF: libtiff takes the FIRST of two entries with one tag, a naive reader the last;
  an IFD holding any tag twice is refused, as are width and height of a type or count
  libtiff would read otherwise than a SHORT or LONG value.

Cost model, in bytes (all upper bounds, so a file near a limit is refused, not risked):
- every page: the 8-bit grey result twice (OpenCV may turn it by the EXIF orientation);
- PNG decoded with its alpha (transparent pages): 4 channels of 1 or 2 bytes per pixel;
- JPEG that is progressive, or has several scans: libjpeg keeps every DCT coefficient of
  the whole picture (2 bytes per sample, pre-zeroed) whatever the reduced output size;
- TIFF: one strip or tile buffer, at 4 bytes or the samples' own size per pixel,
  whichever is larger (OpenCV reads odd pixel types through libtiff's RGBA reader).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["PageHeader", "image_kind", "page_headers"]


class MalformedHeader(ValueError):
    """The header is broken or ambiguous: the file is refused as unreadable."""


@dataclass(frozen=True, slots=True)
class PageHeader:
    width: int
    height: int
    work_bytes: int  # what the decoder allocates besides the grey result, at full size
    reduce: int = 1  # the decoder's own scaling (JPEG): the result is width/reduce wide
    scans: int = 1  # JPEG: an upper bound of its scans (each a pass over every block)


def image_kind(data: bytes) -> str | None:
    """The format told by the first bytes, never by a name."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if b"%PDF-" in data[:1024]:  # the PDF spec lets the header sit within the first 1 KB
        return "pdf"
    return None


def page_headers(kind: str, data: bytes, most: int, *, transparent: bool = False) -> list[PageHeader]:
    """Each page's header (at most `most` of them); MalformedHeader (a ValueError) when
    the file is broken or says two things. `transparent`: a PNG is decoded with alpha."""
    try:
        if kind == "png":
            return [_png(data, transparent)]
        if kind == "jpeg":
            return [_jpeg(data)]
        if kind == "tiff":
            return _tiff(data, most)
    except (struct.error, IndexError) as error:
        raise MalformedHeader(f"{kind} header cut short") from error
    raise MalformedHeader(f"no header reader for {kind!r}")


_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_PNG_DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}


def _png(data: bytes, transparent: bool) -> PageHeader:
    length, tag = struct.unpack(">I4s", data[8:16])
    if tag != b"IHDR" or length != 13:
        raise MalformedHeader("PNG whose first chunk is not a 13-byte IHDR")
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    if not width or not height or depth not in _PNG_DEPTHS.get(colour, ()):
        raise MalformedHeader(f"PNG of {width}x{height}, colour type {colour}, depth {depth}")
    at = 8
    while at + 8 <= len(data):  # chunk headers up to the pixels: an animation is refused
        length, tag = struct.unpack(">I4s", data[at : at + 8])
        if tag == b"acTL":
            raise MalformedHeader("animated PNG")
        if tag in (b"IDAT", b"IEND"):
            break
        at += 12 + length
    work = width * height * 4 * (2 if depth == 16 else 1) if transparent else 0
    return PageHeader(width, height, work)


def _jpeg(data: bytes) -> PageHeader:
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise MalformedHeader("JPEG segment without a marker")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        # SOF0..SOF15 carry the size, except DHT (C4), JPG (C8) and DAC (CC)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return _jpeg_frame(data, at, marker)
        if marker == 0xDA:  # the scan begins: no size came first
            break
        at += 2 + length
    raise MalformedHeader("JPEG without a frame header")


def _jpeg_frame(data: bytes, at: int, marker: int) -> PageHeader:
    height, width, components = struct.unpack(">HHB", data[at + 5 : at + 10])
    if not width or not height or not components:
        raise MalformedHeader(f"JPEG frame of {width}x{height}, {components} components")
    factors = [data[at + 11 + 3 * c] for c in range(components)]
    h_max = max(f >> 4 for f in factors) or 1
    v_max = max(f & 15 for f in factors) or 1
    samples = sum(width * height * (f >> 4) * (f & 15) // (h_max * v_max) for f in factors)
    # A baseline picture in one interleaved scan is decoded row by row; any other keeps
    # every coefficient. A marker FF DA never occurs inside entropy-coded data, so its
    # count is an upper bound of the scans (an EXIF thumbnail adds one).
    scans = data.count(b"\xff\xda")  # once: ~1 ms a megabyte
    buffered = marker not in (0xC0, 0xC1) or scans > 1
    return PageHeader(width, height, 2 * samples if buffered else 0, scans=scans)


_TIFF_TYPE_SIZE = {1: 1, 3: 2, 4: 4, 16: 8}
_WIDTH, _HEIGHT, _BITS, _SAMPLES, _ROWS_PER_STRIP, _TILE_WIDTH, _TILE_HEIGHT = (
    256,
    257,
    258,
    277,
    278,
    322,
    323,
)


def _tiff(data: bytes, most: int) -> list[PageHeader]:
    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack(order + "I", data[4:8])
    pages: list[PageHeader] = []
    seen: set[int] = set()
    while offset and len(pages) < most:
        if offset in seen or offset + 2 > len(data):  # a loop of IFDs, or one past the end
            raise MalformedHeader("TIFF directory chain is broken")
        seen.add(offset)
        (count,) = struct.unpack(order + "H", data[offset : offset + 2])
        entries: dict[int, tuple[int, int, int]] = {}
        for entry in range(count):
            at = offset + 2 + 12 * entry
            tag, kind, values = struct.unpack(order + "HHI", data[at : at + 8])
            if tag in entries:
                raise MalformedHeader(f"TIFF directory holds tag {tag} twice")
            entries[tag] = (kind, values, at + 8)
        pages.append(_tiff_page(data, order, entries))
        next_at = offset + 2 + 12 * count
        (offset,) = struct.unpack(order + "I", data[next_at : next_at + 4])
    return pages


def _tiff_values(data: bytes, order: str, entry: tuple[int, int, int]) -> list[int]:
    kind, count, at = entry
    size = _TIFF_TYPE_SIZE.get(kind)
    if size is None or not 1 <= count <= 16:
        raise MalformedHeader(f"TIFF entry of type {kind} with {count} values")
    if size * count > 4:  # the values lie elsewhere, at the offset the entry holds
        (at,) = struct.unpack(order + "I", data[at : at + 4])
    code = {1: "B", 3: "H", 4: "I", 16: "Q"}[kind]
    values = struct.unpack(f"{order}{count}{code}", data[at : at + size * count])
    return list(values)


def _tiff_page(data: bytes, order: str, entries: dict[int, tuple[int, int, int]]) -> PageHeader:
    sizes = []
    for tag in (_WIDTH, _HEIGHT):
        if tag not in entries:
            raise MalformedHeader("TIFF page without a size")
        kind, count, _at = entries[tag]
        if kind not in (3, 4) or count != 1:
            raise MalformedHeader(f"TIFF size tag {tag} of type {kind} with {count} values")
        sizes.append(_tiff_values(data, order, entries[tag])[0])
    width, height = sizes
    if not width or not height:
        raise MalformedHeader("TIFF page of no size")

    def first(tag: int, default: int) -> int:
        return max(_tiff_values(data, order, entries[tag])) if tag in entries else default

    samples, bits = first(_SAMPLES, 1), first(_BITS, 1)
    if _TILE_WIDTH in entries or _TILE_HEIGHT in entries:  # a tile may overhang the page
        tile_w, tile_h = max(1, first(_TILE_WIDTH, width)), max(1, first(_TILE_HEIGHT, height))
    else:  # strips: OpenCV reads RowsPerStrip rows at a time, at most the page
        tile_w, tile_h = width, min(max(1, first(_ROWS_PER_STRIP, height)), height)
    pixel = max(4, samples * -(-bits // 8))
    return PageHeader(width, height, tile_w * tile_h * pixel)
