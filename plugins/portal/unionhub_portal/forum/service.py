"""Forum rules: who sees which board, topic and post (as SQL), and posting.

Reading. :class:`Reader` is the viewer of :mod:`unionhub_portal.audience` plus the boards the
account moderates (one SQL query over the role grants, see :mod:`.moderation`). A board is
shown when its section (kind ``forum``) is shown to the viewer and the board is city-wide or the
viewer is a member of its org's subtree — or when the reader moderates it. A topic is shown when
it is not pending, hidden nor deleted; a post when it is visible; moderators of the board see
everything, an author their own pending topics and posts.

Posting (:func:`create_topic`, :func:`reply`, :func:`edit`) checks, in order: the text, the
sensitive words (a ``block`` word refuses the post and names the word; a ``review`` word sends
it to the review queue with a note), the per-account rate limit, then the board and topic
(archived boards and locked topics refuse). A pre-moderated board holds every post for review.
Moderators' own posts in their boards are never held (they are the reviewers), but ``block``
words refuse them too.

The rate limit (setting ``portal.forum_posts_per_10min``; 0 turns it off) counts the account's
posts of the last ten minutes *after* locking the account's row in ``portal_forum_poster``
(an upsert: the row is created or locked in one statement). A second post by the same account
waits for the first transaction to end and then counts its post, so two requests at once can
never both slip under the limit.

A reply locks its topic's row before checking ``locked`` and before recounting
``reply_count``/``last_post_at`` (:func:`refresh_topic`), so the counts stay exact when several
people reply at once or a moderator acts meanwhile. Lock order is always poster row, then topic.

Callers commit or roll back: every function raises :class:`ForumError` (with a message for the
user) before leaving anything half-written in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import Session

from unionhub.access.service import can
from unionhub.db import utcnow
from unionhub.groups.models import MemberGroupMember
from unionhub.i18n import _
from unionhub.identity.models import Account, Member, MemberStatus
from unionhub.identity.numbers import mask_name
from unionhub.orgs.models import Org

from ..audience import Platform, Viewer, section_clause
from ..models import PortalSection, PortalSectionGroup, SectionKind
from . import markdown
from .models import (
    PortalForumBoard,
    PortalForumImage,
    PortalForumPost,
    PortalForumPoster,
    PortalForumSubscription,
    PortalForumTopic,
    PortalForumWord,
    PostState,
    WordLevel,
)

POST = "portal.forum.post"
MODERATE = "portal.forum.moderate"
RATE_SETTING = "portal.forum_posts_per_10min"
RATE_WINDOW = timedelta(minutes=10)
EDIT_WINDOW = timedelta(minutes=30)
TITLE_MAX = 120
MAX_IMAGES = 6
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif",
               "webp": "image/webp"}
TOPICS_PER_PAGE = 20
POSTS_PER_PAGE = 20

Board, Topic, Post = PortalForumBoard, PortalForumTopic, PortalForumPost

STATE_LABELS = {PostState.VISIBLE: "已发布", PostState.PENDING: "待审核",
                PostState.HIDDEN: "已隐藏", PostState.DELETED: "已删除"}


class ForumError(Exception):
    """A refusal with a message for the user (nothing was changed)."""

    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.field = reason, field


class NotAllowed(ForumError):
    """The account may not do this (403)."""


class NotFound(ForumError):
    """No such thing, or not for this reader (404: never reveal that it exists)."""


class RateLimited(ForumError):
    """Too many posts in the window (429)."""


# -- who is reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """A viewer on a platform plus what the account may do in the forum."""

    viewer: Viewer
    account: Account | None = None
    #: Ids of the boards this account moderates (decided in SQL by :mod:`.moderation`).
    moderated: frozenset[int] = field(default_factory=frozenset)
    may_post: bool = False

    @property
    def account_id(self) -> int | None:
        return self.account.id if self.account is not None else None

    @property
    def is_moderator(self) -> bool:
        return bool(self.moderated)

    def moderates(self, board_id: int) -> bool:
        return board_id in self.moderated

    @classmethod
    def of(cls, session: Session, account: Any, platform: Platform = "pc") -> Reader:
        from .moderation import moderated_board_ids

        viewer = Viewer.of(session, account, platform)
        if account is None or getattr(account, "is_anonymous", True) or not account.is_active:
            return cls(viewer)
        return cls(viewer, account, frozenset(moderated_board_ids(session, account)),
                   can(account, POST))


def _member_boards(viewer: Viewer) -> ColumnElement[bool]:
    """Boards the member rule shows (the query joins :class:`PortalSection`)."""
    org = (Board.org_id.is_(None) if viewer.anonymous
           else or_(Board.org_id.is_(None), Board.org_id.in_(viewer.org_ids)))
    return and_(PortalSection.kind == SectionKind.FORUM, section_clause(viewer), org)


def board_clause(reader: Reader) -> ColumnElement[bool]:
    """True for boards ``reader`` may see (the query joins :class:`PortalSection`)."""
    member = _member_boards(reader.viewer)
    if reader.moderated:
        return or_(member, Board.id.in_(reader.moderated))
    return member


def _mine(model: type[Topic] | type[Post], reader: Reader) -> ColumnElement[bool]:
    return (model.author_id == reader.account_id if reader.account_id is not None
            else false())


def topic_clause(reader: Reader) -> ColumnElement[bool]:
    """True for topics ``reader`` may see, board aside."""
    shown = and_(Topic.pending.is_(False), Topic.hidden.is_(False), Topic.deleted.is_(False))
    own_pending = and_(Topic.pending.is_(True), Topic.hidden.is_(False),
                       Topic.deleted.is_(False), _mine(Topic, reader))
    clause = or_(shown, own_pending)
    if reader.moderated:
        clause = or_(clause, Topic.board_id.in_(reader.moderated))
    return clause


def post_clause(reader: Reader) -> ColumnElement[bool]:
    """True for posts ``reader`` may see, topic aside (the query joins :class:`Topic`)."""
    clause = or_(Post.state == PostState.VISIBLE,
                 and_(Post.state == PostState.PENDING, _mine(Post, reader)))
    if reader.moderated:
        clause = or_(clause, Topic.board_id.in_(reader.moderated))
    return clause


def boards_query(reader: Reader) -> Select[tuple[Board]]:
    return (select(Board).join(PortalSection, PortalSection.id == Board.section_id)
            .where(board_clause(reader)))


def get_board(session: Session, reader: Reader, board_id: int) -> Board:
    board = session.scalar(boards_query(reader).where(Board.id == board_id))
    if board is None:
        raise NotFound(_("没有这个版块"))
    return board


def topics_query(reader: Reader, board_id: int) -> Select[tuple[Topic]]:
    """The board's topics for ``reader``: pinned first, then by last activity."""
    return (select(Topic).where(Topic.board_id == board_id, topic_clause(reader))
            .order_by(Topic.pinned.desc(), Topic.last_post_at.desc(), Topic.id.desc()))


