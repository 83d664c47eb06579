"""The application factory: config, database, plugins, registries, web — in that order."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pluggy
from flask import Flask

from unionhub import core_hooks, hookspecs
from unionhub.access.roles import BUILTIN_ROLES
from unionhub.config import load_config
from unionhub.db import Database
from unionhub.plugins import discovery, state
from unionhub.plugins.registry import CORE, Registries, build
from unionhub.security.crypto import FieldCipher, load_key

log = logging.getLogger("unionhub")


@dataclass
class UnionHub:
    """Everything the core built at start-up (``app.extensions["unionhub"]``)."""

    pm: pluggy.PluginManager
    installed: dict[str, discovery.Discovered]
    registries: Registries
    cipher: FieldCipher
    loaded: list[str]
    db_ready: bool
    state: state.RuntimeState
    recorded: dict[str, bool] = field(default_factory=dict)


def make_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager("unionhub")
    pm.add_hookspecs(hookspecs)
    pm.register(core_hooks, name=CORE)
    return pm


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    cfg = load_config(overrides)
    app = Flask("unionhub", instance_path=cfg["INSTANCE_PATH"], instance_relative_config=True)
    app.config.update(cfg)
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    db = Database(app)

    cipher = FieldCipher(
        load_key(app.config["FIELD_ENCRYPTION_KEY"]),
        load_key(app.config["FIELD_HASH_KEY"]),
        old_enc_keys=[load_key(k) for k in app.config["OLD_FIELD_ENCRYPTION_KEYS"]],
    )

    installed = discovery.discover()
    db_ready = state.registry_ready(db.engine)
    recorded: dict[str, bool] = {}
    if db_ready:
        with db.factory() as session:
            recorded = state.sync(session, installed)
    else:
        log.warning("database not initialised: run `unionhub db upgrade`; plugins stay off")
    for name, on in recorded.items():
        if on and name not in installed:
            log.error("plugin %s is enabled but no longer installed; ignoring it", name)
    enabled = {n: installed[n] for n, on in recorded.items() if on and n in installed}
    order = discovery.load_order(enabled, installed)

    pm = make_plugin_manager()
    for name in order:
        pm.register(installed[name].module, name=name)
    pm.check_pending()

    for name in (CORE, *order):
        impl = next((i for i in pm.hook.unionhub_configure.get_hookimpls()
                     if i.plugin_name == name), None)
        if impl is not None:
            impl.function(app)

    registries = build(pm, [CORE, *order], BUILTIN_ROLES)
    app.extensions["unionhub"] = UnionHub(
        pm=pm,
        installed=installed,
        registries=registries,
        cipher=cipher,
        loaded=order,
        db_ready=db_ready,
        state=state.RuntimeState(app, order),
        recorded=recorded,
    )

    from unionhub import imports, jobs
    from unionhub.notify import init_notify
    from unionhub.search.service import init_search
    from unionhub.web import init_web

    jobs.init_app(app)
    imports.init_app(app)
    init_search(app)
    init_notify(app)
    init_web(app)
    for plugin, group in registries.cli:
        app.cli.add_command(group, plugin)
    return app
