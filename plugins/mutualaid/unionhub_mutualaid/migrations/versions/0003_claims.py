"""claim files and history

Revision ID: mutualaid_claims
Revises: mutualaid_0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mutualaid_claims"
down_revision: str | None = "mutualaid_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mutualaid_claim_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["account.id"],
            name=op.f("fk_mutualaid_claim_event_actor_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["mutualaid_claim.id"],
            name=op.f("fk_mutualaid_claim_event_claim_id_mutualaid_claim"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_claim_event")),
    )
    op.create_index(
        "ix_mutualaid_claim_event_claim", "mutualaid_claim_event", ["claim_id", "id"], unique=False
    )
    op.create_table(
        "mutualaid_claim_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("original_name", sa.String(length=200), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["mutualaid_claim.id"],
            name=op.f("fk_mutualaid_claim_file_claim_id_mutualaid_claim"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["account.id"],
            name=op.f("fk_mutualaid_claim_file_uploaded_by_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mutualaid_claim_file")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_mutualaid_claim_file_stored_name")),
    )
    op.create_index(
        "ix_mutualaid_claim_file_claim", "mutualaid_claim_file", ["claim_id", "kind"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_mutualaid_claim_file_claim", table_name="mutualaid_claim_file")
    op.drop_table("mutualaid_claim_file")
    op.drop_index("ix_mutualaid_claim_event_claim", table_name="mutualaid_claim_event")
    op.drop_table("mutualaid_claim_event")
