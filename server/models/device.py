"""Terminals and support points: the devices that cast votes away from the web."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
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
