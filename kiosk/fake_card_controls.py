"""With the fake card reader (`spilno kiosk run --reader fake`), a page to put a test
card on the reader or take it away, so a person can try the whole visit on a machine
with no reader. Open it in a second window: http://127.0.0.1:8080/fake-card

It exists only when the configured reader is the fake; a real terminal never has it.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hardware import FakeCardReader

bp = Blueprint("fake_card", __name__, url_prefix="/fake-card")

# Test cards: UIDs of the 4- and 7-byte kinds real cards have.
CARDS = {"a": "04A1B2C3D4E5F6", "b": "04B7C8D9E0F1A2", "c": "9C3F4E21"}


def _reader(app: Flask) -> FakeCardReader:
    return app.extensions["spilno.kiosk"].devices.reader


@bp.get("")
def page() -> str:
    from flask import current_app

    return render_template("fake_card.html", cards=CARDS, state=_reader(current_app).state())


@bp.post("")
def act() -> Response:
    from flask import current_app

    # Only this page may press the buttons: the kiosk's own voter pages never post here.
    origin = request.headers.get("Origin") or request.headers.get("Referer") or ""
    if origin and not origin.startswith(request.host_url.rstrip("/")):
        abort(403)
    reader = _reader(current_app)
    action = request.form.get("action", "")
    if action in CARDS:
        reader.insert_card(CARDS[action])
    elif action == "remove":
        reader.remove_card()
    else:
        abort(400)
    return redirect(url_for("fake_card.page"))


def init_app(app: Flask) -> None:
    if isinstance(_reader(app), FakeCardReader):
        app.register_blueprint(bp)
