"""Engine, per-request sessions and migrations.

PostgreSQL in production and CI; SQLite as the embedded default for the demo. The
schema is always made by Alembic migrations, in tests too, so the migrations are what
gets tested.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # psycopg prepares a statement after its fifth run, and PostgreSQL may then keep one
    # generic plan for it on that connection until the next ANALYZE. A plan made while
    # a cycle's vote table was nearly empty (a sequential scan) then stays as the table
    # grows: the ballot box's "earlier votes of these voters" lookup went from 5 ms to
    # 170 ms a batch over 20 000 votes. Planning every run for its parameters costs well
    # under a millisecond and keeps the statements prepared (parsed once).
    connect_args = dict(kwargs.pop("connect_args", {}))
    options = f"{connect_args.get('options', '')} -c plan_cache_mode=force_custom_plan"
    connect_args["options"] = options.strip()
    return create_engine(url, connect_args=connect_args, **kwargs)


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (the newest by default)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} into a row")


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in one statement.

    On PostgreSQL the rows travel as one JSON document that json_populate_recordset
    turns back into typed rows (JSON arrays become arrays, ISO strings timestamps):
    against executemany (one INSERT per row, even pipelined) this halves the work per
    row on both sides. Elsewhere, a plain executemany.
    """
    if not rows:
        return
    columns = rows[0].keys()
    # Every row must name the same columns: json_populate_recordset would quietly make
    # a missing one NULL.
    for row in rows:
        if row.keys() != columns:
            raise ValueError(f"row columns {sorted(row)} differ from {sorted(columns)}")
    if session.get_bind().dialect.name != "postgresql":
        session.execute(table.insert(), rows)
        return
    names = ", ".join(f'"{c}"' for c in columns)
    statement = text(
        f'INSERT INTO "{table.name}" ({names}) SELECT {names} '
        f'FROM json_populate_recordset(NULL::"{table.name}", CAST(:rows AS json))'
    )
    session.execute(statement, {"rows": json.dumps(rows, default=_json_default)})


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["spilno.engine"] = engine
    app.extensions["spilno.sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions["spilno.engine"]


def session() -> Session:
    """The session of this request or CLI command."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["spilno.sessions"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
