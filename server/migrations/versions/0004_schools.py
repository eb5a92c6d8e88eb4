"""schools: schools, their contests, code batches and per-student voting codes

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa
import server.models.base


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MOMENT = server.models.base.UTCDateTime(timezone=True)
INT_LIST = server.models.base.IntList()


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "school",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        _fk("school", "community_id", "community"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school")),
        sa.UniqueConstraint("community_id", "name", name="uq_school_community_name"),
    )
    op.create_index(op.f("ix_school_community_id"), "school", ["community_id"], unique=False)
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("school_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_app_user_school_id_school"), "school", ["school_id"], ["id"]
        )
    op.create_table(
        "school_contest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("programme_cycle_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("grades", INT_LIST, nullable=False),
        sa.Column("created_at", MOMENT, nullable=False),
        _fk("school_contest", "community_id", "community"),
        _fk("school_contest", "school_id", "school"),
        _fk("school_contest", "programme_cycle_id", "cycle"),
        _fk("school_contest", "cycle_id", "cycle"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_contest")),
        sa.UniqueConstraint("school_id", "programme_cycle_id", name="uq_school_contest_school_id"),
        sa.UniqueConstraint("cycle_id", name=op.f("uq_school_contest_cycle_id")),
    )
    op.create_index("ix_school_contest_programme", "school_contest", ["programme_cycle_id"])
    op.create_table(
        "code_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("class_name", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        _fk("code_batch", "community_id", "community"),
        _fk("code_batch", "contest_id", "school_contest"),
        _fk("code_batch", "created_by", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_batch")),
    )
    op.create_index("ix_code_batch_contest", "code_batch", ["contest_id"])
    op.create_table(
        "voting_code",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("class_name", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("verifier", sa.String(length=32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("revoked_at", MOMENT, nullable=True),
        sa.Column("revoked_by", sa.Integer(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=200), nullable=False),
        sa.Column("replaces_id", BIGINT_ID, nullable=True),
        sa.Column("created_at", MOMENT, nullable=False),
        _fk("voting_code", "community_id", "community"),
        _fk("voting_code", "contest_id", "school_contest"),
        _fk("voting_code", "batch_id", "code_batch"),
        _fk("voting_code", "revoked_by", "app_user"),
        _fk("voting_code", "replaces_id", "voting_code"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voting_code")),
        sa.UniqueConstraint("verifier", name=op.f("uq_voting_code_verifier")),
    )
    op.create_index("ix_voting_code_contest_class", "voting_code", ["contest_id", "class_name"])
    op.create_index("ix_voting_code_batch", "voting_code", ["batch_id"])
    op.create_table(
        "code_attempt",
        sa.Column("id", BIGINT_ID, nullable=False),
        sa.Column("at", MOMENT, nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_attempt")),
    )
    op.create_index("ix_code_attempt_client_at", "code_attempt", ["client", "at"])
    op.create_index("ix_code_attempt_ip_at", "code_attempt", ["ip", "at"])
    op.create_index("ix_code_attempt_school_at", "code_attempt", ["school_id", "at"])


def downgrade() -> None:
    op.drop_table("code_attempt")
    op.drop_table("voting_code")
    op.drop_table("code_batch")
    op.drop_table("school_contest")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_constraint(op.f("fk_app_user_school_id_school"), type_="foreignkey")
        batch.drop_column("school_id")
    op.drop_index(op.f("ix_school_community_id"), table_name="school")
    op.drop_table("school")
