"""The core's dashboard widgets (member home, officer back office, admin home)."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from unionhub import db
from unionhub.access import service as access
from unionhub.contrib import DashboardWidget
from unionhub.identity.models import Member, MemberStatus
from unionhub.orgs.models import Org


def _member_card(**_: Any) -> Markup | None:
    member = current_user.member
    if member is None:
        return None
    return Markup(render_template("widgets/member_card.html", member=member))


def _officer_counts(**_: Any) -> Markup:
    stmt = (
        select(Member.status, func.count())
        .join(Org, Member.org_id == Org.id)
        .where(access.scope_filter(current_user, "core.members.view", Org.path))
        .group_by(Member.status)
    )
    counts = dict(db.session().execute(stmt).all())
    return Markup(render_template("widgets/officer_counts.html", counts=counts,
                                  total=sum(counts.values()), active=MemberStatus.ACTIVE))


def _admin_plugins(**_: Any) -> Markup:
    from flask import current_app

    ext = current_app.extensions["unionhub"]
    return Markup(render_template("widgets/admin_plugins.html", installed=ext.installed,
                                  loaded=ext.loaded, recorded=ext.recorded))


def _calendar_warnings(**_: Any) -> Markup | None:
    """Years the working-day calendar lacks (deadlines fall back to Monday–Friday)."""
    from unionhub.workdays import warnings

    found = warnings()
    if not found:
        return None
    return Markup(render_template("widgets/calendar_warnings.html", warnings=found))


CORE_WIDGETS = [
    DashboardWidget("member", "card", "我的京卡", _member_card, priority=0),
    DashboardWidget("officer", "members", "会员概况", _officer_counts,
                    permission="core.members.view", priority=0),
    DashboardWidget("admin", "plugins", "插件状态", _admin_plugins,
                    permission="core.plugins.manage", priority=0),
    DashboardWidget("admin", "calendar", "工作日历提醒", _calendar_warnings,
                    permission="core.settings.manage", priority=10),
]
