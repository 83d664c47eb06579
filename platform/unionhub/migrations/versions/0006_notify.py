"""notifications: batches, outbox, inbox, preferences, bindings, receipts, quotas, state

Revision ID: 0006_notify
Revises: 0004_imports
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import unionhub.db

revision: str = "0006_notify"
down_revision: str | None = "0004_imports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = unionhub.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notify_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type_key", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["account.id"],
                                name=op.f("fk_notify_batch_created_by_account"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_batch")),
        sa.UniqueConstraint("type_key", "key", name="uq_notify_batch_type_key"),
    )
    op.create_table(
        "notify_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC, nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", UTC, nullable=True),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("msgid", sa.String(length=64), nullable=True),
        sa.Column("receipt", sa.String(length=64), nullable=True),
        sa.Column("receipt_at", UTC, nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("fallback_of_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["notify_batch.id"],
                                name=op.f("fk_notify_outbox_batch_id_notify_batch"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"],
                                name=op.f("fk_notify_outbox_member_id_member"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["fallback_of_id"], ["notify_outbox.id"],
                                name=op.f("fk_notify_outbox_fallback_of_id_notify_outbox"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_outbox")),
        sa.UniqueConstraint("batch_id", "member_id", "channel", name="uq_notify_outbox_once"),
    )
    op.create_index("ix_notify_outbox_due", "notify_outbox",
                    ["channel", "status", "next_attempt_at", "id"])
    op.create_index("ix_notify_outbox_msgid", "notify_outbox", ["msgid"])
    op.create_index(op.f("ix_notify_outbox_member_id"), "notify_outbox", ["member_id"])
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("type_key", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("read_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["notify_batch.id"],
                                name=op.f("fk_notification_batch_id_notify_batch"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"],
                                name=op.f("fk_notification_member_id_member"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("batch_id", "member_id", name="uq_notification_once"),
    )
    op.create_index("ix_notification_member_unread", "notification", ["member_id", "read_at"])
    op.create_table(
        "notify_preference",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("type_key", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"],
                                name=op.f("fk_notify_preference_member_id_member"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("member_id", "type_key", "channel",
                                name=op.f("pk_notify_preference")),
    )
    op.create_table(
        "notify_binding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"],
                                name=op.f("fk_notify_binding_member_id_member"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_binding")),
        sa.UniqueConstraint("member_id", "channel", name="uq_notify_binding_member"),
        sa.UniqueConstraint("channel", "address", name="uq_notify_binding_address"),
    )
    op.create_table(
        "notify_receipt",
        sa.Column("msgid", sa.String(length=64), nullable=False),
        sa.Column("openid", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("received_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("msgid", name=op.f("pk_notify_receipt")),
    )
    op.create_index(op.f("ix_notify_receipt_openid"), "notify_receipt", ["openid"])
    op.create_table(
        "notify_quota",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("window_start", UTC, nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "period", "window_start",
                                name=op.f("pk_notify_quota")),
    )
    op.create_table(
        "notify_state",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("expires_at", UTC, nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_notify_state")),
    )


def downgrade() -> None:
    op.drop_table("notify_state")
    op.drop_table("notify_quota")
    op.drop_index(op.f("ix_notify_receipt_openid"), table_name="notify_receipt")
    op.drop_table("notify_receipt")
    op.drop_table("notify_binding")
    op.drop_table("notify_preference")
    op.drop_index("ix_notification_member_unread", table_name="notification")
    op.drop_table("notification")
    op.drop_index(op.f("ix_notify_outbox_member_id"), table_name="notify_outbox")
    op.drop_index("ix_notify_outbox_msgid", table_name="notify_outbox")
    op.drop_index("ix_notify_outbox_due", table_name="notify_outbox")
    op.drop_table("notify_outbox")
    op.drop_table("notify_batch")
