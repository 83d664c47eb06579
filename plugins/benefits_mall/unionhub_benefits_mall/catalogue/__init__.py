"""Welfare mall: the catalogue feature — merchants, stores, staff accounts, offers, proposals
and review; the member catalogue pages, the offer search tab, the Jingka-discount provider and
the catalogue API (see :mod:`unionhub_benefits_mall.features`).

Nothing heavy at import: views, services and the demo seeder load lazily.
"""

from __future__ import annotations

from typing import Any

from unionhub.contrib import NavItem
from unionhub_benefits_mall.features import Feature


def _is_staff() -> bool:
    """Merchant staff hold no role, so their menu entry is shown by this test instead."""
    from unionhub_benefits_mall.staff import current_staff

    return current_staff() is not None


def _indexers() -> list[Any]:
    from .search import indexers

    return indexers()


def _providers() -> list[Any]:
    from .provider import providers

    return providers()


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="catalogue",
    views=(
        "unionhub_benefits_mall.catalogue.views",
        "unionhub_benefits_mall.catalogue.admin",
        "unionhub_benefits_mall.catalogue.merchant",
        "unionhub_benefits_mall.catalogue.api",
    ),
    nav=(
        NavItem("main", "mall", "福利", "benefits_mall.home", icon="🎁", priority=30),
        NavItem("main", "merchant", "商户工作台", "benefits_mall.merchant_home", icon="🏪",
                priority=31, visible=_is_staff),
        NavItem("officer", "catalogue", "商户与优惠", "benefits_mall.admin_offers",
                permission="benefits_mall.catalogue.manage", priority=60),
    ),
    search_indexers=_indexers,
    offer_providers=_providers,
    demo=_demo,
)
