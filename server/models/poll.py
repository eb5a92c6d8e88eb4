"""Polls (опитування): a community's questions beside the budget vote, and the answers.

A poll's questions and options never change once it is published (server.polls.store
refuses it): an answer names them by id. An answer row is the record as cast (its
canonical body, for a recount) plus the server's decision about it, exactly as a vote
row is. Each answer also has one item row per option it gives a value (1 for a chosen
option, the position for a ranked one, the points), plus one row with no option per
question it answers; the count is one GROUP BY over the counted items
(server.polls.count), the table voting.poll_count reads.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, bigintpk, created_at, intpk, str64


class Poll(Base):
    __tablename__ = "poll"

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    # When the moderators made the results public (None: not public); docs/polls.md.
    results_published_at: Mapped[datetime | None] = mapped_column(default=None)
    # Who may answer (voting.poll_who.WhoMayAnswer; migration 0018): a minimum age, the
    # community's voter list, a district (stored cleaned; None: any). Fixed once published.
    min_age: Mapped[int | None] = mapped_column(Integer, default=None)
    voter_list: Mapped[bool] = mapped_column(Boolean, default=False)
    district: Mapped[str | None] = mapped_column(String(100), default=None)
    # A school's poll (migration 0019; None: the community's): answered only with the
    # codes of that school's students, on the students' pages; never sent to devices nor
    # answered through the integration API (docs/polls.md, "School polls").
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), index=True, default=None)
    created_at: Mapped[created_at]


class PollQuestion(Base):
    __tablename__ = "poll_question"
    __table_args__ = (Index("ix_poll_question_poll", "poll_id", "position"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))  # voting.polls.QuestionKind
    max_choices: Mapped[int | None] = mapped_column(default=None)  # up_to, rank
    max_points: Mapped[int | None] = mapped_column(default=None)  # points


class PollOption(Base):
    __tablename__ = "poll_option"
    __table_args__ = (Index("ix_poll_option_question", "question_id", "position"),)

    id: Mapped[intpk]
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    question_id: Mapped[int] = mapped_column(ForeignKey("poll_question.id", ondelete="CASCADE"))
    position: Mapped[int]
    text: Mapped[str] = mapped_column(String(300))


class PollAnswer(Base):
    __tablename__ = "poll_answer"
    __table_args__ = (
        # Ids are made where answers are cast: an id names an answer within its community.
        PrimaryKeyConstraint("community_id", "id", name="pk_poll_answer"),
        Index("ix_poll_answer_poll_voter", "poll_id", "voter"),
        # «Перевірити свій голос» finds an answer by its receipt code, as it finds a vote
        # (server.services.receipt_check; migration 0020). PostgreSQL only.
        Index("ix_poll_answer_receipt", text("substr(sha256(decode(id, 'escape')), 1, 5)")).ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[str] = mapped_column(String(36))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"))
    voter: Mapped[str] = mapped_column(String(70))  # "key:<hex>" or "code:<id>", as votes
    channel: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(64), default=None)
    cast_at: Mapped[datetime]
    received_at: Mapped[datetime]
    content_hash: Mapped[str64]
    body: Mapped[dict] = mapped_column(JSON)  # the canonical record, for a recount
    source: Mapped[str64]  # who delivered it: "api:<client id>", a device code
    status: Mapped[str] = mapped_column(String(16))  # voting.counting.VoteStatus
    counted_answer_id: Mapped[str | None] = mapped_column(String(36), default=None)


class PollAnswerItem(Base):
    __tablename__ = "poll_answer_item"
    __table_args__ = (
        ForeignKeyConstraint(
            ["community_id", "answer_id"],
            ["poll_answer.community_id", "poll_answer.id"],
            name="fk_poll_answer_item_answer",
        ),
        Index("ix_poll_answer_item_poll_counted", "poll_id", "counted"),
        Index("ix_poll_answer_item_answer", "community_id", "answer_id"),
    )

    id: Mapped[bigintpk]
    community_id: Mapped[int] = mapped_column(Integer)
    answer_id: Mapped[str] = mapped_column(String(36))
    poll_id: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int] = mapped_column(Integer)
    option_id: Mapped[int | None] = mapped_column(Integer, default=None)  # None: the question was answered
    value: Mapped[int] = mapped_column(Integer)
    counted: Mapped[bool] = mapped_column(Boolean)


__all__ = ["Poll", "PollAnswer", "PollAnswerItem", "PollOption", "PollQuestion"]
