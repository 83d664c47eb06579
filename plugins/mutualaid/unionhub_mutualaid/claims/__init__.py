"""Mutual aid: the claims feature (理赔; see :mod:`unionhub_mutualaid.features`).

Nothing heavy at import: views, models and the demo seeder load lazily.
"""

from __future__ import annotations

from typing import Any

from unionhub.contrib import NavItem, ProfilePanel
from unionhub_mutualaid.features import Feature


def _models() -> tuple[type, ...]:
    from .models import MODELS

    return MODELS


def _panels() -> list[ProfilePanel]:
    from .views import claims_panel

    return [ProfilePanel("claims", "我的理赔", claims_panel, priority=25)]


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="claims",
    views=("unionhub_mutualaid.claims.views", "unionhub_mutualaid.claims.api"),
    models=_models,
    nav=(
        NavItem("member", "claims", "我的理赔", "mutualaid.claims_my",
                permission="mutualaid.claims.own", priority=25),
        NavItem("officer", "claims_review", "理赔审核", "mutualaid.claims_queue",
                permission="mutualaid.claims.review", priority=40),
        NavItem("officer", "claims", "理赔查询", "mutualaid.claims_office",
                permission="mutualaid.claims.view", priority=41),
        NavItem("officer", "claims_overdue", "逾期理赔", "mutualaid.claims_overdue",
                permission="mutualaid.claims.view", priority=42),
    ),
    profile_panels=_panels,
    demo=_demo,
)
