"""How the plugin's feature packages plug into its hook implementations.

Each feature package (``enrollment``, ``claims``, ``settlement``, ``payouts``, ``screening``,
``office``) exports ``FEATURE``; :mod:`.plugin` gathers their contributions, so a feature is
added by listing it in :data:`FEATURES`, not by editing every hook. Callables keep imports lazy: a
disabled plugin's models and views are never imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from unionhub.contrib import DashboardWidget, NavItem, ProfilePanel

FEATURES: tuple[str, ...] = (
    "unionhub_mutualaid.enrollment",
    "unionhub_mutualaid.claims",
    "unionhub_mutualaid.settlement",
    "unionhub_mutualaid.payouts",
    "unionhub_mutualaid.screening",
    "unionhub_mutualaid.office",
)


@dataclass(frozen=True)
class Feature:
    """One feature's contributions (every field optional).

    ``views`` are modules whose import registers routes on :mod:`.web`'s blueprints;
    ``models`` returns the feature's own model classes; ``demo(session, ctx)`` seeds demo
    data after the plans exist (features run in :data:`FEATURES` order).
    """

    name: str
    views: tuple[str, ...] = ()
    models: Callable[[], tuple[type, ...]] | None = None
    nav: tuple[NavItem, ...] = ()
    jobs: Callable[[], Sequence[Any]] | None = None
    beat: Callable[[], Sequence[Any]] | None = None
    import_handlers: Callable[[], Sequence[Any]] | None = None
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
