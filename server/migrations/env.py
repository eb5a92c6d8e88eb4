"""Alembic environment: the engine comes from the caller (server.db.upgrade) or from
SPILNO_DATABASE_URL when alembic is run by hand."""

from __future__ import annotations

import os

from alembic import context

from server.db import make_engine
from server.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        engine = make_engine(os.environ["SPILNO_DATABASE_URL"])
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        context.run_migrations()


run_migrations_online()
