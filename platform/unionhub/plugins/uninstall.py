"""``unionhub plugins uninstall [--purge]``: forget a plugin; with --purge drop its data."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, inspect
from sqlalchemy.engine import Engine

from unionhub.access.models import RolePermission
from unionhub.audit import service as audit
from unionhub.db import Database
from unionhub.migrate import History, downgrade_to_base, resolve_location
from unionhub.plugins.discovery import Discovered
from unionhub.plugins.models import PluginRecord
from unionhub.settings.models import SettingValue


class UninstallError(RuntimeError):
    pass


@dataclass
class Plan:
    name: str
    purge: bool
    history: History | None = None
    tables: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        lines = [f"将从插件登记表中移除 {self.name} (forget plugin {self.name})"]
        if self.purge:
            lines.append(f"将删除数据表 (DROP): {', '.join(self.tables) or '（无）'}")
            lines.append(f"将删除设置与角色权限: {self.name}.*")
        else:
            lines.append("数据保留 (data kept); use --purge to drop it")
        return lines


def plan(engine: Engine, installed: dict[str, Discovered], name: str, purge: bool) -> Plan:
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        rec = s.get(PluginRecord, name)
        if rec is None:
            raise UninstallError(f"插件 {name} 未登记 (unknown plugin {name})")
        if rec.enabled:
            raise UninstallError(f"请先停用插件 {name} (disable {name} first)")
    p = Plan(name, purge)
    if purge:
        item = installed.get(name)
        if item is None or item.manifest is None:
            raise UninstallError(
                f"--purge 需要插件 {name} 仍然安装，才能运行其迁移 (the package must be installed)")
        if item.manifest.migrations:
            p.history = History(name, resolve_location(item.manifest.migrations))
        p.tables = sorted(t for t in inspect(engine).get_table_names()
                          if t.startswith(f"{name}_") or t == f"alembic_version_{name}")
    return p


def execute(database: Database, p: Plan) -> None:
    if p.purge and p.history is not None:
        downgrade_to_base(database.engine, p.history)
        with database.engine.begin() as conn:
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "alembic_version_{p.name}"')
    with database.factory() as s:
        if p.purge:
            s.execute(delete(SettingValue).where(SettingValue.key.startswith(f"{p.name}.")))
            s.execute(delete(RolePermission).where(
                RolePermission.permission.startswith(f"{p.name}.")))
        s.execute(delete(PluginRecord).where(PluginRecord.name == p.name))
        audit.record("plugin.uninstall", target_type="plugin", target_id=p.name,
                     details={"purge": p.purge, "tables": p.tables}, session=s)
        s.commit()
