"""Typed settings: admin-edited value (per org where given) < environment < default.

Secrets (type ``secret``) prefer the environment so production never stores them.
"""

from __future__ import annotations

import os
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from sqlalchemy import select

from unionhub import db
from unionhub.contrib import SettingSpec
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
    sp = spec(key)
    if sp.type == "secret" and sp.env and os.environ.get(sp.env):
        return os.environ[sp.env]
    s = db.session()
    rows = dict(
        s.execute(
            select(SettingValue.org_id, SettingValue.value).where(
                SettingValue.key == key,
                (SettingValue.org_id == org_id) | SettingValue.org_id.is_(None),
            )
        ).all()
    )
    if org_id is not None and org_id in rows:
        return coerce(sp, rows[org_id])
    if None in rows:
        return coerce(sp, rows[None])
    if sp.env and os.environ.get(sp.env):
        return coerce(sp, os.environ[sp.env])
    return sp.default


def put(key: str, raw: Any, org_id: int | None = None) -> Any:
    value = coerce(spec(key), raw)
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
