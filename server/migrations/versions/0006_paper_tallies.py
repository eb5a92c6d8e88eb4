"""paper tallies: support points' hand-counted tally sheets and their lines per project

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MOMENT = server.models.base.UTCDateTime(timezone=True)
CURRENT = sa.text("replaced_at IS NULL")


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "paper_tally",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("ballots_issued", sa.Integer(), nullable=True),
        sa.Column("ballots_cast", sa.Integer(), nullable=False),
        sa.Column("ballots_spoiled", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("entered_by", sa.Integer(), nullable=True),
        sa.Column("entered_at", MOMENT, nullable=False),
        sa.Column("replaced_at", MOMENT, nullable=True),
        _fk("paper_tally", "community_id", "community"),
        _fk("paper_tally", "cycle_id", "cycle"),
        _fk("paper_tally", "device_id", "device"),
        _fk("paper_tally", "entered_by", "app_user"),
        sa.CheckConstraint(
            "ballots_cast >= 0 AND ballots_spoiled >= 0", name=op.f("ck_paper_tally_ballots_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_tally")),
    )
    op.create_index(op.f("ix_paper_tally_community_id"), "paper_tally", ["community_id"])
    op.create_index("ix_paper_tally_cycle", "paper_tally", ["cycle_id"])
    op.create_index(
        "uq_paper_tally_current",
        "paper_tally",
        ["cycle_id", "device_id"],
        unique=True,
        postgresql_where=CURRENT,
        sqlite_where=CURRENT,
    )
    op.create_table(
        "paper_tally_line",
        sa.Column("tally_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        _fk("paper_tally_line", "tally_id", "paper_tally"),
        _fk("paper_tally_line", "project_id", "project"),
        _fk("paper_tally_line", "community_id", "community"),
        sa.CheckConstraint("votes >= 0", name=op.f("ck_paper_tally_line_votes_not_negative")),
        sa.PrimaryKeyConstraint("tally_id", "project_id", name=op.f("pk_paper_tally_line")),
    )


def downgrade() -> None:
    op.drop_table("paper_tally_line")
    op.drop_index("uq_paper_tally_current", table_name="paper_tally")
    op.drop_index("ix_paper_tally_cycle", table_name="paper_tally")
    op.drop_index(op.f("ix_paper_tally_community_id"), table_name="paper_tally")
    op.drop_table("paper_tally")
