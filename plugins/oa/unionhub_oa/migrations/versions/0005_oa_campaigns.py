"""oa: notification campaigns (message templates, campaigns)

Revision ID: 0005_oa_campaigns
Revises: 0001_oa
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import unionhub.db

revision: str = "0005_oa_campaigns"
down_revision: str | None = "0001_oa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oa_message_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sms", sa.String(length=300), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("org_path", sa.String(length=512), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_oa_message_template_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["org.id"],
            name=op.f("fk_oa_message_template_org_id_org"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oa_message_template")),
    )
    op.create_index(op.f("ix_oa_message_template_org_id"), "oa_message_template", ["org_id"],
                    unique=False)
    op.create_index(op.f("ix_oa_message_template_org_path"), "oa_message_template",
                    ["org_path"], unique=False)

    op.create_table(
        "oa_campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("org_path", sa.String(length=512), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sms", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("audience_key", sa.String(length=100), nullable=False),
        sa.Column("audience_value", sa.String(length=100), nullable=False),
        sa.Column("audience_label", sa.String(length=300), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("notify_batch_id", sa.Integer(), nullable=True),
        sa.Column("form_key", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("sent_by", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_oa_campaign_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["notify_batch_id"],
            ["notify_batch.id"],
            name=op.f("fk_oa_campaign_notify_batch_id_notify_batch"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["org.id"],
            name=op.f("fk_oa_campaign_org_id_org"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by"],
            ["account.id"],
            name=op.f("fk_oa_campaign_sent_by_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oa_campaign")),
        sa.UniqueConstraint("form_key", name=op.f("uq_oa_campaign_form_key")),
    )
    op.create_index(op.f("ix_oa_campaign_org_id"), "oa_campaign", ["org_id"], unique=False)
    op.create_index(op.f("ix_oa_campaign_org_path"), "oa_campaign", ["org_path"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_oa_campaign_org_path"), table_name="oa_campaign")
    op.drop_index(op.f("ix_oa_campaign_org_id"), table_name="oa_campaign")
    op.drop_table("oa_campaign")
    op.drop_index(op.f("ix_oa_message_template_org_path"), table_name="oa_message_template")
    op.drop_index(op.f("ix_oa_message_template_org_id"), table_name="oa_message_template")
    op.drop_table("oa_message_template")
