"""Index votes by arrival within a cycle, for the voters increments sent to terminals.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_vote_cycle_received", "vote", ["cycle_id", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_vote_cycle_received", table_name="vote")
