"""Shared fixtures.

Every test gets a fresh, migrated database: on SQLite a copy of a template file migrated
once per session; on PostgreSQL (``UNIONHUB_TEST_DATABASE_URL``) a new database cloned
from a migrated template. The sample plugin under ``tests/sample_plugin`` is installed
like any third-party plugin and discovered through its entry point.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.helpers import World, build_world

PG_URL = os.environ.get("UNIONHUB_TEST_DATABASE_URL", "")
TEST_KEYS = {
    "SECRET_KEY": "test-secret",
    "FIELD_ENCRYPTION_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "FIELD_HASH_KEY": "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=",
}


def base_config(instance: Path, url: str) -> dict[str, Any]:
    return {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": url,
        "TESTING": True,
        "FAST_PASSWORD_HASH": True,
        "PLUGIN_STATE_TTL": 0.0,
        "LOG_LEVEL": "WARNING",
        **TEST_KEYS,
    }


def _migrate(url: str, instance: Path) -> None:
    from unionhub import migrate
    from unionhub.app import create_app
    from unionhub.db import get_db
    from unionhub.plugins import discovery

    app = create_app(base_config(instance, url))
    with app.app_context():
        migrate.upgrade(get_db().engine, discovery.discover(), echo=lambda _m: None)
    get_db(app).engine.dispose()


@pytest.fixture(scope="session")
def db_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database to clone: a file path (SQLite) or a database name (PostgreSQL)."""
    instance = tmp_path_factory.mktemp("template")
    if PG_URL:
        name = f"uh_tpl_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        _migrate(make_url(PG_URL).set(database=name).render_as_string(False), instance)
        yield name
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        return
    path = instance / "template.db"
    _migrate(f"sqlite:///{path}", instance)
    yield str(path)


@pytest.fixture
def database_url(db_template: str, tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        name = f"uh_t_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{db_template}"'))
        yield make_url(PG_URL).set(database=name).render_as_string(False)
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        return
    path = tmp_path / "test.db"
    shutil.copy(db_template, path)
    yield f"sqlite:///{path}"


class AppFactory:
    """Creates apps on one database — a second call is a platform restart."""

    def __init__(self, url: str, instance: Path) -> None:
        self.url, self.instance = url, instance
        self.apps: list[Flask] = []

    def __call__(self, **overrides: Any) -> Flask:
        from unionhub.app import create_app

        app = create_app({**base_config(self.instance, self.url), **overrides})
        self.apps.append(app)
        return app

    def set_plugin(self, name: str, enabled: bool) -> None:
        from unionhub.plugins import discovery, state

        app = self.apps[-1] if self.apps else self()
        with app.app_context():
            from unionhub import db

            s = db.session()
            state.set_enabled(s, discovery.discover(), name, enabled)
            s.commit()

    def close(self) -> None:
        for app in self.apps:
            app.extensions["db"].engine.dispose()


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[AppFactory]:
    factory = AppFactory(database_url, tmp_path / "instance")
    yield factory
    factory.close()


@pytest.fixture
def app(make_app: AppFactory) -> Flask:
    return make_app()


@pytest.fixture
def world(app: Flask) -> World:
    """Two districts with grassroots unions, members, officers (see tests/helpers.py)."""
    with app.app_context():
        return build_world()


@pytest.fixture
def in_late_2026() -> Iterator[None]:
    """The clock moved to 2026-11-30 10:00 UTC (and running on) for tests written against the
    2025/2026 plan years, so that their deadlines and terms mean the same in later years."""
    import time_machine

    with time_machine.travel(datetime(2026, 11, 30, 10, 0, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def ma(make_app: AppFactory) -> Any:
    """The mutual-aid plugin enabled on the world, with its 2025 and 2026 plan years (see
    tests/mutualaid/conftest.py)."""
    from tests.mutualaid.conftest import build_ma

    return build_ma(make_app)


@pytest.fixture
def mall(make_app: AppFactory) -> Any:
    """The welfare mall enabled on the world, with a merchant, its staff and two offers (see
    tests/benefits_mall/conftest.py)."""
    from tests.benefits_mall.conftest import build_mall

    return build_mall(make_app)


@pytest.fixture
def portal(make_app: AppFactory) -> Any:
    """The portal enabled on the world, with its seeded sections (see tests/portal/conftest.py)."""
    from tests.portal.conftest import build_portal

    return build_portal(make_app)


@pytest.fixture
def library(make_app: AppFactory) -> Any:
    """The library enabled on the world, with its seeded 中图法 classes (see
    tests/library/conftest.py)."""
    from tests.library.conftest import build_library

    return build_library(make_app)


@pytest.fixture
def oa(make_app: AppFactory) -> Any:
    """The OA plugin enabled on the world (see tests/oa/conftest.py)."""
    from tests.oa.conftest import build_oa

    return build_oa(make_app)


@pytest.fixture
def oa_ma(make_app: AppFactory) -> Any:
    """The OA plugin and mutual aid (with its 2025 and 2026 plan years) on the world."""
    from tests.oa.conftest import build_oa

    return build_oa(make_app, mutualaid=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ci = os.environ.get("CI", "").lower() == "true"
    for item in items:
        if "integration" in item.keywords and not ci and not os.environ.get(
            "UNIONHUB_INTEGRATION"
        ):
            item.add_marker(pytest.mark.skip(
                reason="integration test: needs PostgreSQL/Redis; runs when CI=true "
                       "(or UNIONHUB_INTEGRATION=1)"))
