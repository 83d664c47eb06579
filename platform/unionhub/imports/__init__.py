"""File imports: ``ImportHandler`` for plugins; the engine stages, reviews and applies.

The core contributes the member/Jingka handler (``core.members``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from unionhub.imports.types import ImportHandler, RowError

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["ImportHandler", "RowError", "init_app"]


def init_app(app: Flask) -> None:
    from unionhub.plugins.discovery import PluginError

    found: dict[str, ImportHandler] = {}
    for plugin, handler in app.extensions["unionhub"].registries.services.get(
            "unionhub_import_handlers", []):
        if not isinstance(handler, ImportHandler):
            raise PluginError(f"插件 {plugin}: unionhub_import_handlers must return "
                              "ImportHandler")
        code = f"{plugin}.{handler.code}"
        if code in found:
            raise PluginError(f"插件 {plugin}: duplicate import handler {code}")
        if plugin != "core" and not handler.stage.name.startswith(f"{plugin}_"):
            raise PluginError(f"插件 {plugin}: staging table must be named {plugin}_*")
        found[code] = handler
    app.extensions["imports"] = found
