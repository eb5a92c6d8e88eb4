"""Shared fixtures: a fresh PostgreSQL database per test run (and SQLite where a test
asks for both), an app, a client, and factories for rows.

Under CI (CI=true) a PostgreSQL that cannot be reached fails the run instead of
skipping the tests that need it.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from server.db import make_engine, upgrade
from sync.signing import generate_private_key, private_key_to_pem

PG_ADMIN_URL = os.environ.get("SPILNO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# The job queue's broker, as in production (scripts/ensure-redis.sh starts it for make test).
REDIS_URL = os.environ.get("SPILNO_TEST_REDIS", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_reachable() -> str | None:
    try:
        engine = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A new PostgreSQL database for this run, migrated to head, dropped afterwards."""
    problem = _pg_reachable()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI and is not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"spilno_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = re.sub(r"/[^/]*$", f"/{name}", PG_ADMIN_URL)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


class _PgCleaner:
    """Empties every table between tests, fast.

    TRUNCATE of the 31 tables cost 0.35-1.4 s a test (each table gets new files, fsynced
    at commit); DELETE of the few rows a test leaves costs ~20 ms. The append-only
    triggers (audit log, paper decisions) refuse DELETE, so the cleaner runs as a replica
    session, which fires no ordinary triggers and checks no foreign keys: only tests may
    do this, and only the postgres superuser can. Sequences that were used restart, as
    TRUNCATE ... RESTART IDENTITY did. Every TRUNCATE_EVERY cleans a real TRUNCATE
    drops the dead rows DELETE leaves behind (autovacuum may be off)."""

    TRUNCATE_EVERY = 150

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        with self.engine.connect() as conn:
            self.tables = (
                conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables "
                        "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                    )
                )
                .scalars()
                .all()
            )
        self.cleans = 0

    def clean(self) -> None:
        self.cleans += 1
        quoted = [f'"{t}"' for t in self.tables]
        with self.engine.begin() as conn:
            if self.cleans % self.TRUNCATE_EVERY == 0:
                conn.exec_driver_sql("TRUNCATE " + ", ".join(quoted) + " RESTART IDENTITY CASCADE")
                return
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.exec_driver_sql("; ".join(f"DELETE FROM {t}" for t in quoted))
            used = (
                conn.exec_driver_sql(
                    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                    "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"
                )
                .scalars()
                .all()
            )
            if used:
                conn.exec_driver_sql("; ".join(f"ALTER SEQUENCE {seq} RESTART" for seq in used))


@pytest.fixture(scope="session")
def _pg_cleaner(pg_url: str) -> Iterator[_PgCleaner]:
    cleaner = _PgCleaner(pg_url)
    yield cleaner
    cleaner.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """PostgreSQL by default; tests parametrised with `backend` get SQLite too."""
    backend = getattr(request, "param", None) or "postgresql"
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "spilno.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    request.getfixturevalue("_pg_cleaner").clean()
    return url


both_databases = pytest.mark.parametrize("database_url", ["postgresql", "sqlite"], indirect=True)


@pytest.fixture
def app(database_url: str):
    from server import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_hex(32),
            "VOTER_KEY_SECRET": secrets.token_hex(32),
            "SIGNING_KEY": private_key_to_pem(generate_private_key()).decode(),
            "SESSION_COOKIE_SECURE": False,
            # Jobs run inside the request that starts them (Huey's immediate mode); the
            # tests of the worker itself (tests/server/test_jobs_worker.py) run a real one.
            "JOBS_URL": REDIS_URL,
            "JOBS_IMMEDIATE": True,
            "JOBS_QUEUE": f"spilno-test-{os.getpid()}",
        }
    )
    yield app
    app.extensions["spilno.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def engine(app) -> Engine:
    return app.extensions["spilno.engine"]


@pytest.fixture
def session(app):
    """A session outside any request, for arranging and checking rows."""
    from sqlalchemy.orm import Session

    with Session(app.extensions["spilno.engine"], expire_on_commit=False) as s:
        yield s


@pytest.fixture
def make(session):
    from tests.factories import Factories

    return Factories(session)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis the job queue runs on; under CI a missing one fails the run."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if IN_CI:
            pytest.fail(f"Redis is required under CI and is not reachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL


# --- browser ---------------------------------------------------------------------------
# One Chromium for the whole run: Playwright's sync API allows one driver per thread, so
# every browser test (kiosk screens, students' pages) shares this session fixture.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium is needed for the browser tests and is not at {CHROMIUM}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
