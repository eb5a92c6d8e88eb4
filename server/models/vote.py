"""Stored votes and the running tallies kept beside them.

A vote row is the raw record as cast plus the server's decision about it. The tally
tables are kept in the same transaction as every vote insert or status change, so
results pages read a few hundred rows instead of a million; `recount` recomputes them
from the raw rows and must agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, IntList, bigintpk, intpk, str64


class Vote(Base):
    __tablename__ = "vote"
    __table_args__ = (
        # Ids are made where votes are cast, by devices and clients of every community:
        # an id names a vote only within its community (migration 0014).
        PrimaryKeyConstraint("community_id", "id", name="pk_vote"),
        Index("ix_vote_cycle_voter_key", "cycle_id", "voter_key"),
        Index("ix_vote_cycle_code", "cycle_id", "code_id"),
        Index("ix_vote_cycle_status", "cycle_id", "status"),
        # Terminals learn who has voted in increments by arrival (server/sync/voters.py).
        Index("ix_vote_cycle_received", "cycle_id", "received_at"),
        # «Перевірити свій голос» finds a vote by its receipt code, the first five bytes of
        # sha256(id) (server.services.receipt_check). PostgreSQL only: SQLite has no sha256.
        Index("ix_vote_receipt", text("substr(sha256(decode(id, 'escape')), 1, 5)")).ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[str] = mapped_column(String(36))  # made where cast
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    voter_key: Mapped[str | None] = mapped_column(String(64))
    code_id: Mapped[str | None] = mapped_column(String(64))
    selections: Mapped[list[int]] = mapped_column(IntList())
    channel: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(64))
    cast_at: Mapped[datetime]
    received_at: Mapped[datetime]
    content_hash: Mapped[str64]
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(String(64))
    counted_vote_id: Mapped[str | None] = mapped_column(String(36))
    # Which integration client or device delivered it.
    source: Mapped[str] = mapped_column(String(64))


class ProjectTally(Base):
    """Counted votes per project."""

    __tablename__ = "project_tally"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer)
    votes: Mapped[int] = mapped_column(Integer, default=0)


class TurnoutTally(Base):
    """Votes per hour of casting, channel, device and status."""

    __tablename__ = "turnout_tally"

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(primary_key=True)  # UTC, truncated to the hour
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # "" when none
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    community_id: Mapped[int] = mapped_column(Integer)
    votes: Mapped[int] = mapped_column(Integer, default=0)


class Alarm(Base):
    """Something a moderator must look at: a conflicting vote, a broken chain..."""

    __tablename__ = "alarm"

    id: Mapped[bigintpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str64]
    source: Mapped[str64]
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    message: Mapped[str] = mapped_column(Text, default="")
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)


__all__ = ["Alarm", "ProjectTally", "TurnoutTally", "Vote", "intpk"]
