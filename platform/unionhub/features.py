"""Feature packages inside one plugin: how a big plugin splits itself and still answers each
hook from one place.

A plugin lists its feature packages in a :class:`FeatureSet`; each package exports ``FEATURE =
Feature(...)`` with what it contributes, and the plugin's hook implementations ask the set
(``FEATURES.gather("jobs")``, ``FEATURES.models()``, ``FEATURES.seed(session, ctx)``). A feature is
added by listing its package, not by editing every hook. Contributions are callables so that
nothing is imported before the hook is called: a disabled plugin's models, views and services
are never imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from unionhub.contrib import DashboardWidget, NavItem, ProfilePanel, SlotContribution


@dataclass(frozen=True)
class Feature:
    """One feature's contributions (every field optional).

    ``views`` are modules whose import registers routes on the plugin's blueprints;
    ``models`` returns the feature's own model classes; the other callables return what the
    hook of the same name returns; ``demo(session, ctx)`` seeds demo data (features run in
    the set's order, so a later feature finds what an earlier one seeded).
    """

    name: str
    views: tuple[str, ...] = ()
    models: Callable[[], Sequence[type]] | None = None
    nav: tuple[NavItem, ...] = ()
    jobs: Callable[[], Sequence[Any]] | None = None
    beat: Callable[[], Sequence[Any]] | None = None
    import_handlers: Callable[[], Sequence[Any]] | None = None
    search_indexers: Callable[[], Sequence[Any]] | None = None
    offer_providers: Callable[[], Sequence[Any]] | None = None
    notification_types: Callable[[], Sequence[Any]] | None = None
    profile_panels: Callable[[], Sequence[ProfilePanel]] | None = None
    dashboard_widgets: Callable[[], Sequence[DashboardWidget]] | None = None
    slot_contributions: Callable[[], Sequence[SlotContribution]] | None = None
    demo: Callable[..., None] | None = None


class FeatureSet:
    """The feature packages of one plugin, in order (``package.FEATURE`` each)."""

    def __init__(self, packages: Sequence[str]) -> None:
        self.packages = tuple(packages)

    def features(self) -> list[Feature]:
        return [importlib.import_module(name).FEATURE for name in self.packages]

    def gather(self, attr: str) -> list[Any]:
        """Concatenate one kind of contribution over every feature."""
        out: list[Any] = []
        for feature in self.features():
            value = getattr(feature, attr)
            if value is None:
                continue
            out.extend(value() if callable(value) else value)
        return out

    def import_views(self) -> None:
        """Import every feature's view modules (their routes land on the blueprints)."""
        for feature in self.features():
            for module in feature.views:
                importlib.import_module(module)

    def models(self) -> list[type]:
        return self.gather("models")

    def seed(self, session: Any, ctx: Any) -> None:
        """Run the features' demo seeders in order, flushing after each."""
        for feature in self.features():
            if feature.demo is not None:
                feature.demo(session, ctx)
                session.flush()
