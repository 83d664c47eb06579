"""How the plugin's feature packages plug into its hook implementations.

Each feature package (``catalogue``, ``channels``, ``points``, ``coupons``, ``bookings``,
``reports``) exports ``FEATURE``; :mod:`.plugin` gathers their contributions, so a feature is
added by listing it in :data:`FEATURES`. Callables keep imports lazy: a disabled plugin's views
and services are never imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from unionhub.contrib import DashboardWidget, NavItem, ProfilePanel

FEATURES: tuple[str, ...] = (
    "unionhub_benefits_mall.catalogue",
    "unionhub_benefits_mall.channels",
    "unionhub_benefits_mall.points",
    "unionhub_benefits_mall.coupons",
    "unionhub_benefits_mall.bookings",
    "unionhub_benefits_mall.reports",
)


@dataclass(frozen=True)
class Feature:
    """One feature's contributions (every field optional).

    ``views`` are modules whose import registers routes on :mod:`.web`'s blueprints;
    ``demo(session, ctx)`` seeds demo data (features run in :data:`FEATURES` order, so the
    coupons seeder finds the catalogue's merchants and offers).
    """

    name: str
    views: tuple[str, ...] = ()
    nav: tuple[NavItem, ...] = ()
    jobs: Callable[[], Sequence[Any]] | None = None
    beat: Callable[[], Sequence[Any]] | None = None
    search_indexers: Callable[[], Sequence[Any]] | None = None
    offer_providers: Callable[[], Sequence[Any]] | None = None
    notification_types: Callable[[], Sequence[Any]] | None = None
    profile_panels: Callable[[], Sequence[ProfilePanel]] | None = None
    dashboard_widgets: Callable[[], Sequence[DashboardWidget]] | None = None
    demo: Callable[..., None] | None = None


def features() -> list[Feature]:
    return [importlib.import_module(name).FEATURE for name in FEATURES]


def gather(attr: str) -> list[Any]:
    """Concatenate one kind of contribution over every feature."""
    out: list[Any] = []
    for feature in features():
        value = getattr(feature, attr)
        if value is None:
            continue
        out.extend(value() if callable(value) else value)
    return out
