"""Enrolment: a moderator gives a device a one-time code; the device trades it, once, for
being known by its own Ed25519 public key.

Codes are 12 characters from a 32-character alphabet without the look-alikes 0/O and
1/I (60 random bits), shown grouped as K7QM-2XPD-9RTA. The server keeps only a SHA-256
hash of a code: at 60 bits and a 24-hour life, guessing one online is hopeless and a
stolen hash is useless before the code expires. Tries are still limited per address
(`enrol_limit`), so nobody can hammer the endpoint: a few, then growing delays. A new
code for a device withdraws its earlier unused ones, so at most one code per device is
ever live.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.auth.throttle import Rule, address_subject
from server.models import Community, Device, DeviceEnrolment, User, utcnow
from server.services import audit
from server.services.validation import Refused
from server.texts import _l
from sync import signing, wire

from .auth import is_revoked
from .refusals import SyncRefused

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols: 5 bits each
CODE_LENGTH = 12
GROUP = 4
CODE_LIFETIME = timedelta(hours=24)
MAX_TYPED_CODE = 64
MAX_SOFTWARE = 100
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
ENROL_FIELDS = frozenset({"code", "public_key", "software"})


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normalise_code(typed: str) -> str | None:
    """The code as issued, from what a person typed (any case, spaces, dashes); None if
    it cannot be one of ours."""
    if len(typed) > MAX_TYPED_CODE:
        return None
    compact = _SEPARATORS.sub("", typed).upper()
    if len(compact) != CODE_LENGTH or any(c not in ALPHABET for c in compact):
        return None
    return compact


def code_hash(code: str) -> str:
    """The stored form of a code (given in any accepted spelling)."""
    compact = normalise_code(code) or ""
    return hashlib.sha256(b"spilno/enrolment-code/v1/" + compact.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    code: str  # shown once to the moderator, never stored
    expires_at: datetime


def issue_enrolment_code(session: Session, device: Device, user: User | None = None) -> IssuedCode:
    """A fresh code for `device`, withdrawing any earlier unused one. The caller commits."""
    if is_revoked(device):
        raise Refused(
            _l("Пристрій відкликано: для нього не можна видати код реєстрації."),
        )
    now = utcnow()
    withdraw_codes(session, device, now)
    code = new_code()
    expires_at = now + CODE_LIFETIME
    session.add(
        DeviceEnrolment(
            community_id=device.community_id,
            device_id=device.id,
            code_hash=code_hash(code),
            created_at=now,
            created_by=user.id if user is not None else None,
            expires_at=expires_at,
        )
    )
    session.flush()
    # Never the code itself, not even masked: the audit log outlives the code's day.
    audit.record(
        session,
        "device.enrolment_code",
        user=user,
        community_id=device.community_id,
        target=("device", device.code),
        details={"expires_at": expires_at.isoformat()},
    )
    return IssuedCode(code, expires_at)


def withdraw_codes(session: Session, device: Device, now: datetime | None = None) -> None:
    """Let every unused code of the device expire now (a new code, or a revocation)."""
    now = now or utcnow()
    session.execute(
        update(DeviceEnrolment)
        .where(
            DeviceEnrolment.device_id == device.id,
            DeviceEnrolment.used_at.is_(None),
            DeviceEnrolment.expires_at > now,
        )
        .values(expires_at=now)
    )


def enrol_limit(config: Mapping[str, Any], ip: str) -> tuple[Rule, str]:
    """The rule for enrolment tries and the subject it counts: the caller's address."""
    rule = Rule.from_config("enrol.address", config, "ENROL", "ENROL_MAX_FAILURES_PER_IP")
    return rule, address_subject(ip)


@dataclass(frozen=True)
class EnrolRequest:
    code: str
    public_key: str
    software: str


def read_enrol_request(body: Any) -> EnrolRequest:
    """The request, strictly read. No code at all is a missing credential (401);
    anything else malformed is 422, before the code is looked at, so a typo in the
    key does not use the code up."""
    if not isinstance(body, dict):
        raise SyncRefused(422, "enrolment.malformed")
    code = body.get("code")
    if not isinstance(code, str) or not code.strip():
        raise SyncRefused(401, "enrolment.code_required")
    if set(body) - ENROL_FIELDS or "public_key" not in body:
        raise SyncRefused(422, "enrolment.malformed")
    try:
        # Kept in canonical form, whatever base64 spelling arrived.
        public_key = signing.public_key_b64(signing.load_public_key(body["public_key"]))
    except (wire.ProtocolError, ValueError, TypeError):
        raise SyncRefused(422, "enrolment.public_key") from None
    software = body.get("software", "")
    if not isinstance(software, str) or len(software) > MAX_SOFTWARE or _CONTROL.search(software):
        raise SyncRefused(422, "enrolment.software")
    return EnrolRequest(code, public_key, software.strip())


@dataclass(frozen=True)
class Enrolled:
    device: Device
    community: Community


def redeem_code(session: Session, request: EnrolRequest, now: datetime) -> Enrolled:
    """Use a code up: the device is now known by the request's key. The caller commits.
    Unknown, used, expired and revoked-device codes are all the same 403."""
    compact = normalise_code(request.code)
    if compact is None:
        raise SyncRefused(403, "enrolment.invalid")
    # Locked, so the same code offered twice at once is used once.
    enrolment = session.scalar(
        select(DeviceEnrolment).where(DeviceEnrolment.code_hash == code_hash(compact)).with_for_update()
    )
    if enrolment is None or enrolment.expires_at <= now:
        raise SyncRefused(403, "enrolment.invalid")
    device = session.get(Device, enrolment.device_id)
    if device is None or is_revoked(device):
        raise SyncRefused(403, "enrolment.invalid")
    if enrolment.used_at is not None:
        # The same device asking again with the same key (its first answer was lost on
        # the way) gets the same answer; anyone else finds the code used up.
        if enrolment.public_key == request.public_key and device.public_key == request.public_key:
            community = session.get(Community, device.community_id)
            assert community is not None
            return Enrolled(device, community)
        raise SyncRefused(403, "enrolment.invalid")
    enrolment.used_at = now
    enrolment.public_key = request.public_key
    enrolment.software = request.software
    # Re-enrolling replaces the key; the log goes on where it was, so a device that
    # keeps its log but gets a new key (a reinstalled system, a rotated key) continues.
    device.public_key = request.public_key
    device.request_counter = None  # a new key counts its requests afresh
    device.enrolled_at = now
    device.software = request.software
    session.flush()
    audit.record(
        session,
        "device.enrol",
        community_id=device.community_id,
        target=("device", device.code),
        details={"software": request.software},
    )
    community = session.get(Community, device.community_id)
    assert community is not None
    return Enrolled(device, community)
