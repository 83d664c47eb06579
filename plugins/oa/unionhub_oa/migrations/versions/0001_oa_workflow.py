"""oa: the approval engine (workflows, versions, requests, tasks, trail, CC, attachments)

Revision ID: 0001_oa
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import unionhub.db

revision: str = "0001_oa"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oa_workflow",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oa_workflow")),
        sa.UniqueConstraint("code", name=op.f("uq_oa_workflow_code")),
    )
    with op.batch_alter_table("oa_workflow", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oa_workflow_kind"), ["kind"], unique=False)

    op.create_table(
        "oa_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["account.id"],
            name=op.f("fk_oa_attachment_uploaded_by_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oa_attachment")),
    )
    with op.batch_alter_table("oa_attachment", schema=None) as batch_op:
        batch_op.create_index("ix_oa_attachment_owner", ["owner", "owner_id"], unique=False)

    op.create_table(
        "oa_workflow_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_oa_workflow_version_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["oa_workflow.id"],
            name=op.f("fk_oa_workflow_version_workflow_id_oa_workflow"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oa_workflow_version")),
        sa.UniqueConstraint("workflow_id", "version", name="uq_oa_workflow_version"),
    )
    op.create_table(
        "oa_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("initiator_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=300), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("touched", sa.Boolean(), nullable=False),
        sa.Column("undelivered", sa.Boolean(), nullable=False),
        sa.Column("lock", sa.Integer(), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["initiator_id"],
            ["account.id"],
            name=op.f("fk_oa_request_initiator_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["org.id"], name=op.f("fk_oa_request_org_id_org"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["oa_workflow_version.id"],
            name=op.f("fk_oa_request_version_id_oa_workflow_version"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oa_request")),
    )
    with op.batch_alter_table("oa_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_oa_request_initiator", ["initiator_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_oa_request_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oa_request_org_path"), ["org_path"], unique=False)
        batch_op.create_index(batch_op.f("ix_oa_request_state"), ["state"], unique=False)
        batch_op.create_index("ix_oa_request_subject", ["kind", "subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_oa_request_version_id"), ["version_id"], unique=False)

    op.create_table(
        "oa_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["account.id"],
            name=op.f("fk_oa_action_actor_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["oa_request.id"],
            name=op.f("fk_oa_action_request_id_oa_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oa_action")),
    )
    with op.batch_alter_table("oa_action", schema=None) as batch_op:
        batch_op.create_index("ix_oa_action_request", ["request_id", "id"], unique=False)

    op.create_table(
        "oa_cc",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_oa_cc_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["by_id"], ["account.id"], name=op.f("fk_oa_cc_by_id_account"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["oa_request.id"],
            name=op.f("fk_oa_cc_request_id_oa_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oa_cc")),
        sa.UniqueConstraint("request_id", "account_id", name="uq_oa_cc"),
    )
    with op.batch_alter_table("oa_cc", schema=None) as batch_op:
        batch_op.create_index("ix_oa_cc_account", ["account_id", "read_at"], unique=False)

    op.create_table(
        "oa_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("delegated_from_id", sa.Integer(), nullable=True),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.Column("due_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("acted_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["account.id"],
            name=op.f("fk_oa_task_added_by_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["account.id"],
            name=op.f("fk_oa_task_assignee_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["delegated_from_id"],
            ["oa_task.id"],
            name=op.f("fk_oa_task_delegated_from_id_oa_task"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["org.id"], name=op.f("fk_oa_task_org_id_org"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["oa_request.id"],
            name=op.f("fk_oa_task_request_id_oa_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oa_task")),
    )
    with op.batch_alter_table("oa_task", schema=None) as batch_op:
        batch_op.create_index("ix_oa_task_assignee", ["assignee_id", "state"], unique=False)
        batch_op.create_index("ix_oa_task_due", ["state", "due_at"], unique=False)
        batch_op.create_index("ix_oa_task_request", ["request_id", "round"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("oa_task", schema=None) as batch_op:
        batch_op.drop_index("ix_oa_task_request")
        batch_op.drop_index("ix_oa_task_due")
        batch_op.drop_index("ix_oa_task_assignee")

    op.drop_table("oa_task")
    with op.batch_alter_table("oa_cc", schema=None) as batch_op:
        batch_op.drop_index("ix_oa_cc_account")

    op.drop_table("oa_cc")
    with op.batch_alter_table("oa_action", schema=None) as batch_op:
        batch_op.drop_index("ix_oa_action_request")

    op.drop_table("oa_action")
    with op.batch_alter_table("oa_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oa_request_version_id"))
        batch_op.drop_index("ix_oa_request_subject")
        batch_op.drop_index(batch_op.f("ix_oa_request_state"))
        batch_op.drop_index(batch_op.f("ix_oa_request_org_path"))
        batch_op.drop_index(batch_op.f("ix_oa_request_org_id"))
        batch_op.drop_index("ix_oa_request_initiator")

    op.drop_table("oa_request")
    op.drop_table("oa_workflow_version")
    with op.batch_alter_table("oa_attachment", schema=None) as batch_op:
        batch_op.drop_index("ix_oa_attachment_owner")

    op.drop_table("oa_attachment")
    with op.batch_alter_table("oa_workflow", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oa_workflow_kind"))

    op.drop_table("oa_workflow")
