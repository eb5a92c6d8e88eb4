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
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import Engine, text
from werkzeug.routing.rules import Rule

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


@pytest.fixture(scope="session", autouse=True)
def _child_bytecode_cache() -> Iterator[None]:
    """Python processes the tests start (the fault drills' ~250 `spilno device` runs,
    gunicorn, the job worker, the demos) keep their compiled modules between runs when
    the environment forbids writing bytecode (PYTHONDONTWRITEBYTECODE=1): each would
    otherwise compile the CLI and its libraries from source, ~0.35 s of CPU a process
    where the checkout has no __pycache__ (a fresh clone). The cache is written beside
    the checkout, never in it (PYTHONPYCACHEPREFIX), and Python checks each entry
    against its source as always. This test process and its xdist siblings, already
    running, are not changed; a prefix the environment sets is kept."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        yield
        return
    saved = {name: os.environ.get(name) for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ.setdefault(
        "PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / f"spilno-test-pycache-{os.getuid()}")
    )
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A new PostgreSQL database for this run, migrated to head, dropped afterwards.

    Its commits do not wait for the WAL to reach the disk (synchronous_commit = off):
    the tests commit thousands of times (every factory row, every request), and each
    flush cost 2-4 ms on this machine, more under load. What a commit makes visible,
    and when, is unchanged; only a crash of PostgreSQL itself could lose the last
    commits, and a test database is dropped at the end anyway."""
    problem = _pg_reachable()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI and is not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    name = f"spilno_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
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


def _share_url_builders() -> None:
    """Every app the tests make (one a test, some 1 500 a run) compiles the same URL
    builders afresh: Werkzeug writes a Python function for each of the ~140 rules and
    `compile()`s it, ~60 of the ~90 ms it takes to make the server's app. The function
    depends only on the rule's text, its parsed parts, its defaults and its converters'
    kinds, and reads the converters of the rule it is bound to when it runs, so one
    compiled for an equal rule is handed out again. Only this test process is changed:
    the apps route and build URLs exactly as before. Were Werkzeug's internals to
    change, nothing is shared and the tests run as they would without this."""
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:
        return
    built: dict[tuple, object] = {}

    def shared(self: Rule, append_unknown: bool = True):
        try:
            trace = tuple(self._trace)
            converters = tuple(
                sorted((k, type(c).__module__, type(c).__qualname__) for k, c in self._converters.items())
            )
        except AttributeError:
            return compile_builder(self, append_unknown)
        defaults = tuple(sorted((str(k), repr(v)) for k, v in (self.defaults or {}).items()))
        key = (self.rule, trace, defaults, converters, append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    Rule._compile_builder = shared  # type: ignore[method-assign]


_share_url_builders()


class _SharedTemplates(BytecodeCache):
    """Compiled templates kept for every server app of this test process: each test's
    new app would otherwise compile each template it renders again (tens of ms each).
    Jinja checks the source's checksum before using an entry, so an edited template is
    compiled afresh, and every app the `app` fixture makes has the same Jinja settings."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_SERVER_TEMPLATES = _SharedTemplates()


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
    app.jinja_env.bytecode_cache = _SERVER_TEMPLATES
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
