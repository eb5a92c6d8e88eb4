"""Configuration defaults. Override with instance/config.py or SPILNO_* environment
variables (SPILNO_DATABASE_URL, SPILNO_SECRET_KEY, SPILNO_VOTER_KEY_SECRET, ...)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

DEFAULTS: dict[str, Any] = {
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
    # Sign-in throttling (server.auth.throttle): wrong passwords allowed back to back per
    # (login, address) and per address, never per login alone (a stranger must not lock
    # a moderator out). After them every try waits: FIRST_DELAY, doubling each time, up
    # to MAX_DELAY; WINDOW seconds of quiet and the count starts afresh.
    "LOGIN_MAX_FAILURES_PER_LOGIN": 5,
    "LOGIN_MAX_FAILURES_PER_IP": 30,
    "LOGIN_FIRST_DELAY_SECONDS": 2,
    "LOGIN_MAX_DELAY_SECONDS": 15 * 60,
    "LOGIN_WINDOW_SECONDS": 15 * 60,
    # A USB bundle uploaded in the console (a week offline is ~100 000 votes, ~40 MB).
    "BUNDLE_MAX_BYTES": 200 * 1024 * 1024,
    # Behind a reverse proxy (nginx, a load balancer): how many proxies in front of the
    # server to trust for X-Forwarded-For/-Proto/-Host, and from which addresses (the
    # proxies' own, comma-separated; networks like 10.0.0.0/8 too). A request from any
    # other address has those headers ignored: someone reaching gunicorn directly must
    # not choose their own address and so escape every per-address limit. 0 (direct):
    # the headers are always ignored. Set it behind a proxy, or every student seems to
    # come from the proxy's address.
    "TRUSTED_PROXIES": 0,
    "TRUSTED_PROXY_ADDRESSES": "127.0.0.1, ::1",
    # Strict-Transport-Security on answers sent over HTTPS (seconds; 0: none).
    "HSTS_SECONDS": 365 * 24 * 3600,
    # Background jobs (server.jobs, docs/jobs.md): the Huey queue. "redis://host:6379/0"
    # in production; a file path for a SQLite queue; None: jobs.sqlite in the instance
    # folder (the demo: no extra server). IMMEDIATE runs each job inside the request that
    # starts it (tests only). A running job whose worker has not been heard from for
    # LEASE_SECONDS is taken over by another worker (its heartbeat comes every third of it).
    "JOBS_URL": None,
    "JOBS_QUEUE": "spilno-jobs",
    "JOBS_IMMEDIATE": False,
    "JOBS_LEASE_SECONDS": 60,
    # Integration API batches.
    "API_MAX_BATCH": 1000,
    # The address students' code cards point to ("https://vote.example.gov.ua"); the QR
    # on each card is PUBLIC_URL/s/<code>. None: the address the console was opened at.
    "PUBLIC_URL": None,
    # Guessing voting codes: wrong codes allowed back to back per browser (before the
    # code is looked at) and per network address (a whole school may share one, so it is
    # generous; and a right code always passes it); then growing delays as for sign-in.
    "CODE_MAX_FAILURES_PER_CLIENT": 10,
    "CODE_MAX_FAILURES_PER_IP": 300,
    "CODE_FIRST_DELAY_SECONDS": 2,
    "CODE_MAX_DELAY_SECONDS": 60,
    "CODE_WINDOW_SECONDS": 10 * 60,
    # «Перевірити свій голос» (/check): receipt codes looked up per address back to back,
    # then growing delays. A resident checks a receipt or two; a few tries with typos fit.
    "RECEIPT_CHECKS_PER_IP": 20,
    "RECEIPT_CHECK_FIRST_DELAY_SECONDS": 2,
    "RECEIPT_CHECK_MAX_DELAY_SECONDS": 60,
    "RECEIPT_CHECK_WINDOW_SECONDS": 10 * 60,
    # Device enrolment codes tried per address, then growing delays.
    "ENROL_MAX_FAILURES_PER_IP": 10,
    "ENROL_FIRST_DELAY_SECONDS": 5,
    "ENROL_MAX_DELAY_SECONDS": 15 * 60,
    "ENROL_WINDOW_SECONDS": 60 * 60,
}
