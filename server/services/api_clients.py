"""Clients of the integration API: creating them, revoking them, finding one by token.

A client is one e-democracy platform (or one installation of it) speaking for one
community. Its token is shown once, at creation; only its SHA-256 is stored. Tokens
carry 256 random bits, so a fast unsalted hash is safe (nothing to brute-force) and
lets every request find its client with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import ApiClient, Community, utcnow
from server.services import audit
from server.texts import Explained, _l

__all__ = [
    "TOKEN_PREFIX",
    "ApiClientError",
    "client_for_token",
    "create_api_client",
    "hash_token",
    "revoke_api_client",
]

# Recognisable in logs, config files and secret scanners ("spl_" = Spilno).
TOKEN_PREFIX = "spl_"  # noqa: S105 - a label, not a secret
# secrets.token_urlsafe(32) gives 43 characters; allow some room, refuse anything silly
# before hashing so a hostile header costs us nothing.
_TOKEN_PATTERN = re.compile(r"spl_[A-Za-z0-9_\-]{20,100}")
# Shown in the console so people can tell tokens apart: "spl_" and 8 random characters,
# 48 bits — too few to help a guesser, enough to recognise a token.
_SHOWN_PREFIX_LENGTH = 12
MAX_NAME_LENGTH = 200


class ApiClientError(Explained, ValueError):
    """A client that cannot be created as asked; str() is the Ukrainian message."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_client(session: Session, *, community_id: int, name: str) -> tuple[ApiClient, str]:
    """A new client and its token (shown once, never stored). Flushes, does not commit."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ApiClientError(
            _l("Назва клієнта API: від 1 до 200 символів."),
        )
    if session.get(Community, community_id) is None:
        raise ApiClientError(_l("Такої громади немає."))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        community_id=community_id,
        name=name,
        token_hash=hash_token(token),
        token_prefix=token[:_SHOWN_PREFIX_LENGTH],
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        "api_client.create",
        community_id=community_id,
        target=("api_client", client.id),
        # Key named "prefix", not "token_prefix": the audit log masks keys with "token".
        details={"name": name, "prefix": client.token_prefix},
    )
    return client, token


def revoke_api_client(session: Session, client: ApiClient) -> None:
    """Refuse the client's token from now on. Revoking twice keeps the first time."""
    if client.revoked_at is not None:
        return
    client.revoked_at = utcnow()
    session.flush()
    audit.record(
        session,
        "api_client.revoke",
        community_id=client.community_id,
        target=("api_client", client.id),
        details={"name": client.name, "prefix": client.token_prefix},
    )


def client_for_token(session: Session, token: str) -> ApiClient | None:
    """The active client this token belongs to, or None (unknown, revoked, malformed).

    The lookup is by the token's hash, so the database comparison leaks nothing about
    the token itself: timing reveals at most a prefix of a SHA-256, which is useless.
    """
    if not isinstance(token, str) or not _TOKEN_PATTERN.fullmatch(token):
        return None
    client = session.scalar(select(ApiClient).where(ApiClient.token_hash == hash_token(token)))
    if client is None or client.revoked_at is not None:
        return None
    return client
