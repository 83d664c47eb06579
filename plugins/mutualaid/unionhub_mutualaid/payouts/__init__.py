"""Mutual aid: the payouts feature — 京卡直赔 (see :mod:`unionhub_mutualaid.features`).

Bank batches (批量代发) claim pending payouts exactly once, the bank file is produced with the
full numbers only while it is written, return files (回盘文件) apply the bank's results once,
and payouts the bank refused or that fail payee verification wait in 收款信息待补充 until the
member's data is fixed and they go into a new batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import NavItem, ProfilePanel
from unionhub_mutualaid.features import Feature


def _models() -> tuple[type, ...]:
    from .models import MODELS

    return MODELS


def _panels() -> Sequence[ProfilePanel]:
    from .views import payouts_panel

    return [ProfilePanel("payouts", "我的到账", payouts_panel, priority=40)]


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="payouts",
    views=("unionhub_mutualaid.payouts.views", "unionhub_mutualaid.payouts.api"),
    models=_models,
    nav=(
        NavItem("officer", "payouts", "代发批次", "mutualaid.payouts_batches",
                permission="mutualaid.payouts.manage", priority=85),
        NavItem("member", "payouts", "我的到账", "mutualaid.payouts_my", priority=25),
    ),
    profile_panels=_panels,
    demo=_demo,
)
