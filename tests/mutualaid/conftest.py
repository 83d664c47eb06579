"""Fixtures for the mutual-aid plugin: the plugin enabled, the world of tests/helpers.py, the
eight programs' 2025 and 2026 plan years, and a reviewer of the city's mutual-aid centre."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask

from tests.conftest import AppFactory
from tests.helpers import PASSWORD, World, build_world

PLAN_YEARS = (2025, 2026)


@pytest.fixture(autouse=True)
def _late_in_the_2026_plan_year(in_late_2026: None) -> None:
    """These tests are written against the 2025 and 2026 plan years (deadlines, terms,
    "today"): ``in_late_2026`` (tests/conftest.py) moves the clock to 2026-11-30 for each."""
    return None


@dataclass
class MA:
    app: Flask
    world: World


def build_ma(make_app: AppFactory) -> MA:
    """The ``ma`` fixture (declared in tests/conftest.py so integration tests share it)."""
    make_app.set_plugin("mutualaid", True)
    app = make_app()
    with app.app_context():
        from unionhub import db
        from unionhub.identity.admin import create_officer
        from unionhub_mutualaid import plans

        world = build_world()
        s = db.session()
        plans.seed(s, PLAN_YEARS)
        acc = create_officer(s, "reviewer", "审核员", PASSWORD, "mutualaid_reviewer",
                             world.orgs["city"])
        s.flush()
        world.officers["reviewer"] = acc.id
        s.commit()
    return MA(app, world)
