"""Schools, their budget contests, and the per-student voting codes.

A community's school budget is a cycle of kind `school` (the programme: its title and
outer voting window). Each school that takes part runs one contest in it. A contest is
voted like any cycle, so it owns a cycle row of its own (kind `school_contest`) with
one category holding the school's budget and rule, and its projects: the ballot box,
tallies, results, packages and recount then work for schools unchanged.

Codes are never stored as such: `verifier` is a keyed hash (looked up when a student
types or scans a code; also what a vote by code carries as its `code_id`), and
`sealed` the code encrypted under a key the database does not hold, so an unspent card
can be printed again. A stolen database gives neither usable codes nor a way to test a
guessed one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, IntList, bigintpk, created_at, intpk, str200


class School(Base):
    __tablename__ = "school"
    __table_args__ = (UniqueConstraint("community_id", "name", name="uq_school_community_name"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str200]
    address: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[created_at]


class SchoolContest(Base):
    __tablename__ = "school_contest"
    __table_args__ = (
        UniqueConstraint("school_id", "programme_cycle_id", name="uq_school_contest_school_id"),
        Index("ix_school_contest_programme", "programme_cycle_id"),
    )

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    # The community's school-budget cycle this contest belongs to.
    programme_cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"))
    # The contest's own cycle: its window, its one category (budget, rule) and projects.
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id"), unique=True)
    # Grades whose classes vote, e.g. [5, 6, 7, 8, 9, 10, 11].
    grades: Mapped[list[int]] = mapped_column(IntList())
    created_at: Mapped[created_at]


class CodeBatch(Base):
    """The codes made for one class at one time (printed together)."""

    __tablename__ = "code_batch"
    __table_args__ = (Index("ix_code_batch_contest", "contest_id"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    contest_id: Mapped[int] = mapped_column(ForeignKey("school_contest.id"))
    class_name: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    created_at: Mapped[created_at]


class VotingCode(Base):
    __tablename__ = "voting_code"
    __table_args__ = (
        Index("ix_voting_code_contest_class", "contest_id", "class_name"),
        Index("ix_voting_code_batch", "batch_id"),
    )

    id: Mapped[bigintpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    contest_id: Mapped[int] = mapped_column(ForeignKey("school_contest.id"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("code_batch.id"))
    class_name: Mapped[str] = mapped_column(String(16))
    number: Mapped[int] = mapped_column(Integer)  # the card's number within its class
    verifier: Mapped[str] = mapped_column(String(32), unique=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    revoke_reason: Mapped[str] = mapped_column(String(200), default="")
    # The lost card this one replaces.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("voting_code.id"), default=None)
    created_at: Mapped[created_at]
