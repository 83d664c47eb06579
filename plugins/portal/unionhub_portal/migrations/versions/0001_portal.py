"""portal sections and articles

Revision ID: portal_0001
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import unionhub.db

# The sections as they were at this revision: (code, name, kind, parent, on home page,
# description); a copy, so that later edits of sections/catalog.py do not change what this
# migration inserted.
SECTIONS = (
    ("news", "工会动态", "news", None, True, "市总工会及各级工会的工作动态"),
    ("grassroots", "基层风采", "news", "news", True, "基层工会的活动与经验"),
    ("media", "媒体聚焦", "news", "news", False, "媒体对工会工作的报道"),
    ("notices", "通知公告", "notice", None, True, "各级工会发布的通知与公示"),
    ("documents", "文件法规", "documents", None, True, "工会文件、法律法规与规章制度"),
    ("policy", "政策解读", "news", None, True, "与职工权益相关的政策解读"),
    ("hotline", "职工热线", "qa", None, True, "12351 职工服务热线问答"),
    ("discounts", "京卡优惠", "discounts", None, True, "持京卡享受的会员专属优惠"),
    ("forum", "工会论坛", "forum", None, False, "职工交流园地"),
    ("model_workers", "劳模风采", "news", None, True, "劳动模范与工匠人才的故事"),
    ("rights", "维权服务", "news", None, False, "劳动关系协调与职工维权"),
    ("legal_aid", "法律援助", "news", "rights", True, "工会法律援助与典型案例"),
    ("labour_protection", "劳动保护", "news", "rights", False, "安全生产与职业健康"),
    ("mutual_aid", "互助保障", "news", None, False, "职工互助保障计划的参保与理赔"),
    ("assistance", "困难帮扶", "news", None, False, "困难职工帮扶与送温暖"),
    ("employment", "就业服务", "news", None, False, "招聘信息与就业指导"),
    ("skills", "技能提升", "news", None, False, "职工技能培训与劳动竞赛"),
    ("culture", "文体活动", "news", None, True, "职工文化与体育活动"),
    ("women", "女职工工作", "news", None, False, "女职工权益保护与关爱"),
    ("democracy", "民主管理", "documents", None, False, "职代会与厂务公开"),
    ("theory", "理论学习", "news", None, False, "工会理论与学习园地"),
    ("service_guide", "服务指南", "documents", None, False, "办事流程与常用表格下载"),
    ("library", "数字图书馆", "link", None, False, "职工数字阅读"),
)
LINKS = {"library": "/library/"}

revision: str = "portal_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_section",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("link_url", sa.String(length=300), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("on_home", sa.Boolean(), nullable=False),
        sa.Column("seo_title", sa.String(length=120), nullable=True),
        sa.Column("seo_description", sa.String(length=300), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("has_groups", sa.Boolean(), nullable=False),
        sa.Column("on_pc", sa.Boolean(), nullable=False),
        sa.Column("on_mobile", sa.Boolean(), nullable=False),
        sa.Column("on_app", sa.Boolean(), nullable=False),
        sa.Column("audience_org_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["audience_org_id"],
            ["org.id"],
            name=op.f("fk_portal_section_audience_org_id_org"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["portal_section.id"],
            name=op.f("fk_portal_section_parent_id_portal_section"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_section")),
        sa.UniqueConstraint("code", name=op.f("uq_portal_section_code")),
    )
    with op.batch_alter_table("portal_section", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_section_audience_org_id"), ["audience_org_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_portal_section_parent_id"), ["parent_id"], unique=False
        )

    op.create_table(
        "portal_section_group",
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["member_group.id"],
            name=op.f("fk_portal_section_group_group_id_member_group"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["portal_section.id"],
            name=op.f("fk_portal_section_group_section_id_portal_section"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("section_id", "group_id", name=op.f("pk_portal_section_group")),
    )
    with op.batch_alter_table("portal_section_group", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_section_group_group_id"), ["group_id"], unique=False
        )

    op.create_table(
        "portal_article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("cover_id", sa.Integer(), nullable=True),
        sa.Column("tags", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("author", sa.String(length=60), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("published_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", unionhub.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("headline", sa.Boolean(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("owner_org_id", sa.Integer(), nullable=False),
        sa.Column("view_count", sa.Integer(), nullable=False),
        sa.Column("seo_title", sa.String(length=120), nullable=True),
        sa.Column("seo_description", sa.String(length=300), nullable=True),
        sa.Column("seo_keywords", sa.String(length=200), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("needs_signoff", sa.Boolean(), nullable=False),
        sa.Column("approval_ref", sa.String(length=64), nullable=True),
        sa.Column("review_note", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("has_groups", sa.Boolean(), nullable=False),
        sa.Column("on_pc", sa.Boolean(), nullable=False),
        sa.Column("on_mobile", sa.Boolean(), nullable=False),
        sa.Column("on_app", sa.Boolean(), nullable=False),
        sa.Column("audience_org_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["audience_org_id"],
            ["org.id"],
            name=op.f("fk_portal_article_audience_org_id_org"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_portal_article_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["org.id"],
            name=op.f("fk_portal_article_owner_org_id_org"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["portal_section.id"],
            name=op.f("fk_portal_article_section_id_portal_section"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["account.id"],
            name=op.f("fk_portal_article_updated_by_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_article")),
        sa.UniqueConstraint("slug", name=op.f("uq_portal_article_slug")),
    )
    with op.batch_alter_table("portal_article", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_article_audience_org_id"), ["audience_org_id"], unique=False
        )
        batch_op.create_index(
            "ix_portal_article_list", ["section_id", "state", "published_at", "id"], unique=False
        )
        batch_op.create_index("ix_portal_article_live", ["state", "published_at"], unique=False)
        batch_op.create_index(
            "ix_portal_article_pinned",
            ["section_id", "state", "published_at", "id"],
            unique=False,
            postgresql_where=sa.text("pinned"),
            sqlite_where=sa.text("pinned = 1"),
        )
        batch_op.create_index(
            "ix_portal_article_headline",
            ["state", "published_at", "id"],
            unique=False,
            postgresql_where=sa.text("headline"),
            sqlite_where=sa.text("headline = 1"),
        )
        batch_op.create_index(
            batch_op.f("ix_portal_article_owner_org_id"), ["owner_org_id"], unique=False
        )

    op.create_table(
        "portal_article_group",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["portal_article.id"],
            name=op.f("fk_portal_article_group_article_id_portal_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["member_group.id"],
            name=op.f("fk_portal_article_group_group_id_member_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "group_id", name=op.f("pk_portal_article_group")),
    )
    with op.batch_alter_table("portal_article_group", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_article_group_group_id"), ["group_id"], unique=False
        )

    op.create_table(
        "portal_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["portal_article.id"],
            name=op.f("fk_portal_attachment_article_id_portal_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_portal_attachment_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_attachment")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_portal_attachment_stored_name")),
    )
    with op.batch_alter_table("portal_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_attachment_article_id"), ["article_id"], unique=False
        )

    op.create_table(
        "portal_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", unionhub.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["portal_article.id"],
            name=op.f("fk_portal_revision_article_id_portal_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["account.id"],
            name=op.f("fk_portal_revision_created_by_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_revision")),
        sa.UniqueConstraint("article_id", "number", name=op.f("uq_portal_revision_article_id")),
    )

    _seed_sections()


def downgrade() -> None:
    op.drop_table("portal_revision")
    with op.batch_alter_table("portal_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_attachment_article_id"))

    op.drop_table("portal_attachment")
    with op.batch_alter_table("portal_article_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_article_group_group_id"))

    op.drop_table("portal_article_group")
    with op.batch_alter_table("portal_article", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_article_owner_org_id"))
        batch_op.drop_index("ix_portal_article_headline")
        batch_op.drop_index("ix_portal_article_pinned")
        batch_op.drop_index("ix_portal_article_live")
        batch_op.drop_index("ix_portal_article_list")
        batch_op.drop_index(batch_op.f("ix_portal_article_audience_org_id"))

    op.drop_table("portal_article")
    with op.batch_alter_table("portal_section_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_section_group_group_id"))

    op.drop_table("portal_section_group")
    with op.batch_alter_table("portal_section", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_section_parent_id"))
        batch_op.drop_index(batch_op.f("ix_portal_section_audience_org_id"))

    op.drop_table("portal_section")


def _seed_sections() -> None:
    section = sa.table(
        "portal_section",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("kind", sa.String),
        sa.column("link_url", sa.String),
        sa.column("description", sa.String),
        sa.column("sort", sa.Integer),
        sa.column("hidden", sa.Boolean),
        sa.column("on_home", sa.Boolean),
        sa.column("has_groups", sa.Boolean),
        sa.column("on_pc", sa.Boolean),
        sa.column("on_mobile", sa.Boolean),
        sa.column("on_app", sa.Boolean),
        sa.column("created_at", unionhub.db.UTCDateTime),
        sa.column("updated_at", unionhub.db.UTCDateTime),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        section,
        [
            {
                "code": code,
                "name": name,
                "kind": kind,
                "link_url": LINKS.get(code),
                "description": description,
                "sort": (i + 1) * 10,
                "hidden": False,
                "on_home": home,
                "has_groups": False,
                "on_pc": True,
                "on_mobile": True,
                "on_app": True,
                "created_at": now,
                "updated_at": now,
            }
            for i, (code, name, kind, _parent, home, description) in enumerate(SECTIONS)
        ],
    )
    for code, _name, _kind, parent, _home, _description in SECTIONS:
        if parent:
            op.execute(
                sa.text(
                    "UPDATE portal_section SET parent_id = (SELECT p.id FROM portal_section p "
                    "WHERE p.code = :parent) WHERE code = :code"
                ).bindparams(parent=parent, code=code)
            )
