"""A fast QR Code encoder (ISO/IEC 18004, versions 1–10) for printing thousands of codes.

Almost all of a symbol depends only on its version, error-correction level and mask:
the finder, timing and alignment patterns, the format and version information, where
each data bit goes and what the mask does there. That is built once per combination
and cached. What is left per text is the bit stream, Reed–Solomon per block and one
numpy assignment that puts every codeword bit, already masked, in its place: about
30 µs for a school card's URL, where reportlab's QR widget takes ~48 ms.

The mask is fixed, which the standard allows: the same text always gives the same
symbol, and choosing per symbol by the penalty score would cost 8 symbols' worth of
work. Mask 0 was not chosen for its penalty. Scored with ISO/IEC 18004's penalty (as
the `qrcode` package computes it) over 240 card URLs of four public addresses, mask 0
averages 1372 points, mask 1 the lowest at 1327, the other six 1347–1389; mask 0 is
the lowest of the eight for 35 symbols in 240. The penalty is only a proxy for how
well a symbol reads, and on what we measure the choice makes no difference: the camera
corpus (tests/hardware/camera_frames.py, 60 frames each) read 52 vs 48 of 200 px cards,
57 vs 58 of 230 px cards and 48 vs 46 defocused 420 px cards with mask 0 vs mask 1.
Changing the mask would change no code (a code is its text, not its picture), so it
stays a free choice if a measurement ever favours another.

The whole text is in one mode (numeric, alphanumeric or bytes as UTF-8), the one that
fits every character, exactly like `qrcode` with `optimize=0`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from .reed_solomon import ec_codewords

__all__ = ["DEFAULT_MASK", "LEVELS", "MAX_VERSION", "qr_matrix", "qr_version"]

MAX_VERSION = 10  # 41…57 modules; a card's URL (~55 bytes) needs version 6 at level H
DEFAULT_MASK = 0
LEVELS = ("L", "M", "Q", "H")
_FORMAT_LEVEL_BITS = {"L": 0b01, "M": 0b00, "Q": 0b11, "H": 0b10}

# Per level, per version 1…10: (EC codewords per block, ((blocks, data codewords per block), …)),
# table 9 of ISO/IEC 18004.
# fmt: off
_BLOCKS: dict[str, tuple[tuple[int, tuple[tuple[int, int], ...]], ...]] = {
    "L": ((7, ((1, 19),)), (10, ((1, 34),)), (15, ((1, 55),)), (20, ((1, 80),)), (26, ((1, 108),)),
          (18, ((2, 68),)), (20, ((2, 78),)), (24, ((2, 97),)), (30, ((2, 116),)), (18, ((2, 68), (2, 69)))),
    "M": ((10, ((1, 16),)), (16, ((1, 28),)), (26, ((1, 44),)), (18, ((2, 32),)), (24, ((2, 43),)),
          (16, ((4, 27),)), (18, ((4, 31),)), (22, ((2, 38), (2, 39))), (22, ((3, 36), (2, 37))),
          (26, ((4, 43), (1, 44)))),
    "Q": ((13, ((1, 13),)), (22, ((1, 22),)), (18, ((2, 17),)), (26, ((2, 24),)), (18, ((2, 15), (2, 16))),
          (24, ((4, 19),)), (18, ((2, 14), (4, 15))), (22, ((4, 18), (2, 19))), (20, ((4, 16), (4, 17))),
          (24, ((6, 19), (2, 20)))),
    "H": ((17, ((1, 9),)), (28, ((1, 16),)), (22, ((2, 13),)), (16, ((4, 9),)), (22, ((2, 11), (2, 12))),
          (28, ((4, 15),)), (26, ((4, 13), (1, 14))), (26, ((4, 14), (2, 15))), (24, ((4, 12), (4, 13))),
          (28, ((6, 15), (2, 16)))),
}
# Centres of the alignment patterns (annex E), per version 1…10
_ALIGNMENT = ((), (6, 18), (6, 22), (6, 26), (6, 30), (6, 34),
              (6, 22, 38), (6, 24, 42), (6, 26, 46), (6, 28, 50))
# fmt: on

_NUMERIC = frozenset("0123456789")
_ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_ALPHANUMERIC_VALUE = {c: i for i, c in enumerate(_ALPHANUMERIC)}
_ALPHANUMERIC_SET = frozenset(_ALPHANUMERIC)
_MODE_BITS = {"numeric": 0b0001, "alphanumeric": 0b0010, "bytes": 0b0100}
# Bits of the character count: versions 1–9, then 10–26
_COUNT_BITS = {"numeric": (10, 12), "alphanumeric": (9, 11), "bytes": (8, 16)}

_MASKS = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i * j) % 3 + (i + j) % 2) % 2 == 0,
)


def _with_bch(value: int, generator: int) -> int:
    """`value` followed by its BCH remainder (format and version information)."""
    degree = generator.bit_length() - 1
    remainder = value << degree
    while remainder.bit_length() > degree:
        remainder ^= generator << (remainder.bit_length() - generator.bit_length())
    return (value << degree) | remainder


@dataclass(frozen=True)
class _Layout:
    """Everything about a (version, level, mask) symbol that does not depend on the text."""

    template: np.ndarray  # uint8 size × size: function patterns, format info, masked remainder bits
    bit_positions: np.ndarray  # flat index of each codeword bit, in block-by-block order
    bit_mask: np.ndarray  # uint8: the mask at those positions
    data_bytes: int
    ec_per_block: int
    block_sizes: tuple[int, ...]  # data codewords of each block


def _function_patterns(version: int) -> tuple[np.ndarray, np.ndarray]:
    """(dark, reserved) matrices for the parts of a symbol that do not carry data."""
    size = 17 + 4 * version
    dark = np.zeros((size, size), dtype=bool)
    reserved = np.zeros((size, size), dtype=bool)

    finder = np.zeros((7, 7), dtype=bool)
    finder[[0, 6], :] = finder[:, [0, 6]] = True
    finder[2:5, 2:5] = True
    for row, col in ((0, 0), (0, size - 7), (size - 7, 0)):
        dark[row : row + 7, col : col + 7] = finder
        # the finder with its white separator
        reserved[max(row - 1, 0) : row + 8, max(col - 1, 0) : col + 8] = True

    alignment = np.ones((5, 5), dtype=bool)
    alignment[1:4, 1:4] = False
    alignment[2, 2] = True
    centres = _ALIGNMENT[version - 1]
    for row in centres:
        for col in centres:
            if reserved[row, col]:  # would overlap a finder (timing lines are not drawn yet)
                continue
            dark[row - 2 : row + 3, col - 2 : col + 3] = alignment
            reserved[row - 2 : row + 3, col - 2 : col + 3] = True

    # after the alignment patterns: those on the timing lines agree with them anyway
    timing = np.arange(8, size - 8) % 2 == 0
    dark[6, 8 : size - 8] = timing
    dark[8 : size - 8, 6] = timing
    reserved[6, :] = reserved[:, 6] = True

    # format information (both copies) and the dark module
    reserved[8, :9] = reserved[:9, 8] = True
    reserved[8, size - 8 :] = reserved[size - 8 :, 8] = True
    dark[size - 8, 8] = True
    if version >= 7:
        bits = _with_bch(version, 0x1F25)
        for i in range(18):
            a, b = i // 3, i % 3 + size - 11
            dark[a, b] = dark[b, a] = (bits >> i) & 1
            reserved[a, b] = reserved[b, a] = True
    return dark, reserved


def _place_format(dark: np.ndarray, level: str, mask: int) -> None:
    size = dark.shape[0]
    bits = _with_bch((_FORMAT_LEVEL_BITS[level] << 3) | mask, 0x537) ^ 0x5412
    for i in range(15):
        bit = bool((bits >> i) & 1)
        # one copy around the top-left finder, skipping the timing pattern at 6…
        if i < 8:
            dark[i if i < 6 else i + 1, 8] = bit
        else:
            dark[8, 14 - i if i > 8 else 7] = bit
        # …and one split between the top-right and the bottom-left finders
        if i < 8:
            dark[8, size - 1 - i] = bit
        else:
            dark[size - 15 + i, 8] = bit


def _data_positions(reserved: np.ndarray) -> np.ndarray:
    """Flat indices of the data modules in placement order: two-module-wide columns from
    the right, upwards then downwards, skipping the vertical timing pattern."""
    size = reserved.shape[0]
    order = []
    upwards = True
    col = size - 1
    while col > 0:
        if col == 6:
            col -= 1
        rows = range(size - 1, -1, -1) if upwards else range(size)
        for row in rows:
            for c in (col, col - 1):
                if not reserved[row, c]:
                    order.append(row * size + c)
        upwards = not upwards
        col -= 2
    return np.array(order, dtype=np.intp)


@cache
def _layout(version: int, level: str, mask: int) -> _Layout:
    dark, reserved = _function_patterns(version)
    _place_format(dark, level, mask)
    size = dark.shape[0]
    positions = _data_positions(reserved)
    rows, cols = np.divmod(positions, size)
    mask_values = np.array([_MASKS[mask](int(r), int(c)) for r, c in zip(rows, cols, strict=True)])

    ec_per_block, groups = _BLOCKS[level][version - 1]
    block_sizes = tuple(k for count, k in groups for _ in range(count))
    total_codewords = sum(block_sizes) + ec_per_block * len(block_sizes)

    # The standard interleaves codewords: first byte of every block, then the second…;
    # map each byte of the plain "data blocks, then EC blocks" order to its slot.
    data_starts = np.cumsum((0, *block_sizes))
    interleaved = [
        data_starts[b] + i for i in range(max(block_sizes)) for b, k in enumerate(block_sizes) if i < k
    ]
    ec_base = int(data_starts[-1])
    interleaved += [
        ec_base + b * ec_per_block + i for i in range(ec_per_block) for b in range(len(block_sizes))
    ]
    slot_of_byte = np.empty(total_codewords, dtype=np.intp)
    slot_of_byte[interleaved] = np.arange(total_codewords)
    slot_of_bit = (slot_of_byte[:, None] * 8 + np.arange(8)).ravel()

    template = dark.astype(np.uint8).ravel()
    # Remainder bits after the last codeword are 0, so only the mask shows there.
    remainder = positions[total_codewords * 8 :]
    template[remainder] = mask_values[total_codewords * 8 :]
    used = slot_of_bit
    return _Layout(
        template=template.reshape(size, size),
        bit_positions=positions[used],
        bit_mask=mask_values[used].astype(np.uint8),
        data_bytes=sum(block_sizes),
        ec_per_block=ec_per_block,
        block_sizes=block_sizes,
    )


def _mode_of(text: str) -> str:
    symbols = set(text)
    if symbols <= _NUMERIC:
        return "numeric"
    if symbols <= _ALPHANUMERIC_SET:
        return "alphanumeric"
    return "bytes"


def _payload(text: str, mode: str) -> tuple[int, int, int]:
    """(value, bit count, character count) of the data segment, without the header."""
    if mode == "bytes":
        raw = text.encode()
        return int.from_bytes(raw, "big"), 8 * len(raw), len(raw)
    value = bits = 0
    if mode == "numeric":
        for i in range(0, len(text), 3):
            chunk = text[i : i + 3]
            width = (4, 7, 10)[len(chunk) - 1]
            value, bits = (value << width) | int(chunk), bits + width
    else:
        for i in range(0, len(text), 2):
            pair = text[i : i + 2]
            if len(pair) == 2:
                value = (value << 11) | (_ALPHANUMERIC_VALUE[pair[0]] * 45 + _ALPHANUMERIC_VALUE[pair[1]])
                bits += 11
            else:
                value, bits = (value << 6) | _ALPHANUMERIC_VALUE[pair], bits + 6
    return value, bits, len(text)


def _data_capacity_bits(version: int, level: str) -> int:
    _, groups = _BLOCKS[level][version - 1]
    return 8 * sum(count * k for count, k in groups)


def _check_level(level: str) -> None:
    if level not in _BLOCKS:
        raise ValueError(f"error-correction level must be one of {', '.join(LEVELS)}, got {level!r}")


@cache
def _smallest_version(mode: str, bits: int, level: str) -> int:
    for version in range(1, MAX_VERSION + 1):
        header = 4 + _COUNT_BITS[mode][version >= 10]
        if header + bits <= _data_capacity_bits(version, level):
            return version
    raise ValueError(
        f"text of {bits // 8} bytes does not fit a version-{MAX_VERSION} QR code at level {level}"
    )


def qr_version(text: str, level: str = "H") -> int:
    """The smallest version (1…MAX_VERSION) that holds `text` at `level`; ValueError if none."""
    _check_level(level)
    mode = _mode_of(text)
    _, bits, _ = _payload(text, mode)
    return _smallest_version(mode, bits, level)


def qr_matrix(
    text: str, level: str = "H", *, version: int | None = None, mask: int = DEFAULT_MASK
) -> np.ndarray:
    """The QR symbol for `text` as a 2-D bool array, True = dark, without the quiet zone.

    `level` is the error correction: "H" (default, 30 % of a crumpled card may be
    lost), "Q", "M" or "L". `version` forces a size (ValueError if the text does not
    fit); by default the smallest that fits is used."""
    if not text:
        raise ValueError("a QR code needs some text to carry")
    _check_level(level)
    if not 0 <= mask < len(_MASKS):
        raise ValueError(f"mask must be 0…7, got {mask!r}")
    mode = _mode_of(text)
    value, bits, count = _payload(text, mode)
    smallest = _smallest_version(mode, bits, level)
    if version is None:
        version = smallest
    elif not smallest <= version <= MAX_VERSION:
        raise ValueError(f"text needs version {smallest}…{MAX_VERSION} at level {level}, not {version}")
    layout = _layout(version, level, mask)

    count_bits = _COUNT_BITS[mode][version >= 10]
    stream = (((_MODE_BITS[mode] << count_bits) | count) << bits) | value
    length = 4 + count_bits + bits
    capacity = 8 * layout.data_bytes
    # terminator (up to four 0 bits), then 0s to a whole byte
    zeros = min(4, capacity - length)
    zeros += -(length + zeros) % 8
    stream <<= zeros
    length += zeros
    filled = length // 8
    pad = (b"\xec\x11" * (layout.data_bytes // 2 + 1))[: layout.data_bytes - filled]
    data = stream.to_bytes(filled, "big") + pad

    ec = []
    start = 0
    for k in layout.block_sizes:
        ec.append(ec_codewords(data[start : start + k], layout.ec_per_block))
        start += k
    codewords = np.frombuffer(data + b"".join(ec), dtype=np.uint8)

    symbol = layout.template.copy()
    symbol.ravel()[layout.bit_positions] = np.unpackbits(codewords) ^ layout.bit_mask
    return symbol.view(bool)
