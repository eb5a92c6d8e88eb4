"""Paper ballot sheets read on the server: scans a moderator uploads for a support point
that does not read its own stack, the readings, and the people's decisions about them.

The same four parts as a support point's sheet store (paper/sheet_store.py),
so the one review core (paper/review.py) judges both:
- `paper_scan_page`: every page read, once per image and cycle (the SHA-256 of the
  uploaded file and the page's index in it), with per-box scores and verdicts, the
  reasons, and a downscaled JPEG of the page for the review page;
- `paper_scan_crop`: every zoomed PNG the reader made (each marginal box; every box
  of a page that needs review, so a moderator can correct any box by its picture);
- `paper_scan_sheet`: one row per sheet (cycle and serial), the state the review core
  last computed, and once committed the id of its vote;
- `paper_scan_decision`: append-only (a trigger refuses UPDATE and DELETE), with the
  moderator's name and account: the latest decision of each kind stands.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, intpk, str64

SHEET_STATES = ("review", "ready", "spoiled", "committed")
DECISION_KINDS = ("box", "page", "spoil", "restore")


class PaperScanPage(Base):
    __tablename__ = "paper_scan_page"
    __table_args__ = (
        UniqueConstraint("cycle_id", "image_sha256", "page_index", name="uq_paper_scan_page_image"),
        Index("ix_paper_scan_page_sheet", "cycle_id", "serial", "page_no"),
    )

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))  # the support point the scans came from
    image_sha256: Mapped[str64]
    page_index: Mapped[int] = mapped_column(Integer)  # 0-based page of the uploaded file
    file: Mapped[str] = mapped_column(String(255))  # the uploaded file's name, for people
    read_at: Mapped[datetime]
    serial: Mapped[str | None] = mapped_column(String(24), default=None)  # None: no valid QR code
    page_no: Mapped[int | None] = mapped_column(Integer, default=None)
    pages_total: Mapped[int | None] = mapped_column(Integer, default=None)
    outcome: Mapped[str] = mapped_column(String(16))  # the reader's: accepted | needs_review | rejected
    reasons: Mapped[list] = mapped_column(JSON)
    boxes: Mapped[list] = mapped_column(JSON)  # [{project_id, category_id, score, verdict}]
    preview: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)


class PaperScanCrop(Base):
    __tablename__ = "paper_scan_crop"

    page_id: Mapped[int] = mapped_column(ForeignKey("paper_scan_page.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    png: Mapped[bytes] = mapped_column(LargeBinary)


class PaperScanSheet(Base):
    __tablename__ = "paper_scan_sheet"
    __table_args__ = (
        CheckConstraint("state IN ('review', 'ready', 'spoiled', 'committed')", name="state_known"),
        Index("ix_paper_scan_sheet_state", "cycle_id", "state", "first_seen"),
        UniqueConstraint("community_id", "vote_id", name="uq_paper_scan_sheet_community_vote"),
    )

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), primary_key=True)
    serial: Mapped[str] = mapped_column(String(24), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    pages_total: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list] = mapped_column(JSON)
    selections: Mapped[list] = mapped_column(JSON)
    ready_at: Mapped[datetime | None] = mapped_column(default=None)  # the vote's cast time
    vote_id: Mapped[str | None] = mapped_column(String(36), default=None)
    committed_at: Mapped[datetime | None] = mapped_column(default=None)


class PaperScanDecision(Base):
    __tablename__ = "paper_scan_decision"
    __table_args__ = (
        ForeignKeyConstraint(
            ["cycle_id", "serial"],
            ["paper_scan_sheet.cycle_id", "paper_scan_sheet.serial"],
            name="fk_paper_scan_decision_sheet",
        ),
        CheckConstraint("kind IN ('box', 'page', 'spoil', 'restore')", name="kind_known"),
        Index("ix_paper_scan_decision_sheet", "cycle_id", "serial", "id"),
    )

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    cycle_id: Mapped[int] = mapped_column(Integer)
    serial: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(8))
    page_id: Mapped[int | None] = mapped_column(ForeignKey("paper_scan_page.id"), default=None)
    page_no: Mapped[int | None] = mapped_column(Integer, default=None)
    project_id: Mapped[int | None] = mapped_column(Integer, default=None)
    verdict: Mapped[str | None] = mapped_column(String(16), default=None)  # box: marked | unmarked
    reason: Mapped[str | None] = mapped_column(String(300), default=None)  # spoil; a box changed: why
    operator: Mapped[str] = mapped_column(String(80))  # the name shown to the next person
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    decided_at: Mapped[datetime]
    replaces: Mapped[int | None] = mapped_column(ForeignKey("paper_scan_decision.id"), default=None)


__all__ = [
    "DECISION_KINDS",
    "SHEET_STATES",
    "PaperScanCrop",
    "PaperScanDecision",
    "PaperScanPage",
    "PaperScanSheet",
]
