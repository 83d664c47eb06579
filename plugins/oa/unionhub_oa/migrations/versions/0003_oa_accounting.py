"""oa: the automatic accounting (snapshots and their rows per org, level and item)

Revision ID: 0003_oa_accounting
Revises: 0001_oa
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import unionhub.db
import unionhub.money

revision: str = "0003_oa_accounting"
down_revision: str | None = "0001_oa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oa_accounting_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_year", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_oa_accounting_snapshot_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oa_accounting_snapshot")),
    )
    with op.batch_alter_table("oa_accounting_snapshot", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oa_accounting_snapshot_plan_year"), ["plan_year"], unique=False
        )

    op.create_table(
        "oa_accounting_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("item_label", sa.String(length=100), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("due", unionhub.money.Fen(), nullable=False),
        sa.Column("billed", unionhub.money.Fen(), nullable=False),
        sa.Column("received", unionhub.money.Fen(), nullable=False),
        sa.Column("direct", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["org.id"],
            name=op.f("fk_oa_accounting_row_org_id_org"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["oa_accounting_snapshot.id"],
            name=op.f("fk_oa_accounting_row_snapshot_id_oa_accounting_snapshot"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oa_accounting_row")),
    )
    with op.batch_alter_table("oa_accounting_row", schema=None) as batch_op:
        batch_op.create_index(
            "ix_oa_accounting_row_level", ["snapshot_id", "level", "org_path"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("oa_accounting_row", schema=None) as batch_op:
        batch_op.drop_index("ix_oa_accounting_row_level")

    op.drop_table("oa_accounting_row")
    with op.batch_alter_table("oa_accounting_snapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oa_accounting_snapshot_plan_year"))

    op.drop_table("oa_accounting_snapshot")
