"""funding rules per category: method, tie-break and its lot seed, a share threshold,
a least project cost, where the leftover goes, groups of mutually exclusive projects,
and Equal Shares' completion step

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing categories keep today's rule: greedy, the cheaper project wins a tie.
    with op.batch_alter_table("category") as batch:
        batch.add_column(
            sa.Column("funding_method", sa.String(length=32), server_default="greedy", nullable=False)
        )
        batch.add_column(sa.Column("tie_break", sa.String(length=16), server_default="cheaper", nullable=False))
        batch.add_column(sa.Column("lot_seed", sa.String(length=64), server_default="", nullable=False))
        batch.add_column(sa.Column("min_votes_share", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("min_project_cost", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("leftover_to_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("exclusive_groups", sa.Text(), server_default="", nullable=False))
        batch.add_column(sa.Column("completion_step", sa.Integer(), server_default="100", nullable=False))
        batch.create_foreign_key(
            op.f("fk_category_leftover_to_id_category"),
            "category",
            ["leftover_to_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("category") as batch:
        batch.drop_constraint(op.f("fk_category_leftover_to_id_category"), type_="foreignkey")
        for column in (
            "completion_step",
            "exclusive_groups",
            "leftover_to_id",
            "min_project_cost",
            "min_votes_share",
            "lot_seed",
            "tie_break",
            "funding_method",
        ):
            batch.drop_column(column)
