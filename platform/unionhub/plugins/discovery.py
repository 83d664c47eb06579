"""Finding plugins (entry-point group ``unionhub.plugins``) and ordering them.

Discovery imports only the module the entry point names, which must be cheap: models,
views and tasks are imported by the hooks of an *enabled* plugin, never at import time.
"""

from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from unionhub import __version__
from unionhub.contrib import Manifest

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "unionhub.plugins"
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
# Route prefixes and the prefixes of core tables (a plugin's tables are "<name>_*").
RESERVED = {"core", "admin", "api", "m", "static", "auth", "me", "office", "lang", "jingka",
            "login", "role", "audit", "plugin", "setting", "alembic", "member", "org"}


class PluginError(RuntimeError):
    """A plugin problem that stops start-up; the message names the plugin."""


@dataclass
class Discovered:
    name: str
    version: str
    distribution: str
    module: ModuleType | None = None
    manifest: Manifest | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def hook_names(self) -> list[str]:
        """Hooks the plugin implements (read from its module; works while disabled)."""
        if self.module is None:
            return []
        return sorted(n for n in dir(self.module) if n.startswith("unionhub_"))

    @property
    def title(self) -> str:
        return self.manifest.title if self.manifest else self.name


def discover() -> dict[str, Discovered]:
    """Every installed plugin, including those that fail to import (with their error)."""
    found: dict[str, Discovered] = {}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = ep.dist
        item = Discovered(
            name=ep.name,
            version=dist.version if dist else "0",
            distribution=dist.name if dist else "?",
        )
        if ep.name in found:
            item.error = f"插件名 {ep.name} 被多个发行包使用 / duplicate plugin name"
            found[ep.name].error = item.error
            continue
        found[ep.name] = item
        if not NAME_RE.match(ep.name) or ep.name in RESERVED:
            item.error = f"invalid plugin name {ep.name!r} (lowercase, not reserved)"
            continue
        try:
            module = ep.load()
        except Exception as exc:  # a broken plugin is reported, never silently skipped
            item.error = f"import failed: {exc.__class__.__name__}: {exc}"
            log.error("plugin %s failed to import:\n%s", ep.name, traceback.format_exc())
            continue
        manifest = getattr(module, "MANIFEST", None)
        if not isinstance(manifest, Manifest):
            item.error = "the entry point's module has no MANIFEST = unionhub.contrib.Manifest(...)"
        elif manifest.name != ep.name:
            item.error = f"MANIFEST.name {manifest.name!r} differs from entry point {ep.name!r}"
        else:
            item.module, item.manifest = module, manifest
    return found


def check_core_version(manifest: Manifest, core_version: str = __version__) -> None:
    try:
        spec = SpecifierSet(manifest.requires_core)
    except InvalidSpecifier as exc:
        raise PluginError(
            f"插件 {manifest.name}: requires_core {manifest.requires_core!r} is not a version "
            "specifier"
        ) from exc
    if Version(core_version) not in spec:
        raise PluginError(
            f"插件 {manifest.name} 需要核心版本 {manifest.requires_core}，当前为 {core_version} "
            f"(plugin {manifest.name} requires core {manifest.requires_core}, "
            f"running {core_version})"
        )


def load_order(enabled: dict[str, Discovered], installed: dict[str, Discovered]) -> list[str]:
    """Topological order over ``depends`` and present ``uses``; ties broken by name.

    Raises PluginError naming the plugin when a hard dependency is missing or disabled, the
    core version does not match, or the dependencies form a cycle.
    """
    for name, item in enabled.items():
        if item.manifest is None:
            raise PluginError(f"插件 {name} 已启用但无法加载: {item.error}")
        check_core_version(item.manifest)
        for dep in item.manifest.depends:
            if dep not in installed:
                raise PluginError(
                    f"插件 {name} 依赖插件 {dep}，但它没有安装 "
                    f"(plugin {name} depends on {dep}, which is not installed)"
                )
            if dep not in enabled:
                raise PluginError(
                    f"插件 {name} 依赖插件 {dep}，但它未启用 "
                    f"(plugin {name} depends on {dep}, which is disabled)"
                )
    edges = {
        name: sorted(
            {d for d in (*item.manifest.depends, *item.manifest.uses) if d in enabled}
        )
        for name, item in enabled.items()
        if item.manifest
    }
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(node: str, chain: tuple[str, ...]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            raise PluginError("插件依赖成环 / plugin dependency cycle: " + " → ".join(chain))
        state[node] = 1
        for dep in edges[node]:
            visit(dep, (*chain, dep))
        state[node] = 2
        order.append(node)

    for name in sorted(edges):
        visit(name, (name,))
    return order
