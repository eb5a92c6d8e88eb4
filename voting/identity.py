"""Voter keys: who a resident is, without keeping who they are.

A resident identifies with a document number or a card. We normalise the number,
then keep only a keyed hash of it (the voter key). The key is per community, so the
same person gets unrelated keys in two communities, and a stolen database without
the key cannot be joined with other data. Raw numbers are never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

MAX_RAW_LENGTH = 64


class IdentityKind(StrEnum):
    RNOKPP = "rnokpp"  # taxpayer number, 10 digits with a check digit
    UNZR = "unzr"  # demographic register record number, YYYYMMDD-NNNNN
    PASSPORT = "passport"  # passport booklet: 2 Cyrillic letters + 6 digits
    ID_CARD = "id_card"  # ID card document number: 9 digits
    CARD = "card"  # a kiosk card's id (UID), as hex


class IdentityError(ValueError):
    """A number that cannot be a valid identifier of its kind."""

    def __init__(self, code: str, kind: str | None = None) -> None:
        super().__init__(f"{code} (kind={kind})")
        self.code = code
        self.kind = kind


# Latin letters that look like Cyrillic ones: residents and scanners mix them up.
_LATIN_TO_CYRILLIC = str.maketrans("ABCEHIKMOPTXY", "АВСЕНІКМОРТХУ")
_RNOKPP_WEIGHTS = (-1, 5, 7, 9, 4, 6, 10, 5, 7)


def rnokpp_check_digit(first_nine: str) -> int:
    total = sum(int(d) * w for d, w in zip(first_nine, _RNOKPP_WEIGHTS, strict=True))
    return total % 11 % 10


def normalise_identifier(kind: IdentityKind | str, raw: str) -> str:
    """The canonical form of `raw`, or IdentityError with a message code."""
    try:
        kind = IdentityKind(kind)
    except ValueError:
        raise IdentityError("identity.unknown_kind", str(kind)[:32]) from None
    if not isinstance(raw, str) or not raw.strip():
        raise IdentityError("identity.empty", kind)
    if len(raw) > MAX_RAW_LENGTH:
        raise IdentityError("identity.too_long", kind)
    compact = re.sub(r"[\s\-‐-―]", "", raw).upper()

    if kind is IdentityKind.RNOKPP:
        if not re.fullmatch(r"[0-9]{10}", compact):
            raise IdentityError("identity.rnokpp_format", kind)
        if rnokpp_check_digit(compact[:9]) != int(compact[9]):
            raise IdentityError("identity.rnokpp_checksum", kind)
        return compact
    if kind is IdentityKind.UNZR:
        # The last digit is a check digit; we check the shape and the birth date and
        # leave the check digit to the register, which is the authority on it.
        if not re.fullmatch(r"[0-9]{13}", compact):
            raise IdentityError("identity.unzr_format", kind)
        try:
            date(int(compact[:4]), int(compact[4:6]), int(compact[6:8]))
        except ValueError:
            raise IdentityError("identity.unzr_format", kind) from None
        return f"{compact[:8]}-{compact[8:]}"
    if kind is IdentityKind.PASSPORT:
        series_fixed = compact[:2].translate(_LATIN_TO_CYRILLIC) + compact[2:]
        if not re.fullmatch(r"[А-ЯҐЄІЇ]{2}[0-9]{6}", series_fixed):
            raise IdentityError("identity.passport_format", kind)
        return series_fixed
    if kind is IdentityKind.ID_CARD:
        if not re.fullmatch(r"[0-9]{9}", compact):
            raise IdentityError("identity.id_card_format", kind)
        return compact
    # CARD: a UID of 4, 7 or 10 bytes as hex
    if not re.fullmatch(r"(?:[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})", compact):
        raise IdentityError("identity.card_format", kind)
    return compact


def community_voter_secret(master_secret: bytes, community_key_id: str) -> bytes:
    """The per-community key, derived so that only the master secret needs guarding."""
    if len(master_secret) < 32:
        raise ValueError("the voter-key master secret must be at least 32 bytes")
    return hmac.new(
        master_secret,
        b"spilno/voter-key/v1/" + community_key_id.encode(),
        hashlib.sha256,
    ).digest()


@dataclass(frozen=True, slots=True)
class VoterKey:
    """A resident's pseudonym in one community: 64 hex characters."""

    hex: str

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-f]{64}", self.hex):
            raise ValueError(f"a voter key is 64 lowercase hex characters, got {self.hex[:80]!r}")

    def __str__(self) -> str:
        return self.hex

    @classmethod
    def derive(cls, community_secret: bytes, kind: IdentityKind | str, raw: str) -> VoterKey:
        canonical = normalise_identifier(kind, raw)
        kind = IdentityKind(kind)
        digest = hmac.new(community_secret, f"{kind.value}:{canonical}".encode(), hashlib.sha256).hexdigest()
        return cls(digest)
