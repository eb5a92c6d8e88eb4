"""A device's keys: the one it signs with now, and those of its earlier enrolments.

Enrolling a device again (a new disk, a reinstalled system) gives it a new key, and the
store it had may still hold votes it never sent, signed by the old key. Those votes must
not be stranded, and must not count by themselves either: whoever holds an old store
holds its key. So a store with a superseded key may still deliver what it holds and read
its own log back; its new votes wait for a moderator (server.sync.held), and every other
request is refused, so it takes no more votes. The new store learns, from a signed
answer, which keys were this device's, to take back entries an earlier key signed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Device, DeviceEnrolment
from sync import signing

# A device enrolled more often than this is not a terminal being repaired; older keys
# are not tried (a forged request costs one verification per key).
MAX_EARLIER_KEYS = 20


@dataclass(frozen=True)
class DeviceKey:
    enrolment_id: int
    public_key: str
    current: bool


def device_keys(session: Session, device: Device) -> list[DeviceKey]:
    """The device's keys, the current one first, then earlier ones, newest first; each
    key once, under the newest enrolment that used it."""
    rows = session.execute(
        select(DeviceEnrolment.id, DeviceEnrolment.public_key)
        .where(
            DeviceEnrolment.device_id == device.id,
            DeviceEnrolment.used_at.is_not(None),
            DeviceEnrolment.public_key.is_not(None),
        )
        .order_by(DeviceEnrolment.used_at.desc(), DeviceEnrolment.id.desc())
        .limit(MAX_EARLIER_KEYS + 1)
    ).all()
    keys: dict[str, DeviceKey] = {}
    for enrolment_id, public_key in rows:
        assert public_key is not None  # the query asks for enrolments with one
        if public_key not in keys:
            keys[public_key] = DeviceKey(enrolment_id, public_key, public_key == device.public_key)
    return sorted(keys.values(), key=lambda k: not k.current)


def signer(keys: list[DeviceKey], message: bytes, signature: object) -> DeviceKey | None:
    """The key among `keys` that signed `message`, or None."""
    return next((k for k in keys if signing.verify(k.public_key, message, signature)), None)
