"""Headers every response gets: no framing, no sniffing, no inline script, and no
caching of signed-in pages (a shared office computer must not show them again)."""

from __future__ import annotations

from flask import Flask, Response, g

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def init_app(app: Flask) -> None:
    @app.after_request
    def add_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if g.get("user") is not None:
            response.headers["Cache-Control"] = "no-store"
        return response
