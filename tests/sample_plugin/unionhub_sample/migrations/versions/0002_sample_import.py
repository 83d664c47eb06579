"""sample_import_stage

Revision ID: sample_0002
Revises: sample_0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sample_0002"
down_revision: str | None = "sample_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sample_import_stage",
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("import_id", "line", name=op.f("pk_sample_import_stage")),
    )


def downgrade() -> None:
    op.drop_table("sample_import_stage")
