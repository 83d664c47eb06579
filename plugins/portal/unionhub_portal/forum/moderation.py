"""Moderation: scope, the review queue, actions on posts, topics and reports, boards and the
sensitive-word list — every action written to the append-only moderation log in the same
transaction.

Scope (in SQL): ``portal.forum.moderate`` granted at an org covers the boards of that org's
subtree; a city-wide board (no org) counts as the root org's, so only a grant at the city
covers it. :func:`moderation_clause` is the WHERE clause; every action re-checks the board of
the thing it acts on through it, so a moderator of another district gets :class:`NotAllowed`.

Members report a post once (a unique constraint decides, even for two requests at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unionhub.access.service import can, scope_filter
from unionhub.db import utcnow
from unionhub.i18n import _
from unionhub.identity.models import Account
from unionhub.orgs.models import Org

from ..models import PortalSection, SectionKind
from .models import (
    PortalForumBoard,
    PortalForumLog,
    PortalForumPost,
    PortalForumReport,
    PortalForumTopic,
    PortalForumWord,
    PostState,
    ReportState,
    WordLevel,
)
from .service import (
    MODERATE,
    ForumError,
    NotAllowed,
    NotFound,
    Reader,
    _lock_topic,
    get_post,
    notify_reply,
    refresh_topic,
)

Board, Topic, Post, Report = PortalForumBoard, PortalForumTopic, PortalForumPost, PortalForumReport

ACTION_LABELS = {
    "approve": "通过审核", "reject": "驳回", "hide": "隐藏", "restore": "恢复", "delete": "删除",
    "lock": "锁定", "unlock": "解锁", "pin": "置顶", "unpin": "取消置顶", "move": "移动",
    "resolve": "处理举报", "dismiss": "驳回举报", "board_create": "新建版块",
    "board_update": "修改版块", "word_add": "添加敏感词", "word_remove": "删除敏感词",
}
WORD_LEVEL_LABELS = {WordLevel.REVIEW: "送审", WordLevel.BLOCK: "禁止发布"}
REPORT_STATE_LABELS = {ReportState.OPEN: "待处理", ReportState.RESOLVED: "已处理",
                       ReportState.DISMISSED: "已驳回"}


def _root_path() -> Any:
    return (select(Org.path).where(Org.parent_id.is_(None)).order_by(Org.id).limit(1)
            .scalar_subquery())


def board_path() -> ColumnElement[str]:
    """The org path a board is moderated under (the root's for a city-wide board)."""
    own = select(Org.path).where(Org.id == Board.org_id).correlate(Board).scalar_subquery()
    return func.coalesce(own, _root_path())


def moderation_clause(account: Account | None) -> ColumnElement[bool]:
    """True for the boards ``account`` moderates."""
    return scope_filter(account, MODERATE, board_path())


def moderated_board_ids(session: Session, account: Account) -> list[int]:
    if not can(account, MODERATE):
        return []
    return list(session.scalars(select(Board.id).where(moderation_clause(account))))


def can_moderate_org(session: Session, account: Account, org_id: int | None) -> bool:
    """May ``account`` own a board of ``org_id`` (None: city-wide)?"""
    path = (select(Org.path).where(Org.id == org_id).scalar_subquery() if org_id is not None
            else _root_path())
    return bool(session.scalar(select(scope_filter(account, MODERATE, path))))


def _require(reader: Reader, board_id: int) -> Account:
    if reader.account is None or not reader.moderates(board_id):
        raise NotAllowed(_("您无权管理该版块"))
    return reader.account


def log(session: Session, reader: Reader, action: str, *, board_id: int | None = None,
        topic_id: int | None = None, post_id: int | None = None, report_id: int | None = None,
        **detail: Any) -> PortalForumLog:
    row = PortalForumLog(moderator_id=reader.account_id, action=action, board_id=board_id,
                         topic_id=topic_id, post_id=post_id, report_id=report_id,
                         detail={k: v for k, v in detail.items() if v is not None},
                         created_at=utcnow())
    session.add(row)
    return row


# -- the queue ---------------------------------------------------------------------------------


def pending_posts(reader: Reader) -> Select[tuple[Post]]:
    """Posts awaiting review in the reader's boards, oldest first."""
    return (select(Post).join(Topic, Topic.id == Post.topic_id)
            .where(Post.state == PostState.PENDING, Topic.deleted.is_(False),
                   Topic.board_id.in_(reader.moderated))
            .order_by(Post.id))


def open_reports(reader: Reader) -> Select[tuple[Report]]:
    return (select(Report).join(Post, Post.id == Report.post_id)
            .join(Topic, Topic.id == Post.topic_id)
            .where(Report.state == ReportState.OPEN, Topic.board_id.in_(reader.moderated))
            .order_by(Report.id))


def queue_counts(session: Session, reader: Reader) -> tuple[int, int]:
    def count(stmt: Select[Any]) -> int:
        return int(session.scalar(select(func.count()).select_from(
            stmt.order_by(None).subquery())) or 0)

    return count(pending_posts(reader)), count(open_reports(reader))


def log_entries(reader: Reader) -> Select[tuple[PortalForumLog]]:
    """The log of the reader's boards (and the word list, which is shared), newest first."""
    return (select(PortalForumLog)
            .where(PortalForumLog.board_id.in_(reader.moderated)
                   | PortalForumLog.action.in_(("word_add", "word_remove")))
            .order_by(PortalForumLog.id.desc()))


# -- posts -------------------------------------------------------------------------------------


def _post_for(session: Session, reader: Reader, post_id: int) -> tuple[Post, Topic]:
    post = session.get(Post, post_id)
    if post is None:
        raise NotFound(_("没有这条回复"))
    _require(reader, post.topic.board_id)
    topic = _lock_topic(session, post.topic_id)
    # read the post again under the topic's lock: another moderator (or its author) may have
    # changed its state since it was loaded, and every check below must see that
    session.refresh(post)
    return post, topic


def approve(session: Session, reader: Reader, post_id: int) -> Post:
    post, topic = _post_for(session, reader, post_id)
    if post.state != PostState.PENDING:
        raise ForumError(_("该帖子不在待审核状态"))
    post.state, post.review_note = PostState.VISIBLE, None
    if post.is_first:
        topic.pending = False
    refresh_topic(session, topic)
    if not post.is_first and topic.shown:
        notify_reply(session, post)
    log(session, reader, "approve", board_id=topic.board_id, topic_id=topic.id, post_id=post.id)
    return post


def reject(session: Session, reader: Reader, post_id: int, reason: str = "") -> Post:
    post, topic = _post_for(session, reader, post_id)
    if post.state != PostState.PENDING:
        raise ForumError(_("该帖子不在待审核状态"))
    reason = reason.strip()[:200]
    post.state, post.review_note = PostState.DELETED, reason or _("审核未通过")
    if post.is_first:
        topic.deleted = True
    refresh_topic(session, topic)
    log(session, reader, "reject", board_id=topic.board_id, topic_id=topic.id, post_id=post.id,
        reason=reason or None)
    return post


def set_post_state(session: Session, reader: Reader, post_id: int, action: str,
                   reason: str = "") -> Post:
    """``hide``, ``restore`` or ``delete`` one reply (the opening post stands for its topic:
    acting on it acts on the topic)."""
    post, topic = _post_for(session, reader, post_id)
    if post.is_first:
        set_topic_flag(session, reader, topic.id, action, reason)
        return post
    if action == "hide":
        if post.state != PostState.VISIBLE:
            raise ForumError(_("只能隐藏已发布的回复"))
        post.state = PostState.HIDDEN
    elif action == "restore":
        if post.state not in (PostState.HIDDEN, PostState.DELETED):
            raise ForumError(_("该回复无需恢复"))
        post.state = PostState.VISIBLE
    elif action == "delete":
        if post.state == PostState.DELETED:
            raise ForumError(_("该回复已删除"))
        post.state = PostState.DELETED
    else:
        raise ForumError(_("未知操作"))
    refresh_topic(session, topic)
    log(session, reader, action, board_id=topic.board_id, topic_id=topic.id, post_id=post.id,
        reason=reason.strip()[:200] or None)
    return post


# -- topics ------------------------------------------------------------------------------------

_FLAGS = {"lock": ("locked", True), "unlock": ("locked", False), "pin": ("pinned", True),
          "unpin": ("pinned", False), "hide": ("hidden", True), "delete": ("deleted", True)}


def set_topic_flag(session: Session, reader: Reader, topic_id: int, action: str,
                   reason: str = "") -> Topic:
    """lock/unlock, pin/unpin, hide, restore (from hidden or deleted), delete (soft)."""
    topic = session.get(Topic, topic_id)
    if topic is None:
        raise NotFound(_("没有这个主题"))
    _require(reader, topic.board_id)
    topic = _lock_topic(session, topic_id)
    if action == "restore":
        if not (topic.hidden or topic.deleted):
            raise ForumError(_("该主题无需恢复"))
        topic.hidden = topic.deleted = False
    elif action in _FLAGS:
        attr, value = _FLAGS[action]
        if getattr(topic, attr) == value:
            raise ForumError(_("该主题已是此状态"))
        setattr(topic, attr, value)
    else:
        raise ForumError(_("未知操作"))
    log(session, reader, action, board_id=topic.board_id, topic_id=topic.id,
        reason=reason.strip()[:200] or None)
    session.flush()
    return topic


def move_topic(session: Session, reader: Reader, topic_id: int, board_id: int) -> Topic:
    """Move a topic to another board; the moderator must moderate both."""
    topic = session.get(Topic, topic_id)
    if topic is None:
        raise NotFound(_("没有这个主题"))
    _require(reader, topic.board_id)
    target = session.get(Board, board_id)
    if target is None or not reader.moderates(board_id):
        raise NotAllowed(_("您无权把主题移到该版块"))
    topic = _lock_topic(session, topic_id)
    if target.id == topic.board_id:
        raise ForumError(_("主题已在该版块"), "board_id")
    source = topic.board_id
    topic.board_id = target.id
    log(session, reader, "move", board_id=target.id, topic_id=topic.id, from_board=source)
    session.flush()
    return topic


# -- reports -----------------------------------------------------------------------------------


def report(session: Session, reader: Reader, post_id: int, reason: str) -> Report:
    """A member reports a post they can see (once per post)."""
    if reader.account is None:
        raise NotAllowed(_("请先登录"))
    if not reader.may_post:
        raise NotAllowed(_("您没有举报的权限"))
    post = get_post(session, reader, post_id)
    reason = " ".join((reason or "").split())
    if len(reason) < 2:
        raise ForumError(_("请写明举报理由（至少 2 个字）"), "reason")
    if len(reason) > 300:
        raise ForumError(_("举报理由不能超过 300 个字"), "reason")
    if already_reported(session, reader.account.id, post.id):
        raise ForumError(_("您已举报过这条帖子，版主会尽快处理"))
    row = Report(post_id=post.id, reporter_id=reader.account.id, reason=reason,
                 created_at=utcnow())
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise ForumError(_("您已举报过这条帖子，版主会尽快处理")) from None
    return row


def already_reported(session: Session, account_id: int | None, post_id: int) -> bool:
    return account_id is not None and bool(session.scalar(select(exists().where(
        Report.post_id == post_id, Report.reporter_id == account_id))))


def close_report(session: Session, reader: Reader, report_id: int, action: str,
                 resolution: str = "", hide_post: bool = False) -> Report:
    """``resolve`` (optionally hiding the post) or ``dismiss`` an open report (its row locked
    first, so two moderators closing it at once cannot both do so)."""
    row = session.scalar(select(Report).where(Report.id == report_id)
                         .with_for_update(of=Report)
                         .execution_options(populate_existing=True))
    if row is None:
        raise NotFound(_("没有这条举报"))
    board_id = row.post.topic.board_id
    _require(reader, board_id)
    if row.state != ReportState.OPEN:
        raise ForumError(_("该举报已处理"))
    if action not in ("resolve", "dismiss"):
        raise ForumError(_("未知操作"))
    resolution = " ".join((resolution or "").split())[:300]
    if hide_post and action == "resolve":
        post = row.post
        if post.is_first and not (post.topic.hidden or post.topic.deleted):
            set_topic_flag(session, reader, post.topic_id, "hide", resolution)
        elif not post.is_first and post.state == PostState.VISIBLE:
            set_post_state(session, reader, post.id, "hide", resolution)
    row.state = ReportState.RESOLVED if action == "resolve" else ReportState.DISMISSED
    row.moderator_id, row.resolution, row.resolved_at = reader.account_id, resolution, utcnow()
    log(session, reader, action, board_id=board_id, topic_id=row.post.topic_id,
        post_id=row.post_id, report_id=row.id, resolution=resolution or None)
    session.flush()
    return row


# -- boards ------------------------------------------------------------------------------------


@dataclass
class BoardInput:
    name: str
    section_id: int
    org_id: int | None = None
    description: str = ""
    premoderated: bool = False
    sort: int = 0
    archived: bool = False


def forum_sections(session: Session) -> list[PortalSection]:
    return list(session.scalars(select(PortalSection).where(
        PortalSection.kind == SectionKind.FORUM).order_by(PortalSection.sort, PortalSection.id)))


def _check_board(session: Session, reader: Reader, data: BoardInput) -> None:
    if reader.account is None:
        raise NotAllowed(_("请先登录"))
    name = " ".join(data.name.split())
    if not 2 <= len(name) <= 60:
        raise ForumError(_("版块名称应为 2–60 个字"), "name")
    data.name = name
    data.description = " ".join((data.description or "").split())
    if len(data.description) > 300:
        raise ForumError(_("版块说明不能超过 300 个字"), "description")
    section = session.get(PortalSection, data.section_id)
    if section is None or section.kind != SectionKind.FORUM:
        raise ForumError(_("请选择论坛类栏目"), "section_id")
    if data.org_id is not None and session.get(Org, data.org_id) is None:
        raise ForumError(_("没有这个工会组织"), "org_id")
    if not can_moderate_org(session, reader.account, data.org_id):
        raise NotAllowed(_("您无权管理该工会的版块（全市版块需市总授权）"))


def create_board(session: Session, reader: Reader, data: BoardInput) -> Board:
    _check_board(session, reader, data)
    board = Board(name=data.name, section_id=data.section_id, org_id=data.org_id,
                  description=data.description or None, premoderated=data.premoderated,
                  sort=data.sort, archived=data.archived, created_at=utcnow())
    session.add(board)
    session.flush()
    log(session, reader, "board_create", board_id=board.id, name=board.name)
    return board


def update_board(session: Session, reader: Reader, board_id: int, data: BoardInput) -> Board:
    board = session.get(Board, board_id)
    if board is None:
        raise NotFound(_("没有这个版块"))
    _require(reader, board.id)
    _check_board(session, reader, data)
    changes = {}
    for attr in ("name", "section_id", "org_id", "premoderated", "sort", "archived"):
        if getattr(board, attr) != getattr(data, attr):
            changes[attr] = getattr(data, attr)
            setattr(board, attr, getattr(data, attr))
    board.description = data.description or None
    log(session, reader, "board_update", board_id=board.id, **{
        k: v for k, v in changes.items() if isinstance(v, (str, int, bool))})
    session.flush()
    return board


# -- sensitive words ---------------------------------------------------------------------------


def add_word(session: Session, reader: Reader, word: str, level: str) -> PortalForumWord:
    if reader.account is None or not reader.is_moderator:
        raise NotAllowed(_("只有版主可以维护敏感词"))
    word = " ".join((word or "").split())
    if not 1 <= len(word) <= 40:
        raise ForumError(_("敏感词应为 1–40 个字"), "word")
    if level not in (WordLevel.REVIEW, WordLevel.BLOCK):
        raise ForumError(_("请选择处理方式"), "level")
    if session.scalar(select(PortalForumWord.id).where(
            func.lower(PortalForumWord.word) == word.lower())) is not None:
        raise ForumError(_("“%(word)s”已在列表中", word=word), "word")
    row = PortalForumWord(word=word, level=level, created_by=reader.account_id,
                          created_at=utcnow())
    session.add(row)
    session.flush()
    log(session, reader, "word_add", word=word, level=level)
    return row


def remove_word(session: Session, reader: Reader, word_id: int) -> None:
    if reader.account is None or not reader.is_moderator:
        raise NotAllowed(_("只有版主可以维护敏感词"))
    row = session.get(PortalForumWord, word_id)
    if row is None:
        raise NotFound(_("没有这个敏感词"))
    log(session, reader, "word_remove", word=row.word, level=row.level)
    session.delete(row)
    session.flush()


def words(session: Session) -> list[PortalForumWord]:
    return list(session.scalars(select(PortalForumWord).order_by(PortalForumWord.word)))


def moderation_boards(session: Session, reader: Reader) -> list[Board]:
    """Boards the reader moderates (for the board list and the move form)."""
    if not reader.moderated:
        return []
    return list(session.scalars(select(Board).where(Board.id.in_(reader.moderated))
                                .order_by(Board.sort, Board.id)))

