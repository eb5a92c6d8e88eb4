"""Reed–Solomon error correction over GF(256), as QR codes use it.

The generator polynomial's multiples are tabulated once per degree, so one data byte
costs a shift, a table look-up and an XOR of Python integers holding the whole
remainder: ~10 µs for a version-6 symbol's 172 codewords.
"""

from __future__ import annotations

from functools import cache

__all__ = ["ec_codewords"]


def _gf_tables() -> tuple[list[int], list[int]]:
    """Powers of α (twice over, so a sum of two logarithms needs no mod 255) and logarithms
    in GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1."""
    exp, log = [0] * 512, [0] * 256
    x = 1
    for i in range(255):
        exp[i] = exp[i + 255] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    return exp, log


_EXP, _LOG = _gf_tables()


def _gf_mul(a: int, b: int) -> int:
    return 0 if a == 0 or b == 0 else _EXP[_LOG[a] + _LOG[b]]


@cache
def _rs_table(degree: int) -> tuple[int, ...]:
    """For each feedback byte f, f × the generator polynomial (without its leading 1) as one
    integer of `degree` bytes: one Reed–Solomon step is then a shift and an XOR."""
    generator = [1]
    for i in range(degree):  # multiply by (x − α^i)
        generator = [
            (generator[k] if k < len(generator) else 0) ^ (_gf_mul(generator[k - 1], _EXP[i]) if k else 0)
            for k in range(len(generator) + 1)
        ]
    tail = generator[1:]
    return tuple(int.from_bytes(bytes(_gf_mul(c, f) for c in tail), "big") for f in range(256))


def ec_codewords(data: bytes, degree: int) -> bytes:
    """The `degree` error-correction codewords of one block of `data` codewords."""
    table = _rs_table(degree)
    top = 8 * (degree - 1)
    keep = (1 << (8 * degree)) - 1
    remainder = 0
    for byte in data:
        remainder = ((remainder << 8) & keep) ^ table[byte ^ (remainder >> top)]
    return remainder.to_bytes(degree, "big")
