"""Collect offers from the enabled plugins' providers."""

from __future__ import annotations

from typing import Any

from flask import current_app

from unionhub.offers.types import OfferCard, OfferProvider
from unionhub.plugins.state import plugin_enabled

HOOK = "unionhub_offer_providers"


def providers() -> list[tuple[str, OfferProvider]]:
    """(plugin, provider) for every provider whose plugin is enabled now, by priority."""
    reg = current_app.extensions["unionhub"].registries
    found: list[tuple[str, OfferProvider]] = []
    for plugin, provider in reg.services.get(HOOK, []):
        if not isinstance(provider, OfferProvider):
            raise TypeError(f"插件 {plugin}: {HOOK} must return OfferProvider objects")
        if plugin_enabled(plugin):
            found.append((plugin, provider))
    return sorted(found, key=lambda t: (t[1].priority, t[0], t[1].key))


def offers_for(viewer: Any, *, limit: int = 20, category: str | None = None) -> list[OfferCard]:
    """Up to ``limit`` offers ``viewer`` may see, the first provider's first (empty when no
    plugin provides offers: listing pages show their empty state)."""
    out: list[OfferCard] = []
    for _plugin, provider in providers():
        if len(out) >= limit:
            break
        out.extend(provider.list(viewer, limit - len(out), category)[: limit - len(out)])
    return out


def categories() -> list[tuple[str, str]]:
    """(code, name) of every category the enabled providers offer, without duplicates."""
    seen: dict[str, str] = {}
    for _plugin, provider in providers():
        for code, name in provider.categories():
            seen.setdefault(code, name)
    return list(seen.items())
