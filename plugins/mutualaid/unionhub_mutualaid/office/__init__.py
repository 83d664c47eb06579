"""Mutual aid: the office feature — 互助统计 dashboards with server-rendered SVG charts
(see :mod:`unionhub_mutualaid.features`)."""

from __future__ import annotations

from collections.abc import Sequence

from unionhub.contrib import DashboardWidget, NavItem
from unionhub_mutualaid.features import Feature


def _widgets() -> Sequence[DashboardWidget]:
    from .views import officer_widget

    return [DashboardWidget("officer", "mutualaid_stats", "互助保障概况", officer_widget,
                            permission="mutualaid.stats.view", priority=30)]


FEATURE = Feature(
    name="office",
    views=("unionhub_mutualaid.office.views",),
    nav=(NavItem("officer", "stats", "互助统计", "mutualaid.office_dashboard",
                 permission="mutualaid.stats.view", priority=85),),
    dashboard_widgets=_widgets,
)
