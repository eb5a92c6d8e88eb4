"""Who is signed in, what their role allows, and which community's data they may see.

Every console route is guarded by `roles_required`; every object loaded by id goes
through `scoped_or_404`, so a moderator of one community gets "not found" for another
community's data (we do not even confirm it exists).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, g, redirect, request, session, url_for

from server import db
from server.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

COMMUNITY_MANAGERS = (Role.ADMINISTRATOR, Role.COMMUNITY_MODERATOR)
MAX_ID = 2**31 - 1


def load_user() -> None:
    g.user = None
    user_id = session.get("user_id")
    if user_id is None:
        return
    user = db.session().get(User, user_id)
    if user is None or not user.active or session.get("user_pw") != user.password_hash[-16:]:
        # Deactivated, deleted, or password changed since this session began.
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
