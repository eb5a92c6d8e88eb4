"""With the fake card reader (`spilno kiosk run --reader fake`), a page to put a test
card on the reader or take it away, so a person can try the whole visit on a machine
with no reader. Open it in a second window: http://127.0.0.1:8080/fake-card

It exists only when the configured reader is the fake; a real terminal never has it.

Only this page may press its buttons. A browser says where a form came from in the
`Origin` header (Chromium sends it with every POST); the kiosk's pages send their own
origin (Referrer-Policy `same-origin`, kiosk.app), so a post is taken only when its
`Origin` is exactly this kiosk's. `Origin: null` (a sandboxed frame, a page with
`no-referrer`, a file) and a post with no origin at all are refused like another site's.
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from hardware import FakeCardReader

bp = Blueprint("fake_card", __name__, url_prefix="/fake-card")

# Test cards: UIDs of the 4- and 7-byte kinds real cards have.
CARDS = {"a": "04A1B2C3D4E5F6", "b": "04B7C8D9E0F1A2", "c": "9C3F4E21"}


def _reader(app: Flask) -> FakeCardReader:
    return app.extensions["spilno.kiosk"].devices.reader


def own_origin() -> str:
    """This kiosk's origin as a browser writes it: "http://127.0.0.1:8080"."""
    return f"{request.scheme}://{request.host}"


def posted_from_this_kiosk() -> bool:
    """Did the browser say the form came from one of this kiosk's own pages? `Origin`
    when the browser sent one; else a `Referer` on this origin (an older browser)."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin == own_origin()
    referer = request.headers.get("Referer", "")
    return referer.startswith(own_origin() + "/")


@bp.get("")
def page() -> str:
    return render_template("fake_card.html", cards=CARDS, state=_reader(current_app).state())


@bp.post("")
def act() -> Response | tuple[str, int]:
    if not posted_from_this_kiosk():
        return render_template("fake_card_refused.html", page_url=url_for("fake_card.page")), 403
    reader = _reader(current_app)
    action = request.form.get("action", "")
    if action in CARDS:
        reader.insert_card(CARDS[action])
    elif action == "remove":
        reader.remove_card()
    else:
        abort(400)
    # 303: the browser asks for the page with GET, and a reload presses nothing again.
    return redirect(url_for("fake_card.page"), code=303)


def init_app(app: Flask) -> None:
    if isinstance(_reader(app), FakeCardReader):
        app.register_blueprint(bp)
