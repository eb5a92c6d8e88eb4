"""What devices send up and the server sends down (server.sync).

The device log is kept exactly as received, entry by entry, with every signed
checkpoint, so a recount can verify each device's whole chain again from its first
entry. Log entries and checkpoints are append-only (database triggers, migration 0002).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, bigintpk, created_at, intpk


class DeviceEnrolment(Base):
    """A one-time enrolment code issued for a device and, once used, the public key the
    device enrolled with. Only a hash of the code is kept."""

    __tablename__ = "device_enrolment"

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[created_at]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    public_key: Mapped[str | None] = mapped_column(String(64), default=None)
    software: Mapped[str] = mapped_column(String(100), default="")


class SyncPackage(Base):
    """One version of a community's package. A new version is made only when the
    package's content (its body hash) changes. The signed envelope is not stored: it
    carries the community's voter-key secret, which must not sit in the database; the
    envelope is rebuilt on demand from the same content, and Ed25519 signatures are
    deterministic, so it comes out byte for byte the same."""

    __tablename__ = "sync_package"
    __table_args__ = (UniqueConstraint("community_id", "version", name="uq_sync_package_community_version"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    version: Mapped[int] = mapped_column(Integer)
    body_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]


class DeviceLogEntry(Base):
    """One entry of a device's hash-chained log, as the device wrote it."""

    __tablename__ = "device_log_entry"
    __table_args__ = (
        UniqueConstraint("device_id", "seq", name="uq_device_log_entry_device_seq"),
        Index("ix_device_log_entry_vote_id", "vote_id"),
    )

    id: Mapped[bigintpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict] = mapped_column(JSON)
    package_version: Mapped[int] = mapped_column(Integer)
    clock_offset_ms: Mapped[int] = mapped_column(BigInteger)
    vote_id: Mapped[str | None] = mapped_column(String(36), default=None)
    received_at: Mapped[datetime]


class DeviceCheckpoint(Base):
    """A device's signature over (its code, seq, hash of entry seq): vouches for every
    entry up to seq. `enrolment_id` names the key that signed it."""

    __tablename__ = "device_checkpoint"
    __table_args__ = (UniqueConstraint("device_id", "seq", name="uq_device_checkpoint_device_seq"),)

    id: Mapped[bigintpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("device_enrolment.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime]


class PendingBatch(Base):
    """A signed batch that arrived ahead of a gap in the device's log. It waits here,
    never dropped, and is applied as soon as the missing entries arrive."""

    __tablename__ = "sync_pending_batch"
    __table_args__ = (
        UniqueConstraint(
            "device_id", "first_seq", "last_seq", "checkpoint_hash", name="uq_sync_pending_batch_range"
        ),
    )

    id: Mapped[bigintpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), index=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("device_enrolment.id"))
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    checkpoint_hash: Mapped[str] = mapped_column(String(64))
    batch: Mapped[dict] = mapped_column(JSON)  # as received: log_batches.read_batch reads it again
    received_at: Mapped[datetime]


class HeldVote(Base):
    """A vote that arrived signed and intact but may not move the count by itself: its
    cycle's results were already published, or its device had been revoked. Its log
    entry is stored as usual; the vote waits here, visibly, until a moderator counts or
    rejects it (server.sync.held). Never deleted: the decision stays on record."""

    __tablename__ = "held_vote"
    __table_args__ = (
        UniqueConstraint("community_id", "vote_id", name="uq_held_vote_community_vote"),
        Index("ix_held_vote_open", "community_id", "decision"),
    )

    id: Mapped[bigintpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    # The device whose log carried the vote, and its entry; None for a vote the online
    # platform pushed (held for the wrong district), named by `source` alone.
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device.id"))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(64), default="")  # device code or "api:<client id>"
    vote_id: Mapped[str] = mapped_column(String(36))
    record: Mapped[dict] = mapped_column(JSON)  # VoteRecord.canonical_body(), as the device logged it
    cast_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(32))  # server.sync.held.REASONS
    held_at: Mapped[datetime]
    decision: Mapped[str | None] = mapped_column(String(16), default=None)  # "counted" / "rejected"
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    note: Mapped[str] = mapped_column(String(500), default="")
