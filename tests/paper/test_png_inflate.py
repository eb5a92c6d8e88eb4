"""The ISA-L rewrite of a PNG (paper/png_inflate.py) must give libpng's own pixels for
every file it takes, step aside for every file it does not, and never hold more than the
header's rows in memory, whatever the file claims."""

from __future__ import annotations

import io
import random
import struct
import tracemalloc
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from paper import image_codec, png_inflate


def _chunk(tag: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))


def _png(
    width: int,
    height: int,
    stream: bytes,
    *,
    colour: int = 0,
    depth: int = 8,
    interlace: int = 0,
    split: int = 0,
    before: bytes = b"",
    between: bytes = b"",
    after: bytes = b"",
) -> bytes:
    """A PNG built by hand: `stream` is the whole zlib stream, cut into IDAT chunks of
    `split` bytes (one chunk when 0); `between` goes after the first IDAT chunk."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    size = split or max(1, len(stream))
    pieces = [stream[at : at + size] for at in range(0, len(stream), size)] or [b""]
    idats = [_chunk(b"IDAT", piece) for piece in pieces]
    if between:
        idats.insert(1, between)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + before
        + b"".join(idats)
        + after
        + _chunk(b"IEND", b"")
    )


def _rows(width: int, height: int, channels: int, seed: int) -> bytes:
    """Filtered rows with every filter type (0-4) and random pixels."""
    rng = random.Random(seed)
    return b"".join(bytes([rng.randrange(5)]) + rng.randbytes(width * channels) for _ in range(height))


def _direct(data: bytes) -> np.ndarray | None:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)


def _same_as_libpng(data: bytes) -> None:
    ours, theirs = image_codec.decode_image(data), _direct(data)
    if theirs is None or theirs.size == 0:
        assert ours is None
    else:
        assert ours is not None and np.array_equal(ours, theirs)


def _scan(seed: int, colour: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    height, width = int(rng.integers(1, 300)), int(rng.integers(1, 300))
    page = np.full((height, width, 3) if colour else (height, width), 235, np.uint8)
    page = np.clip(page + rng.normal(0, 12, page.shape), 0, 255).astype(np.uint8)
    page[height // 3 : height // 2, width // 4 : width // 2] = 20  # ink
    return page


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("colour", [False, True])
def test_opencv_and_pillow_pngs_are_taken_and_decode_to_libpngs_pixels(seed: int, colour: bool) -> None:
    page = _scan(seed, colour)
    level = seed % 10
    params = [cv2.IMWRITE_PNG_COMPRESSION, level, cv2.IMWRITE_PNG_STRATEGY, seed % 5]
    files = [cv2.imencode(".png", page, params)[1].tobytes()]
    buffer = io.BytesIO()
    Image.fromarray(page[:, :, ::-1] if colour else page).save(buffer, "PNG", compress_level=level)
    files.append(buffer.getvalue())
    for data in files:
        assert png_inflate.inflated_png(data) is not None  # the fast path is really taken
        _same_as_libpng(data)


def test_many_idat_chunks_and_ancillary_chunks_around_them() -> None:
    rows = _rows(97, 61, 3, 1)
    text = _chunk(b"tEXt", b"Comment\x00scanner")
    data = _png(97, 61, zlib.compress(rows, 9), colour=2, split=7, before=text, after=text)
    rewritten = png_inflate.inflated_png(data)
    assert rewritten is not None and rewritten.count(b"IDAT") == 1
    assert rewritten.count(b"tEXt") == 2
    _same_as_libpng(data)


def test_every_row_filter_and_a_one_pixel_image() -> None:
    for width, height, colour, channels in ((1, 1, 0, 1), (1, 40, 2, 3), (333, 2, 0, 1)):
        data = _png(width, height, zlib.compress(_rows(width, height, channels, width), 6), colour=colour)
        assert png_inflate.inflated_png(data) is not None
        _same_as_libpng(data)


def _valid() -> tuple[bytes, bytes]:
    rows = _rows(50, 40, 1, 7)
    return rows, zlib.compress(rows)


@pytest.mark.parametrize(
    "case",
    [
        "idat crc",
        "adler",
        "truncated stream",
        "rows short",
        "rows long",
        "garbage after stream",
        "two runs of idat",
        "interlaced",
        "16 bit",
        "palette",
        "grey and alpha",
        "chunk past the end",
        "no idat",
        "bad filter byte",
        "empty idat after the end",
    ],
)
def test_every_file_it_does_not_take_exactly_is_left_to_libpng(case: str) -> None:
    rows, stream = _valid()
    if case == "idat crc":
        good = _png(50, 40, stream)
        at = good.index(b"IDAT")
        end = at + 4 + len(stream)
        data = good[:end] + bytes([good[end] ^ 1]) + good[end + 1 :]
    elif case == "adler":
        data = _png(50, 40, stream[:-1] + bytes([stream[-1] ^ 1]))
    elif case == "truncated stream":
        data = _png(50, 40, stream[: len(stream) // 2])
    elif case == "rows short":
        data = _png(50, 40, zlib.compress(rows[:-51]))
    elif case == "rows long":
        data = _png(50, 40, zlib.compress(rows + rows[:51]))
    elif case == "garbage after stream":
        data = _png(50, 40, stream + b"\x00\x01junk")
    elif case == "two runs of idat":
        data = _png(50, 40, stream, split=len(stream) // 2, between=_chunk(b"tEXt", b"a\x00b"))
    elif case == "interlaced":
        data = _png(50, 40, stream, interlace=1)
    elif case == "16 bit":
        data = _png(25, 40, stream, depth=16)
    elif case == "palette":
        data = _png(50, 40, stream, colour=3, before=_chunk(b"PLTE", bytes(range(256)) * 3))
    elif case == "grey and alpha":
        data = _png(25, 40, stream, colour=4)
    elif case == "chunk past the end":
        data = _png(50, 40, stream)[:-20]
    elif case == "no idat":
        data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 50, 40, 8, 0, 0, 0, 0))
        data += _chunk(b"IEND", b"")
    elif case == "bad filter byte":
        bad = bytes([9]) + rows[1:]
        data = _png(50, 40, zlib.compress(bad))
        # taken (filter bytes are libpng's business), and libpng still judges the rows
        assert png_inflate.inflated_png(data) is not None
        _same_as_libpng(data)
        return
    else:
        data = _png(50, 40, stream, after=_chunk(b"IDAT", b""))
    assert png_inflate.inflated_png(data) is None
    _same_as_libpng(data)


def test_a_stream_that_inflates_far_past_its_header_is_stopped_at_the_header() -> None:
    """A 100x100 header over a stream of 200 MB of zeros (~200 KB on disk): refused
    after inflating one byte more than the header allows, not after 200 MB."""
    bomb = zlib.compressobj(9)
    zeros = bytes(1 << 20)
    stream = b"".join(bomb.compress(zeros) for _ in range(200)) + bomb.flush()
    data = _png(100, 100, stream, split=65536)
    tracemalloc.start()
    try:
        assert png_inflate.inflated_png(data) is None
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024


def test_rows_above_the_cap_are_left_to_libpng() -> None:
    rows, stream = _valid()
    data = _png(50, 40, stream)
    assert png_inflate.inflated_png(data, max_row_bytes=len(rows) - 1) is None
    assert png_inflate.inflated_png(data, max_row_bytes=len(rows)) is not None


def test_random_damage_decodes_exactly_as_libpng_decides() -> None:
    """Bytes flipped, cut and inserted anywhere in real files, 600 times: the pixels, or
    the refusal, are libpng's own every time."""
    rng = random.Random(20261207)
    sources = [cv2.imencode(".png", _scan(seed, seed % 2 == 1))[1].tobytes() for seed in range(3)] + [
        _png(64, 48, zlib.compress(_rows(64, 48, 3, 5)), colour=2, split=300)
    ]
    taken = 0
    for trial in range(600):
        data = bytearray(rng.choice(sources))
        kind = trial % 3
        at = rng.randrange(8, len(data))
        if kind == 0:
            data[at] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del data[at : at + rng.randrange(1, 40)]
        else:
            data[at:at] = rng.randbytes(rng.randrange(1, 40))
        taken += png_inflate.inflated_png(bytes(data)) is not None
        _same_as_libpng(bytes(data))
    assert taken > 0  # some damage (in ancillary chunks, in filter bytes) is still taken
