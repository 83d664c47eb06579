"""member import staging: was_active (members this file marks left)

Revision ID: 0011_was_active
Revises: 0009_unlogged
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_was_active"
down_revision: str | None = "0009_unlogged"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("import_member_stage", sa.Column("was_active", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_member_stage") as batch:
        batch.drop_column("was_active")
