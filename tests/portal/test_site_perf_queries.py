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

from tests.helpers import login
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


@pytest.mark.parametrize("targeted", [False, True])
def test_lists_merge_per_section_in_the_list_order(portal: Portal, targeted: bool) -> None:
    """Also with the sections looked up as a request does, and with one sub-section of the
    list targeted at a district (then out of the list of everyone outside it)."""
    from unionhub import db
    from unionhub.db import utcnow
    from unionhub_portal.audience import with_sections
    from unionhub_portal.models import PortalArticle, PortalSection
    from unionhub_portal.site import service

    with portal.app.app_context():
        _seed(portal, random.Random(7), 90)
        s = db.session()
        if targeted:
            s.get(PortalSection, portal.sections["media"]).audience_org_id = \
                portal.world.org_id("d2")
            s.commit()
        ids = service.subtree_ids(s, portal.sections["news"])
        assert len(ids) == 3
        now = utcnow()
        viewers = _viewers(portal)
        for viewer in [*viewers, *(with_sections(s, v) for v in viewers)]:
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
    from unionhub_portal.audience import with_sections
    from unionhub_portal.models import PortalArticle
    from unionhub_portal.site import service

    with portal.app.app_context():
        _seed(portal, random.Random(11), 60)
        s = db.session()
        now = utcnow()
        news = portal.sections["news"]
        viewers = _viewers(portal)
        # as the request looks them up too (sections once, then ``section_id IN …``)
        for viewer in [*viewers, *(with_sections(s, v) for v in viewers)]:
            order = list(s.scalars(
                service.readable(viewer, now).where(PortalArticle.section_id == news)
                .order_by(PortalArticle.published_at, PortalArticle.id)))
            assert len(order) > 5
            for i, article in enumerate(order):
                prev, nxt = service.neighbours(s, viewer, article, now)
                assert (prev and prev.id) == (order[i - 1].id if i > 0 else None)
                assert (nxt and nxt.id) == (order[i + 1].id if i + 1 < len(order) else None)
                if prev is not None:
                    assert (prev.slug, prev.title) == (order[i - 1].slug, order[i - 1].title)


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
    from unionhub_portal.audience import Viewer, with_sections
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
        for viewer in (Viewer(), member_viewer, with_sections(s, Viewer()),
                       with_sections(s, member_viewer)):
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


@contextmanager
def _every_statement(engine: Any) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_article_page_reads_three_statements_and_writes_none(portal: Portal) -> None:
    """The page reads the viewer's sections, the article with its issuer and a file flag,
    and both neighbours — and the downloadable files only when there are some. Its view is
    counted in memory (site/counter.py), not written by the request."""
    from unionhub.db import get_db
    from unionhub_portal.models import PortalAttachment

    w = portal.world
    with portal.app.app_context():
        from unionhub import db

        plain = add_article(portal.sections["news"], "无附件", owner_org_id=w.org_id("city"))
        filed = add_article(portal.sections["news"], "有附件", owner_org_id=w.org_id("city"))
        s = db.session()
        s.add(PortalAttachment(article_id=filed, kind="file", filename="表.pdf",
                               stored_name="stmt-count.pdf", content_type="application/pdf",
                               size=10, sha256="0" * 64))
        s.commit()
    client = portal.app.test_client()
    engine = get_db(portal.app).engine
    for url, reads in ((f"/portal/a/{plain}", 3), (f"/portal/m/a/{plain}", 3),
                       (f"/api/v1/portal/articles/{plain}", 3), (f"/portal/a/{filed}", 4)):
        client.get(url)  # the statements are built on first use
        with _every_statement(engine) as seen:
            assert client.get(url).status_code == 200
        portal_statements = [st for st in seen if "portal_" in st]
        assert len(portal_statements) == reads, (url, portal_statements)
        assert all(st.lstrip().upper().startswith("SELECT") for st in portal_statements), url


def test_statements_are_built_once_per_kind_of_viewer() -> None:
    from dataclasses import replace

    from unionhub_portal import audience
    from unionhub_portal.audience import Viewer, built_for

    built: list[object] = []

    def build() -> object:
        built.append(object())
        return built[-1]

    first = built_for("test.kinds", Viewer(), build)
    assert built_for("test.kinds", Viewer(account_id=7), build) is first  # same audience
    others = [Viewer("mobile"), Viewer(org_ids=(1, 2)),
              Viewer(org_ids=(1, 2), groups=frozenset({3})), replace(Viewer(), sections=(1,)),
              replace(Viewer(), sections=(1, 2))]
    assert len({id(built_for("test.kinds", v, build)) for v in others}) == len(others)
    assert len(built) == 1 + len(others)
    assert built_for("test.other", Viewer(), build) is not first
    for i in range(audience.BUILT_MAX):  # a full store starts over
        built_for("test.fill", Viewer(org_ids=(i,)), build)
    assert built_for("test.kinds", Viewer(), build) is not first


def test_reused_statements_keep_each_viewer_to_their_audience(portal: Portal) -> None:
    """Anonymous visitors and members of two districts take turns on the same process's
    statements: each sees the article and the neighbours of their own audience."""
    from unionhub.db import utcnow

    w = portal.world
    news = portal.sections["news"]
    with portal.app.app_context():
        now = utcnow()
        first = add_article(news, "公开一", owner_org_id=w.org_id("city"),
                            published_at=now - timedelta(hours=3))
        add_article(news, "朝阳专属", owner_org_id=w.org_id("city"),
                    audience_org_id=w.org_id("d1"), published_at=now - timedelta(hours=2))
        add_article(news, "公开二", owner_org_id=w.org_id("city"),
                    published_at=now - timedelta(hours=1))
    clients = {"anonymous": portal.app.test_client()}
    for who in ("m1", "m2"):
        clients[who] = portal.app.test_client()
        login(clients[who], w.people[who].mobile)
    expected_next = {"anonymous": "公开二", "m1": "朝阳专属", "m2": "公开二"}
    for who in ("anonymous", "m1", "m2", "anonymous", "m1"):
        html = clients[who].get(f"/portal/a/{first}").get_data(as_text=True)
        nxt = html.split("下一篇：")[1].split("</div>")[0]
        assert expected_next[who] in nxt, who
        targeted = clients[who].get("/portal/a/" + str(first + 1))
        assert targeted.status_code == (200 if who == "m1" else 404), who
