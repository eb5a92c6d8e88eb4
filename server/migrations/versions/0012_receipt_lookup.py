"""receipt codes: find the vote a receipt names without scanning every vote (PostgreSQL)

A receipt code is the first 40 bits of sha256(vote id) (qr_codes.receipt_codes). These
expression indexes let the "check your vote" page (server.services.receipt_check) find a
vote, or a held vote, by those five bytes; nothing new is stored, so every vote already
received is found too. The expression is written exactly as the page queries it.
decode(id, 'escape') is the id's ASCII bytes (vote ids are canonical UUIDs, with no
backslash); unlike convert_to it is immutable, as an index expression must be.
SQLite (the demo) has no sha256: the page computes it there, over the demo's few votes.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_vote_receipt": ("vote", "id"),
}


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for name, (table, column) in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {table} (substr(sha256(decode({column}, 'escape')), 1, 5))")


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
