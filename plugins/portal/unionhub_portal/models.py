"""The portal's content tables: sections (栏目), articles, their revisions and attachments, and
the audience rows (every table named ``portal_*``; the hotline's and the forum's own tables live
in their feature packages).

Sections and articles carry the same audience columns (:class:`Audience`): a target org subtree
(``audience_org_id``; NULL = every org), member groups (rows in ``portal_*_group``;
``has_groups`` says whether there are any, so that the common case costs no subquery) and the
platforms (PC portal, mobile site, app). :mod:`unionhub_portal.audience` turns them into SQL.

An article is live when it is ``published``, ``published_at`` (the moment it goes live: a
scheduled article has one in the future) has passed and ``expires_at`` has not — checked when
reading, never left to a sweeper.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from unionhub.db import Base, UTCDateTime, utcnow


class SectionKind(StrEnum):
    """How a section lists and shows its content."""

    NEWS = "news"  # 新闻列表: cover, summary, date
    NOTICE = "notice"  # 通知公告: title, date, issuing union, expiry
    DOCUMENTS = "documents"  # 文件法规: document library with attachments
    QA = "qa"  # 问答: published hotline questions and answers
    DISCOUNTS = "discounts"  # 京卡优惠: offers from other plugins
    FORUM = "forum"  # 论坛: boards, topics, replies
    LINK = "link"  # 链接: goes to another page


class ArticleState(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"  # submitted for review (or sign-off)
    PUBLISHED = "published"  # live from ``published_at`` until ``expires_at``
    OFFLINE = "offline"  # taken down; can be published again


PLATFORMS = ("pc", "mobile", "app")


class Audience:
    """Columns shared by sections and articles: who may see them."""

    @declared_attr
    def audience_org_id(cls) -> Mapped[int | None]:
        # RESTRICT: deleting a targeted org must not widen the audience to everyone.
        return mapped_column(ForeignKey("org.id", ondelete="RESTRICT"), index=True)

    has_groups: Mapped[bool] = mapped_column(Boolean, default=False)
    on_pc: Mapped[bool] = mapped_column(Boolean, default=True)
    on_mobile: Mapped[bool] = mapped_column(Boolean, default=True)
    on_app: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(p for p in PLATFORMS if getattr(self, f"on_{p}"))


class PortalSection(Audience, Base):
    """A section (栏目) of the portal; a tree (top-level sections are the main menu)."""

    __tablename__ = "portal_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_section.id", ondelete="RESTRICT"), index=True)
    #: The friendly URL part (``/portal/s/notices``).
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(16))
    #: Where a ``link`` section goes (a path on this site or an https URL).
    link_url: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(String(500))
    sort: Mapped[int] = mapped_column(Integer, default=0)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Shown as a block of latest articles on the home page.
    on_home: Mapped[bool] = mapped_column(Boolean, default=False)
    seo_title: Mapped[str | None] = mapped_column(String(120))
    seo_description: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: Mapped[PortalSection | None] = relationship(remote_side=[id])


class PortalSectionGroup(Base):
    __tablename__ = "portal_section_group"

    section_id: Mapped[int] = mapped_column(
        ForeignKey("portal_section.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("member_group.id", ondelete="CASCADE"), primary_key=True, index=True)


class PortalArticle(Audience, Base):
    """An article, notice or document in one section."""

    __tablename__ = "portal_article"
    # Lists, the previous/next links and the home blocks walk ``ix_portal_article_list`` one
    # section at a time in (published_at, id) order; pinned articles and the carousel's
    # headlines are few and have partial indexes of their own (site/service.py).
    __table_args__ = (
        Index("ix_portal_article_list", "section_id", "state", "published_at", "id"),
        Index("ix_portal_article_live", "state", "published_at"),
        Index("ix_portal_article_pinned", "section_id", "state", "published_at", "id",
              postgresql_where=text("pinned"), sqlite_where=text("pinned = 1")),
        Index("ix_portal_article_headline", "state", "published_at", "id",
              postgresql_where=text("headline"), sqlite_where=text("headline = 1")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("portal_section.id", ondelete="RESTRICT"))
    #: Optional friendly URL (``/portal/a/<slug>``); the id always works.
    slug: Mapped[str | None] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(String(500))
    #: Sanitised on save (and again on output) with :data:`unionhub.web.richtext.ARTICLE`.
    body_html: Mapped[str] = mapped_column(Text, default="")
    #: The attachment (an image) used as cover.
    cover_id: Mapped[int | None] = mapped_column(Integer)
    #: Comma-separated.
    tags: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(String(100))
    author: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(12), default=ArticleState.DRAFT)
    #: The moment it goes (or went) live; set when published, in the future when scheduled.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: In the home page's headline carousel (needs a cover).
    headline: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Listed first in its section.
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The union that publishes it (officers of its subtree edit it).
    owner_org_id: Mapped[int] = mapped_column(
        ForeignKey("org.id", ondelete="RESTRICT"), index=True)
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    seo_title: Mapped[str | None] = mapped_column(String(120))
    seo_description: Mapped[str | None] = mapped_column(String(300))
    seo_keywords: Mapped[str | None] = mapped_column(String(200))
    #: Number of the latest revision (0 before the first save).
    revision: Mapped[int] = mapped_column(Integer, default=0)
    #: Publication needs a sign-off through the approval hook (when an engine is enabled).
    needs_signoff: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The approval engine's reference while a sign-off runs or after it ended.
    approval_ref: Mapped[str | None] = mapped_column(String(64))
    review_note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    section: Mapped[PortalSection] = relationship()

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in (self.tags or "").split(",") if t.strip()]


class PortalArticleGroup(Base):
    __tablename__ = "portal_article_group"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("portal_article.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("member_group.id", ondelete="CASCADE"), primary_key=True, index=True)


class PortalRevision(Base):
    """A saved version of an article (title, summary, body and the other fields in ``meta``);
    restoring one makes a new revision."""

    __tablename__ = "portal_revision"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("portal_article.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str | None] = mapped_column(String(500))
    body_html: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PortalAttachment(Base):
    """An image or file attached to an article (stored under the instance folder by
    ``stored_name``; served only to those who may see the article)."""

    __tablename__ = "portal_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("portal_article.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "image" | "file"
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


MODELS = (PortalSection, PortalSectionGroup, PortalArticle, PortalArticleGroup, PortalRevision,
          PortalAttachment)
