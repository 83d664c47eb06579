"""The forum on the mobile-app API (``/api/v1/portal/forum…``, the ``app`` platform's audience
rule): boards, a board's topics, a topic with its posts, creating a topic, replying (with a
quote) and reporting. Refusals: 403 without the right, 404 for what the member may not see,
409 for a rule (locked topic, archived board, a blocked word, already reported), 429 for the
rate limit, 422 for bad text (``fields`` names it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_login import current_user
from pydantic import BaseModel, Field
from sqlalchemy import select

from unionhub import db
from unionhub.api import PAGE_PARAMS, ApiError, Page, operation, paginate
from unionhub.api.core import page_args

from ..web import api
from . import markdown, moderation, service
from .models import PortalForumPost, PortalForumTopic, PostState
from .service import ForumError, NotAllowed, NotFound, RateLimited, Reader

TAG = ["portal"]


class BoardOut(BaseModel):
    id: int
    name: str
    description: str | None
    org_id: int | None
    premoderated: bool
    archived: bool
    topics: int
    posts: int
    last_post_at: datetime | None


class TopicOut(BaseModel):
    id: int
    board_id: int
    title: str
    author: str
    pinned: bool
    locked: bool
    #: Awaiting review (only its author and moderators see it).
    pending: bool
    reply_count: int
    last_post_at: datetime
    created_at: datetime


class QuoteOut(BaseModel):
    post_id: int
    author: str
    excerpt: str


class PostOut(BaseModel):
    id: int
    topic_id: int
    author: str
    mine: bool
    #: visible; pending (awaiting review, shown to its author); hidden/deleted (moderators)
    state: str
    review_note: str | None
    #: Sanitised HTML.
    html: str
    quote: QuoteOut | None
    created_at: datetime
    edited_at: datetime | None


class TopicDetailOut(BaseModel):
    topic: TopicOut
    subscribed: bool
    can_reply: bool
    posts: Page[PostOut]


class TopicIn(BaseModel):
    title: str = Field(min_length=1, max_length=service.TITLE_MAX)
    body: str = Field(min_length=1, max_length=markdown.MAX_MARKDOWN)


class ReplyIn(BaseModel):
    body: str = Field(min_length=1, max_length=markdown.MAX_MARKDOWN)
    quote_post_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class ReportIn(BaseModel):
    reason: str = Field(min_length=1, max_length=300)


class ReportOut(BaseModel):
    id: int
    post_id: int
    state: str


def _reader() -> Reader:
    return Reader.of(db.session(), current_user, "app")


def _error(exc: ForumError) -> ApiError:
    if isinstance(exc, NotFound):
        return ApiError(404, "not_found", exc.reason)
    if isinstance(exc, NotAllowed):
        return ApiError(403, "forbidden", exc.reason)
    if isinstance(exc, RateLimited):
        return ApiError(429, "rate_limited", exc.reason)
    if exc.field in ("title", "body", "reason", "quote_post_id", "images"):
        return ApiError(422, "invalid", exc.reason, {exc.field: exc.reason})
    return ApiError(409, "refused", exc.reason)


def _topic_out(t: PortalForumTopic) -> TopicOut:
    return TopicOut(id=t.id, board_id=t.board_id, title=t.title,
                    author=service.author_label(t.author), pinned=t.pinned, locked=t.locked,
                    pending=t.pending, reply_count=t.reply_count, last_post_at=t.last_post_at,
                    created_at=t.created_at)


def _post_out(p: PortalForumPost, r: Reader, quoted: dict[int, PortalForumPost]) -> PostOut:
    quote = None
    if p.quote_post_id and p.quote_post_id in quoted:
        q = quoted[p.quote_post_id]
        quote = QuoteOut(post_id=q.id, author=service.author_label(q.author),
                         excerpt=markdown.excerpt(q.body_html))
    return PostOut(id=p.id, topic_id=p.topic_id, author=service.author_label(p.author),
                   mine=p.author_id is not None and p.author_id == r.account_id, state=p.state,
                   review_note=p.review_note if p.state != PostState.VISIBLE else None,
                   html=str(markdown.shown(p.body_html)), quote=quote,
                   created_at=p.created_at, edited_at=p.edited_at)


@api.route("/forum/boards")
@operation("门户论坛：版块列表", tags=TAG, response=list[BoardOut])
def api_forum_boards() -> Any:
    stats = service.board_list(db.session(), _reader())
    return [BoardOut(id=b.board.id, name=b.board.name, description=b.board.description,
                     org_id=b.board.org_id, premoderated=b.board.premoderated,
                     archived=b.board.archived, topics=b.topics, posts=b.posts,
                     last_post_at=b.last_post_at) for b in stats]


@api.route("/forum/boards/<int:board_id>/topics")
@operation("门户论坛：版块的主题（置顶在前，按最后回复时间倒序）", tags=TAG,
           response=Page[TopicOut], params=PAGE_PARAMS, errors=(400, 404))
def api_forum_topics(board_id: int) -> Any:
    r = _reader()
    try:
        board = service.get_board(db.session(), r, board_id)
    except ForumError as exc:
        raise _error(exc) from None
    return paginate(service.topics_query(r, board.id), _topic_out)


@api.route("/forum/topics/<int:topic_id>")
@operation("门户论坛：主题与回复（分页）", tags=TAG, response=TopicDetailOut,
           params=PAGE_PARAMS, errors=(400, 404))
def api_forum_topic(topic_id: int) -> Any:
    r = _reader()
    s = db.session()
    try:
        topic = service.get_topic(s, r, topic_id)
    except ForumError as exc:
        raise _error(exc) from None
    page_args()  # validates page/per_page before any query
    posts = paginate(service.posts_query(r, topic.id), lambda p: p)
    ids = {p.quote_post_id for p in posts["items"] if p.quote_post_id}
    quoted = {q.id: q for q in s.scalars(
        select(PortalForumPost).join(PortalForumTopic,
                                     PortalForumTopic.id == PortalForumPost.topic_id)
        .where(PortalForumPost.id.in_(ids), service.post_clause(r)))} if ids else {}
    moderating = r.moderates(topic.board_id)
    posts["items"] = [_post_out(p, r, quoted) for p in posts["items"]]
    return TopicDetailOut(
        topic=_topic_out(topic), subscribed=service.is_subscribed(s, r.account_id, topic.id),
        can_reply=(r.may_post or moderating) and topic.shown and not topic.board.archived
        and (not topic.locked or moderating),
        posts=Page[PostOut](**posts))


@api.route("/forum/boards/<int:board_id>/topics", methods=["POST"])
@operation("门户论坛：发新主题（Markdown）", tags=TAG, body=TopicIn, response=TopicOut,
           status=201, errors=(403, 404, 409, 422, 429),
           description="正文为 Markdown（不支持 HTML）。含需审核的敏感词或在先审后发的版块时，"
                       "主题进入待审核（pending 为 true），版主通过后公开。")
def api_forum_create_topic(board_id: int, data: TopicIn) -> Any:
    r = _reader()
    s = db.session()
    try:
        post = service.create_topic(s, r, board_id, data.title, data.body)
        s.commit()
    except ForumError as exc:
        s.rollback()
        raise _error(exc) from None
    return _topic_out(post.topic)


@api.route("/forum/topics/<int:topic_id>/posts", methods=["POST"])
@operation("门户论坛：回复主题（可引用本主题的一条回复）", tags=TAG, body=ReplyIn,
           response=PostOut, status=201, errors=(403, 404, 409, 422, 429))
def api_forum_reply(topic_id: int, data: ReplyIn) -> Any:
    r = _reader()
    s = db.session()
    try:
        post = service.reply(s, r, topic_id, data.body, data.quote_post_id)
        s.commit()
    except ForumError as exc:
        s.rollback()
        raise _error(exc) from None
    quoted = {}
    if post.quote_post_id:
        q = s.get(PortalForumPost, post.quote_post_id)
        quoted = {q.id: q} if q is not None else {}
    return _post_out(post, r, quoted)


@api.route("/forum/posts/<int:post_id>/report", methods=["POST"])
@operation("门户论坛：举报一条帖子（每人每帖一次）", tags=TAG, body=ReportIn,
           response=ReportOut, status=201, errors=(403, 404, 409, 422))
def api_forum_report(post_id: int, data: ReportIn) -> Any:
    r = _reader()
    s = db.session()
    try:
        row = moderation.report(s, r, post_id, data.reason)
        s.commit()
    except ForumError as exc:
        s.rollback()
        raise _error(exc) from None
    return ReportOut(id=row.id, post_id=row.post_id, state=row.state)
