"""import staging tables unlogged on PostgreSQL

Staged rows are disposable (a batch whose rows are gone is failed by the import engine and
uploaded again), so on PostgreSQL they skip the write-ahead log. Nothing changes on SQLite.

Revision ID: mutualaid_unlogged
Revises: mutualaid_enrollment, mutualaid_settlement
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "mutualaid_unlogged"
down_revision: str | tuple[str, ...] | None = ("mutualaid_enrollment", "mutualaid_settlement")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("mutualaid_enroll_stage", "mutualaid_settlement_stage")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} SET UNLOGGED")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} SET LOGGED")
