"""Budget cycles, their categories and projects."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, created_at, intpk, str64, str200


class CycleKind(StrEnum):
    PUBLIC = "public"  # громадський бюджет
    SCHOOL = "school"  # шкільний бюджет: the programme schools' contests belong to
    SCHOOL_CONTEST = "school_contest"  # one school's contest (made with the contest)


class ProjectStatus(StrEnum):
    ADMITTED = "admitted"
    REJECTED = "rejected"


class Cycle(Base):
    __tablename__ = "cycle"
    __table_args__ = (UniqueConstraint("community_id", "slug", name="uq_cycle_community_slug"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=CycleKind.PUBLIC.value)
    title: Mapped[str200]
    slug: Mapped[str64]
    voting_starts_at: Mapped[datetime]
    voting_ends_at: Mapped[datetime]
    timezone: Mapped[str64] = mapped_column(default="Europe/Kyiv")
    min_total: Mapped[int] = mapped_column(Integer, default=1)
    max_total: Mapped[int | None] = mapped_column(Integer, default=None)
    # Residents younger than this on the day they vote may not vote (None: no limit).
    min_age: Mapped[int | None] = mapped_column(Integer, default=None)
    results_published_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[created_at]


class Category(Base):
    __tablename__ = "category"

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    name: Mapped[str200]
    budget: Mapped[int] = mapped_column(BigInteger)  # kopiykas
    min_choices: Mapped[int] = mapped_column(Integer, default=0)
    max_choices: Mapped[int] = mapped_column(Integer, default=1)
    budget_limited: Mapped[bool] = mapped_column(Boolean, default=False)
    max_project_cost: Mapped[int | None] = mapped_column(BigInteger, default=None)
    min_votes_to_fund: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # How votes become funded projects (voting.funding_rules): the defaults are the rule
    # every category had before these columns.
    funding_method: Mapped[str] = mapped_column(String(32), default="greedy")
    tie_break: Mapped[str] = mapped_column(String(16), default="cheaper")
    lot_seed: Mapped[str] = mapped_column(String(64), default="")  # published with the rule
    min_votes_share: Mapped[int] = mapped_column(Integer, default=0)  # hundredths of a per cent
    min_project_cost: Mapped[int | None] = mapped_column(BigInteger, default=None)
    leftover_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("category.id", ondelete="SET NULL"), default=None
    )
    # Mutually exclusive projects by their ballot numbers: "3,7; 12,14" (one group per ";").
    exclusive_groups: Mapped[str] = mapped_column(Text, default="")
    completion_step: Mapped[int] = mapped_column(Integer, default=100)  # kopiykas
    # Only residents of this district (their voter-list entry names it) may vote in the
    # category; None: every resident. Stored as voting.district.clean_district makes it.
    district: Mapped[str | None] = mapped_column(String(100), default=None)


class Project(Base):
    __tablename__ = "project"
    __table_args__ = (
        UniqueConstraint("cycle_id", "number", name="uq_project_cycle_number"),
        Index("ix_project_category", "category_id"),
    )

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), index=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    number: Mapped[int] = mapped_column(Integer)  # the number printed on ballots
    title: Mapped[str200]
    description: Mapped[str] = mapped_column(Text, default="")
    cost: Mapped[int] = mapped_column(BigInteger)  # kopiykas
    district: Mapped[str] = mapped_column(String(200), default="")
    # Where it would be built or done, as residents know the place (free text).
    address: Mapped[str] = mapped_column(String(300), default="")
    # What the cost is made of: [{"item": str, "amount": kopiykas}], summing to `cost`
    # (services.project_details checks); [] when the author gave no breakdown.
    budget_lines: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=ProjectStatus.ADMITTED.value)
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created_at]


class ProjectPhoto(Base):
    """A project's photo as terminals and the public pages show it: a JPEG the server
    made itself from the upload (services.photo_images), never the uploaded bytes."""

    __tablename__ = "project_photo"
    __table_args__ = (
        UniqueConstraint("project_id", "sha256", name="uq_project_photo_project_sha256"),
        Index("ix_project_photo_project", "project_id", "position"),
    )

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str64]  # of `data`: how packages and terminals name the photo
    size: Mapped[int] = mapped_column(Integer)  # bytes of `data`
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    alt_uk: Mapped[str] = mapped_column(String(300))  # required: what the photo shows
    alt_en: Mapped[str] = mapped_column(String(300), default="")
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[created_at]
