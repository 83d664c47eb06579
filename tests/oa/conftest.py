"""Helpers for the OA plugin's fixtures (declared in tests/conftest.py): the plugin enabled on
the world of tests/helpers.py (``oa``), or with mutual aid and its 2025/2026 plan years as well
(``oa_ma``), plus :func:`make_workflow`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask

from tests.conftest import AppFactory
from tests.helpers import World, build_world


@dataclass
class OA:
    app: Flask
    world: World


def build_oa(make_app: AppFactory, *, mutualaid: bool = False) -> OA:
    if mutualaid:
        from tests.mutualaid.conftest import build_ma

        make_app.set_plugin("oa", True)
        ma = build_ma(make_app)
        return OA(ma.app, ma.world)
    make_app.set_plugin("oa", True)
    app = make_app()
    with app.app_context():
        world = build_world()
    return OA(app, world)


def make_workflow(code: str, kind: str, steps: Sequence[Mapping[str, Any]],
                  fields: Sequence[Mapping[str, Any]] = (), name: str | None = None) -> int:
    """Create and commit a workflow (inside an app context); returns its id."""
    from unionhub import db
    from unionhub_oa.workflow import engine

    s = db.session()
    wf = engine.create_workflow(s, code=code, name=name or code, kind=kind,
                                definition={"fields": list(fields), "steps": list(steps)})
    s.commit()
    return wf.id
