"""import staging tables unlogged on PostgreSQL

Staged rows are disposable: a batch that has not been applied is staged again from its file,
so the staging table needs no write-ahead log. On PostgreSQL an ``UNLOGGED`` table skips the
WAL for the bulk load and for the rewrites of review and apply (emptied after a crash, which
only sends the batch back to staging). SQLite has no such thing; nothing changes there.

Revision ID: 0009_unlogged
Revises: 0004_imports
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_unlogged"
down_revision: str | None = "0004_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE import_member_stage SET UNLOGGED")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE import_member_stage SET LOGGED")
