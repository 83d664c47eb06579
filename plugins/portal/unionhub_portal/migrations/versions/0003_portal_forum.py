"""portal forum tables

Revision ID: portal_0003
Revises: portal_0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

revision: str = "portal_0003"
down_revision: str | None = "portal_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
