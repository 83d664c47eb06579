"""The notification registry: types and channels from the hooks, validated and namespaced
once at start-up (``app.extensions["notify"]``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Flask, current_app

from unionhub.notify.types import INBOX, ChannelSpec, NotificationType

TYPES_HOOK = "unionhub_notification_types"
CHANNELS_HOOK = "unionhub_notification_channels"


class NotifyError(RuntimeError):
    pass


@dataclass
class NotifyRegistry:
    types: dict[str, tuple[str, NotificationType]] = field(default_factory=dict)
    channels: dict[str, tuple[str, ChannelSpec]] = field(default_factory=dict)

    def type(self, key: str) -> NotificationType:
        if key not in self.types:
            raise NotifyError(f"unknown notification type {key}")
        return self.types[key][1]

    def channel(self, key: str) -> ChannelSpec:
        return self.channels[key][1]

    @property
    def external(self) -> list[str]:
        """Channels the dispatcher sends through (everything but the inbox), sorted."""
        return sorted(k for k, (_p, c) in self.channels.items() if c.sender is not None)

    def choosable(self) -> list[tuple[str, NotificationType]]:
        return sorted(((k, t) for k, (_p, t) in self.types.items() if t.member_choice),
                      key=lambda kt: kt[0])


def _channel_key(plugin: str, key: str) -> str:
    return key if plugin == "core" else f"{plugin}.{key}"


def build(services: dict[str, list[tuple[str, Any]]],
          extra_types: Iterable[tuple[str, NotificationType]] = (),
          extra_channels: Iterable[tuple[str, ChannelSpec]] = ()) -> NotifyRegistry:
    from unionhub.plugins.discovery import PluginError

    reg = NotifyRegistry()
    for plugin, spec in [*services.get(CHANNELS_HOOK, []), *extra_channels]:
        if not isinstance(spec, ChannelSpec):
            raise PluginError(f"插件 {plugin}: {CHANNELS_HOOK} must return ChannelSpec")
        key = _channel_key(plugin, spec.key)
        if key in reg.channels:
            raise PluginError(f"插件 {plugin}: duplicate notification channel {key}")
        if spec.sender is None and key != INBOX:
            raise PluginError(f"插件 {plugin}: channel {key} has no sender")
        reg.channels[key] = (plugin, replace(spec, key=key))
    for plugin, nt in [*services.get(TYPES_HOOK, []), *extra_types]:
        if not isinstance(nt, NotificationType):
            raise PluginError(f"插件 {plugin}: {TYPES_HOOK} must return NotificationType")
        key = f"{plugin}.{nt.key}"
        if key in reg.types:
            raise PluginError(f"插件 {plugin}: duplicate notification type {key}")

        def resolve(ch: str, plugin: str = plugin, key: str = key) -> str:
            for candidate in (ch, f"{plugin}.{ch}"):
                if candidate in reg.channels:
                    return candidate
            raise PluginError(f"插件 {plugin}: notification type {key} names unknown "
                              f"channel {ch}")

        allowed = tuple(dict.fromkeys(resolve(c) for c in nt.allowed_channels if c != INBOX))
        default = tuple(dict.fromkeys(resolve(c) for c in nt.default_channels if c != INBOX))
        if not set(default) <= set(allowed):
            raise PluginError(f"插件 {plugin}: type {key}: default channels must be allowed")
        reg.types[key] = (plugin, replace(nt, key=key, allowed_channels=allowed,
                                          default_channels=default))
    return reg


def registry(app: Flask | None = None) -> NotifyRegistry:
    app = app or current_app
    reg = app.extensions.get("notify")
    if reg is None:
        raise NotifyError("the notification service is not set up (init_notify)")
    return reg