def get_topic(session: Session, reader: Reader, topic_id: int) -> Topic:
    topic = session.scalar(
        select(Topic).join(Board, Board.id == Topic.board_id)
        .join(PortalSection, PortalSection.id == Board.section_id)
        .where(Topic.id == topic_id, topic_clause(reader), board_clause(reader)))
    if topic is None:
        raise NotFound(_("没有这个主题，或已被删除"))
    return topic


def posts_query(reader: Reader, topic_id: int) -> Select[tuple[Post]]:
    return (select(Post).join(Topic, Topic.id == Post.topic_id)
            .where(Post.topic_id == topic_id, post_clause(reader)).order_by(Post.id))


def get_post(session: Session, reader: Reader, post_id: int) -> Post:
    """A post ``reader`` may see (in a topic and board they may see)."""
    post = session.scalar(
        select(Post).join(Topic, Topic.id == Post.topic_id)
        .join(Board, Board.id == Topic.board_id)
        .join(PortalSection, PortalSection.id == Board.section_id)
        .where(Post.id == post_id, post_clause(reader), topic_clause(reader),
               board_clause(reader)))
    if post is None:
        raise NotFound(_("没有这条回复，或已被删除"))
    return post


def post_page(session: Session, reader: Reader, post: Post,
              per_page: int = POSTS_PER_PAGE) -> int:
    """The page of its topic on which ``post`` appears for ``reader``."""
    before = session.scalar(select(func.count()).select_from(
        posts_query(reader, post.topic_id).where(Post.id < post.id).order_by(None).subquery()))
    return int(before or 0) // per_page + 1


