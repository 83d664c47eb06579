"""mutual aid: plans, coverage, fee statements, claims, ledger, payouts, settlements

Revision ID: mutualaid_0001
Revises: None
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mutualaid_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mutualaid_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=8), nullable=False),
        sa.Column("plan_year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("allowance_days", sa.Integer(), nullable=False),
        sa.Column("deductible_used", sa.BigInteger(), nullable=False),
        sa.Column("stays", sa.JSON(), nullable=False),
        sa.Column("diseases", sa.JSON(), nullable=False),
        sa.Column("cover_ended", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_mutualaid_ledger_member_id_member"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_ledger")),
        sa.UniqueConstraint(
            "member_id", "program", "plan_year", name="uq_mutualaid_ledger_member_program_year"
        ),
    )
    op.create_table(
        "mutualaid_payout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("summary", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failure", sa.String(length=200), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("paid_first_batch", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_mutualaid_payout_member_id_member"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_payout")),
        sa.UniqueConstraint("source", "source_id", name="uq_mutualaid_payout_source"),
    )
    op.create_index(
        op.f("ix_mutualaid_payout_member_id"), "mutualaid_payout", ["member_id"], unique=False
    )
    op.create_index(
        op.f("ix_mutualaid_payout_org_path"), "mutualaid_payout", ["org_path"], unique=False
    )
    op.create_index("ix_mutualaid_payout_status", "mutualaid_payout", ["status"], unique=False)
    op.create_table(
        "mutualaid_settlement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
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
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_mutualaid_settlement_member_id_member"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_settlement")),
        sa.UniqueConstraint("serial", name=op.f("uq_mutualaid_settlement_serial")),
    )
    op.create_index(
        "ix_mutualaid_settlement_member",
        "mutualaid_settlement",
        ["member_id", "settled_on"],
        unique=False,
    )
    op.create_index(
        "ix_mutualaid_settlement_quarter",
        "mutualaid_settlement",
        ["quarter", "member_id"],
        unique=False,
    )
    op.create_table(
        "mutualaid_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=8), nullable=False),
        sa.Column("plan_year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("term_start", sa.Date(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        sa.Column("funding", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_mutualaid_plan_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_plan")),
        sa.UniqueConstraint("program", "plan_year", "version", name="uq_mutualaid_plan_version"),
    )
    op.create_index(op.f("ix_mutualaid_plan_program"), "mutualaid_plan", ["program"], unique=False)
    op.create_table(
        "mutualaid_fee_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_org_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=8), nullable=False),
        sa.Column("plan_year", sa.Integer(), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("amount_due", sa.BigInteger(), nullable=False),
        sa.Column("amount_paid", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("payment_ref", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["mutualaid_plan.id"],
            name=op.f("fk_mutualaid_fee_statement_plan_id_mutualaid_plan"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"],
            ["account.id"],
            name=op.f("fk_mutualaid_fee_statement_recorded_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_org_id"],
            ["org.id"],
            name=op.f("fk_mutualaid_fee_statement_unit_org_id_org"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_fee_statement")),
        sa.UniqueConstraint(
            "unit_org_id", "program", "plan_year", name="uq_mutualaid_fee_statement_unit"
        ),
    )
    op.create_table(
        "mutualaid_coverage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=8), nullable=False),
        sa.Column("plan_year", sa.Integer(), nullable=False),
        sa.Column("unit_org_id", sa.Integer(), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("first_enrolled", sa.Date(), nullable=True),
        sa.Column("waiting_until", sa.Date(), nullable=True),
        sa.Column("fee", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("fee_statement_id", sa.Integer(), nullable=True),
        sa.Column("enrolled_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolled_by"],
            ["account.id"],
            name=op.f("fk_mutualaid_coverage_enrolled_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["fee_statement_id"],
            ["mutualaid_fee_statement.id"],
            name=op.f("fk_mutualaid_coverage_fee_statement_id_mutualaid_fee_statement"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_mutualaid_coverage_member_id_member"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["mutualaid_plan.id"],
            name=op.f("fk_mutualaid_coverage_plan_id_mutualaid_plan"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unit_org_id"],
            ["org.id"],
            name=op.f("fk_mutualaid_coverage_unit_org_id_org"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_coverage")),
        sa.UniqueConstraint(
            "member_id", "program", "plan_year", name="uq_mutualaid_coverage_member_program_year"
        ),
    )
    op.create_index(
        op.f("ix_mutualaid_coverage_fee_statement_id"),
        "mutualaid_coverage",
        ["fee_statement_id"],
        unique=False,
    )
    op.create_index(
        "ix_mutualaid_coverage_unit",
        "mutualaid_coverage",
        ["unit_org_id", "program", "plan_year"],
        unique=False,
    )
    op.create_table(
        "mutualaid_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=8), nullable=False),
        sa.Column("plan_year", sa.Integer(), nullable=False),
        sa.Column("coverage_id", sa.Integer(), nullable=True),
        sa.Column("benefit", sa.String(length=32), nullable=True),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("event_end", sa.Date(), nullable=True),
        sa.Column("stays", sa.JSON(), nullable=False),
        sa.Column("hospital", sa.String(length=200), nullable=True),
        sa.Column("total_amount", sa.BigInteger(), nullable=True),
        sa.Column("out_of_pocket", sa.BigInteger(), nullable=True),
        sa.Column("already_reimbursed", sa.BigInteger(), nullable=False),
        sa.Column("diagnoses", sa.JSON(), nullable=False),
        sa.Column("diagnosis_text", sa.String(length=200), nullable=True),
        sa.Column("disability_grade", sa.Integer(), nullable=True),
        sa.Column("child_name", sa.String(length=100), nullable=True),
        sa.Column("child_birth_date", sa.Date(), nullable=True),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("settlement_serial", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("complete_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("reason_code", sa.String(length=32), nullable=True),
        sa.Column("review_note", sa.String(length=1000), nullable=True),
        sa.Column("submitted_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["coverage_id"],
            ["mutualaid_coverage.id"],
            name=op.f("fk_mutualaid_claim_coverage_id_mutualaid_coverage"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_mutualaid_claim_member_id_member"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["mutualaid_plan.id"],
            name=op.f("fk_mutualaid_claim_plan_id_mutualaid_plan"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["account.id"],
            name=op.f("fk_mutualaid_claim_reviewed_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"],
            ["account.id"],
            name=op.f("fk_mutualaid_claim_submitted_by_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_claim")),
        sa.UniqueConstraint("number", name=op.f("uq_mutualaid_claim_number")),
        sa.UniqueConstraint("settlement_serial", name=op.f("uq_mutualaid_claim_settlement_serial")),
    )
    op.create_index(
        "ix_mutualaid_claim_member",
        "mutualaid_claim",
        ["member_id", "program", "plan_year"],
        unique=False,
    )
    op.create_index(
        op.f("ix_mutualaid_claim_org_path"), "mutualaid_claim", ["org_path"], unique=False
    )
    op.create_index(
        op.f("ix_mutualaid_claim_plan_id"), "mutualaid_claim", ["plan_id"], unique=False
    )
    op.create_index(
        "ix_mutualaid_claim_status", "mutualaid_claim", ["status", "due_on"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_mutualaid_claim_status", table_name="mutualaid_claim")
    op.drop_index(op.f("ix_mutualaid_claim_plan_id"), table_name="mutualaid_claim")
    op.drop_index(op.f("ix_mutualaid_claim_org_path"), table_name="mutualaid_claim")
    op.drop_index("ix_mutualaid_claim_member", table_name="mutualaid_claim")
    op.drop_table("mutualaid_claim")
    op.drop_index("ix_mutualaid_coverage_unit", table_name="mutualaid_coverage")
    op.drop_index(op.f("ix_mutualaid_coverage_fee_statement_id"), table_name="mutualaid_coverage")
    op.drop_table("mutualaid_coverage")
    op.drop_table("mutualaid_fee_statement")
    op.drop_index(op.f("ix_mutualaid_plan_program"), table_name="mutualaid_plan")
    op.drop_table("mutualaid_plan")
    op.drop_index("ix_mutualaid_settlement_quarter", table_name="mutualaid_settlement")
    op.drop_index("ix_mutualaid_settlement_member", table_name="mutualaid_settlement")
    op.drop_table("mutualaid_settlement")
    op.drop_index("ix_mutualaid_payout_status", table_name="mutualaid_payout")
    op.drop_index(op.f("ix_mutualaid_payout_org_path"), table_name="mutualaid_payout")
    op.drop_index(op.f("ix_mutualaid_payout_member_id"), table_name="mutualaid_payout")
    op.drop_table("mutualaid_payout")
    op.drop_table("mutualaid_ledger")
