"""Clients of the integration API (the online e-democracy platform)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, intpk, str200


class ApiClient(Base):
    __tablename__ = "api_client"

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str200]
    # SHA-256 of the token: tokens are 256 random bits, so a fast hash is safe and
    # lets every request find its client with one indexed lookup.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(12))  # shown so people can tell tokens apart
    created_at: Mapped[created_at]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
