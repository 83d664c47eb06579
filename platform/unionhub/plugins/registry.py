"""Builds the registries from hook results, once, at start-up.

Every contribution is validated, namespaced by the plugin that returned it and checked for
duplicates; a bad contribution stops start-up with a message naming the plugin.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import click
import pluggy
from flask import Blueprint
from markupsafe import Markup

from unionhub.contrib import (
    MENUS,
    SURFACES,
    BlueprintSpec,
    CliGroup,
    DashboardWidget,
    DatabaseSpec,
    DemoSeeder,
    NavItem,
    Permission,
    ProfilePanel,
    RoleGrantDefault,
    SettingSpec,
    SlotContribution,
    SlotDecl,
)
from unionhub.plugins.discovery import PluginError

CORE = "core"
SERVICE_HOOKS: tuple[str, ...] = ("unionhub_jobs", "unionhub_beat", "unionhub_import_handlers",
                                  "unionhub_notification_types",
                                  "unionhub_notification_channels",
                                  "unionhub_search_indexers", "unionhub_offer_providers")
URL_PREFIX = {"web": "/{p}", "mobile": "/m/{p}", "api": "/api/v1/{p}", "admin": "/admin/{p}"}


def blueprint_name(plugin: str, surface: str) -> str:
    return plugin if surface == "web" else f"{plugin}_{surface}"


@dataclass
class RoleDef:
    name: str
    label: str
    permissions: set[str] = field(default_factory=set)
    declared_by: str = CORE


@dataclass
class Registries:
    plugins: list[str] = field(default_factory=list)
    blueprints: list[tuple[str, str, Blueprint]] = field(default_factory=list)
    blueprint_owner: dict[str, str] = field(default_factory=dict)
    nav: dict[str, list[tuple[str, NavItem]]] = field(default_factory=lambda: defaultdict(list))
    permissions: dict[str, tuple[str, Permission]] = field(default_factory=dict)
    roles: dict[str, RoleDef] = field(default_factory=dict)
    slots: dict[str, tuple[str, SlotDecl]] = field(default_factory=dict)
    slot_contribs: dict[str, list[tuple[str, SlotContribution]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    profile_panels: list[tuple[str, ProfilePanel]] = field(default_factory=list)
    widgets: dict[str, list[tuple[str, DashboardWidget]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    settings: dict[str, tuple[str, SettingSpec]] = field(default_factory=dict)
    cli: list[tuple[str, click.Group]] = field(default_factory=list)
    seeders: list[tuple[str, DemoSeeder]] = field(default_factory=list)
    models: dict[str, tuple[type, ...]] = field(default_factory=dict)
    #: Contributions to the core services (jobs, search, notifications, imports), in load
    #: order; each service validates its own when it is set up.
    services: dict[str, list[tuple[str, Any]]] = field(
        default_factory=lambda: defaultdict(list))

    def roles_with(self, permission: str) -> list[str]:
        return sorted(r.name for r in self.roles.values() if permission in r.permissions)


def each(pm: pluggy.PluginManager, hook: str, order: list[str], **kwargs: Any) -> Iterator[
    tuple[str, Any]
]:
    """Call ``hook`` on each plugin in ``order`` (not pluggy's LIFO), yielding (plugin, result)."""
    impls = {impl.plugin_name: impl for impl in getattr(pm.hook, hook).get_hookimpls()}
    for name in order:
        impl = impls.get(name)
        if impl is None:
            continue
        result = impl.function(*[kwargs[a] for a in impl.argnames])
        if result is not None:
            yield name, result


def _expect(plugin: str, hook: str, items: Any, kind: type) -> list[Any]:
    items = [items] if isinstance(items, kind) else list(items)
    for item in items:
        if not isinstance(item, kind):
            raise PluginError(
                f"插件 {plugin}: {hook} returned {type(item).__name__}, expected {kind.__name__}"
            )
    return items


def _ns(plugin: str, key: str) -> str:
    return key if plugin == CORE else f"{plugin}.{key}"


def _framed(title: str, render: Any, permission: str | None = None) -> Any:
    def frame(**ctx: Any) -> Markup | None:
        from flask_login import current_user

        from unionhub.access.service import permissions_of

        if permission and (
            not current_user.is_authenticated or permission not in permissions_of(current_user)
        ):
            return None
        body = render(**ctx)
        if not body:
            return None
        from flask_babel import gettext

        return Markup('<section class="card panel"><h2>{}</h2>{}</section>').format(
            gettext(title), body if isinstance(body, Markup) else Markup.escape(body)
        )

    return frame


def build(pm: pluggy.PluginManager, order: list[str], builtin_roles: dict[str, str]) -> Registries:
    """``order`` starts with ``core``; ``builtin_roles`` maps role name to label."""
    reg = Registries(plugins=[p for p in order if p != CORE])
    for role, label in builtin_roles.items():
        reg.roles[role] = RoleDef(role, label)

    for plugin, res in each(pm, "unionhub_database", order):
        spec = _expect(plugin, "unionhub_database", res, DatabaseSpec)[0]
        for model in spec.models:
            table = getattr(model, "__tablename__", "")
            if plugin != CORE and not table.startswith(f"{plugin}_"):
                raise PluginError(f"插件 {plugin}: table {table!r} must be named {plugin}_*")
        reg.models[plugin] = spec.models

    for plugin, res in each(pm, "unionhub_permissions", order):
        for perm in _expect(plugin, "unionhub_permissions", res, Permission):
            key = _ns(plugin, perm.key)
            if key in reg.permissions:
                raise PluginError(f"插件 {plugin}: duplicate permission {key}")
            reg.permissions[key] = (plugin, perm)

    for plugin, res in each(pm, "unionhub_roles", order):
        for grant in _expect(plugin, "unionhub_roles", res, RoleGrantDefault):
            role = reg.roles.get(grant.role)
            if role is None:
                if not grant.label:
                    raise PluginError(f"插件 {plugin}: unknown role {grant.role} (give a label)")
                role = reg.roles[grant.role] = RoleDef(grant.role, grant.label, declared_by=plugin)
            for perm in grant.permissions:
                key = perm if perm in reg.permissions else _ns(plugin, perm)
                if key not in reg.permissions:
                    raise PluginError(f"插件 {plugin}: role {grant.role} gets unknown {key}")
                role.permissions.add(key)

    for plugin, res in each(pm, "unionhub_blueprints", order):
        for spec in _expect(plugin, "unionhub_blueprints", res, BlueprintSpec):
            if plugin == CORE:
                raise PluginError("core blueprints are registered directly")
            if spec.surface not in SURFACES:
                raise PluginError(f"插件 {plugin}: unknown surface {spec.surface!r}")
            want = blueprint_name(plugin, spec.surface)
            if spec.blueprint.name != want:
                raise PluginError(
                    f"插件 {plugin}: the {spec.surface} blueprint must be named {want!r}, "
                    f"not {spec.blueprint.name!r}"
                )
            if want in reg.blueprint_owner:
                raise PluginError(f"插件 {plugin}: two blueprints for surface {spec.surface}")
            reg.blueprint_owner[want] = plugin
            reg.blueprints.append((plugin, URL_PREFIX[spec.surface].format(p=plugin),
                                   spec.blueprint))

    seen: set[tuple[str, str]] = set()
    for plugin, res in each(pm, "unionhub_nav_items", order):
        for item in _expect(plugin, "unionhub_nav_items", res, NavItem):
            if item.menu not in MENUS:
                raise PluginError(f"插件 {plugin}: unknown menu {item.menu!r}")
            key = (item.menu, _ns(plugin, item.key))
            if key in seen:
                raise PluginError(f"插件 {plugin}: duplicate nav item {key}")
            seen.add(key)
            reg.nav[item.menu].append((plugin, item))
    for items in reg.nav.values():
        items.sort(key=lambda t: (t[1].priority, _ns(t[0], t[1].key)))

    for plugin, res in each(pm, "unionhub_slots", order):
        for decl in _expect(plugin, "unionhub_slots", res, SlotDecl):
            if decl.name in reg.slots:
                raise PluginError(f"插件 {plugin}: slot {decl.name} already declared")
            reg.slots[decl.name] = (plugin, decl)

    for plugin, res in each(pm, "unionhub_slot_contributions", order):
        for contrib in _expect(plugin, "unionhub_slot_contributions", res, SlotContribution):
            if contrib.slot not in reg.slots:
                if contrib.optional:
                    continue
                raise PluginError(f"插件 {plugin}: contributes to undeclared slot {contrib.slot}")
            reg.slot_contribs[contrib.slot].append((plugin, contrib))

    for plugin, res in each(pm, "unionhub_profile_panels", order):
        reg.profile_panels.extend(
            (plugin, p) for p in _expect(plugin, "unionhub_profile_panels", res, ProfilePanel)
        )
    reg.profile_panels.sort(key=lambda t: (t[1].priority, _ns(t[0], t[1].key)))

    for plugin, res in each(pm, "unionhub_dashboard_widgets", order):
        for w in _expect(plugin, "unionhub_dashboard_widgets", res, DashboardWidget):
            if w.board not in ("member", "officer", "admin"):
                raise PluginError(f"插件 {plugin}: unknown dashboard {w.board!r}")
            reg.widgets[w.board].append((plugin, w))
    for widgets in reg.widgets.values():
        widgets.sort(key=lambda t: (t[1].priority, _ns(t[0], t[1].key)))

    # Profile panels and dashboard widgets render through their slots, framed as cards.
    for plugin, panel in reg.profile_panels:
        reg.slot_contribs["member.profile.panels"].append(
            (plugin, SlotContribution("member.profile.panels", panel.key,
                                      _framed(panel.title, panel.render), panel.priority))
        )
    for board, widgets in reg.widgets.items():
        for plugin, w in widgets:
            reg.slot_contribs[f"dashboard.{board}"].append(
                (plugin, SlotContribution(f"dashboard.{board}", w.key,
                                          _framed(w.title, w.render, w.permission), w.priority))
            )
    for contribs in reg.slot_contribs.values():
        contribs.sort(key=lambda t: (t[1].priority, _ns(t[0], t[1].key)))

    for plugin, res in each(pm, "unionhub_settings", order):
        for spec in _expect(plugin, "unionhub_settings", res, SettingSpec):
            key = f"{plugin}.{spec.key}"
            if key in reg.settings:
                raise PluginError(f"插件 {plugin}: duplicate setting {key}")
            reg.settings[key] = (plugin, spec)

    for plugin, res in each(pm, "unionhub_cli", order):
        for cli in _expect(plugin, "unionhub_cli", res, CliGroup):
            if cli.group.name != plugin:
                raise PluginError(f"插件 {plugin}: its CLI group must be named {plugin!r}")
            reg.cli.append((plugin, cli.group))

    for plugin, res in each(pm, "unionhub_demo_seeders", order):
        reg.seeders.extend(
            (plugin, s) for s in _expect(plugin, "unionhub_demo_seeders", res, DemoSeeder)
        )
    reg.seeders.sort(key=lambda t: (order.index(t[0]), t[1].priority))

    for hook in SERVICE_HOOKS:
        for plugin, res in each(pm, hook, order):
            reg.services[hook].extend((plugin, item) for item in res)
    return reg
