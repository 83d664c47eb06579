"""The reader's list and neighbour queries at scale: they walk an index instead of sorting a
section (checked with SQLite's ``EXPLAIN QUERY PLAN`` on the statements the service really
sends), and the merged per-section reading of :func:`site.service._window` gives exactly the
list order (pinned first, newest, highest id) that one ``ORDER BY`` over all rows gives."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from tests.portal.conftest import Portal, add_article


@contextmanager
def _statements(engine: Any) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT on ``portal_article`` sent while inside, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any,
               _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "portal_article" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _plan(session: Any, statement: str, parameters: Any) -> str:
    rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    return "\n".join(str(r[-1]) for r in rows)


def _table_scans(plan: str) -> list[str]:
    """Plan lines that read the whole article table (no index, no rowid lookup)."""
    return [line for line in plan.splitlines()
            if re.match(r"\s*SCAN portal_article\b(?!_)", line) and "INDEX" not in line]


def _seed(portal: Portal, rng: random.Random, count: int) -> None:
    from unionhub.db import utcnow

    w = portal.world
    city = w.org_id("city")
    now = utcnow()
    codes = ("news", "grassroots", "media")
    ties = [now - timedelta(days=d) for d in (3, 7, 11)]
    for i in range(count):
        when = rng.choice(ties) if rng.random() < 0.3 else now - timedelta(
            minutes=rng.randint(90, 60 * 24 * 40))
        roll = rng.random()
        add_article(portal.sections[rng.choice(codes)], f"文章{i}", owner_org_id=city,
                    published_at=when, pinned=rng.random() < 0.12,
                    audience_org_id=w.org_id("d2") if roll < 0.1 else None,
                    state="draft" if 0.1 <= roll < 0.15 else "published",
                    expires_at=now - timedelta(minutes=1) if 0.15 <= roll < 0.2 else None)


def _viewers(portal: Portal) -> list[Any]:
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_portal.audience import Viewer

    s = db.session()
    m2 = s.get(Account, portal.world.people["m2"].account_id)
    return [Viewer(), Viewer.of(s, m2, "pc"), Viewer("mobile")]


def test_lists_merge_per_section_in_the_list_order(portal: Portal) -> None:
    from unionhub import db
    from unionhub.db import utcnow
    from unionhub_portal.models import PortalArticle
    from unionhub_portal.site import service

    with portal.app.app_context():
        _seed(portal, random.Random(7), 90)
        s = db.session()
        ids = service.subtree_ids(s, portal.sections["news"])
        assert len(ids) == 3
        now = utcnow()
        for viewer in _viewers(portal):
            reference = list(s.scalars(
                service.readable(viewer, now).where(PortalArticle.section_id.in_(ids))
                .order_by(*service.list_order())
                .with_only_columns(PortalArticle.id)))
            assert any(s.get(PortalArticle, i).pinned for i in reference)  # type: ignore[union-attr]
            for per_page in (1, 4, 7):
                for page in range(1, min(len(reference) // per_page + 3, service.MAX_PAGE + 1)):
                    got = service.list_articles(s, viewer, section_ids=ids, page=page,
                                                per_page=per_page, now=now)
                    start = (page - 1) * per_page
                    assert [a.id for a in got.items] == reference[start:start + per_page]
                    assert got.total == min(len(reference), service.MAX_PAGE * per_page)
            assert [a.id for a in service.latest(s, viewer, section_ids=ids, limit=6,
                                                 now=now)] == reference[:6]


def test_neighbours_follow_publication_order_with_ties(portal: Portal) -> None:
    from unionhub import db
    from unionhub.db import utcnow
    from unionhub_portal.models import PortalArticle
    from unionhub_portal.site import service

    with portal.app.app_context():
        _seed(portal, random.Random(11), 60)
        s = db.session()
        now = utcnow()
        news = portal.sections["news"]
        for viewer in _viewers(portal):
            order = list(s.scalars(
                service.readable(viewer, now).where(PortalArticle.section_id == news)
                .order_by(PortalArticle.published_at, PortalArticle.id)))
            assert len(order) > 5
            for i, article in enumerate(order):
                prev, nxt = service.neighbours(s, viewer, article, now)
                assert prev is (order[i - 1] if i > 0 else None)
                assert nxt is (order[i + 1] if i + 1 < len(order) else None)


def _sqlite_only(portal: Portal) -> None:
    from unionhub import db

    if db.session().get_bind().dialect.name != "sqlite":
        pytest.skip("query plans are checked on SQLite (PostgreSQL plans depend on statistics)")


@pytest.mark.parametrize("surface", ["neighbours", "latest", "list", "headlines"])
def test_reader_queries_walk_an_index(portal: Portal, surface: str) -> None:
    """These surfaces read the article table through the indexes meant for them, never by a
    table scan (that the walk does not grow with the table is checked below)."""
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_portal.audience import Viewer
    from unionhub_portal.models import PortalArticle
    from unionhub_portal.site import service

    with portal.app.app_context():
        _sqlite_only(portal)
        _seed(portal, random.Random(3), 40)
        s = db.session()
        s.execute(text("UPDATE portal_article SET headline = 1, cover_id = 1 WHERE id % 5 = 0"))
        s.commit()
        s.execute(text("ANALYZE"))
        article = s.scalars(service.readable(Viewer()).order_by(PortalArticle.id.desc())
                            .limit(1)).one()
        ids = service.subtree_ids(s, portal.sections["news"])
        member_viewer = Viewer.of(s, s.get(Account, portal.world.people["m1"].account_id))
        calls: dict[str, Callable[[Any], Any]] = {
            "neighbours": lambda v: service.neighbours(s, v, article),
            "latest": lambda v: service.latest(s, v, section_ids=ids, limit=6),
            "list": lambda v: service.list_articles(s, v, section_ids=ids, page=2, per_page=5),
            "headlines": lambda v: service.headlines(s, v),
        }
        wanted = {"neighbours": "ix_portal_article_list",
                  "latest": "ix_portal_article_list", "list": "ix_portal_article_list",
                  "headlines": "ix_portal_article_headline"}[surface]
        for viewer in (Viewer(), member_viewer):
            with _statements(s.get_bind()) as seen:
                calls[surface](viewer)
            assert seen
            plans = [_plan(s, stmt, params) for stmt, params in seen]
            joined = "\n".join(plans)
            assert wanted in joined, joined
            if surface in ("latest", "list"):
                assert "ix_portal_article_pinned" in joined, joined
            assert not _table_scans(joined), joined


@contextmanager
def _vm_steps(session: Any) -> Iterator[list[int]]:
    """SQLite virtual-machine instructions run while inside (in tens): the work a query does,
    independent of the machine's speed."""
    raw = session.connection().connection.driver_connection
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    raw.set_progress_handler(tick, 10)
    try:
        yield steps
    finally:
        raw.set_progress_handler(None, 10)


