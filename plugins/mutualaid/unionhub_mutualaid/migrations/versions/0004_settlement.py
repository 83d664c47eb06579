"""settlement staging and ECBX batches

Revision ID: mutualaid_settlement
Revises: mutualaid_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mutualaid_settlement"
down_revision: str | None = "mutualaid_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mutualaid_settlement_stage",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("visit_type", sa.String(length=16), nullable=False),
        sa.Column("hospital", sa.String(length=200), nullable=False),
        sa.Column("settled_on", sa.Date(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("admitted_on", sa.Date(), nullable=True),
        sa.Column("discharged_on", sa.Date(), nullable=True),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("pooled", sa.BigInteger(), nullable=False),
        sa.Column("large", sa.BigInteger(), nullable=False),
        sa.Column("self_pay_1", sa.BigInteger(), nullable=False),
        sa.Column("self_pay_2", sa.BigInteger(), nullable=False),
        sa.Column("self_funded", sa.BigInteger(), nullable=False),
        sa.Column("diagnosis_codes", sa.String(length=200), nullable=True),
        sa.Column("diagnosis_names", sa.String(length=300), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("existing_id", sa.Integer(), nullable=True),
        sa.Column("existing_on", sa.Date(), nullable=True),
    )
    op.create_table(
        "mutualaid_ecbx_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("plan_year", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("run_no", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("ineligible", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("paid_lines", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("verified_ok", sa.Integer(), nullable=False),
        sa.Column("verified_failed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_mutualaid_ecbx_batch_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["mutualaid_plan.id"],
            name=op.f("fk_mutualaid_ecbx_batch_plan_id_mutualaid_plan"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_ecbx_batch")),
        sa.UniqueConstraint("quarter", "run_no", name="uq_mutualaid_ecbx_batch_run"),
    )
    op.create_table(
        "mutualaid_ecbx_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("plan_year", sa.Integer(), nullable=False),
        sa.Column("basis", sa.BigInteger(), nullable=False),
        sa.Column("deductible_used", sa.BigInteger(), nullable=False),
        sa.Column("entitled", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("payout_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["mutualaid_ecbx_batch.id"],
            name=op.f("fk_mutualaid_ecbx_line_batch_id_mutualaid_ecbx_batch"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_mutualaid_ecbx_line_member_id_member"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"],
            ["mutualaid_payout.id"],
            name=op.f("fk_mutualaid_ecbx_line_payout_id_mutualaid_payout"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_ecbx_line")),
        sa.UniqueConstraint("batch_id", "member_id", name="uq_mutualaid_ecbx_line_member"),
    )
    op.create_index(
        "ix_mutualaid_ecbx_line_member",
        "mutualaid_ecbx_line",
        ["member_id", "quarter"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_mutualaid_ecbx_line_member", table_name="mutualaid_ecbx_line")
    op.drop_table("mutualaid_ecbx_line")
    op.drop_table("mutualaid_ecbx_batch")
    op.drop_table("mutualaid_settlement_stage")
