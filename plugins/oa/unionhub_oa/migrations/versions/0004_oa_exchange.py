"""oa: the data-exchange run (runs and the members each run touched)

Revision ID: 0004_oa_exchange
Revises: 0001_oa
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import unionhub.db

revision: str = "0004_oa_exchange"
down_revision: str | None = "0001_oa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oa_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("plan_year", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("require_approval", sa.Boolean(), nullable=False),
        sa.Column("auto_apply", sa.Boolean(), nullable=False),
        sa.Column("approval_ref", sa.String(length=64), nullable=True),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("accounting_snapshot_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_oa_run_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batch.id"],
            name=op.f("fk_oa_run_import_batch_id_import_batch"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["org.id"], name=op.f("fk_oa_run_org_id_org"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oa_run")),
    )
    with op.batch_alter_table("oa_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oa_run_created_by"), ["created_by"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_oa_run_import_batch_id"), ["import_batch_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_oa_run_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oa_run_org_path"), ["org_path"], unique=False)

    op.create_table(
        "oa_run_member",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_oa_run_member_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["oa_run.id"],
            name=op.f("fk_oa_run_member_run_id_oa_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "member_id", "kind", name=op.f("pk_oa_run_member")),
    )
    with op.batch_alter_table("oa_run_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_oa_run_member_member_id"), ["member_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("oa_run_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oa_run_member_member_id"))

    op.drop_table("oa_run_member")
    with op.batch_alter_table("oa_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oa_run_org_path"))
        batch_op.drop_index(batch_op.f("ix_oa_run_org_id"))
        batch_op.drop_index(batch_op.f("ix_oa_run_import_batch_id"))
        batch_op.drop_index(batch_op.f("ix_oa_run_created_by"))

    op.drop_table("oa_run")
