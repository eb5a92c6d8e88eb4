"""CSRF protection for every form: a per-session token, checked on every unsafe method.

The integration API is exempt: it takes no cookies, only a bearer token.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
EXEMPT_BLUEPRINTS = {"api"}
API_PREFIX = "/api/"


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def check_csrf() -> None:
    if request.method not in UNSAFE_METHODS or request.blueprint in EXEMPT_BLUEPRINTS:
        return
    # Unmatched /api/ paths have no blueprint; they deserve the API's 404/405, not "csrf".
    if request.path.startswith(API_PREFIX):
        return
    # No view will run (no such page, or not this method): the 404/405 says more, and
    # with its Allow header, than "csrf" would.
    if request.routing_exception is not None:
        return
    expected = session.get("csrf")
    offered = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    if not expected or not hmac.compare_digest(expected, offered):
        abort(400, description="csrf")


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.before_request(check_csrf)
