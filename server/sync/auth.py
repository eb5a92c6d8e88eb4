"""Which device sent a request: every request but enrolment is signed with the device's
Ed25519 key (sync.signed_requests.sign_request), over the method, the path with its query
string, the body's hash, the device code and the device's clock.

Device clocks may be hours off, so the signed time is not checked for freshness; it is
recorded as the device's clock offset. Replaying a captured request therefore works,
and is harmless: pushes are idempotent and reads reveal only what the device already has.
What a replay must not do is move what the server records about the device (its clock,
when it was last heard from): each request carries a signed counter that only grows,
and a request whose counter is not above the newest one seen is answered but not noted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import Headers

from server.models import Device, DeviceStatus
from sync import signed_requests, signing, wire

from .device_keys import device_keys, signer
from .refusals import SyncRefused

_TIME = re.compile(r"-?[0-9]{1,15}")
_COUNTER = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class DeviceRef:
    """The plain facts about a device that survive a rollback (ORM objects do not)."""

    id: int
    code: str
    community_id: int
    kind: str

    @classmethod
    def of(cls, device: Device) -> DeviceRef:
        return cls(device.id, device.code, device.community_id, device.kind)


@dataclass(frozen=True)
class Contact:
    """When the server heard from a device, and what the device said about itself."""

    now: datetime
    clock_offset_ms: int  # device clock minus server clock
    last_seq: int | None  # the newest entry in the device's log, signed (None: not said)
    counter: int | None = None  # the request's signed counter (None from devices without one)
    # Signed by a key of an earlier enrolment: a store the device was enrolled past, which
    # may deliver what it holds but takes no more votes (server.sync.device_keys).
    superseded: bool = False


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def signed_path(path: str, query_string: bytes) -> str:
    """The path as the device signed it: with "?query" only when there is a query."""
    query = query_string.decode("latin-1")
    return f"{path}?{query}" if query else path


def authenticate_device(
    session: Session,
    headers: Headers | Mapping[str, str],
    *,
    method: str,
    path: str,
    body: bytes,
    now: datetime,
) -> tuple[Device, Contact]:
    """The device that signed this request and what it said, or SyncRefused 401.

    A revoked device is returned like any other (its signature is still checked, so
    nobody can raise alarms in its name); the caller refuses it."""
    code = headers.get("X-Spilno-Device", "")
    device_time = headers.get("X-Spilno-Time", "")
    signature = headers.get("X-Spilno-Signature", "")
    raw_counter = headers.get(signed_requests.COUNTER_HEADER)
    raw_last_seq = headers.get(signed_requests.LAST_SEQ_HEADER)
    if not wire.DEVICE_CODE.fullmatch(code) or not _TIME.fullmatch(device_time):
        raise SyncRefused(401, "device.signature")
    if raw_counter is not None and not _COUNTER.fullmatch(raw_counter):
        raise SyncRefused(401, "device.signature")
    if raw_last_seq is not None and not _COUNTER.fullmatch(raw_last_seq):
        raise SyncRefused(401, "device.signature")
    counter = int(raw_counter) if raw_counter is not None else None
    last_seq = int(raw_last_seq) if raw_last_seq is not None else None
    device = session.scalar(select(Device).where(Device.code == code))
    # Unknown, never enrolled and wrongly signed look the same from outside on purpose.
    if device is None or device.public_key is None:
        raise SyncRefused(401, "device.signature")
    message = signed_requests.request_bytes(method, path, body, code, int(device_time), counter, last_seq)
    superseded = False
    if not signing.verify(device.public_key, message, signature):
        earlier = [k for k in device_keys(session, device) if not k.current]
        if signer(earlier, message, signature) is None:
            raise SyncRefused(401, "device.signature")
        superseded = True
    return device, Contact(now, int(device_time) - epoch_ms(now), last_seq, counter, superseded)


def is_revoked(device: Device) -> bool:
    return device.status == DeviceStatus.REVOKED.value


def note_contact(device: Device, contact: Contact) -> None:
    """Remember when the device was last heard from, its clock and its backlog, unless
    the request is older than one already noted (a replay, or an earlier request that
    arrived late): its signed time is not the device's clock now. A superseded store's
    requests note nothing: the fleet page describes the store the device uses now."""
    if contact.superseded:
        return
    if contact.counter is not None:
        if device.request_counter is not None and contact.counter <= device.request_counter:
            return
        device.request_counter = contact.counter
    device.last_seen_at = contact.now
    device.clock_offset_ms = contact.clock_offset_ms
    if contact.last_seq is not None:
        # Against what the server holds now (after this request's push, if it was one):
        # true after every request, and never from an unsigned figure.
        device.backlog = max(0, contact.last_seq - device.acked_seq)
