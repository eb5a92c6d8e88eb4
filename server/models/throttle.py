"""Slowing down guessing (passwords, voting codes, enrolment codes), kept in the
database so every server process sees the same counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ThrottleBucket(Base):
    """Failed attempts of one subject under one rule (server.auth.throttle): a login at
    an address, an address, a browser. The key is a hash, so the table holds no logins,
    addresses or browser ids in the clear."""

    __tablename__ = "throttle_bucket"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime]
    # No attempt is taken before this moment; None while the free attempts last.
    blocked_until: Mapped[datetime | None] = mapped_column(default=None)
