"""Portal: the union forum (工会论坛) — boards per forum section and org, topics, replies and
quotes in sanitised Markdown with images, subscriptions with notifications, per-account rate
limits, a sensitive-word list, reports and moderation (pre-moderation, lock, pin, move,
hide/restore, delete) scoped by org (see :mod:`.service` and :mod:`.moderation`). Nothing heavy
at import: models, views, services and the demo load lazily."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import NavItem, ProfilePanel
from unionhub_portal.features import Feature

REPLY_URL = "/portal/forum/p/{post_id}"


def _models() -> Sequence[type]:
    from .models import MODELS

    return MODELS


def _notification_types() -> Sequence[Any]:
    from unionhub.notify.types import NotificationType, Template

    return [
        NotificationType(
            "forum_reply", "论坛主题有新回复",
            Template(title="您关注的主题有新回复",
                     body="{author} 回复了“{title}”：{excerpt}",
                     url=REPLY_URL,
                     sms="【12351】您关注的论坛主题“{title}”有新回复。"),
            description="您发起或回复过的论坛主题有新回复时提醒（每条回复一次）"),
    ]


def _panels() -> Sequence[ProfilePanel]:
    from .views import my_posts_panel

    return [ProfilePanel("forum_posts", "我的帖子", my_posts_panel, priority=60)]


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="forum",
    views=("unionhub_portal.forum.views", "unionhub_portal.forum.mobile",
           "unionhub_portal.forum.admin", "unionhub_portal.forum.api"),
    models=_models,
    nav=(
        NavItem("member", "forum_posts", "我的帖子", "portal.forum_my",
                permission="portal.forum.post", priority=60),
        NavItem("officer", "forum", "论坛管理", "portal.admin_forum",
                permission="portal.forum.moderate", priority=58),
    ),
    notification_types=_notification_types,
    profile_panels=_panels,
    demo=_demo,
)
