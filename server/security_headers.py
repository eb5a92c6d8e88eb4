"""Headers every response gets: no framing, no sniffing, no inline script, and no
caching of signed-in pages (a shared office computer must not show them again).

They are added twice over: by an after_request hook (every answer Flask makes, error
pages included) and by a small WSGI middleware around the whole application, which
also covers answers made outside Flask's request handling (a failure in another
middleware). What gunicorn answers by itself, before the application is called (a
malformed request line, oversized headers: "400 Bad Request" in plain text), never
reaches either: put the server behind a proxy that adds the headers to every answer
(nginx: `add_header ... always`), see the README's security notes.

Strict-Transport-Security goes on answers sent over HTTPS (as the server sees it:
directly, or through a trusted proxy's X-Forwarded-Proto), never over plain HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
STATIC_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)


class SecurityHeadersMiddleware:
    """Adds any of STATIC_HEADERS an answer lacks, whoever inside made the answer."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _value in headers}
            headers.extend((name, value) for name, value in STATIC_HEADERS if name.lower() not in present)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


def allowed_methods() -> list[str]:
    """The methods the requested path answers (for the Allow header of a 405)."""
    try:
        adapter = current_app.url_map.bind_to_environ(request.environ)
        return sorted(adapter.allowed_methods(request.path))
    except HTTPException:
        return []


def init_app(app: Flask) -> None:
    @app.after_request
    def add_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if g.get("user") is not None:
            response.headers["Cache-Control"] = "no-store"
        hsts = int(app.config.get("HSTS_SECONDS") or 0)
        if hsts > 0 and request.is_secure:
            response.headers["Strict-Transport-Security"] = f"max-age={hsts}"
        # Error handlers render their own pages and so lose MethodNotAllowed's header.
        if response.status_code == MethodNotAllowed.code and "Allow" not in response.headers:
            methods = allowed_methods()
            if methods:
                response.headers["Allow"] = ", ".join(methods)
        return response

    app.wsgi_app = SecurityHeadersMiddleware(app.wsgi_app)  # type: ignore[method-assign]
