"""The community's list of residents who may vote, as voter keys.

A community may upload the keys of its eligible residents (the register's residents
of voting age, or the holders of its resident cards). When it has a list, a terminal
accepts only listed keys. The list changes over time (people move in and out, come
of age), and terminals hold a copy offline, so every change is a row with its own
sequence number: a terminal asks for the changes after the last number it has.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class EligibilityList(Base):
    """One per community that has ever had a list; `enabled` says whether it applies."""

    __tablename__ = "eligibility_list"

    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The sequence number of the newest change (of a key or of `enabled`); changes are
    # numbered under this row's lock, so they commit in the order of their numbers.
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    listed_count: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class EligibleVoter(Base):
    """A voter key's latest state in the list; `seq` is the change that set it."""

    __tablename__ = "eligible_voter"
    __table_args__ = (Index("ix_eligible_voter_seq", "community_id", "seq", "voter_key"),)

    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), primary_key=True)
    voter_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    listed: Mapped[bool] = mapped_column(Boolean)
    seq: Mapped[int] = mapped_column(BigInteger)
    # The district the resident lives in, for district categories (voting.district);
    # None: none given. A change of district is a change of the entry (a new `seq`).
    district: Mapped[str | None] = mapped_column(String(100), default=None)