@dataclass
class BoardStats:
    board: Board
    topics: int = 0
    posts: int = 0
    last_post_at: datetime | None = None


def board_list(session: Session, reader: Reader) -> list[BoardStats]:
    """The boards ``reader`` sees with their shown topics, visible posts and last activity
    (two grouped queries, whatever the number of boards)."""
    boards = list(session.scalars(boards_query(reader).order_by(
        Board.archived, Board.sort, Board.id)))
    stats = {b.id: BoardStats(b) for b in boards}
    if not boards:
        return []
    shown = and_(Topic.pending.is_(False), Topic.hidden.is_(False), Topic.deleted.is_(False),
                 Topic.board_id.in_(stats))
    for board_id, topics, last in session.execute(
            select(Topic.board_id, func.count(), func.max(Topic.last_post_at))
            .where(shown).group_by(Topic.board_id)):
        stats[board_id].topics, stats[board_id].last_post_at = topics, last
    for board_id, posts in session.execute(
            select(Topic.board_id, func.count()).join(Post, Post.topic_id == Topic.id)
            .where(shown, Post.state == PostState.VISIBLE).group_by(Topic.board_id)):
        stats[board_id].posts = posts
    return list(stats.values())


def author_label(account: Account | None) -> str:
    """How an author is shown: a member's masked name, an officer's display name."""
    if account is None:
        return _("已注销用户")
    if account.member is not None:
        return mask_name(account.member.name)
    return account.display_name


def my_posts(account_id: int) -> Select[tuple[Post]]:
    """The account's posts, newest first (every state: the author sees what became of them)."""
    return select(Post).where(Post.author_id == account_id).order_by(Post.id.desc())


# -- text checks -------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def find_words(session: Session, *texts: str) -> tuple[str | None, str | None]:
    """(the first ``block`` word found, the first ``review`` word found) in ``texts``."""
    haystack = _normalise(" ".join(texts))
    block = review = None
    for word, level in session.execute(
            select(PortalForumWord.word, PortalForumWord.level).order_by(PortalForumWord.id)):
        if _normalise(word) and _normalise(word) in haystack:
            if level == WordLevel.BLOCK and block is None:
                block = word
            elif level != WordLevel.BLOCK and review is None:
                review = word
    return block, review


def _clean_title(title: str | None) -> str:
    title = " ".join((title or "").split())
    if len(title) < 2:
        raise ForumError(_("请填写标题（至少 2 个字）"), "title")
    if len(title) > TITLE_MAX:
        raise ForumError(_("标题不能超过 %(n)s 个字", n=TITLE_MAX), "title")
    return title


