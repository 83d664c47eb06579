"""Forum pages for members: the board list, a board's topics, a topic's posts, composing (new
topic, reply, quote, edit), reporting, subscribing, images, "我的帖子" and its profile panel.

The PC portal (``/portal/forum…``) and the mobile micro-site (``/portal/m/forum…``, see
:mod:`.mobile`) share these handlers and templates: a :class:`Ui` names the platform (for the
audience rule), the layout the templates extend and the endpoint prefix. Moderators act from
the topic page through the back office's endpoints (:mod:`.admin`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from unionhub import db
from unionhub.db import utcnow
from unionhub.i18n import _
from unionhub.web.pagination import paginate

from ..audience import Platform
from ..web import bp
from . import markdown, moderation, service
from .models import PortalForumPost, PortalForumTopic, PostState
from .service import ForumError, NotAllowed, NotFound, RateLimited, Reader, Upload

T = TypeVar("T")


@dataclass(frozen=True)
class Ui:
    """One surface of the forum: PC or mobile."""

    platform: Platform
    layout: str
    prefix: str  # endpoint prefix inside the blueprint: "" or "m_"

    def ep(self, name: str) -> str:
        return f"portal.{self.prefix}{name}"

    @property
    def mobile(self) -> bool:
        return self.platform == "mobile"


PC = Ui("pc", "portal/base.html", "")
MOBILE = Ui("mobile", "portal/m/base.html", "m_")


def reader(ui: Ui) -> Reader:
    from flask import g

    cache: dict[str, Reader] = g.setdefault("_forum_readers", {})
    if ui.platform not in cache:
        cache[ui.platform] = Reader.of(db.session(), current_user, ui.platform)
    return cache[ui.platform]


def _render(ui: Ui, template: str, status: int = 200, **ctx: Any) -> Any:
    return render_template(f"portal/forum/{template}", ui=ui, layout=ui.layout,
                           m_tab="forum", active_section="forum", author=service.author_label,
                           shown=markdown.shown, excerpt=markdown.excerpt,
                           state_labels=service.STATE_LABELS, PostState=PostState,
                           **ctx), status


def _fail(exc: ForumError) -> None:
    """404 for what the reader may not see, 403 for what they may not do (other refusals are
    shown on the form by the caller)."""
    if isinstance(exc, NotFound):
        abort(404)
    if isinstance(exc, NotAllowed):
        abort(403)


def _load(fn: Callable[..., T], *args: Any) -> T:
    """``fn(session, *args)`` or 404/403."""
    try:
        return fn(db.session(), *args)
    except NotFound:
        abort(404)
    except NotAllowed:
        abort(403)


def _uploads() -> list[Upload]:
    return [Upload(f.filename or "image", f.read()) for f in request.files.getlist("images")
            if f and f.filename]


def _quotes(posts: list[PortalForumPost], r: Reader) -> dict[int, PortalForumPost | None]:
    """The quoted post of each quoting post, when ``r`` may see it (None: not shown)."""
    ids = {p.quote_post_id for p in posts if p.quote_post_id}
    if not ids:
        return {}
    s = db.session()
    seen = {p.id: p for p in s.scalars(
        select(PortalForumPost).join(PortalForumTopic,
                                     PortalForumTopic.id == PortalForumPost.topic_id)
        .where(PortalForumPost.id.in_(ids), service.post_clause(r)))}
    return {i: seen.get(i) for i in ids}


# -- shared handlers ---------------------------------------------------------------------------


def index_page(ui: Ui) -> Any:
    r = reader(ui)
    return _render(ui, "index.html", boards=service.board_list(db.session(), r), reader=r)


def board_page(ui: Ui, board_id: int) -> Any:
    r = reader(ui)
    board = _load(service.get_board, r, board_id)
    page = paginate(service.topics_query(r, board.id), service.TOPICS_PER_PAGE)
    return _render(ui, "board.html", board=board, page=page, reader=r,
                   can_post=r.may_post or r.moderates(board.id))


def topic_page(ui: Ui, topic_id: int) -> Any:
    r = reader(ui)
    s = db.session()
    topic = _load(service.get_topic, r, topic_id)
    page = paginate(service.posts_query(r, topic.id), service.POSTS_PER_PAGE)
    moderating = r.moderates(topic.board_id)
    return _render(
        ui, "topic.html", topic=topic, board=topic.board, page=page, reader=r,
        quotes=_quotes(page.items, r), moderating=moderating,
        subscribed=service.is_subscribed(s, r.account_id, topic.id),
        can_reply=(r.may_post or moderating) and not topic.board.archived
        and (not topic.locked or moderating) and topic.shown,
        boards=moderation.moderation_boards(s, r) if moderating else [],
        now=utcnow(), edit_window=service.EDIT_WINDOW)


def post_link(ui: Ui, post_id: int) -> Any:
    r = reader(ui)
    s = db.session()
    post = _load(service.get_post, r, post_id)
    number = service.post_page(s, r, post)
    return redirect(url_for(ui.ep("forum_topic"), topic_id=post.topic_id, page=number)
                    + f"#p{post.id}")


def new_topic_page(ui: Ui, board_id: int) -> Any:
    r = reader(ui)
    s = db.session()
    board = _load(service.get_board, r, board_id)
    if not (r.may_post or r.moderates(board.id)):
        abort(403)
    form = {"title": request.form.get("title", ""), "body": request.form.get("body", "")}
    if request.method == "POST":
        try:
            post = service.create_topic(s, r, board.id, form["title"], form["body"], _uploads())
            s.commit()
        except ForumError as exc:
            s.rollback()
            _fail(exc)
            return _render(ui, "compose.html", 429 if isinstance(exc, RateLimited) else 400,
                           mode="topic", board=board, form=form, error=exc.reason)
        if post.state == PostState.PENDING:
            flash(_("主题已提交，待版主审核后公开：%(note)s", note=post.review_note or ""), "info")
        else:
            flash(_("主题已发布"), "success")
        return redirect(url_for(ui.ep("forum_topic"), topic_id=post.topic_id))
    return _render(ui, "compose.html", mode="topic", board=board, form=form, error=None)


def reply_page(ui: Ui, topic_id: int) -> Any:
    r = reader(ui)
    s = db.session()
    topic = _load(service.get_topic, r, topic_id)
    if not (r.may_post or r.moderates(topic.board_id)):
        abort(403)
    raw_quote = request.values.get("quote", "").strip()
    quote = None
    if raw_quote.isdigit():
        try:
            quote = service.get_post(s, r, int(raw_quote))
        except NotFound:
            quote = None
    form = {"body": request.form.get("body", "")}
    if request.method == "POST":
        try:
            post = service.reply(s, r, topic.id, form["body"],
                                 quote.id if quote is not None else None, _uploads())
            s.commit()
        except ForumError as exc:
            s.rollback()
            _fail(exc)
            return _render(ui, "compose.html", 429 if isinstance(exc, RateLimited) else 400,
                           mode="reply", topic=topic, board=topic.board, quote=quote, form=form,
                           error=exc.reason)
        if post.state == PostState.PENDING:
            flash(_("回复已提交，待版主审核后公开：%(note)s", note=post.review_note or ""), "info")
        else:
            flash(_("回复已发布"), "success")
        return redirect(url_for(ui.ep("forum_post"), post_id=post.id))
    return _render(ui, "compose.html", mode="reply", topic=topic, board=topic.board,
                   quote=quote, form=form, error=None)


def edit_page(ui: Ui, post_id: int) -> Any:
    r = reader(ui)
    s = db.session()
    post = _load(service.get_post, r, post_id)
    if post.author_id != r.account_id:
        abort(403)
    topic = post.topic
    form = {"title": request.form.get("title", topic.title),
            "body": request.form.get("body", post.body_md)}
    if request.method == "POST":
        try:
            service.edit(s, r, post.id, form["body"],
                         form["title"] if post.is_first else None)
            s.commit()
        except ForumError as exc:
            s.rollback()
            _fail(exc)
            return _render(ui, "compose.html", 400, mode="edit", post=post, topic=topic,
                           board=topic.board, form=form, error=exc.reason)
        flash(_("已保存修改") if post.state == PostState.VISIBLE
              else _("已保存修改，待版主审核后公开"), "success")
        return redirect(url_for(ui.ep("forum_post"), post_id=post.id))
    return _render(ui, "compose.html", mode="edit", post=post, topic=topic, board=topic.board,
                   form=form, error=None)


def report_page(ui: Ui, post_id: int) -> Any:
    r = reader(ui)
    s = db.session()
    post = _load(service.get_post, r, post_id)
    reason = request.form.get("reason", "")
    reported = moderation.already_reported(s, r.account_id, post.id)
    if request.method == "POST":
        try:
            moderation.report(s, r, post.id, reason)
            s.commit()
        except ForumError as exc:
            s.rollback()
            _fail(exc)
            return _render(ui, "report.html", 400, post=post, reason=reason, error=exc.reason,
                           reported=reported)
        flash(_("举报已提交，感谢您的监督"), "success")
        return redirect(url_for(ui.ep("forum_post"), post_id=post.id))
    return _render(ui, "report.html", post=post, reason=reason, error=None, reported=reported)


def subscribe_action(ui: Ui, topic_id: int) -> Any:
    r = reader(ui)
    s = db.session()
    topic = _load(service.get_topic, r, topic_id)
    assert r.account_id is not None  # login_required
    if request.form.get("on") == "1":
        service.subscribe(s, r.account_id, topic.id)
        flash(_("已关注：有新回复时会通知您"), "success")
    else:
        service.unsubscribe(s, r.account_id, topic.id)
        flash(_("已取消关注"), "success")
    s.commit()
    return redirect(url_for(ui.ep("forum_topic"), topic_id=topic.id))


def my_page(ui: Ui) -> Any:
    page = paginate(service.my_posts(current_user.id), service.TOPICS_PER_PAGE)
    return _render(ui, "my.html", page=page)


# -- PC routes ---------------------------------------------------------------------------------


@bp.route("/forum")
def forum() -> Any:
    return index_page(PC)


@bp.route("/forum/b/<int:board_id>")
def forum_board(board_id: int) -> Any:
    return board_page(PC, board_id)


@bp.route("/forum/t/<int:topic_id>")
def forum_topic(topic_id: int) -> Any:
    return topic_page(PC, topic_id)


@bp.route("/forum/p/<int:post_id>")
def forum_post(post_id: int) -> Any:
    return post_link(PC, post_id)


@bp.route("/forum/b/<int:board_id>/new", methods=["GET", "POST"])
@login_required
def forum_new_topic(board_id: int) -> Any:
    return new_topic_page(PC, board_id)


@bp.route("/forum/t/<int:topic_id>/reply", methods=["GET", "POST"])
@login_required
def forum_reply(topic_id: int) -> Any:
    return reply_page(PC, topic_id)


@bp.route("/forum/p/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def forum_edit(post_id: int) -> Any:
    return edit_page(PC, post_id)


@bp.route("/forum/p/<int:post_id>/report", methods=["GET", "POST"])
@login_required
def forum_report(post_id: int) -> Any:
    return report_page(PC, post_id)


@bp.route("/forum/t/<int:topic_id>/subscribe", methods=["POST"])
@login_required
def forum_subscribe(topic_id: int) -> Any:
    return subscribe_action(PC, topic_id)


@bp.route("/forum/my")
@login_required
def forum_my() -> Any:
    return my_page(PC)


@bp.route("/forum/images/<int:image_id>")
def forum_image(image_id: int) -> Response:
    """A post's image, for those who may see the post (on the PC portal or the micro-site)."""
    s = db.session()
    try:
        image = service.get_image(s, [reader(PC), reader(MOBILE)], image_id)
    except NotFound:
        abort(404)
    path = service.image_path(image)
    if not path.is_file():
        abort(404)
    resp = send_file(path, mimetype=image.content_type, max_age=0)
    resp.headers["Cache-Control"] = "private, max-age=3600"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


# -- "我的帖子" on the member's profile page -----------------------------------------------------


def my_posts_panel(member: Any = None, account: Any = None, **_kw: Any) -> Markup | None:
    """The account's five latest posts with their state."""
    if account is None:
        return None
    posts = list(db.session().scalars(service.my_posts(account.id).limit(5)))
    return Markup(render_template("portal/forum/_panel.html", posts=posts,
                                  state_labels=service.STATE_LABELS, PostState=PostState))
