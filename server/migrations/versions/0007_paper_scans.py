"""paper scans: ballot sheets read on the server, their crops, states and append-only decisions

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MOMENT = server.models.base.UTCDateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "paper_scan_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("page_index", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=255), nullable=False),
        sa.Column("read_at", MOMENT, nullable=False),
        sa.Column("serial", sa.String(length=24), nullable=True),
        sa.Column("page_no", sa.Integer(), nullable=True),
        sa.Column("pages_total", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("boxes", sa.JSON(), nullable=False),
        sa.Column("preview", sa.LargeBinary(), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        _fk("paper_scan_page", "community_id", "community"),
        _fk("paper_scan_page", "cycle_id", "cycle"),
        _fk("paper_scan_page", "device_id", "device"),
        _fk("paper_scan_page", "uploaded_by", "app_user"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_scan_page")),
        sa.UniqueConstraint("cycle_id", "image_sha256", "page_index", name="uq_paper_scan_page_image"),
    )
    op.create_index(op.f("ix_paper_scan_page_community_id"), "paper_scan_page", ["community_id"])
    op.create_index("ix_paper_scan_page_sheet", "paper_scan_page", ["cycle_id", "serial", "page_no"])
    op.create_table(
        "paper_scan_crop",
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        _fk("paper_scan_crop", "page_id", "paper_scan_page"),
        _fk("paper_scan_crop", "community_id", "community"),
        sa.PrimaryKeyConstraint("page_id", "project_id", name=op.f("pk_paper_scan_crop")),
    )
    op.create_table(
        "paper_scan_sheet",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=24), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("pages_total", sa.Integer(), nullable=False),
        sa.Column("first_seen", MOMENT, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("selections", sa.JSON(), nullable=False),
        sa.Column("ready_at", MOMENT, nullable=True),
        sa.Column("vote_id", sa.String(length=36), nullable=True),
        sa.Column("committed_at", MOMENT, nullable=True),
        _fk("paper_scan_sheet", "cycle_id", "cycle"),
        _fk("paper_scan_sheet", "community_id", "community"),
        _fk("paper_scan_sheet", "device_id", "device"),
        sa.CheckConstraint(
            "state IN ('review', 'ready', 'spoiled', 'committed')",
            name=op.f("ck_paper_scan_sheet_state_known"),
        ),
        sa.PrimaryKeyConstraint("cycle_id", "serial", name=op.f("pk_paper_scan_sheet")),
        sa.UniqueConstraint("vote_id", name=op.f("uq_paper_scan_sheet_vote_id")),
    )
    op.create_index(op.f("ix_paper_scan_sheet_community_id"), "paper_scan_sheet", ["community_id"])
    op.create_index("ix_paper_scan_sheet_state", "paper_scan_sheet", ["cycle_id", "state", "first_seen"])
    op.create_table(
        "paper_scan_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=24), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("page_no", sa.Integer(), nullable=True),
        sa.Column("project_id", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("operator", sa.String(length=80), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", MOMENT, nullable=False),
        sa.Column("replaces", sa.Integer(), nullable=True),
        _fk("paper_scan_decision", "community_id", "community"),
        _fk("paper_scan_decision", "page_id", "paper_scan_page"),
        _fk("paper_scan_decision", "user_id", "app_user"),
        _fk("paper_scan_decision", "replaces", "paper_scan_decision"),
        sa.ForeignKeyConstraint(
            ["cycle_id", "serial"],
            ["paper_scan_sheet.cycle_id", "paper_scan_sheet.serial"],
            name="fk_paper_scan_decision_sheet",
        ),
        sa.CheckConstraint(
            "kind IN ('box', 'page', 'spoil', 'restore')", name=op.f("ck_paper_scan_decision_kind_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_scan_decision")),
    )
    op.create_index("ix_paper_scan_decision_sheet", "paper_scan_decision", ["cycle_id", "serial", "id"])
    # A person's decision is a record: the latest stands, none is ever rewritten.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION paper_scan_decision_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'paper_scan_decision is append-only';
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        op.execute(
            "CREATE TRIGGER paper_scan_decision_no_change BEFORE UPDATE OR DELETE ON paper_scan_decision "
            "FOR EACH ROW EXECUTE FUNCTION paper_scan_decision_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER paper_scan_decision_no_{verb.lower()} BEFORE {verb} ON paper_scan_decision "
                "BEGIN SELECT RAISE(ABORT, 'paper_scan_decision is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS paper_scan_decision_no_change ON paper_scan_decision")
        op.execute("DROP FUNCTION IF EXISTS paper_scan_decision_append_only()")
    op.drop_index("ix_paper_scan_decision_sheet", table_name="paper_scan_decision")
    op.drop_table("paper_scan_decision")
    op.drop_index("ix_paper_scan_sheet_state", table_name="paper_scan_sheet")
    op.drop_index(op.f("ix_paper_scan_sheet_community_id"), table_name="paper_scan_sheet")
    op.drop_table("paper_scan_sheet")
    op.drop_table("paper_scan_crop")
    op.drop_index("ix_paper_scan_page_sheet", table_name="paper_scan_page")
    op.drop_index(op.f("ix_paper_scan_page_community_id"), table_name="paper_scan_page")
    op.drop_table("paper_scan_page")
