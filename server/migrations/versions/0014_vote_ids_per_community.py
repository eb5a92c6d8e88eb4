"""vote ids per community: a vote is named by (community, id), not by its id alone

A vote's id is made where it was cast (a terminal, the online platform's client), so
another community's client or device chooses ids too. With one global key, community
B's client sending an id A had used got a conflict (and B's alarm showed A's vote hash):
one community could learn of, and block, another's votes. The key is now (community_id,
id); held votes and committed paper sheets name their vote the same way.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vote", recreate="auto") as batch:
        batch.drop_constraint("pk_vote", type_="primary")
        batch.create_primary_key("pk_vote", ["community_id", "id"])
    with op.batch_alter_table("held_vote") as batch:
        batch.drop_constraint("uq_held_vote_vote_id", type_="unique")
        batch.create_unique_constraint("uq_held_vote_community_vote", ["community_id", "vote_id"])
    with op.batch_alter_table("paper_scan_sheet") as batch:
        batch.drop_constraint("uq_paper_scan_sheet_vote_id", type_="unique")
        batch.create_unique_constraint("uq_paper_scan_sheet_community_vote", ["community_id", "vote_id"])


def downgrade() -> None:
    # Fails, as it must, once two communities hold the same vote id.
    with op.batch_alter_table("paper_scan_sheet") as batch:
        batch.drop_constraint("uq_paper_scan_sheet_community_vote", type_="unique")
        batch.create_unique_constraint("uq_paper_scan_sheet_vote_id", ["vote_id"])
    with op.batch_alter_table("held_vote") as batch:
        batch.drop_constraint("uq_held_vote_community_vote", type_="unique")
        batch.create_unique_constraint("uq_held_vote_vote_id", ["vote_id"])
    with op.batch_alter_table("vote", recreate="auto") as batch:
        batch.drop_constraint("pk_vote", type_="primary")
        batch.create_primary_key("pk_vote", ["id"])
