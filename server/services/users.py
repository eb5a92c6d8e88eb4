"""Creating and changing console users, with the checks every path must apply."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.auth.passwords import hash_password, password_problem
from server.models import Role, User

LOGIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@+\-]{2,199}")


@dataclass
class UserError(Exception):
    message_uk: str
    message_en: str


def create_user(
    session: Session,
    *,
    login: str,
    display_name: str,
    password: str,
    role: str,
    community_id: int | None = None,
    locale: str = "uk",
) -> User:
    login = login.strip().lower()
    if not LOGIN_PATTERN.fullmatch(login):
        raise UserError(
            "Логін: 3–200 символів, латинські літери, цифри та . _ @ + -",
            "Login: 3-200 characters, Latin letters, digits and . _ @ + -",
        )
    display_name = display_name.strip()
    if not display_name or len(display_name) > 200:
        raise UserError("Вкажіть ім’я (до 200 символів).", "Give a name (up to 200 characters).")
    problem = password_problem(password)
    if problem:
        raise UserError(problem, "The password must be 10 to 200 characters.")
    try:
        role_enum = Role(role)
    except ValueError:
        raise UserError("Невідома роль.", "Unknown role.") from None
    if (role_enum is Role.ADMINISTRATOR) != (community_id is None):
        raise UserError(
            "Адміністратор не належить громаді; решта ролей — належать.",
            "Administrators belong to no community; every other role belongs to one.",
        )
    if session.scalar(select(func.count()).where(func.lower(User.login) == login)):
        raise UserError("Такий логін уже є.", "That login is taken.")
    user = User(
        login=login,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role_enum.value,
        community_id=community_id,
        locale=locale if locale in ("uk", "en") else "uk",
    )
    session.add(user)
    session.flush()
    return user
