"""eligibility: the community's list of eligible voter keys, a cycle's minimum age, and
the newest request counter heard from each device

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MOMENT = server.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column("cycle", sa.Column("min_age", sa.Integer(), nullable=True))
    op.add_column("device", sa.Column("request_counter", sa.BigInteger(), nullable=True))
    op.create_table(
        "eligibility_list",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("listed_count", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", MOMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_eligibility_list_community_id_community")
        ),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_eligibility_list")),
    )
    op.create_table(
        "eligible_voter",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("voter_key", sa.String(length=64), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_eligible_voter_community_id_community")
        ),
        sa.PrimaryKeyConstraint("community_id", "voter_key", name=op.f("pk_eligible_voter")),
    )
    op.create_index(
        "ix_eligible_voter_seq", "eligible_voter", ["community_id", "seq", "voter_key"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_eligible_voter_seq", table_name="eligible_voter")
    op.drop_table("eligible_voter")
    op.drop_table("eligibility_list")
    op.drop_column("cycle", "min_age")
    op.drop_column("device", "request_counter")
