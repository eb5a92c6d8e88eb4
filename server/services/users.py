"""Creating and changing console users, with the checks every path must apply."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.auth.passwords import hash_password, password_problem, verify_password
from server.models import Community, Role, School, User
from server.services import audit
from server.texts import Explained, _l

LOGIN_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@+\-]{2,199}")


class UserError(Explained):
    """A user that cannot be created or changed as asked; nothing was saved."""


def create_user(
    session: Session,
    *,
    login: str,
    display_name: str,
    password: str,
    role: str,
    community_id: int | None = None,
    school_id: int | None = None,
    locale: str = "uk",
) -> User:
    """A new user. A school moderator runs exactly one school of their community
    (`school_id`); no other role has a school."""
    login = login.strip().lower()
    if not LOGIN_PATTERN.fullmatch(login):
        raise UserError(
            _l("Логін: 3–200 символів, латинські літери, цифри та . _ @ + -"),
        )
    display_name = display_name.strip()
    if not display_name or len(display_name) > 200:
        raise UserError(_l("Вкажіть ім’я (до 200 символів)."))
    problem = password_problem(password)
    if problem:
        raise UserError(problem)
    try:
        role_enum = Role(role)
    except ValueError:
        raise UserError(_l("Невідома роль.")) from None
    if (role_enum is Role.ADMINISTRATOR) != (community_id is None):
        raise UserError(
            _l("Адміністратор не належить громаді; решта ролей — належать."),
        )
    school_id = _school_for(session, role_enum, community_id, school_id)
    if session.scalar(select(func.count()).where(func.lower(User.login) == login)):
        raise UserError(_l("Такий логін уже є."))
    user = User(
        login=login,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role_enum.value,
        community_id=community_id,
        school_id=school_id,
        locale=locale if locale in ("uk", "en") else "uk",
    )
    session.add(user)
    session.flush()
    return user


def _school_for(session: Session, role: Role, community_id: int | None, school_id: int | None) -> int | None:
    """The school a new user runs: required for a school moderator and checked to be a
    school of their community (an id from another community is as good as none);
    dropped for every other role, which sees the whole community or nothing of schools."""
    if role is not Role.SCHOOL_MODERATOR:
        return None
    school = (
        session.get(School, school_id) if isinstance(school_id, int) and 0 < school_id <= 2**31 - 1 else None
    )
    if school is None or school.community_id != community_id:
        raise SchoolRequired(
            _l("Оберіть школу: модератор школи керує однією школою своєї громади."),
        )
    return school.id


class SchoolRequired(UserError):
    """A school moderator without a school of their community."""

    field = "school_id"  # shown beside the form's school field


class WrongPassword(UserError):
    """The current password given to prove who is changing it was wrong."""


# --- who may manage whom ----------------------------------------------------------------

# Roles a community moderator may give: never administrator, which spans communities.
COMMUNITY_STAFF_ROLES = (Role.COMMUNITY_MODERATOR, Role.SUPPORT_OPERATOR, Role.SCHOOL_MODERATOR)


def assignable_roles(actor: User) -> tuple[Role, ...]:
    """The roles `actor` may create users with."""
    if actor.role_enum is Role.ADMINISTRATOR:
        return tuple(Role)
    if actor.role_enum is Role.COMMUNITY_MODERATOR:
        return COMMUNITY_STAFF_ROLES
    return ()


def may_manage(actor: User, target: User) -> bool:
    """Whether `actor` may deactivate or reactivate `target`."""
    if actor.role_enum is Role.ADMINISTRATOR:
        return True
    return (
        actor.role_enum is Role.COMMUNITY_MODERATOR
        and target.community_id == actor.community_id
        and target.role_enum in COMMUNITY_STAFF_ROLES
    )


def create_user_as(
    session: Session,
    actor: User,
    *,
    login: str,
    display_name: str,
    password: str,
    role: str,
    community_id: int | None,
    school_id: int | None = None,
) -> User:
    """`create_user` with the creator's limits applied and the creation audited."""
    if role not in {r.value for r in assignable_roles(actor)}:
        raise UserError(_l("Ви не можете створювати користувачів з цією роллю."))
    if actor.role_enum is not Role.ADMINISTRATOR:
        community_id = actor.community_id  # never another community, whatever was sent
    elif role == Role.ADMINISTRATOR.value:
        community_id = None
    elif community_id is None or session.get(Community, community_id) is None:
        raise UserError(_l("Оберіть громаду."))
    user = create_user(
        session,
        login=login,
        display_name=display_name,
        password=password,
        role=role,
        community_id=community_id,
        school_id=school_id,
    )
    details: dict[str, object] = {"login": user.login, "role": user.role}
    if user.school_id is not None:
        details["school_id"] = user.school_id
    audit.record(
        session,
        "user.create",
        user=actor,
        community_id=community_id,
        target=("user", user.id),
        details=details,
    )
    return user


def set_user_active(session: Session, actor: User, target: User, active: bool) -> None:
    """Deactivate (their sessions end at the next request) or reactivate a user."""
    if not may_manage(actor, target):
        raise UserError(_l("Ви не можете керувати цим користувачем."))
    if target.id == actor.id:
        raise UserError(_l("Власний обліковий запис вимкнути не можна."))
    if target.active == active:
        return
    target.active = active
    session.flush()
    audit.record(
        session,
        "user.activate" if active else "user.deactivate",
        user=actor,
        community_id=target.community_id,
        target=("user", target.id),
        details={"login": target.login},
    )


def change_password(session: Session, user: User, *, current: str, new: str, repeated: str) -> None:
    """A user changing their own password; the current one proves it is them."""
    if not verify_password(user.password_hash, current):
        raise WrongPassword(_l("Поточний пароль невірний."))
    problem = password_problem(new)
    if problem:
        raise UserError(problem)
    if new != repeated:
        raise UserError(_l("Нові паролі не збігаються."))
    if new == current:
        raise UserError(
            _l("Новий пароль має відрізнятися від поточного."),
        )
    user.password_hash = hash_password(new)
    session.flush()
    audit.record(
        session, "user.password_change", user=user, community_id=user.community_id, target=("user", user.id)
    )
