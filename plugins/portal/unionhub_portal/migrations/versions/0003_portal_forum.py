"""portal forum tables

Revision ID: portal_0003
Revises: portal_0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import unionhub.db

revision: str = "portal_0003"
down_revision: str | None = "portal_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_forum_board",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=True),
        sa.Column("premoderated", sa.Boolean(), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["org.id"],
            name=op.f("fk_portal_forum_board_org_id_org"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["portal_section.id"],
            name=op.f("fk_portal_forum_board_section_id_portal_section"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_forum_board")),
    )

    with op.batch_alter_table("portal_forum_board", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_portal_forum_board_org_id"), ["org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_portal_forum_board_section_id"), ["section_id"], unique=False
        )

    op.create_table(
        "portal_forum_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=True),
        sa.Column("topic_id", sa.Integer(), nullable=True),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["account.id"],
            name=op.f("fk_portal_forum_log_moderator_id_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_forum_log")),
    )

    with op.batch_alter_table("portal_forum_log", schema=None) as batch_op:
        batch_op.create_index("ix_portal_forum_log_board", ["board_id", "id"], unique=False)

    op.create_table(
        "portal_forum_poster",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("last_post_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_portal_forum_poster_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_portal_forum_poster")),
    )

    op.create_table(
        "portal_forum_topic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("board_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("last_post_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["account.id"],
            name=op.f("fk_portal_forum_topic_author_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["portal_forum_board.id"],
            name=op.f("fk_portal_forum_topic_board_id_portal_forum_board"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_forum_topic")),
    )

    with op.batch_alter_table("portal_forum_topic", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_forum_topic_author_id"), ["author_id"], unique=False
        )
        batch_op.create_index(
            "ix_portal_forum_topic_list", ["board_id", "pinned", "last_post_at"], unique=False
        )

    op.create_table(
        "portal_forum_word",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("word", sa.String(length=40), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_portal_forum_word_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_forum_word")),
        sa.UniqueConstraint("word", name=op.f("uq_portal_forum_word_word")),
    )

    op.create_table(
        "portal_forum_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("is_first", sa.Boolean(), nullable=False),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("quote_post_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("review_note", sa.String(length=200), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("edited_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["account.id"],
            name=op.f("fk_portal_forum_post_author_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["quote_post_id"],
            ["portal_forum_post.id"],
            name=op.f("fk_portal_forum_post_quote_post_id_portal_forum_post"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["portal_forum_topic.id"],
            name=op.f("fk_portal_forum_post_topic_id_portal_forum_topic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_forum_post")),
    )

    with op.batch_alter_table("portal_forum_post", schema=None) as batch_op:
        batch_op.create_index(
            "ix_portal_forum_post_author", ["author_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_portal_forum_post_state", ["state", "id"], unique=False)
        batch_op.create_index(
            "ix_portal_forum_post_topic", ["topic_id", "state", "id"], unique=False
        )

    op.create_table(
        "portal_forum_subscription",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_portal_forum_subscription_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["portal_forum_topic.id"],
            name=op.f("fk_portal_forum_subscription_topic_id_portal_forum_topic"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "topic_id", name=op.f("pk_portal_forum_subscription")
        ),
    )

    with op.batch_alter_table("portal_forum_subscription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_forum_subscription_topic_id"), ["topic_id"], unique=False
        )

    op.create_table(
        "portal_forum_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("uploader_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["portal_forum_post.id"],
            name=op.f("fk_portal_forum_image_post_id_portal_forum_post"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploader_id"],
            ["account.id"],
            name=op.f("fk_portal_forum_image_uploader_id_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_forum_image")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_portal_forum_image_stored_name")),
    )

    with op.batch_alter_table("portal_forum_image", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_forum_image_post_id"), ["post_id"], unique=False
        )

    op.create_table(
        "portal_forum_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.String(length=300), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["account.id"],
            name=op.f("fk_portal_forum_report_moderator_id_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["portal_forum_post.id"],
            name=op.f("fk_portal_forum_report_post_id_portal_forum_post"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["account.id"],
            name=op.f("fk_portal_forum_report_reporter_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_forum_report")),
        sa.UniqueConstraint("post_id", "reporter_id", name=op.f("uq_portal_forum_report_post_id")),
    )

    with op.batch_alter_table("portal_forum_report", schema=None) as batch_op:
        batch_op.create_index("ix_portal_forum_report_state", ["state", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("portal_forum_report", schema=None) as batch_op:
        batch_op.drop_index("ix_portal_forum_report_state")

    op.drop_table("portal_forum_report")

    with op.batch_alter_table("portal_forum_image", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_forum_image_post_id"))

    op.drop_table("portal_forum_image")

    with op.batch_alter_table("portal_forum_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_forum_subscription_topic_id"))

    op.drop_table("portal_forum_subscription")

    with op.batch_alter_table("portal_forum_post", schema=None) as batch_op:
        batch_op.drop_index("ix_portal_forum_post_topic")
        batch_op.drop_index("ix_portal_forum_post_state")
        batch_op.drop_index("ix_portal_forum_post_author")

    op.drop_table("portal_forum_post")

    op.drop_table("portal_forum_word")

    with op.batch_alter_table("portal_forum_topic", schema=None) as batch_op:
        batch_op.drop_index("ix_portal_forum_topic_list")
        batch_op.drop_index(batch_op.f("ix_portal_forum_topic_author_id"))

    op.drop_table("portal_forum_topic")

    op.drop_table("portal_forum_poster")

    with op.batch_alter_table("portal_forum_log", schema=None) as batch_op:
        batch_op.drop_index("ix_portal_forum_log_board")

    op.drop_table("portal_forum_log")

    with op.batch_alter_table("portal_forum_board", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_forum_board_section_id"))
        batch_op.drop_index(batch_op.f("ix_portal_forum_board_org_id"))

    op.drop_table("portal_forum_board")
