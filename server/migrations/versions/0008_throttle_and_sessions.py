"""throttle buckets with growing delays instead of attempt rows; a session epoch per user

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MOMENT = server.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "throttle_bucket",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", MOMENT, nullable=False),
        sa.Column("blocked_until", MOMENT, nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle_bucket")),
    )
    # The attempt rows only ever held the last few minutes: nothing worth carrying over.
    op.drop_index("ix_login_attempt_ip_at", table_name="login_attempt")
    op.drop_index("ix_login_attempt_login_at", table_name="login_attempt")
    op.drop_table("login_attempt")
    op.drop_index("ix_code_attempt_client_at", table_name="code_attempt")
    op.drop_index("ix_code_attempt_ip_at", table_name="code_attempt")
    op.drop_index("ix_code_attempt_school_at", table_name="code_attempt")
    op.drop_table("code_attempt")
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("session_epoch")
    op.create_table(
        "code_attempt",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_attempt")),
    )
    op.create_index("ix_code_attempt_client_at", "code_attempt", ["client", "at"])
    op.create_index("ix_code_attempt_ip_at", "code_attempt", ["ip", "at"])
    op.create_index("ix_code_attempt_school_at", "code_attempt", ["school_id", "at"])
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=200), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempt")),
    )
    op.create_index("ix_login_attempt_ip_at", "login_attempt", ["ip", "at"])
    op.create_index("ix_login_attempt_login_at", "login_attempt", ["login", "at"])
    op.drop_table("throttle_bucket")
