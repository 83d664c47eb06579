"""Typed settings: admin-edited value (per org where given) < environment < default.

Secrets (type ``secret``) prefer the environment so production never stores them.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from unionhub import db
from unionhub.contrib import SettingSpec
from unionhub.orgs.models import Org
from unionhub.settings.models import SettingValue


class SettingError(ValueError):
    pass


def spec(key: str) -> SettingSpec:
    reg = current_app.extensions["unionhub"].registries
    if key not in reg.settings:
        raise KeyError(f"unknown setting {key}")
    return reg.settings[key][1]


def coerce(sp: SettingSpec, raw: Any) -> Any:
    """Turn form/env input into the setting's type, or raise SettingError naming the field."""
    if raw is None:
        return None
    try:
        if sp.type == "bool":
            return raw if isinstance(raw, bool) else str(raw).lower() in {"1", "true", "on", "yes"}
        if sp.type == "int":
            return int(str(raw).strip())
        if sp.type == "decimal":
            return str(Decimal(str(raw).strip()).quantize(Decimal("0.01")))
    except (ValueError, InvalidOperation) as exc:
        raise SettingError(f"{sp.label}: 「{raw}」不是有效的{sp.type}值") from exc
    value = str(raw)
    if sp.choices and value not in sp.choices:
        raise SettingError(f"{sp.label}: 只能是 {', '.join(sp.choices)}")
    return value


def get(key: str, org_id: int | None = None) -> Any:
    """The value for ``key``; for a ``per_org`` setting and an org, the override of the
    nearest ancestor-or-self org that has one, else the site-wide value."""
    sp = spec(key)
    if sp.type == "secret" and sp.env and os.environ.get(sp.env):
        return os.environ[sp.env]
    s = db.session()
    chain: list[int] = []
    if org_id is not None and sp.per_org:
        path = s.scalar(select(Org.path).where(Org.id == org_id))
        chain = [int(p) for p in (path or "").strip("/").split("/") if p]
    rows = dict(
        s.execute(
            select(SettingValue.org_id, SettingValue.value).where(
                SettingValue.key == key,
                SettingValue.org_id.in_(chain) | SettingValue.org_id.is_(None),
            )
        ).all()
    )
    for oid in reversed(chain):  # nearest first
        if oid in rows:
            return coerce(sp, rows[oid])
    if None in rows:
        return coerce(sp, rows[None])
    if sp.env and os.environ.get(sp.env):
        return coerce(sp, os.environ[sp.env])
    return sp.default


def overrides(key: str) -> dict[int, Any]:
    """Per-org values of a setting: {org_id: value}."""
    sp = spec(key)
    rows = db.session().execute(select(SettingValue.org_id, SettingValue.value).where(
        SettingValue.key == key, SettingValue.org_id.is_not(None)))
    return {oid: coerce(sp, v) for oid, v in rows}


def clear(key: str, org_id: int) -> None:
    db.session().execute(delete(SettingValue).where(SettingValue.key == key,
                                                    SettingValue.org_id == org_id))


def put(key: str, raw: Any, org_id: int | None = None) -> Any:
    sp = spec(key)
    if org_id is not None and not sp.per_org:
        raise SettingError(f"{sp.label}: 只能全站设置，不能按组织设置")
    value = coerce(sp, raw)
    s = db.session()
    row = s.scalar(select(SettingValue).where(
        SettingValue.key == key,
        SettingValue.org_id == org_id if org_id is not None else SettingValue.org_id.is_(None),
    ))
    if row is None:
        s.add(SettingValue(key=key, org_id=org_id, value=value))
    else:
        row.value = value
    return value
