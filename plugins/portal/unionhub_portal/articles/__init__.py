"""Portal: the articles feature — the back office where officers write, review, publish and
take down articles (revisions with diff and restore, attachments, sign-off through the approval
hook), and the audience-checked attachment download (see :mod:`unionhub_portal.features`).

Nothing heavy at import: views and services load lazily. The plugin's
``unionhub_approval_decided`` hook is :func:`.workflow.on_approval_decided`.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from unionhub.contrib import DashboardWidget, NavItem
from unionhub_portal.features import Feature


def _pending_widget(**_: Any) -> Markup | None:
    from flask import url_for

    from unionhub.i18n import _ as gettext

    from .views import reviewer_count

    n = reviewer_count()
    if not n:
        return None
    return Markup('<p id="portal-pending"><a href="{}">{}</a></p>').format(
        url_for("portal.admin_articles_pending"), gettext("%(n)s 篇文章等待审核", n=n))


def _widgets() -> list[DashboardWidget]:
    return [DashboardWidget("officer", "articles_pending", "门户文章审核", _pending_widget,
                            permission="portal.content.publish", priority=40)]


FEATURE = Feature(
    name="articles",
    views=("unionhub_portal.articles.views", "unionhub_portal.articles.api"),
    nav=(
        NavItem("officer", "articles", "文章管理", "portal.admin_articles",
                permission="portal.content.edit", priority=40),
        NavItem("officer", "articles_pending", "待审核", "portal.admin_articles_pending",
                permission="portal.content.edit", priority=41),
    ),
    dashboard_widgets=_widgets,
)
