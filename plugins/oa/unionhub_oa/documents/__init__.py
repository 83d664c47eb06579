"""OA: official documents (公文) — drafting, approval through the engine, a number per org,
year and type assigned at issue (no gaps or duplicates under concurrency; every org but the
root numbers with a 机关代字 of its own, so no two orgs print the same 文号), issue to a
distribution list of orgs and their subtrees, read receipts, attachments and search for
those who may see them.

Public entry points: :mod:`.service` (``create``, ``submit``, ``issue``, ``visible``,
``mark_read``, ``receipts``, ``on_decided``, ``set_prefix``, ``prefix_for``),
:mod:`.numbers` (``next_seq``). Nothing heavy at
import: models, views and services load lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unionhub.contrib import NavItem
from unionhub_oa.features import Feature


def _models() -> Sequence[type]:
    from .models import MODELS

    return MODELS


def _notification_types() -> Sequence[Any]:
    from .notices import TYPES

    return TYPES


def _search_indexers() -> Sequence[Any]:
    from .search import indexers

    return indexers()


FEATURE = Feature(
    name="documents",
    views=("unionhub_oa.documents.views",),
    models=_models,
    nav=(
        NavItem("officer", "oa_documents", "公文", "oa.documents", permission="oa.use",
                priority=10),
    ),
    notification_types=_notification_types,
    search_indexers=_search_indexers,
)
