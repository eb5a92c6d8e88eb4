"""Results pages for moderators and, once published, for everyone."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("results", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
