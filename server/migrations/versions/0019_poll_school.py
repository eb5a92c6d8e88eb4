"""poll: a poll may belong to a school, answered only with its students' codes

A school's poll (docs/polls.md, "School polls") is answered on the students' pages with
the codes of that school's contests; it never travels to devices nor takes answers from
the online platform. Existing polls stay the community's: no school.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("poll") as batch:
        batch.add_column(sa.Column("school_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_poll_school_id_school"), "school", ["school_id"], ["id"])
        batch.create_index(op.f("ix_poll_school_id"), ["school_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("poll") as batch:
        batch.drop_index(op.f("ix_poll_school_id"))
        batch.drop_constraint(op.f("fk_poll_school_id_school"), type_="foreignkey")
        batch.drop_column("school_id")
