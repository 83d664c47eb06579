"""Library: the digital museum (数字博物馆) — exhibitions of sections of items (images with a
zoomable viewer, video, audio, texts) with Dublin Core-style metadata; public once published,
managed by ``library.museum.manage`` holders of the owner union's subtree; searchable
through the core search (doc type ``library.museum_item``).

Nothing heavy at import: views, services and Pillow load lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import NavItem
from unionhub_library.features import Feature


def _search_indexers() -> Sequence[Any]:
    from .search import indexers

    return indexers()


def _demo(session: Any, ctx: Any) -> None:
    from .demo import seed

    seed(session, ctx)


FEATURE = Feature(
    name="museum",
    views=("unionhub_library.museum.views", "unionhub_library.museum.admin"),
    nav=(
        NavItem("officer", "museum_admin", "数字博物馆管理", "library.museum_admin_list",
                permission="library.museum.manage", priority=72),
    ),
    search_indexers=_search_indexers,
    demo=_demo,
)
