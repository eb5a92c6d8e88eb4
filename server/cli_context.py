"""The app a server CLI command works in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import has_app_context
from flask.cli import ScriptInfo


@contextmanager
def app_context() -> Iterator[None]:
    """The current app, the one a Flask CLI runner names, or one made from the
    configuration (how `spilno server` runs)."""
    if has_app_context():
        yield
        return
    context = click.get_current_context(silent=True)
    info = context.find_object(ScriptInfo) if context is not None else None
    if info is not None and info.create_app is not None:
        app = info.load_app()
    else:
        from server import create_app

        app = create_app()
    with app.app_context():
        yield
