"""Portal: the site feature — everything a reader sees of sections and articles: the PC portal
(home, sections, articles, search), the mobile micro-site, the app API, RSS/Atom feeds and the
sitemap, the article search tab, and the latest notices on the core home page. Every surface
reads through :mod:`unionhub_portal.audience` (see :mod:`.service`).

Nothing heavy at import: views, services and the indexer load lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import NavItem, SlotContribution
from unionhub_portal.features import Feature


def _indexers() -> list[Any]:
    from .search import indexers

    return indexers()


def _slots() -> Sequence[SlotContribution]:
    from .pages import head_tags
    from .views import notices_card

    return [
        SlotContribution("home.main", "portal_notices", notices_card, priority=20),
        SlotContribution("layout.head", "portal_seo", head_tags, priority=50),
    ]


FEATURE = Feature(
    name="site",
    views=(
        "unionhub_portal.site.views",
        "unionhub_portal.site.mobile",
        "unionhub_portal.site.feeds",
        "unionhub_portal.site.api",
    ),
    nav=(NavItem("main", "portal", "门户", "portal.home", icon="📰", priority=10),),
    search_indexers=_indexers,
    slot_contributions=_slots,
)
