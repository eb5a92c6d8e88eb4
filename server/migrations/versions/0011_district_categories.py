"""district categories: a category's district, a voter-list entry's district, and votes
held for the wrong district (from a device, or pushed by the online platform)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing categories are open to every resident; existing entries name no district.
    with op.batch_alter_table("category") as batch:
        batch.add_column(sa.Column("district", sa.String(length=100), nullable=True))
    with op.batch_alter_table("eligible_voter") as batch:
        batch.add_column(sa.Column("district", sa.String(length=100), nullable=True))
    # A vote the platform pushed has no device and no log entry: the group it waits in
    # is named by its source ("api:<client id>"); a device's votes by the device's code.
    with op.batch_alter_table("held_vote") as batch:
        batch.add_column(sa.Column("source", sa.String(length=64), server_default="", nullable=False))
        batch.alter_column("device_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=True)
    op.execute(
        "UPDATE held_vote SET source = "
        "(SELECT device.code FROM device WHERE device.id = held_vote.device_id) WHERE device_id IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DELETE FROM held_vote WHERE device_id IS NULL")
    with op.batch_alter_table("held_vote") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch.alter_column("device_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("source")
    with op.batch_alter_table("eligible_voter") as batch:
        batch.drop_column("district")
    with op.batch_alter_table("category") as batch:
        batch.drop_column("district")
