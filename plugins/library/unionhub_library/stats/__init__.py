"""Library: reading statistics for officers (阅读统计) — reads and loans per month, popular
titles, active readers per union, with inline-SVG charts and tables, scoped in SQL to the
officer's org subtree; an officer-board widget with this month's figures."""

from __future__ import annotations

from collections.abc import Sequence

from unionhub.contrib import DashboardWidget, NavItem
from unionhub_library.features import Feature


def _widgets() -> Sequence[DashboardWidget]:
    from .views import officer_widget

    return [DashboardWidget("officer", "reading", "阅读统计", officer_widget,
                            permission="library.stats.view", priority=60)]


FEATURE = Feature(
    name="stats",
    views=("unionhub_library.stats.views",),
    nav=(
        NavItem("officer", "stats", "阅读统计", "library.stats",
                permission="library.stats.view", priority=70),
    ),
    dashboard_widgets=_widgets,
)
