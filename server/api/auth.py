"""Bearer tokens for the integration API: one client, one community, no cookies."""

from __future__ import annotations

from flask import g

from server import db
from server.i18n import _
from server.models import ApiClient
from server.services.api_clients import client_for_token

from .responses import ApiError

REALM = 'Bearer realm="spilno-api"'


def bearer_token(header: str) -> str | None:
    """The token from an `Authorization: Bearer <token>` header, or None."""
    scheme, _sep, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def authenticate(header: str) -> ApiClient:
    """The client this header speaks for, or ApiError 401 (with WWW-Authenticate)."""
    token = bearer_token(header)
    if token is None:
        raise ApiError(
            401,
            "unauthorized",
            _("Потрібен токен доступу: заголовок Authorization: Bearer <токен>."),
            headers={"WWW-Authenticate": REALM},
        )
    client = client_for_token(db.session(), token)
    if client is None:
        # Unknown, revoked or malformed look the same from outside on purpose.
        raise ApiError(
            401,
            "invalid_token",
            _("Токен доступу недійсний або відкликаний."),
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    return client


def current_client() -> ApiClient:
    return g.api_client
