"""project details: an address, a budget breakdown and photos, for residents to decide with

Projects get an address and a budget breakdown (lines of item and amount in kopiykas,
summing to the cost); photos are kept as the JPEGs the server made from the uploads,
named by their SHA-256 so packages and terminals can refer to them.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("project") as batch:
        batch.add_column(sa.Column("address", sa.String(length=300), server_default="", nullable=False))
        batch.add_column(sa.Column("budget_lines", sa.JSON(), server_default="[]", nullable=False))
    op.create_table(
        "project_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("alt_uk", sa.String(length=300), nullable=False),
        sa.Column("alt_en", sa.String(length=300), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name="fk_project_photo_community_id_community"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name="fk_project_photo_project_id_project", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_project_photo"),
        sa.UniqueConstraint("project_id", "sha256", name="uq_project_photo_project_sha256"),
    )
    op.create_index("ix_project_photo_project", "project_photo", ["project_id", "position"])


def downgrade() -> None:
    op.drop_index("ix_project_photo_project", table_name="project_photo")
    op.drop_table("project_photo")
    with op.batch_alter_table("project") as batch:
        batch.drop_column("budget_lines")
        batch.drop_column("address")
