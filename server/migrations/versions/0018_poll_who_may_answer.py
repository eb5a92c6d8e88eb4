"""poll: who may answer: a minimum age, the community's voter list, a district

A poll's answers may be limited as a budget vote's are (docs/polls.md, "Who may
answer"). Existing polls keep taking answers from anyone: no age, no list, no district.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("poll") as batch:
        batch.add_column(sa.Column("min_age", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("voter_list", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("district", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("poll") as batch:
        batch.drop_column("district")
        batch.drop_column("voter_list")
        batch.drop_column("min_age")
