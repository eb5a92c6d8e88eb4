"""Who is signed in, what their role allows, and which community's data they may see.

Every console route is guarded by `roles_required`; every object loaded by id goes
through `scoped_or_404`, so a moderator of one community gets "not found" for another
community's data (we do not even confirm it exists). School pages go one step further
with `school_scoped_or_404`: a school moderator sees only their own school.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol, TypeVar

from flask import abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import select

from server import db
from server.models import CodeBatch, Cycle, CycleKind, Project, Role, School, SchoolContest, User, VotingCode

from .sessions import PROOF, USER_ID, is_current

F = TypeVar("F", bound=Callable[..., Any])


class _InACommunity(Protocol):
    @property
    def community_id(self) -> int | None: ...


T = TypeVar("T", bound=_InACommunity)

COMMUNITY_MANAGERS = (Role.ADMINISTRATOR, Role.COMMUNITY_MODERATOR)
# Who may open a school's pages (each then limited to their schools by school_scoped_or_404).
SCHOOL_STAFF = (*COMMUNITY_MANAGERS, Role.SCHOOL_MODERATOR)
# Who may do a support point's paper work (scans, their review, tally sheets, typed paper
# votes) for the public-budget cycles of their community: the community's managers and
# its support-point operators. Nothing community-wide beyond paper is the operators'.
PAPER_STAFF = (*COMMUNITY_MANAGERS, Role.SUPPORT_OPERATOR)
MAX_ID = 2**31 - 1


def load_user() -> None:
    g.user = None
    user_id = session.get(USER_ID)
    if user_id is None:
        return
    user = db.session().get(User, user_id) if isinstance(user_id, int) and 0 < user_id <= MAX_ID else None
    secret_key = current_app.secret_key
    assert secret_key is not None  # create_app refuses to start without it
    if user is None or not user.active or not is_current(user, session.get(PROOF), secret_key):
        # Deactivated, deleted, signed out or password changed since this session began.
        session.clear()
        return
    g.user = user


def current_user() -> User | None:
    return g.get("user")


def login_required(view: F) -> F:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def roles_required(*roles: Role) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("auth.login", next=request.full_path))
            if user.role_enum not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def can_access_community(user: User | None, community_id: int | None) -> bool:
    if user is None:
        return False
    if user.role_enum is Role.ADMINISTRATOR:
        return True
    return community_id is not None and user.community_id == community_id


def scoped_or_404(model: type[T], object_id: Any) -> T:
    """The object with this id if the signed-in user's community owns it; else 404."""
    # Ids beyond a 32-bit integer cannot exist; asking the database would be an error.
    if isinstance(object_id, int) and not 0 < object_id <= MAX_ID:
        abort(404)
    obj = db.session().get(model, object_id)
    if obj is None or not can_access_community(current_user(), obj.community_id):
        abort(404)
    return obj


def visible_community_ids(user: User) -> list[int] | None:
    """None means every community (administrators)."""
    if user.role_enum is Role.ADMINISTRATOR:
        return None
    return [user.community_id] if user.community_id is not None else []


# --- schools ------------------------------------------------------------------------------


def can_access_school(user: User | None, community_id: int | None, school_id: int | None) -> bool:
    """Community managers reach every school of their community; a school moderator only
    the school they were given (none at all while they have none)."""
    if school_id is None or not can_access_community(user, community_id):
        return False
    assert user is not None
    if user.role_enum is Role.SCHOOL_MODERATOR:
        return user.school_id == school_id
    return user.role_enum in COMMUNITY_MANAGERS


def school_of(obj: object) -> int | None:
    """The school an object of a school page belongs to; None when it belongs to none
    (a public-budget project or cycle), which school pages treat as "not found"."""
    s = db.session()
    if isinstance(obj, School):
        return obj.id
    if isinstance(obj, SchoolContest):
        return obj.school_id
    if isinstance(obj, VotingCode | CodeBatch):
        return s.scalar(select(SchoolContest.school_id).where(SchoolContest.id == obj.contest_id))
    if isinstance(obj, Project | Cycle):
        cycle_id = obj.cycle_id if isinstance(obj, Project) else obj.id
        return s.scalar(select(SchoolContest.school_id).where(SchoolContest.cycle_id == cycle_id))
    raise TypeError(f"{type(obj).__name__} is not an object of a school page")


def school_scoped_or_404(model: type[T], object_id: Any) -> T:
    """The object with this id if it belongs to a school the signed-in user may run;
    else 404, the same answer whether it is another community's, another school's of
    the same community, or not a school's at all.

    A school-budget programme (a Cycle of kind `school`) is shared by the community's
    schools, so any of them may open it; a contest's cycle belongs to its school.
    """
    obj = scoped_or_404(model, object_id)
    user = current_user()
    community_id = obj.community_id
    if isinstance(obj, Cycle) and obj.kind == CycleKind.SCHOOL.value:
        if user is None or user.role_enum not in SCHOOL_STAFF:
            abort(404)
        return obj
    if isinstance(obj, Cycle) and obj.kind != CycleKind.SCHOOL_CONTEST.value:
        abort(404)
    if not can_access_school(user, community_id, school_of(obj)):
        abort(404)
    return obj
