"""receipt codes of poll answers: «Перевірити свій голос» finds a poll answer a terminal's
receipt names without scanning every answer (PostgreSQL)

The same expression index as migration 0012's over vote ids, over poll answer ids: a
receipt code is the first 40 bits of sha256(id) (qr_codes.receipt_codes), and the page
(server.services.receipt_check) queries exactly this expression. Nothing new is stored,
so every answer already received is found too. SQLite (the demo) has no sha256.

Revision ID: 0020
Revises: 0019
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX ix_poll_answer_receipt ON poll_answer (substr(sha256(decode(id, 'escape')), 1, 5))"
    )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_poll_answer_receipt")
