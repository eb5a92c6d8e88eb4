"""Terminals and support points: the devices that cast votes away from the web."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, intpk, str64, str200


class DeviceKind(StrEnum):
    TERMINAL = "terminal"
    SUPPORT_POINT = "support_point"


class DeviceStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class Device(Base):
    __tablename__ = "device"

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # The id a device writes into every vote it casts, e.g. "T-0003"; unique everywhere.
    code: Mapped[str64] = mapped_column(unique=True)
    name: Mapped[str200]
    location: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default=DeviceStatus.ACTIVE.value)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[created_at]

    # --- sync (server.sync) -----------------------------------------------------------
    # The Ed25519 public key (base64 of 32 raw bytes) from the device's latest enrolment;
    # None until it enrols. Earlier keys stay on their `device_enrolment` rows, so old
    # checkpoints can still be verified after a re-enrolment.
    public_key: Mapped[str | None] = mapped_column(String(64), default=None)
    enrolled_at: Mapped[datetime | None] = mapped_column(default=None)
    software: Mapped[str] = mapped_column(String(100), default="", server_default="")
    # The device's log is stored up to here: entry `acked_seq` has hash `acked_hash`
    # (0 and None before the first entry, meaning the genesis hash).
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    acked_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    # Device clock minus server clock at its latest request, in milliseconds.
    clock_offset_ms: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # The newest signed request counter heard (server/sync/auth.py note_contact).
    request_counter: Mapped[int | None] = mapped_column(BigInteger, default=None)
    # Log entries the server does not hold yet: the device's signed last seq (X-Spilno-Last-Seq)
    # at its latest request, less what the server holds after it.
    backlog: Mapped[int | None] = mapped_column(Integer, default=None)
    # The newest cycle package the device has pulled (0: none yet).
    package_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
