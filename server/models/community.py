"""Communities (громади) and the people who run their budgets."""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.texts import _l

from .base import Base, created_at, intpk, str64, str200


class Community(Base):
    __tablename__ = "community"

    id: Mapped[intpk]
    slug: Mapped[str64] = mapped_column(unique=True)
    name: Mapped[str200]
    # Stable id the voter-key secret is derived from; never changes, unlike the slug.
    key_id: Mapped[str] = mapped_column(String(36), default=lambda: str(uuid.uuid4()))
    timezone: Mapped[str64] = mapped_column(default="Europe/Kyiv")
    created_at: Mapped[created_at]


class Role(StrEnum):
    ADMINISTRATOR = "administrator"  # every community
    COMMUNITY_MODERATOR = "community_moderator"  # one community
    SUPPORT_OPERATOR = "support_operator"  # one community's support point(s)
    SCHOOL_MODERATOR = "school_moderator"  # one community's school


# Read in the reader's language (translations/en/console.po).
ROLE_LABELS = {
    Role.ADMINISTRATOR: _l("Адміністратор"),
    Role.COMMUNITY_MODERATOR: _l("Модератор громади"),
    Role.SUPPORT_OPERATOR: _l("Оператор пункту супроводу"),
    Role.SCHOOL_MODERATOR: _l("Модератор школи"),
}


class User(Base):
    __tablename__ = "app_user"
    __table_args__ = (Index("ix_app_user_community", "community_id"),)

    id: Mapped[intpk]
    login: Mapped[str200] = mapped_column(unique=True)  # stored lowercase
    display_name: Mapped[str200]
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    # None only for administrators.
    community_id: Mapped[int | None] = mapped_column(ForeignKey("community.id"))
    # Set only for school moderators: the one school they run.
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), default=None)
    locale: Mapped[str] = mapped_column(String(8), default="uk")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of what every console session of this user proves (server.auth.sessions):
    # raised at sign-out, so every session begun before it ends, cookies saved or not.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[created_at]

    @property
    def role_enum(self) -> Role:
        return Role(self.role)
