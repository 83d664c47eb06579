"""member groups

Revision ID: 0010_groups
Revises: 0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import unionhub.db

revision: str = "0010_groups"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_group")),
        sa.UniqueConstraint("code", name=op.f("uq_member_group_code")),
    )
    op.create_table(
        "member_group_member",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("added_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["member_group.id"],
                                name=op.f("fk_member_group_member_group_id_member_group"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"],
                                name=op.f("fk_member_group_member_member_id_member"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("group_id", "member_id", name=op.f("pk_member_group_member")),
    )
    op.create_index("ix_member_group_member_member", "member_group_member",
                    ["member_id", "group_id"])


def downgrade() -> None:
    op.drop_index("ix_member_group_member_member", table_name="member_group_member")
    op.drop_table("member_group_member")
    op.drop_table("member_group")
