"""Signing in, roles, community scope and CSRF for the console."""

from __future__ import annotations

from flask import Flask

from . import csrf
from .access import load_user


def init_app(app: Flask) -> None:
    app.before_request(load_user)
    csrf.init_app(app)
    from .views import bp

    app.register_blueprint(bp)
