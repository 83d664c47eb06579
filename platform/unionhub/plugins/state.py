"""The ``plugin_registry`` table: discovery sync, enable/disable/uninstall, run-time checks."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from unionhub.db import utcnow
from unionhub.plugins.discovery import Discovered, PluginError
from unionhub.plugins.models import PluginRecord


def registry_ready(engine: Engine) -> bool:
    return inspect(engine).has_table(PluginRecord.__tablename__)


def sync(session: Session, found: dict[str, Discovered]) -> dict[str, bool]:
    """Record newly discovered plugins (disabled) and return ``{name: enabled}``."""
    records = {r.name: r for r in session.scalars(select(PluginRecord))}
    for name, item in found.items():
        rec = records.get(name)
        if rec is None:
            rec = PluginRecord(name=name, title=item.title, version=item.version, enabled=False)
            session.add(rec)
            records[name] = rec
        elif (rec.version, rec.title) != (item.version, item.title):
            rec.version, rec.title = item.version, item.title
    session.commit()
    return {name: rec.enabled for name, rec in records.items()}


@dataclass
class Change:
    name: str
    enabled: bool
    message: str


def set_enabled(
    session: Session, found: dict[str, Discovered], name: str, enabled: bool
) -> Change:
    """Enable or disable one plugin, refusing changes that would break a dependency."""
    states = sync(session, found)
    item = found.get(name)
    if item is None:
        raise PluginError(f"插件 {name} 没有安装 / plugin {name} is not installed")
    if enabled:
        if not item.ok or item.manifest is None:
            raise PluginError(f"插件 {name} 无法加载: {item.error}")
        for dep in item.manifest.depends:
            if not states.get(dep):
                raise PluginError(f"插件 {name} 依赖插件 {dep}，请先启用它 (enable {dep} first)")
    else:
        users = sorted(
            other
            for other, on in states.items()
            if on and other in found and found[other].manifest
            and name in found[other].manifest.depends  # type: ignore[union-attr]
        )
        if users:
            raise PluginError(
                f"插件 {', '.join(users)} 依赖插件 {name}，请先停用它们 (disable them first)"
            )
    rec = session.get(PluginRecord, name)
    assert rec is not None
    if rec.enabled == enabled:
        return Change(name, enabled, "unchanged")
    rec.enabled = enabled
    rec.changed_at = utcnow()
    return Change(name, enabled, "changed; applies on restart")


class RuntimeState:
    """Answers "is this plugin enabled right now?" for requests and tasks.

    Changes take full effect on restart; meanwhile requests to a plugin disabled at run time
    are refused. The table is re-read at most every ``PLUGIN_STATE_TTL`` seconds.
    """

    def __init__(self, app: Flask, loaded: list[str]) -> None:
        self.app = app
        self.loaded = set(loaded)
        self.ttl = float(app.config["PLUGIN_STATE_TTL"])
        self._cache: dict[str, bool] = dict.fromkeys(loaded, True)
        self._read_at = 0.0
        self._refreshing = threading.Lock()

    def enabled(self, name: str) -> bool:
        if name not in self.loaded:
            return False
        # One thread re-reads when the cache is old; the others answer from the cache meanwhile
        # (a burst of threads each opening a second connection would drain the pool).
        if (time.monotonic() - self._read_at > self.ttl
                and self._refreshing.acquire(blocking=False)):
            try:
                now = time.monotonic()
                if now - self._read_at > self.ttl:
                    factory = self.app.extensions["db"].factory
                    with factory() as s:
                        self._cache = dict(
                            s.execute(select(PluginRecord.name, PluginRecord.enabled)).all())
                    self._read_at = now
            finally:
                self._refreshing.release()
        return self._cache.get(name, False)

    def invalidate(self) -> None:
        self._read_at = 0.0


def plugin_enabled(name: str) -> bool:
    return current_app.extensions["unionhub"].state.enabled(name)
