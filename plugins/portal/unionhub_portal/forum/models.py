"""The forum's tables (``portal_forum_*``).

A board belongs to a section of kind ``forum`` and optionally to an org: an org's board is seen
and posted to only by members of that org's subtree (and moderated by officers holding
``portal.forum.moderate`` over it; a city-wide board only by those granted at the city).

A topic is a title plus its posts; the first post (``is_first``) is the opening post. The topic
carries denormalised ``reply_count`` (visible posts other than the opening one) and
``last_post_at`` (the newest visible post), recomputed by :func:`.service.refresh_topic` under
the topic's row lock whenever a post or the topic changes state, so they never drift.

A topic is shown to everyone when it is not ``pending`` (its opening post awaits review),
``hidden`` nor ``deleted``; a post when its ``state`` is ``visible``. Moderators see all; the
author sees their own pending posts with a note.
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
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from unionhub.db import Base, UTCDateTime, utcnow
from unionhub.identity.models import Account

from ..models import PortalSection


class PostState(StrEnum):
    VISIBLE = "visible"
    PENDING = "pending"  # awaiting review (pre-moderated board or a sensitive word)
    HIDDEN = "hidden"  # hidden by a moderator (can be restored)
    DELETED = "deleted"  # soft-deleted (by a moderator, or a rejected pending post)


class ReportState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"  # the report was right; the moderator acted on the post
    DISMISSED = "dismissed"


class WordLevel(StrEnum):
    REVIEW = "review"  # the post goes to the review queue
    BLOCK = "block"  # the post is refused


class PortalForumBoard(Base):
    __tablename__ = "portal_forum_board"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("portal_section.id", ondelete="RESTRICT"), index=True)
    #: NULL: a city-wide board; else only members of this org's subtree see it.
    org_id: Mapped[int | None] = mapped_column(
        ForeignKey("org.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str | None] = mapped_column(String(300))
    #: Every new post waits for a moderator.
    premoderated: Mapped[bool] = mapped_column(Boolean, default=False)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    #: Read-only: listed, readable, no new topics or replies.
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    section: Mapped[PortalSection] = relationship()


class PortalForumTopic(Base):
    __tablename__ = "portal_forum_topic"
    __table_args__ = (
        Index("ix_portal_forum_topic_list", "board_id", "pinned", "last_post_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(
        ForeignKey("portal_forum_board.id", ondelete="RESTRICT"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The opening post awaits review: the topic shows only to its author and moderators.
    pending: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Visible posts other than the opening post.
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    #: When the newest visible post was written (the topic's creation before that).
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    board: Mapped[PortalForumBoard] = relationship()
    author: Mapped[Account | None] = relationship(lazy="joined")

    @property
    def shown(self) -> bool:
        return not (self.pending or self.hidden or self.deleted)


class PortalForumPost(Base):
    __tablename__ = "portal_forum_post"
    __table_args__ = (
        Index("ix_portal_forum_post_topic", "topic_id", "state", "id"),
        Index("ix_portal_forum_post_author", "author_id", "created_at"),
        Index("ix_portal_forum_post_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("portal_forum_topic.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    is_first: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What the author typed (Markdown).
    body_md: Mapped[str] = mapped_column(Text)
    #: The Markdown rendered and sanitised (sanitised again when shown).
    body_html: Mapped[str] = mapped_column(Text)
    quote_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_forum_post.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(10), default=PostState.VISIBLE)
    #: Why it waits for review (e.g. the sensitive word found), shown to moderators and author.
    review_note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    topic: Mapped[PortalForumTopic] = relationship()
    author: Mapped[Account | None] = relationship(lazy="joined")


class PortalForumImage(Base):
    """An image uploaded with a post (stored under the instance folder by ``stored_name``;
    served only to those who may see the post)."""

    __tablename__ = "portal_forum_image"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("portal_forum_post.id", ondelete="CASCADE"), index=True)
    uploader_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PortalForumReport(Base):
    __tablename__ = "portal_forum_report"
    __table_args__ = (
        UniqueConstraint("post_id", "reporter_id"),
        Index("ix_portal_forum_report_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        ForeignKey("portal_forum_post.id", ondelete="CASCADE"))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(10), default=ReportState.OPEN)
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    resolution: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    post: Mapped[PortalForumPost] = relationship()
    reporter: Mapped[Account] = relationship(foreign_keys=[reporter_id])


class PortalForumWord(Base):
    """A sensitive word (matched case-insensitively, ignoring spaces)."""

    __tablename__ = "portal_forum_word"

    id: Mapped[int] = mapped_column(primary_key=True)
    word: Mapped[str] = mapped_column(String(40), unique=True)
    level: Mapped[str] = mapped_column(String(8), default=WordLevel.REVIEW)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PortalForumSubscription(Base):
    __tablename__ = "portal_forum_subscription"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("portal_forum_topic.id", ondelete="CASCADE"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PortalForumPoster(Base):
    """One row per account that ever posted: the row the rate limit locks, so that two posts
    at once by the same account are counted one after the other."""

    __tablename__ = "portal_forum_poster"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    last_post_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PortalForumLog(Base):
    """The moderation log (append-only: updating or deleting a row raises)."""

    __tablename__ = "portal_forum_log"
    __table_args__ = (Index("ix_portal_forum_log_board", "board_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    moderator_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    board_id: Mapped[int | None] = mapped_column(Integer)
    topic_id: Mapped[int | None] = mapped_column(Integer)
    post_id: Mapped[int | None] = mapped_column(Integer)
    report_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    moderator: Mapped[Account | None] = relationship(lazy="joined")


@event.listens_for(PortalForumLog, "before_update")
@event.listens_for(PortalForumLog, "before_delete")
def _append_only(*_args: Any) -> None:
    raise RuntimeError("the forum moderation log is append-only")


MODELS = (PortalForumBoard, PortalForumTopic, PortalForumPost, PortalForumImage,
          PortalForumReport, PortalForumWord, PortalForumSubscription, PortalForumPoster,
          PortalForumLog)
