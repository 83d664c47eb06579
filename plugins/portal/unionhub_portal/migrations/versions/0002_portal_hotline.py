"""portal hotline tables

Revision ID: portal_0002
Revises: portal_0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

revision: str = "portal_0002"
down_revision: str | None = "portal_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
