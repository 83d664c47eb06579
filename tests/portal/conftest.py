"""Fixtures for the portal: the plugin enabled on the world of tests/helpers.py (its sections are
the ones the first migration seeds), plus :func:`add_article` to put content in place without
going through the editor. Article views wait in memory (site/counter.py): each test's are
written before its database goes away."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import AppFactory
from tests.helpers import World, build_world


@pytest.fixture(autouse=True)
def _write_views(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that made apps, write the article views they still hold (while the
    test's database exists; a failure to write fails the test)."""
    factory: AppFactory | None = (request.getfixturevalue("make_app")
                                  if "make_app" in request.fixturenames else None)
    yield
    if factory is not None:
        from unionhub_portal.site.counter import flush_views

        for app in factory.apps:
            if "portal_views" in app.extensions:
                flush_views(app)


@dataclass
class Portal:
    app: Flask
    world: World
    #: section code → id (the seeded sections: news, notices, documents, hotline, forum, …)
    sections: dict[str, int] = field(default_factory=dict)


def build_portal(make_app: AppFactory) -> Portal:
    """The ``portal`` fixture (declared in tests/conftest.py so integration tests share it)."""
    make_app.set_plugin("portal", True)
    app = make_app()
    with app.app_context():
        from unionhub import db
        from unionhub_portal.models import PortalSection

        world = build_world()
        rows = db.session().execute(select(PortalSection.code, PortalSection.id))
        sections = {code: id_ for code, id_ in rows}
    return Portal(app, world, sections)


def add_article(section_id: int, title: str, *, owner_org_id: int, body: str = "<p>正文</p>",
                audience_org_id: int | None = None, groups: Iterable[int] = (),
                platforms: Iterable[str] = ("pc", "mobile", "app"), state: str = "published",
                published_at: datetime | None = None, expires_at: datetime | None = None,
                **fields: object) -> int:
    """Insert an article (inside an app context); published an hour ago unless told otherwise."""
    from unionhub import db
    from unionhub.db import utcnow
    from unionhub_portal.models import PortalArticle, PortalArticleGroup

    s = db.session()
    groups = list(groups)
    platforms = set(platforms)
    if published_at is None and state == "published":
        published_at = utcnow() - timedelta(hours=1)
    article = PortalArticle(section_id=section_id, title=title, body_html=body,
                            owner_org_id=owner_org_id, audience_org_id=audience_org_id,
                            has_groups=bool(groups), on_pc="pc" in platforms,
                            on_mobile="mobile" in platforms, on_app="app" in platforms,
                            state=state, published_at=published_at, expires_at=expires_at,
                            **fields)
    s.add(article)
    s.flush()
    s.add_all(PortalArticleGroup(article_id=article.id, group_id=g) for g in groups)
    s.commit()
    return article.id
