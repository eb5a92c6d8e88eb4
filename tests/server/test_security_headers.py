"""Headers and cookies every answer gets: HSTS over HTTPS, Secure cookies, Allow on 405,
and the security headers even on answers Flask's own handling never made."""

from __future__ import annotations

import pytest

from server import create_app
from server.security_headers import STATIC_HEADERS, SecurityHeadersMiddleware


@pytest.fixture
def secure_app(app):
    """The server as configured for production: Secure cookies (the default)."""
    production = create_app({**app.config, "SESSION_COOKIE_SECURE": True})
    yield production
    production.extensions["spilno.engine"].dispose()


def test_hsts_is_sent_over_https_and_never_over_plain_http(client):
    secure = client.get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_hsts_can_be_switched_off(app, client):
    app.config["HSTS_SECONDS"] = 0
    assert "Strict-Transport-Security" not in client.get("/login", base_url="https://localhost").headers


@pytest.mark.parametrize("path", ["/login?lang=en", "/s/?lang=en", "/results/?lang=en"])
def test_every_cookie_is_secure_when_the_session_cookie_is(secure_app, path):
    client = secure_app.test_client()
    response = client.get(path, base_url="https://localhost")
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("lang=") for c in cookies)
    for cookie in cookies:
        assert "Secure" in cookie and "HttpOnly" in cookie, cookie


def test_the_language_cookie_follows_a_plain_http_setup(client):
    (cookie,) = [
        c for c in client.get("/login?lang=en").headers.getlist("Set-Cookie") if c.startswith("lang=")
    ]
    assert "Secure" not in cookie


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/console/fleet", {"GET", "HEAD", "OPTIONS"}),
        ("GET", "/logout", {"POST", "OPTIONS"}),
        ("DELETE", "/login", {"GET", "HEAD", "POST", "OPTIONS"}),
        ("GET", "/api/v1/sync/enrol", {"POST", "OPTIONS"}),
        ("PUT", "/s/", {"GET", "HEAD", "POST", "OPTIONS"}),
    ],
)
def test_method_not_allowed_says_which_methods_are(client, method, path, allowed):
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert {m.strip() for m in response.headers["Allow"].split(",")} == allowed
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_error_pages_carry_the_security_headers(client):
    for response in (client.get("/no-such-page"), client.post("/login"), client.get("/api/v1/nothing")):
        assert response.status_code in (400, 404)
        for name, value in STATIC_HEADERS:
            assert response.headers[name] == value


def test_the_middleware_adds_the_headers_to_answers_made_outside_flask():
    def bare(environ, start_response):
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"broken"]

    seen = {}

    def start_response(status, headers, exc_info=None):
        seen.update(headers)

    body = SecurityHeadersMiddleware(bare)({}, start_response)
    assert list(body) == [b"broken"]
    assert all(seen[name] == value for name, value in STATIC_HEADERS)


def test_the_middleware_keeps_a_header_the_application_chose(client):
    def own(environ, start_response):
        start_response("200 OK", [("X-Frame-Options", "SAMEORIGIN")])
        return [b""]

    seen = []
    SecurityHeadersMiddleware(own)({}, lambda status, headers, exc_info=None: seen.extend(headers))
    assert [v for n, v in seen if n == "X-Frame-Options"] == ["SAMEORIGIN"]
