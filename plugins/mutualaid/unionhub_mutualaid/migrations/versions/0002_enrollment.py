"""enrollment import staging

Revision ID: mutualaid_enrollment
Revises: mutualaid_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mutualaid_enrollment"
down_revision: str | None = "mutualaid_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mutualaid_enroll_stage",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=True),
        sa.Column("card_hash", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("program", sa.String(length=8), nullable=False),
        sa.Column("shares", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("fee_fen", sa.BigInteger(), nullable=True),
        sa.Column("first_enrolled", sa.Date(), nullable=True),
        sa.Column("waiting_until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("import_id", "line", name=op.f("pk_mutualaid_enroll_stage")),
    )


def downgrade() -> None:
    op.drop_table("mutualaid_enroll_stage")
