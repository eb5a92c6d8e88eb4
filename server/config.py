"""Configuration defaults. Override with instance/config.py or SPILNO_* environment
variables (SPILNO_DATABASE_URL, SPILNO_SECRET_KEY, SPILNO_VOTER_KEY_SECRET, ...)."""

from __future__ import annotations

from datetime import timedelta

DEFAULTS = {
    # SQLite in the instance folder unless configured; PostgreSQL in production.
    "DATABASE_URL": None,
    "SECRET_KEY": None,  # required: signs session cookies
    "VOTER_KEY_SECRET": None,  # required: hex, 32+ bytes; derives per-community voter keys
    "SIGNING_KEY": None,  # required: Ed25519 private key (PEM) that signs packages for devices
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "spilno_session",
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
    # A request larger than this is refused before it is read (413).
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    # Sign-in throttling: failures within the window, per login and per address.
    "LOGIN_WINDOW_SECONDS": 15 * 60,
    "LOGIN_MAX_FAILURES_PER_LOGIN": 5,
    "LOGIN_MAX_FAILURES_PER_IP": 30,
    # A USB bundle uploaded in the console (a week offline is ~100 000 votes, ~40 MB).
    "BUNDLE_MAX_BYTES": 200 * 1024 * 1024,
    # Behind a reverse proxy (nginx, a load balancer): how many proxies in front of the
    # server to trust for X-Forwarded-For/-Proto/-Host. 0 (direct): the headers are
    # ignored, since a client could forge them. Set it behind a proxy, or every student
    # seems to come from the proxy's address and shares one guessing limit.
    "TRUSTED_PROXIES": 0,
    # Integration API batches.
    "API_MAX_BATCH": 1000,
    # The address students' code cards point to ("https://vote.example.gov.ua"); the QR
    # on each card is PUBLIC_URL/s/<code>. None: the address the console was opened at.
    "PUBLIC_URL": None,
    # Guessing voting codes: failed codes within the window, per browser, per network
    # address (a whole school may share one, so it is generous) and per school page.
    "CODE_WINDOW_SECONDS": 10 * 60,
    "CODE_MAX_FAILURES_PER_CLIENT": 10,
    "CODE_MAX_FAILURES_PER_IP": 300,
    "CODE_MAX_FAILURES_PER_SCHOOL": 300,
}
