"""screening flags and visits

Revision ID: mutualaid_screening
Revises: mutualaid_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mutualaid_screening"
down_revision: str | None = "mutualaid_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mutualaid_screening_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("disease_code", sa.String(length=64), nullable=False),
        sa.Column("disease_name", sa.String(length=100), nullable=False),
        sa.Column("catalogue_version", sa.String(length=40), nullable=False),
        sa.Column("diagnosis_code", sa.String(length=40), nullable=False),
        sa.Column("first_settlement_id", sa.Integer(), nullable=True),
        sa.Column("first_settled_on", sa.Date(), nullable=False),
        sa.Column("hospital", sa.String(length=200), nullable=True),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["closed_by"],
            ["account.id"],
            name=op.f("fk_mutualaid_screening_flag_closed_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["first_settlement_id"],
            ["mutualaid_settlement.id"],
            name=op.f("fk_mutualaid_screening_flag_first_settlement_id_mutualaid_settlement"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_mutualaid_screening_flag_member_id_member"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_screening_flag")),
        sa.UniqueConstraint(
            "member_id", "disease_code", name="uq_mutualaid_screening_flag_disease"
        ),
    )
    op.create_index(
        "ix_mutualaid_screening_flag_scope",
        "mutualaid_screening_flag",
        ["org_path", "status"],
        unique=False,
    )
    op.create_table(
        "mutualaid_screening_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("visitor", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("aid_amount", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "aid_amount >= 0", name=op.f("ck_mutualaid_screening_visit_aid_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["flag_id"],
            ["mutualaid_screening_flag.id"],
            name=op.f("fk_mutualaid_screening_visit_flag_id_mutualaid_screening_flag"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["visitor"],
            ["account.id"],
            name=op.f("fk_mutualaid_screening_visit_visitor_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_screening_visit")),
    )
    op.create_index(
        op.f("ix_mutualaid_screening_visit_flag_id"),
        "mutualaid_screening_visit",
        ["flag_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_mutualaid_screening_visit_flag_id"), table_name="mutualaid_screening_visit"
    )
    op.drop_table("mutualaid_screening_visit")
    op.drop_index("ix_mutualaid_screening_flag_scope", table_name="mutualaid_screening_flag")
    op.drop_table("mutualaid_screening_flag")