def test_reader_work_does_not_grow_with_newer_articles(portal: Portal) -> None:
    """The previous/next links of an old article, a section's latest articles and the
    carousel cost the same whether 30 or 630 newer articles exist (an unindexed keyset or a
    sort would read every one of them)."""
    from unionhub import db
    from unionhub.db import utcnow
    from unionhub_portal.audience import Viewer
    from unionhub_portal.models import PortalArticle
    from unionhub_portal.site import service

    w = portal.world
    with portal.app.app_context():
        _sqlite_only(portal)
        s = db.session()
        news = portal.sections["news"]
        now = utcnow()

        def add(count: int, newest: timedelta) -> None:
            s.add_all(PortalArticle(
                section_id=news, title=f"批量{i}", body_html="<p>正文</p>", state="published",
                owner_org_id=w.org_id("city"), published_at=now - newest - timedelta(minutes=i),
                headline=i % 10 == 0, cover_id=1 if i % 10 == 0 else None, pinned=i == 5)
                for i in range(count))
            s.commit()
            # the planner's statistics, as a deployment keeps them (PRAGMA optimize/ANALYZE)
            s.execute(text("ANALYZE"))
            s.commit()

        add(30, timedelta(days=30))
        oldest = s.scalars(service.readable(Viewer()).order_by(PortalArticle.published_at)
                           .limit(1)).one()
        ids = service.subtree_ids(s, news)

        def work() -> dict[str, int]:
            out = {}
            for label, call in (
                    ("neighbours", lambda: service.neighbours(s, Viewer(), oldest)),
                    ("latest", lambda: service.latest(s, Viewer(), section_ids=ids, limit=6)),
                    ("headlines", lambda: service.headlines(s, Viewer()))):
                s.expire_all()
                s.refresh(oldest)
                with _vm_steps(s) as steps:
                    call()
                out[label] = steps[0]
            return out

        before = work()
        add(600, timedelta(hours=2))
        after = work()
        for label, steps in after.items():
            assert steps <= before[label] + 50, (label, before[label], steps)


def test_members_keep_their_targeted_articles_in_merged_lists(portal: Portal) -> None:
    """A district's article shows in its member's merged list and not in another's."""
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_portal.audience import Viewer
    from unionhub_portal.site import service

    w = portal.world
    with portal.app.app_context():
        s = db.session()
        news, media = portal.sections["news"], portal.sections["media"]
        add_article(news, "公开", owner_org_id=w.org_id("city"))
        target = add_article(media, "海淀专属", owner_org_id=w.org_id("city"),
                             audience_org_id=w.org_id("d2"), pinned=True)
        ids = service.subtree_ids(s, news)
        m1 = Viewer.of(s, s.get(Account, w.people["m1"].account_id))
        m2 = Viewer.of(s, s.get(Account, w.people["m2"].account_id))
        assert target in [a.id for a in service.latest(s, m2, section_ids=ids)]
        assert target not in [a.id for a in service.latest(s, m1, section_ids=ids)]
        assert target not in [a.id for a in service.latest(s, Viewer(), section_ids=ids)]
