"""The schema comes from migrations; the models must agree with what they build."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from server.models import Base
from tests.conftest import both_databases


@both_databases
def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "a model changed without a migration:\n" + "\n".join(map(str, differences))


@both_databases
def test_the_audit_log_refuses_updates_and_deletes(engine):
    import pytest

    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_event (at, user_login, action, target_type, target_id, details, ip) "
                "VALUES (CURRENT_TIMESTAMP, 'x', 'test.action', '', '', '{}', '')"
            )
        )
    for statement in ("UPDATE audit_event SET action = 'forged'", "DELETE FROM audit_event"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM audit_event")).scalars().all() == ["test.action"]
