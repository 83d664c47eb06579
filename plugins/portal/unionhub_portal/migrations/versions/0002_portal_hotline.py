"""portal hotline tables

Revision ID: portal_0002
Revises: portal_0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import unionhub.db

revision: str = "portal_0002"
down_revision: str | None = "portal_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_hotline_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("asked_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("public_subject", sa.String(length=80), nullable=True),
        sa.Column("public_question", sa.Text(), nullable=True),
        sa.Column("public_answer", sa.Text(), nullable=True),
        sa.Column("published_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rating_note", sa.String(length=200), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_portal_hotline_question_account_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["answered_by"],
            ["account.id"],
            name=op.f("fk_portal_hotline_question_answered_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["account.id"],
            name=op.f("fk_portal_hotline_question_assignee_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_portal_hotline_question_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["org.id"],
            name=op.f("fk_portal_hotline_question_org_id_org"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["published_by"],
            ["account.id"],
            name=op.f("fk_portal_hotline_question_published_by_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_hotline_question")),
    )
    with op.batch_alter_table("portal_hotline_question", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_hotline_question_assignee_id"), ["assignee_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_portal_hotline_question_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            "ix_portal_hotline_question_org_state", ["org_id", "state"], unique=False
        )
        batch_op.create_index(
            "ix_portal_hotline_question_public", ["state", "published_at"], unique=False
        )
        batch_op.create_index(
            "ix_portal_hotline_question_state_due", ["state", "due_at"], unique=False
        )

    op.create_table(
        "portal_hotline_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["account.id"],
            name=op.f("fk_portal_hotline_event_actor_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["portal_hotline_question.id"],
            name=op.f("fk_portal_hotline_event_question_id_portal_hotline_question"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_hotline_event")),
    )
    with op.batch_alter_table("portal_hotline_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_portal_hotline_event_question", ["question_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("portal_hotline_event", schema=None) as batch_op:
        batch_op.drop_index("ix_portal_hotline_event_question")

    op.drop_table("portal_hotline_event")
    with op.batch_alter_table("portal_hotline_question", schema=None) as batch_op:
        batch_op.drop_index("ix_portal_hotline_question_state_due")
        batch_op.drop_index("ix_portal_hotline_question_public")
        batch_op.drop_index("ix_portal_hotline_question_org_state")
        batch_op.drop_index(batch_op.f("ix_portal_hotline_question_member_id"))
        batch_op.drop_index(batch_op.f("ix_portal_hotline_question_assignee_id"))

    op.drop_table("portal_hotline_question")
