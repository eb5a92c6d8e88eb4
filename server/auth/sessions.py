"""What a console session cookie holds, and how the server ends sessions for good.

The cookie is signed, not encrypted: anyone holding it can read it. So it holds the
user's id, the CSRF token and a proof: an HMAC (under the server's secret key) of the
user's id, their session epoch and their password hash. Nothing in it is a secret of
its own, and nothing in it can be made without the server's key.

A session is current while its proof matches the user's row. Signing out raises the
user's epoch, and changing the password changes the hash: either way every session
begun before it ends at its next request, even one whose cookie was saved and sent
again later (the cookie alone cannot be "deleted" from a browser that kept a copy).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from server.models import User

USER_ID = "user_id"
PROOF = "user_proof"


def session_proof(user: User, secret_key: str | bytes) -> str:
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    message = f"spilno/console-session/{user.id}/{user.session_epoch}/{user.password_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def session_fields(user: User, secret_key: str | bytes) -> dict[str, Any]:
    """What a session of `user` keeps (the caller clears the old session first)."""
    return {USER_ID: user.id, PROOF: session_proof(user, secret_key)}


def is_current(user: User, offered: object, secret_key: str | bytes) -> bool:
    return isinstance(offered, str) and hmac.compare_digest(offered, session_proof(user, secret_key))


def end_all_sessions(session: Session, user: User) -> None:
    """Every session of `user` ends (sign-out). The caller commits."""
    session.execute(update(User).where(User.id == user.id).values(session_epoch=User.session_epoch + 1))
    session.refresh(user)
