"""``unionhub db upgrade``: Alembic for the core, then every installed plugin in dependency
order, each with its own history and version table (``alembic_version_<plugin>``).

Plugin migrations never import plugin models; they are plain Alembic scripts whose
``env.py`` is one call to :func:`run_env`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from unionhub.plugins.discovery import Discovered, PluginError, load_order
from unionhub.plugins.registry import CORE

log = logging.getLogger(__name__)
CORE_MIGRATIONS = str(Path(__file__).parent / "migrations")


@dataclass(frozen=True)
class History:
    owner: str
    location: str

    @property
    def version_table(self) -> str:
        return "alembic_version" if self.owner == CORE else f"alembic_version_{self.owner}"


def resolve_location(spec: str) -> str:
    """``"package:folder"`` → filesystem path of the Alembic script directory."""
    package, _, folder = spec.partition(":")
    path = files(package).joinpath(folder or "migrations")
    if not path.is_dir():
        raise PluginError(f"migrations folder {spec!r} not found")
    return str(path)


def histories(installed: dict[str, Discovered]) -> list[History]:
    """The core first, then every importable installed plugin with migrations, in order."""
    ok = {n: d for n, d in installed.items() if d.ok and d.manifest}
    order = load_order(ok, installed)
    out = [History(CORE, CORE_MIGRATIONS)]
    for name in order:
        manifest = ok[name].manifest
        if manifest and manifest.migrations:
            out.append(History(name, resolve_location(manifest.migrations)))
    return out


def _config(history: History, engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", history.location)
    cfg.attributes["engine"] = engine
    cfg.attributes["version_table"] = history.version_table
    cfg.attributes["owner"] = history.owner
    return cfg


def upgrade(engine: Engine, installed: dict[str, Discovered], revision: str = "heads",
            echo: Callable[[str], None] = log.info) -> list[str]:
    done = []
    for h in histories(installed):
        echo(f"upgrading {h.owner} ({h.version_table})")
        command.upgrade(_config(h, engine), revision)
        done.append(h.owner)
    return done


def downgrade_to_base(engine: Engine, history: History) -> None:
    command.downgrade(_config(history, engine), "base")


def current_heads(engine: Engine, history: History) -> tuple[set[str], set[str]]:
    """(revisions applied, heads available) for one history."""
    script = ScriptDirectory.from_config(_config(history, engine))
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": history.version_table})
        return set(ctx.get_current_heads()), set(script.get_heads())


def run_env() -> None:
    """The body of every ``env.py`` (core and plugins)."""
    from alembic import context

    from unionhub import models
    from unionhub.db import Base

    cfg = context.config
    engine: Engine = cfg.attributes["engine"]
    owner: str = cfg.attributes["owner"]

    core_tables = models.CORE_TABLES

    def include_object(obj: object, name: str | None, type_: str, *_: object) -> bool:
        if type_ != "table" or name is None:
            return True
        return name in core_tables if owner == CORE else name.startswith(f"{owner}_")

    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=Base.metadata,
            version_table=cfg.attributes["version_table"],
            include_object=include_object,
            render_as_batch=conn.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()
