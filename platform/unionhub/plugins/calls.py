"""Calling a hook at run time, in the plugins' load order, skipping plugins disabled since
start-up (pluggy's own order is last-registered-first, and it knows nothing of the state)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app

from unionhub.plugins.registry import CORE


def enabled_impls(hook: str, app: Flask | None = None) -> list[Any]:
    """The hook's implementations of enabled plugins, in load order (implementations the
    registry does not know of — registered directly on the plugin manager — come last, by
    name)."""
    uh = (app or current_app).extensions["unionhub"]
    order = {name: i for i, name in enumerate((CORE, *uh.loaded))}
    found = []
    for impl in getattr(uh.pm.hook, hook).get_hookimpls():
        name = impl.plugin_name
        if name in uh.loaded and not uh.state.enabled(name):
            continue
        found.append(impl)
    return sorted(found, key=lambda i: (order.get(i.plugin_name, len(order)), i.plugin_name))


def call_each(hook: str, app: Flask | None = None, **kwargs: Any
              ) -> Iterator[tuple[str, Any]]:
    """Call every enabled implementation of ``hook`` (of ``app``, else the current app);
    yields ``(plugin, result)``."""
    for impl in enabled_impls(hook, app):
        yield impl.plugin_name, impl.function(*[kwargs[a] for a in impl.argnames])
