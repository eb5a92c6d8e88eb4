"""votes held for a moderator: late votes for published results, a revoked device's votes

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

MOMENT = server.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "held_vote",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("vote_id", sa.String(length=36), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("cast_at", MOMENT, nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("held_at", MOMENT, nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_at", MOMENT, nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_held_vote_community_id_community")
        ),
        sa.ForeignKeyConstraint(["cycle_id"], ["cycle.id"], name=op.f("fk_held_vote_cycle_id_cycle")),
        sa.ForeignKeyConstraint(["device_id"], ["device.id"], name=op.f("fk_held_vote_device_id_device")),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["app_user.id"], name=op.f("fk_held_vote_decided_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_vote")),
        sa.UniqueConstraint("vote_id", name="uq_held_vote_vote_id"),
    )
    op.create_index("ix_held_vote_open", "held_vote", ["community_id", "decision"])


def downgrade() -> None:
    op.drop_index("ix_held_vote_open", table_name="held_vote")
    op.drop_table("held_vote")
