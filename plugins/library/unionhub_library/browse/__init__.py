"""Library: browse — the public face of the catalogue: the library's home page, classes
(中图法), authors, new and popular books, a book's page, covers and thumbnails, the search
(core search service, tab 图书), the catalogue on the app API, and the new books on the home
page. Anyone may browse; only active books are shown.

Nothing heavy at import: views, queries and the indexer load lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import NavItem, SlotContribution
from unionhub_library.features import Feature


def _indexers() -> list[Any]:
    from .search import indexers

    return indexers()


def _slots() -> Sequence[SlotContribution]:
    from .widgets import PORTAL_SLOT, head_tags, new_books_card

    return [
        SlotContribution("layout.head", "library_seo", head_tags, priority=50),
        SlotContribution("home.main", "library_new_books", new_books_card, priority=40),
        # on the portal's home page when the portal is enabled
        SlotContribution(PORTAL_SLOT, "library_new_books", new_books_card, priority=40,
                         optional=True),
    ]


FEATURE = Feature(
    name="browse",
    views=(
        "unionhub_library.browse.views",
        "unionhub_library.browse.covers",
        "unionhub_library.browse.api",
    ),
    nav=(NavItem("member", "library", "数字图书馆", "library.home", icon="📚", priority=40),),
    search_indexers=_indexers,
    slot_contributions=_slots,
)
