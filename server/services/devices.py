"""Terminals and support points: registering them under a code and revoking them.

The code ("T-0001" for a terminal, "S-0001" for a support point) is written into every
vote the device casts, so it is unique across all communities and never reused.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import Community, Device, DeviceKind, DeviceStatus, utcnow
from server.services import audit
from server.services.validation import Refused, clean_text
from server.sync.enrolment import withdraw_codes
from server.texts import _l

CODE_PREFIX = {DeviceKind.TERMINAL: "T", DeviceKind.SUPPORT_POINT: "S"}
_CODE = re.compile(r"[TS]-(\d+)")


def next_device_code(session: Session, kind: DeviceKind) -> str:
    """The next free code for `kind`: one above the highest ever issued, so a revoked
    device's code is never handed to another device."""
    prefix = CODE_PREFIX[kind]
    # Longest, then greatest: "T-10000" sorts after "T-9999" only by length.
    highest = session.scalar(
        select(Device.code)
        .where(Device.code.like(f"{prefix}-%"))
        .order_by(func.length(Device.code).desc(), Device.code.desc())
        .limit(1)
    )
    match = _CODE.fullmatch(highest or "")
    number = int(match.group(1)) + 1 if match else 1
    return f"{prefix}-{number:04d}"


def register_device(session: Session, *, community_id: int, kind: str, name: str, location: str) -> Device:
    """A new active device with the next code. Two moderators registering at the same
    moment could be given the same code; the unique index then refuses the second, and
    the console asks them to try again rather than guessing here."""
    try:
        kind_enum = DeviceKind(kind)
    except ValueError:
        raise Refused(_l("Оберіть тип пристрою."), field="kind") from None
    name = clean_text(name, field="name", max_length=200)
    location = clean_text(location, field="location", max_length=300, required=False)
    if session.get(Community, community_id) is None:
        raise Refused(_l("Оберіть громаду."), field="community_id")
    device = Device(
        community_id=community_id,
        kind=kind_enum.value,
        code=next_device_code(session, kind_enum),
        name=name,
        location=location,
        status=DeviceStatus.ACTIVE.value,
    )
    session.add(device)
    session.flush()
    audit.record(
        session,
        "device.register",
        community_id=community_id,
        target=("device", device.code),
        details={"kind": device.kind, "name": name, "location": location},
    )
    return device


def revoke_device(session: Session, device: Device) -> None:
    """From now on the server refuses what this device sends (and its unused enrolment
    codes); what it sent before stays counted. Revoking twice keeps the first time."""
    if device.status == DeviceStatus.REVOKED.value:
        return
    device.status = DeviceStatus.REVOKED.value
    device.revoked_at = utcnow()
    withdraw_codes(session, device, device.revoked_at)
    session.flush()
    audit.record(
        session,
        "device.revoke",
        community_id=device.community_id,
        target=("device", device.code),
        details={"name": device.name},
    )
