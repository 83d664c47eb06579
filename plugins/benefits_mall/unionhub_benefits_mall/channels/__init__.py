"""Welfare mall: discount channels (优惠通道) — offers bundled with an audience, a validity
window and quotas; officers manage the channels of their subtree, members see those open to
them. :mod:`.audience` (and the ``_audience.html`` macro) is shared with the catalogue's offers.

Nothing heavy at import: views, API and the demo seeder load lazily.
"""

from __future__ import annotations

from typing import Any

from unionhub.contrib import NavItem
from unionhub_benefits_mall.features import Feature


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="channels",
    views=("unionhub_benefits_mall.channels.views", "unionhub_benefits_mall.channels.api"),
    nav=(
        NavItem("member", "channels", "优惠通道", "benefits_mall.channels",
                permission="benefits_mall.offers.claim", priority=31),
        NavItem("officer", "channels_admin", "优惠通道", "benefits_mall.admin_channels",
                permission="benefits_mall.channels.manage", priority=61),
    ),
    demo=_demo,
)
