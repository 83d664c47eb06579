"""Welfare mall: reports — merchant reports (redemptions by store and day, by offer),
settlement statements built from redemption events (draft → confirmed → paid, CSV and Excel),
and the officers' dashboard (福利统计) with inline SVG charts and an officer-board widget.

Nothing heavy at import: views, API and the demo seeder load lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import DashboardWidget, NavItem
from unionhub_benefits_mall.features import Feature


def _widgets() -> Sequence[DashboardWidget]:
    from .views import officer_widget

    return [DashboardWidget("officer", "mall_stats", "福利云商概况", officer_widget,
                            permission="benefits_mall.reports.view", priority=40)]


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="reports",
    views=("unionhub_benefits_mall.reports.views", "unionhub_benefits_mall.reports.api"),
    nav=(
        NavItem("officer", "mall_dashboard", "福利统计", "benefits_mall.dashboard",
                permission="benefits_mall.reports.view", priority=64),
        NavItem("officer", "mall_settlements", "商户结算", "benefits_mall.settlements",
                permission="benefits_mall.settlement.manage", priority=65),
    ),
    dashboard_widgets=_widgets,
    demo=_demo,
)
