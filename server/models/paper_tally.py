"""Tally sheets (протоколи підрахунку): a support point's hand count of paper votes.

Communities without per-voter paper ballots count the paper votes by hand at each
support point and write one sheet: per project, how many votes; and how many ballots
were issued, cast and spoiled. A sheet carries no voter keys, so its votes are added to
the results as they are and cannot be checked against the other channels for residents
who voted twice.

One sheet is current per cycle and support point. A replacement keeps the sheet it
replaces (with `replaced_at` set), so what the results once counted stays on record;
only current sheets count. `content_hash` is the SHA-256 of the sheet's canonical
content (server.paper.tally_sheet.TallySheet.content_hash), so a recount can
tell a line changed in the database after the import.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, intpk, str64


class PaperTally(Base):
    __tablename__ = "paper_tally"
    __table_args__ = (
        # At most one current sheet per cycle and support point; a second one racing in
        # fails here instead of both counting.
        Index(
            "uq_paper_tally_current",
            "cycle_id",
            "device_id",
            unique=True,
            postgresql_where=text("replaced_at IS NULL"),
            sqlite_where=text("replaced_at IS NULL"),
        ),
        Index("ix_paper_tally_cycle", "cycle_id"),
        CheckConstraint("ballots_cast >= 0 AND ballots_spoiled >= 0", name="ballots_not_negative"),
    )

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    ballots_issued: Mapped[int | None] = mapped_column(Integer, default=None)  # not every sheet says
    ballots_cast: Mapped[int] = mapped_column(Integer)  # taken out of the box, spoiled included
    ballots_spoiled: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16))  # "csv" (a file) or "form" (typed in)
    file_sha256: Mapped[str | None] = mapped_column(String(64), default=None)  # None when typed in
    content_hash: Mapped[str64]
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    entered_at: Mapped[datetime]
    replaced_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def valid_ballots(self) -> int:
        return self.ballots_cast - self.ballots_spoiled


class PaperTallyLine(Base):
    """Votes for one project on one sheet; every admitted project has a line (0 included)."""

    __tablename__ = "paper_tally_line"
    __table_args__ = (CheckConstraint("votes >= 0", name="votes_not_negative"),)

    tally_id: Mapped[int] = mapped_column(ForeignKey("paper_tally.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    votes: Mapped[int] = mapped_column(Integer)


__all__ = ["PaperTally", "PaperTallyLine"]
