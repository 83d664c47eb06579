"""working-day calendar: admin overrides and per-year completeness

Revision ID: 0007_workdays
Revises: 0004_imports
Create Date: 2026-11-28

A branch of its own (``unionhub db upgrade`` goes to all heads). Tables match
``unionhub.workdays.models``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import unionhub.db

revision: str = "0007_workdays"
down_revision: str | None = "0004_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workday_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('holiday', 'workday')",
                           name=op.f("ck_workday_override_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workday_override")),
        sa.UniqueConstraint("day", name=op.f("uq_workday_override_day")),
    )
    op.create_table(
        "workday_year",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("updated_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_workday_year")),
    )


def downgrade() -> None:
    op.drop_table("workday_year")
    op.drop_table("workday_override")
