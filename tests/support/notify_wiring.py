"""Wire the notification service into a test app the way ``create_app`` will once the core
hooks return it — and do nothing that is already wired (so these tests keep working after)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask

from unionhub.jobs.types import BeatEntry
from unionhub.notify import init_notify
from unionhub.notify.types import NotificationType


def wire(app: Flask, extra_types: Iterable[tuple[str, NotificationType]] = ()) -> Flask:
    from unionhub.notify.core import (
        CORE_CHANNELS,
        CORE_TYPES,
        NOTIFY_BEAT,
        NOTIFY_JOBS,
        NOTIFY_SETTINGS,
    )
    from unionhub.notify.registry import CHANNELS_HOOK, TYPES_HOOK
    from unionhub.notify.views import bp

    reg = app.extensions["unionhub"].registries
    for spec in NOTIFY_SETTINGS:
        reg.settings.setdefault(f"core.{spec.key}", ("core", spec))
    services: dict[str, list[tuple[str, Any]]] = reg.services
    has_core = {h: any(p == "core" for p, _x in services.get(h, []))
                for h in (TYPES_HOOK, CHANNELS_HOOK)}
    types = [] if has_core[TYPES_HOOK] else [("core", t) for t in CORE_TYPES]
    channels = [] if has_core[CHANNELS_HOOK] else [("core", c) for c in CORE_CHANNELS]
    init_notify(app, extra_types=[*types, *extra_types], extra_channels=channels)
    jobs = app.extensions["jobs"]
    for spec in NOTIFY_JOBS:
        jobs.specs.setdefault(f"core.{spec.key}", ("core", spec))
    for entry in NOTIFY_BEAT:
        jobs.beat.setdefault(f"core.{entry.key}", ("core", BeatEntry(
            f"core.{entry.key}", f"core.{entry.job}", entry.every, dict(entry.params))))
    if "notify" not in app.blueprints:
        app.register_blueprint(bp)
    return app
