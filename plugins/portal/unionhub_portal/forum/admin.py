"""The forum's back office (``/portal/admin/forum…``): the review queue (pending posts, open
reports), actions on posts, topics and reports (also posted from the topic page), boards, the
sensitive-word list and the moderation log. Every page needs ``portal.forum.moderate``; every
action checks the board's scope in SQL (:mod:`.moderation`)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from unionhub import db
from unionhub.access.service import require, scope_filter
from unionhub.i18n import _
from unionhub.orgs.models import Org
from unionhub.web.pagination import paginate

from ..web import bp
from . import markdown, moderation, service
from .models import PortalForumBoard, PostState, WordLevel
from .service import ForumError, NotAllowed, NotFound
from .views import PC, reader

MODERATE = service.MODERATE


def _next(default: str) -> str:
    """Where to go back to (only a path on this site). Browsers drop tabs and newlines and
    read a backslash as a slash, so a slash, a tab and a host (or a slash, a backslash and a
    host) would leave the site: any whitespace, control character or backslash refuses it."""
    target = request.form.get("next") or request.args.get("next") or ""
    if (target.startswith("/") and not target.startswith("//")
            and not any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\"
                        for c in target)):
        return target
    return default


def _act(fn: Any, *args: Any, done: str, **kwargs: Any) -> Any:
    """Run one moderation action in its own transaction; flash the outcome."""
    s = db.session()
    try:
        fn(s, reader(PC), *args, **kwargs)
        s.commit()
    except NotFound:
        s.rollback()
        abort(404)
    except NotAllowed as exc:
        s.rollback()
        flash(exc.reason, "error")
        abort(403)
    except ForumError as exc:
        s.rollback()
        flash(exc.reason, "error")
        return redirect(_next(url_for("portal.admin_forum")))
    flash(done, "success")
    return redirect(_next(url_for("portal.admin_forum")))


def _render(template: str, status: int = 200, **ctx: Any) -> Any:
    return render_template(f"portal/forum/admin/{template}", author=service.author_label,
                           shown=markdown.shown, excerpt=markdown.excerpt,
                           labels=moderation.ACTION_LABELS,
                           state_labels=service.STATE_LABELS, **ctx), status


@bp.route("/admin/forum")
@login_required
def admin_forum() -> Any:
    require(MODERATE)
    r = reader(PC)
    tab = request.args.get("tab", "pending")
    if tab not in ("pending", "reports"):
        tab = "pending"
    stmt = moderation.pending_posts(r) if tab == "pending" else moderation.open_reports(r)
    pending, reports = moderation.queue_counts(db.session(), r)
    return _render("queue.html", tab=tab, page=paginate(stmt, 30), pending=pending,
                   reports=reports)


@bp.route("/admin/forum/posts/<int:post_id>/<action>", methods=["POST"])
@login_required
def admin_forum_post(post_id: int, action: str) -> Any:
    require(MODERATE)
    reason = request.form.get("reason", "")
    if action == "approve":
        return _act(moderation.approve, post_id, done=_("已通过审核"))
    if action == "reject":
        return _act(moderation.reject, post_id, reason, done=_("已驳回"))
    if action in ("hide", "restore", "delete"):
        done = {"hide": _("已隐藏"), "restore": _("已恢复"), "delete": _("已删除")}[action]
        return _act(moderation.set_post_state, post_id, action, reason, done=done)
    abort(404)


@bp.route("/admin/forum/topics/<int:topic_id>/<action>", methods=["POST"])
@login_required
def admin_forum_topic(topic_id: int, action: str) -> Any:
    require(MODERATE)
    if action == "move":
        raw = request.form.get("board_id", "")
        if not raw.isdigit():
            flash(_("请选择目标版块"), "error")
            return redirect(_next(url_for("portal.admin_forum")))
        return _act(moderation.move_topic, topic_id, int(raw), done=_("主题已移动"))
    labels = {"lock": _("主题已锁定"), "unlock": _("主题已解锁"), "pin": _("主题已置顶"),
              "unpin": _("已取消置顶"), "hide": _("主题已隐藏"), "restore": _("主题已恢复"),
              "delete": _("主题已删除")}
    if action not in labels:
        abort(404)
    return _act(moderation.set_topic_flag, topic_id, action, request.form.get("reason", ""),
                done=labels[action])


@bp.route("/admin/forum/reports/<int:report_id>/<action>", methods=["POST"])
@login_required
def admin_forum_report(report_id: int, action: str) -> Any:
    require(MODERATE)
    if action not in ("resolve", "dismiss"):
        abort(404)
    return _act(moderation.close_report, report_id, action,
                request.form.get("resolution", ""), request.form.get("hide") == "1",
                done=_("举报已处理") if action == "resolve" else _("举报已驳回"))


# -- boards ------------------------------------------------------------------------------------


def _scope_orgs() -> list[Org]:
    return list(db.session().scalars(
        select(Org).where(scope_filter(current_user, MODERATE, Org.path)).order_by(Org.path)))


def _board_form(board: PortalForumBoard | None) -> Any:
    s = db.session()
    r = reader(PC)
    sections = moderation.forum_sections(s)
    values = request.form if request.method == "POST" else {}
    if request.method == "POST":
        raw_org = values.get("org_id", "")
        raw_section = values.get("section_id", "")
        raw_sort = values.get("sort", "0").strip() or "0"
        error = None
        if not raw_section.isdigit():
            error = _("请选择论坛类栏目")
        elif raw_org and not raw_org.isdigit():
            error = _("没有这个工会组织")
        elif not raw_sort.lstrip("-").isdigit():
            error = _("排序应为整数")
        if error is None:
            data = moderation.BoardInput(
                name=values.get("name", ""), section_id=int(raw_section),
                org_id=int(raw_org) if raw_org else None,
                description=values.get("description", ""),
                premoderated=values.get("premoderated") == "1", sort=int(raw_sort),
                archived=values.get("archived") == "1")
            try:
                if board is None:
                    moderation.create_board(s, r, data)
                else:
                    moderation.update_board(s, r, board.id, data)
                s.commit()
                flash(_("版块已保存"), "success")
                return redirect(url_for("portal.admin_forum_boards"))
            except NotFound:
                s.rollback()
                abort(404)
            except ForumError as exc:
                s.rollback()
                error = exc.reason
        return _render("board_form.html", 400, board=board, sections=sections,
                       orgs=_scope_orgs(), city=moderation.can_moderate_org(
                           s, current_user, None), values=values, error=error)
    values = {
        "name": board.name if board else "", "description": (board.description or "")
        if board else "", "section_id": str(board.section_id if board else
                                            (sections[0].id if sections else "")),
        "org_id": str(board.org_id or "") if board else "",
        "premoderated": "1" if board and board.premoderated else "",
        "archived": "1" if board and board.archived else "",
        "sort": str(board.sort if board else 0)}
    return _render("board_form.html", board=board, sections=sections, orgs=_scope_orgs(),
                   city=moderation.can_moderate_org(s, current_user, None), values=values,
                   error=None)


@bp.route("/admin/forum/boards")
@login_required
def admin_forum_boards() -> Any:
    require(MODERATE)
    r = reader(PC)
    s = db.session()
    boards = moderation.moderation_boards(s, r)
    orgs = {o.id: o for o in s.scalars(select(Org).where(
        Org.id.in_({b.org_id for b in boards if b.org_id})))}
    return _render("boards.html", boards=boards, orgs=orgs)


@bp.route("/admin/forum/boards/new", methods=["GET", "POST"])
@login_required
def admin_forum_board_new() -> Any:
    require(MODERATE)
    return _board_form(None)


@bp.route("/admin/forum/boards/<int:board_id>", methods=["GET", "POST"])
@login_required
def admin_forum_board_edit(board_id: int) -> Any:
    require(MODERATE)
    r = reader(PC)
    if not r.moderates(board_id):
        abort(404)
    board = db.session().get(PortalForumBoard, board_id)
    if board is None:
        abort(404)
    return _board_form(board)


# -- words and log -----------------------------------------------------------------------------


@bp.route("/admin/forum/words", methods=["GET", "POST"])
@login_required
def admin_forum_words() -> Any:
    require(MODERATE)
    s = db.session()
    error = None
    if request.method == "POST":
        try:
            moderation.add_word(s, reader(PC), request.form.get("word", ""),
                                request.form.get("level", ""))
            s.commit()
            flash(_("已添加敏感词"), "success")
            return redirect(url_for("portal.admin_forum_words"))
        except ForumError as exc:
            s.rollback()
            error = exc.reason
    return _render("words.html", 400 if error else 200, words=moderation.words(s),
                   levels=moderation.WORD_LEVEL_LABELS, error=error, WordLevel=WordLevel,
                   values=request.form)


@bp.route("/admin/forum/words/<int:word_id>/delete", methods=["POST"])
@login_required
def admin_forum_word_delete(word_id: int) -> Any:
    require(MODERATE)
    return _act(moderation.remove_word, word_id, done=_("已删除敏感词"))


@bp.route("/admin/forum/log")
@login_required
def admin_forum_log() -> Any:
    require(MODERATE)
    return _render("log.html", page=paginate(moderation.log_entries(reader(PC)), 50),
                   PostState=PostState)
