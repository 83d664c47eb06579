"""payout batches, lines, return files, payee checks

Revision ID: mutualaid_payouts
Revises: mutualaid_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mutualaid_payouts"
down_revision: str | None = "mutualaid_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mutualaid_payee_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payout_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["checked_by"],
            ["account.id"],
            name=op.f("fk_mutualaid_payee_check_checked_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"],
            ["mutualaid_payout.id"],
            name=op.f("fk_mutualaid_payee_check_payout_id_mutualaid_payout"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_payee_check")),
    )
    op.create_index(
        "ix_mutualaid_payee_check_path",
        "mutualaid_payee_check",
        ["org_path", "checked_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_mutualaid_payee_check_payout_id"),
        "mutualaid_payee_check",
        ["payout_id"],
        unique=False,
    )
    op.create_table(
        "mutualaid_payout_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_no", sa.String(length=32), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("program", sa.String(length=8), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_mutualaid_payout_batch_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_payout_batch")),
        sa.UniqueConstraint("batch_no", name=op.f("uq_mutualaid_payout_batch_batch_no")),
    )
    op.create_index(
        op.f("ix_mutualaid_payout_batch_org_path"),
        "mutualaid_payout_batch",
        ["org_path"],
        unique=False,
    )
    op.create_table(
        "mutualaid_payout_return",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("paid", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("unknown", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["imported_by"],
            ["account.id"],
            name=op.f("fk_mutualaid_payout_return_imported_by_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_payout_return")),
    )
    op.create_index(
        op.f("ix_mutualaid_payout_return_org_path"),
        "mutualaid_payout_return",
        ["org_path"],
        unique=False,
    )
    op.create_index(
        op.f("ix_mutualaid_payout_return_sha256"),
        "mutualaid_payout_return",
        ["sha256"],
        unique=False,
    )
    op.create_table(
        "mutualaid_payout_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("payout_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("summary", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("bank_serial", sa.String(length=64), nullable=True),
        sa.Column("failure", sa.String(length=200), nullable=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["mutualaid_payout_batch.id"],
            name=op.f("fk_mutualaid_payout_line_batch_id_mutualaid_payout_batch"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["jingka_card.id"],
            name=op.f("fk_mutualaid_payout_line_card_id_jingka_card"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_mutualaid_payout_line_member_id_member"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"],
            ["mutualaid_payout.id"],
            name=op.f("fk_mutualaid_payout_line_payout_id_mutualaid_payout"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_payout_line")),
        sa.UniqueConstraint("batch_id", "payout_id", name="uq_mutualaid_payout_line_payout"),
        sa.UniqueConstraint("batch_id", "seq", name="uq_mutualaid_payout_line_seq"),
        sa.UniqueConstraint("reference", name=op.f("uq_mutualaid_payout_line_reference")),
    )
    op.create_index(
        "ix_mutualaid_payout_line_payout", "mutualaid_payout_line", ["payout_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_mutualaid_payout_line_payout", table_name="mutualaid_payout_line")
    op.drop_table("mutualaid_payout_line")
    op.drop_index(op.f("ix_mutualaid_payout_return_sha256"), table_name="mutualaid_payout_return")
    op.drop_index(op.f("ix_mutualaid_payout_return_org_path"), table_name="mutualaid_payout_return")
    op.drop_table("mutualaid_payout_return")
    op.drop_index(op.f("ix_mutualaid_payout_batch_org_path"), table_name="mutualaid_payout_batch")
    op.drop_table("mutualaid_payout_batch")
    op.drop_index(op.f("ix_mutualaid_payee_check_payout_id"), table_name="mutualaid_payee_check")
    op.drop_index("ix_mutualaid_payee_check_path", table_name="mutualaid_payee_check")
    op.drop_table("mutualaid_payee_check")
