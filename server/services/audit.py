"""The moderators' audit log: who did what to which object, when, from where."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy.orm import Session

from server.models import AuditEvent, User, utcnow

SECRET_WORDS = ("password", "token", "secret")


def record(
    session: Session,
    action: str,
    *,
    user: User | None = None,
    community_id: int | None = None,
    target: tuple[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    if user is None and has_request_context():
        from server.auth.access import current_user

        user = current_user()
    clean = {
        k: ("***" if any(w in k.lower() for w in SECRET_WORDS) else v) for k, v in (details or {}).items()
    }
    event = AuditEvent(
        at=utcnow(),
        user_id=user.id if user else None,
        user_login=user.login if user else "",
        community_id=community_id,
        action=action,
        target_type=target[0] if target else "",
        target_id=str(target[1]) if target else "",
        details=clean,
        ip=(request.remote_addr or "")[:64] if has_request_context() else "",
    )
    session.add(event)
    return event