def _clean_body(body: str | None, *, allow_empty: bool = False) -> str:
    body = (body or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if not body and not allow_empty:
        raise ForumError(_("请填写内容"), "body")
    if len(body) > markdown.MAX_MARKDOWN:
        raise ForumError(_("内容不能超过 %(n)s 个字", n=markdown.MAX_MARKDOWN), "body")
    return body


# -- images ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def sniff_image(data: bytes) -> str | None:
    """The image type from the magic bytes (JPEG, PNG, GIF, WebP), or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _check_uploads(uploads: Iterable[Upload]) -> list[tuple[Upload, str]]:
    out: list[tuple[Upload, str]] = []
    for up in uploads:
        if not up.data:
            continue
        kind = sniff_image(up.data)
        if kind is None:
            raise ForumError(_("“%(name)s”不是 JPEG、PNG、GIF 或 WebP 图片",
                               name=up.filename[:60]), "images")
        if len(up.data) > MAX_IMAGE_BYTES:
            raise ForumError(_("图片“%(name)s”超过 %(mb)s MB", name=up.filename[:60],
                               mb=MAX_IMAGE_BYTES // (1024 * 1024)), "images")
        out.append((up, kind))
    if len(out) > MAX_IMAGES:
        raise ForumError(_("每条最多 %(n)s 张图片", n=MAX_IMAGES), "images")
    return out


def images_dir() -> Path:
    return Path(current_app.instance_path) / "portal" / "forum"


def image_url(image_id: int) -> str:
    return f"/portal/forum/images/{image_id}"


def _store_images(session: Session, post: Post, checked: Sequence[tuple[Upload, str]],
                  account_id: int | None) -> list[PortalForumImage]:
    rows: list[PortalForumImage] = []
    if not checked:
        return rows
    folder = images_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for up, kind in checked:
        name = f"{secrets.token_hex(16)}.{kind}"
        (folder / name).write_bytes(up.data)
        row = PortalForumImage(post_id=post.id, uploader_id=account_id,
                               filename=(up.filename or "image")[:200], stored_name=name,
                               content_type=IMAGE_TYPES[kind], size=len(up.data),
                               sha256=hashlib.sha256(up.data).hexdigest())
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def image_path(image: PortalForumImage) -> Path:
    return images_dir() / image.stored_name


def get_image(session: Session, readers: Sequence[Reader], image_id: int) -> PortalForumImage:
    """An image whose post one of ``readers`` (the same account on several platforms) may
    see."""
    image = session.get(PortalForumImage, image_id)
    if image is not None:
        for reader in readers:
            try:
                get_post(session, reader, image.post_id)
                return image
            except NotFound:
                continue
    raise NotFound(_("没有这张图片"))


# -- posting -----------------------------------------------------------------------------------


def _posting_account(reader: Reader, board: Board) -> Account:
    if reader.account is None:
        raise NotAllowed(_("请先登录"))
    if reader.moderates(board.id):
        return reader.account
    if not reader.may_post:
        raise NotAllowed(_("您没有在论坛发帖的权限"))
    return reader.account


def rate_limit() -> int:
    from unionhub.settings.service import get

    return int(get(RATE_SETTING) or 0) if has_app_context() else 5


def take_rate(session: Session, account_id: int, now: datetime) -> None:
    """Lock the account's poster row (creating it), then count its posts of the window."""
    from unionhub.notify.service import dialect_insert

    limit = rate_limit()
    table = PortalForumPoster.__table__
    stmt = dialect_insert(session, table).values(account_id=account_id, last_post_at=now)
    session.execute(stmt.on_conflict_do_update(index_elements=["account_id"],
                                               set_={"last_post_at": now}))
    if limit <= 0:
        return
    used = session.scalar(select(func.count()).select_from(Post).where(
        Post.author_id == account_id, Post.created_at > now - RATE_WINDOW)) or 0
    if used >= limit:
        raise RateLimited(_("发帖太频繁：每 10 分钟最多发 %(n)s 条，请稍后再试", n=limit))


def _screen(session: Session, reader: Reader, board: Board, *texts: str
            ) -> tuple[str, str | None]:
    """(state, review note) for new text, or ForumError for a ``block`` word."""
    block, review = find_words(session, *texts)
    if block is not None:
        raise ForumError(_("内容含有不允许发布的词语“%(word)s”，请修改后再发", word=block))
    if reader.moderates(board.id):
        return PostState.VISIBLE, None
    if review is not None:
        return PostState.PENDING, _("含敏感词“%(word)s”，待版主审核", word=review)
    if board.premoderated:
        return PostState.PENDING, _("本版块发帖需版主审核")
    return PostState.VISIBLE, None


def _attach(session: Session, post: Post, checked: Sequence[tuple[Upload, str]],
            account_id: int | None) -> None:
    """Store the uploads, add them to the Markdown, render it."""
    images = _store_images(session, post, checked, account_id)
    if images:
        lines = "\n".join(f"![{_md_alt(img.filename)}]({image_url(img.id)})" for img in images)
        post.body_md = f"{post.body_md}\n\n{lines}".strip()
    post.body_html = markdown.render(post.body_md)


def _md_alt(filename: str) -> str:
    return "".join(c for c in filename.rsplit(".", 1)[0] if c not in "[]()\\!*_`<>")[:60]


def subscribe(session: Session, account_id: int, topic_id: int) -> None:
    from unionhub.notify.service import dialect_insert

    session.execute(dialect_insert(session, PortalForumSubscription.__table__)
                    .values(account_id=account_id, topic_id=topic_id, created_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["account_id", "topic_id"]))


def unsubscribe(session: Session, account_id: int, topic_id: int) -> None:
    row = session.get(PortalForumSubscription, (account_id, topic_id))
    if row is not None:
        session.delete(row)


def is_subscribed(session: Session, account_id: int | None, topic_id: int) -> bool:
    return account_id is not None and session.get(
        PortalForumSubscription, (account_id, topic_id)) is not None


def create_topic(session: Session, reader: Reader, board_id: int, title: str, body: str,
                 uploads: Iterable[Upload] = (), now: datetime | None = None) -> Post:
    """A new topic with its opening post (returned; ``post.topic`` is the topic)."""
    now = now or utcnow()
    board = get_board(session, reader, board_id)
    account = _posting_account(reader, board)
    if board.archived:
        raise ForumError(_("该版块已归档，不能发新主题"))
    title = _clean_title(title)
    body = _clean_body(body)
    checked = _check_uploads(uploads)
    state, note = _screen(session, reader, board, title, body)
    take_rate(session, account.id, now)
    topic = Topic(board_id=board.id, author_id=account.id, title=title,
                  pending=state == PostState.PENDING, reply_count=0, last_post_at=now,
                  created_at=now)
    session.add(topic)
    session.flush()
    post = Post(topic_id=topic.id, author_id=account.id, is_first=True, body_md=body,
                body_html="", state=state, review_note=note, created_at=now)
    session.add(post)
    session.flush()
    _attach(session, post, checked, account.id)
    subscribe(session, account.id, topic.id)
    session.flush()
    return post


def _lock_topic(session: Session, topic_id: int) -> Topic:
    topic = session.scalar(select(Topic).where(Topic.id == topic_id)
                           .with_for_update(of=Topic).execution_options(populate_existing=True))
    if topic is None:
        raise NotFound(_("没有这个主题，或已被删除"))
    return topic


def reply(session: Session, reader: Reader, topic_id: int, body: str,
          quote_post_id: int | None = None, uploads: Iterable[Upload] = (),
          now: datetime | None = None) -> Post:
    """A reply (optionally quoting a post of the same topic)."""
    now = now or utcnow()
    topic = get_topic(session, reader, topic_id)
    board = topic.board
    account = _posting_account(reader, board)
    body = _clean_body(body)
    checked = _check_uploads(uploads)
    if quote_post_id is not None:
        quoted = get_post(session, reader, quote_post_id)
        if quoted.topic_id != topic.id:
            raise ForumError(_("只能引用本主题中的回复"), "quote_post_id")
    state, note = _screen(session, reader, board, body)
    take_rate(session, account.id, now)
    topic = _lock_topic(session, topic.id)
    if topic.deleted or topic.hidden or topic.pending:
        raise ForumError(_("该主题暂不能回复"))
    if board.archived:
        raise ForumError(_("该版块已归档，不能回复"))
    if topic.locked and not reader.moderates(board.id):
        raise ForumError(_("该主题已锁定，不能回复"))
    post = Post(topic_id=topic.id, author_id=account.id, is_first=False, body_md=body,
                body_html="", quote_post_id=quote_post_id, state=state, review_note=note,
                created_at=now)
    session.add(post)
    session.flush()
    _attach(session, post, checked, account.id)
    subscribe(session, account.id, topic.id)
    if state == PostState.VISIBLE:
        refresh_topic(session, topic)
        notify_reply(session, post)
    session.flush()
    return post


def edit(session: Session, reader: Reader, post_id: int, body: str, title: str | None = None,
         now: datetime | None = None) -> Post:
    """The author edits their post within :data:`EDIT_WINDOW` (the title too, for an opening
    post). The edit is screened again: it may go (back) to review."""
    now = now or utcnow()
    post = get_post(session, reader, post_id)
    if reader.account_id is None or post.author_id != reader.account_id:
        raise NotAllowed(_("只能编辑自己的帖子"))
    if now - post.created_at > EDIT_WINDOW:
        raise ForumError(_("发帖 30 分钟后不能再编辑"))
    body = _clean_body(body)
    topic = _lock_topic(session, post.topic_id)
    # the state is checked under the topic's lock (moderators take it too): a post hidden or
    # deleted while the author was typing must not come back with the edit
    session.refresh(post)
    if post.state not in (PostState.VISIBLE, PostState.PENDING):
        raise ForumError(_("该帖子已被隐藏或删除，不能编辑"))
    board = topic.board
    if topic.locked and not reader.moderates(board.id):
        raise ForumError(_("该主题已锁定，不能编辑"))
    new_title = _clean_title(title) if post.is_first and title is not None else topic.title
    state, note = _screen(session, reader, board, new_title, body)
    was_visible = post.state == PostState.VISIBLE
    if post.state == PostState.PENDING and state == PostState.VISIBLE \
            and not reader.moderates(board.id):
        state, note = PostState.PENDING, post.review_note  # an edit never skips the review
    post.body_md = body
    post.body_html = markdown.render(body)
    post.state, post.review_note, post.edited_at = state, note, now
    if post.is_first:
        topic.title = new_title
        topic.pending = state == PostState.PENDING
    session.flush()
    if was_visible != (state == PostState.VISIBLE):
        refresh_topic(session, topic)
    return post


def refresh_topic(session: Session, topic: Topic) -> None:
    """Recount ``reply_count`` and ``last_post_at`` from the posts (the caller holds the topic's
    row lock: see :func:`_lock_topic`)."""
    session.flush()
    visible = and_(Post.topic_id == topic.id, Post.state == PostState.VISIBLE)
    topic.reply_count = int(session.scalar(select(func.count()).select_from(Post).where(
        visible, Post.is_first.is_(False))) or 0)
    last = session.scalar(select(func.max(Post.created_at)).where(visible))
    topic.last_post_at = last or topic.created_at
    session.flush()


def notify_reply(session: Session, post: Post) -> None:
    """Tell the topic's subscribers about a visible reply: never its author, never someone who
    can no longer read the board (the notice quotes the reply), once per reply however often
    this runs. Readers are the active members the board's org and its forum section's audience
    (org subtree, member groups; nobody while the section is hidden) still let in."""
    from unionhub.notify import service as notify

    topic = post.topic
    board = topic.board
    section = board.section
    if section.hidden:
        return
    audience = (select(Account.member_id)
                .join(PortalForumSubscription, PortalForumSubscription.account_id == Account.id)
                .join(Member, Member.id == Account.member_id)
                .join(Org, Org.id == Member.org_id)
                .where(PortalForumSubscription.topic_id == topic.id,
                       Account.is_active.is_(True), Member.status == MemberStatus.ACTIVE,
                       Account.id != post.author_id if post.author_id is not None else true()))
    for org_id in {board.org_id, section.audience_org_id} - {None}:
        org_path = select(Org.path).where(Org.id == org_id).scalar_subquery()
        audience = audience.where(Org.path.like(org_path.concat("%")))
    if section.has_groups:
        audience = audience.where(exists(select(MemberGroupMember.member_id).where(
            MemberGroupMember.member_id == Member.id,
            MemberGroupMember.group_id.in_(select(PortalSectionGroup.group_id).where(
                PortalSectionGroup.section_id == section.id)))))
    notify.send(session, "portal.forum_reply", audience, {
        "title": topic.title[:40],
        "author": author_label(post.author),
        "excerpt": markdown.excerpt(post.body_html, 60),
        "post_id": post.id,
        "topic_id": topic.id,
    }, batch_key=f"forum-reply:{post.id}")


__all__ = [
    "EDIT_WINDOW", "MODERATE", "POST", "BoardStats", "ForumError", "NotAllowed", "NotFound",
    "RateLimited", "Reader", "Upload", "author_label", "board_clause", "board_list",
    "create_topic", "edit", "find_words", "get_board", "get_image", "get_post", "get_topic",
    "is_subscribed", "my_posts", "notify_reply", "post_clause", "post_page", "posts_query",
    "refresh_topic", "reply", "sniff_image", "subscribe", "take_rate", "topic_clause",
    "topics_query", "unsubscribe",
]
