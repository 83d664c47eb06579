"""sign-off of large payout batches: the approval engine's reference on the batch

A batch whose total reaches ``mutualaid.signoff_threshold`` waits for an approval engine
(status ``awaiting_signoff``, then ``generated`` or ``rejected``; its lines may become
``void``). Statuses are plain strings, so only the reference column is new.

The payout tables come from ``mutualaid_payouts``, a sibling branch of ``mutualaid_unlogged``:
this revision merges the two, so the tables exist before it runs.

Revision ID: mutualaid_payout_signoff
Revises: mutualaid_unlogged, mutualaid_payouts
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "mutualaid_payout_signoff"
down_revision: str | tuple[str, ...] | None = ("mutualaid_unlogged", "mutualaid_payouts")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mutualaid_payout_batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approval_ref", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mutualaid_payout_batch", schema=None) as batch_op:
        batch_op.drop_column("approval_ref")
