"""sync: device enrolment, packages, device logs and checkpoints

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa
import server.models.base


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The device logs are the evidence a recount starts from: like the audit log, the
# database itself refuses to change or delete them once written.
APPEND_ONLY = ("device_log_entry", "device_checkpoint")
BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MOMENT = server.models.base.UTCDateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    with op.batch_alter_table("device") as batch:
        batch.add_column(sa.Column("public_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("enrolled_at", MOMENT, nullable=True))
        batch.add_column(
            sa.Column("software", sa.String(length=100), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column("acked_seq", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("acked_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("last_seen_at", MOMENT, nullable=True))
        batch.add_column(sa.Column("clock_offset_ms", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("backlog", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("package_version", sa.Integer(), server_default="0", nullable=False)
        )

    op.create_table(
        "sync_package",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", MOMENT, nullable=False),
        _fk("sync_package", "community_id", "community"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_package")),
        sa.UniqueConstraint(
            "community_id", "version", name="uq_sync_package_community_version"
        ),
    )
    op.create_table(
        "device_enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("expires_at", MOMENT, nullable=False),
        sa.Column("used_at", MOMENT, nullable=True),
        sa.Column("public_key", sa.String(length=64), nullable=True),
        sa.Column("software", sa.String(length=100), nullable=False),
        _fk("device_enrolment", "community_id", "community"),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["app_user.id"],
            name=op.f("fk_device_enrolment_created_by_app_user"),
        ),
        _fk("device_enrolment", "device_id", "device"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_enrolment")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_device_enrolment_code_hash")),
    )
    op.create_index(
        op.f("ix_device_enrolment_device_id"),
        "device_enrolment",
        ["device_id"],
        unique=False,
    )
    op.create_table(
        "device_log_entry",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("package_version", sa.Integer(), nullable=False),
        sa.Column("clock_offset_ms", sa.BigInteger(), nullable=False),
        sa.Column("vote_id", sa.String(length=36), nullable=True),
        sa.Column("received_at", MOMENT, nullable=False),
        _fk("device_log_entry", "community_id", "community"),
        _fk("device_log_entry", "device_id", "device"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_log_entry")),
        sa.UniqueConstraint("device_id", "seq", name="uq_device_log_entry_device_seq"),
    )
    op.create_index(
        "ix_device_log_entry_vote_id", "device_log_entry", ["vote_id"], unique=False
    )
    op.create_table(
        "device_checkpoint",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("received_at", MOMENT, nullable=False),
        _fk("device_checkpoint", "community_id", "community"),
        _fk("device_checkpoint", "device_id", "device"),
        _fk("device_checkpoint", "enrolment_id", "device_enrolment"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_checkpoint")),
        sa.UniqueConstraint("device_id", "seq", name="uq_device_checkpoint_device_seq"),
    )
    op.create_table(
        "sync_pending_batch",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("checkpoint_hash", sa.String(length=64), nullable=False),
        sa.Column("batch", sa.JSON(), nullable=False),
        sa.Column("received_at", MOMENT, nullable=False),
        _fk("sync_pending_batch", "community_id", "community"),
        _fk("sync_pending_batch", "device_id", "device"),
        _fk("sync_pending_batch", "enrolment_id", "device_enrolment"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_pending_batch")),
        sa.UniqueConstraint(
            "device_id",
            "first_seq",
            "last_seq",
            "checkpoint_hash",
            name="uq_sync_pending_batch_range",
        ),
    )
    op.create_index(
        op.f("ix_sync_pending_batch_device_id"),
        "sync_pending_batch",
        ["device_id"],
        unique=False,
    )
    _make_device_logs_append_only()


def _make_device_logs_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION device_log_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION device_log_append_only()"
            )
    else:
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
        op.execute("DROP FUNCTION IF EXISTS device_log_append_only()")
    op.drop_index(op.f("ix_sync_pending_batch_device_id"), table_name="sync_pending_batch")
    op.drop_table("sync_pending_batch")
    op.drop_table("device_checkpoint")
    op.drop_index("ix_device_log_entry_vote_id", table_name="device_log_entry")
    op.drop_table("device_log_entry")
    op.drop_index(op.f("ix_device_enrolment_device_id"), table_name="device_enrolment")
    op.drop_table("device_enrolment")
    op.drop_table("sync_package")
    with op.batch_alter_table("device") as batch:
        for column in (
            "package_version",
            "backlog",
            "clock_offset_ms",
            "last_seen_at",
            "acked_hash",
            "acked_seq",
            "software",
            "enrolled_at",
            "public_key",
        ):
            batch.drop_column(column)
