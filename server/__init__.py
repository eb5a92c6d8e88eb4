"""The central Spilno server: moderator console, results, integration API."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from .config import DEFAULTS


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Defaults, then instance/config.py, then SPILNO_* environment variables
    (or `test_config` instead of the last two)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("SPILNO")
    else:
        app.config.from_mapping(test_config)
    if not app.config["DATABASE_URL"]:
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{os.path.join(app.instance_path, 'spilno.db')}"
    _require_secrets(app)

    from . import db, errors, i18n, security_headers
    from .auth import init_app as auth_init

    db.init_app(app)
    i18n.init_app(app)
    auth_init(app)
    errors.init_app(app)
    security_headers.init_app(app)

    from server.school import student_views

    from .api import views as api_views
    from .console import views as console_views
    from .public import views as public_views
    from .results import views as results_views
    from .sync import views as sync_views

    for area in (console_views, public_views, results_views, api_views, sync_views, student_views):
        area.init_app(app)
    trusted = int(app.config.get("TRUSTED_PROXIES") or 0)
    if trusted > 0:
        from .proxies import TrustedProxyFix, parse_networks

        proxies = parse_networks(app.config.get("TRUSTED_PROXY_ADDRESSES") or "")
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, trusted, proxies)  # type: ignore[method-assign]
    return app


def _require_secrets(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("SPILNO_SECRET_KEY is not set: the server refuses to start without it")
    secret = app.config.get("VOTER_KEY_SECRET")
    try:
        raw = bytes.fromhex(secret) if isinstance(secret, str) else b""
    except ValueError:
        raw = b""
    if len(raw) < 32:
        raise RuntimeError("SPILNO_VOTER_KEY_SECRET must be at least 32 bytes, written as hex")
    app.config["VOTER_KEY_SECRET_BYTES"] = raw
