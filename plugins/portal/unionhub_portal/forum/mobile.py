"""The forum on the mobile micro-site (``/portal/m/forum…``, endpoints ``portal.m_forum…``):
the handlers of :mod:`.views` with the mobile platform's audience rule and layout."""

from __future__ import annotations

from typing import Any

from flask_login import login_required

from ..web import bp
from .views import (
    MOBILE,
    board_page,
    edit_page,
    index_page,
    my_page,
    new_topic_page,
    post_link,
    reply_page,
    report_page,
    subscribe_action,
    topic_page,
)


@bp.route("/m/forum")
def m_forum() -> Any:
    return index_page(MOBILE)


@bp.route("/m/forum/b/<int:board_id>")
def m_forum_board(board_id: int) -> Any:
    return board_page(MOBILE, board_id)


@bp.route("/m/forum/t/<int:topic_id>")
def m_forum_topic(topic_id: int) -> Any:
    return topic_page(MOBILE, topic_id)


@bp.route("/m/forum/p/<int:post_id>")
def m_forum_post(post_id: int) -> Any:
    return post_link(MOBILE, post_id)


@bp.route("/m/forum/b/<int:board_id>/new", methods=["GET", "POST"])
@login_required
def m_forum_new_topic(board_id: int) -> Any:
    return new_topic_page(MOBILE, board_id)


@bp.route("/m/forum/t/<int:topic_id>/reply", methods=["GET", "POST"])
@login_required
def m_forum_reply(topic_id: int) -> Any:
    return reply_page(MOBILE, topic_id)


@bp.route("/m/forum/p/<int:post_id>/edit", methods=["GET", "POST"])
@login_required
def m_forum_edit(post_id: int) -> Any:
    return edit_page(MOBILE, post_id)


@bp.route("/m/forum/p/<int:post_id>/report", methods=["GET", "POST"])
@login_required
def m_forum_report(post_id: int) -> Any:
    return report_page(MOBILE, post_id)


@bp.route("/m/forum/t/<int:topic_id>/subscribe", methods=["POST"])
@login_required
def m_forum_subscribe(topic_id: int) -> Any:
    return subscribe_action(MOBILE, topic_id)


@bp.route("/m/forum/my")
@login_required
def m_forum_my() -> Any:
    return my_page(MOBILE)
