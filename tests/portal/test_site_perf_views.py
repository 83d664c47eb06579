"""Article views counted in memory and written in batches (site/counter.py): a page shows
the views at once, the database gets them in one additive write per batch — from the
flusher thread after the interval, at once when many articles wait, at exit, or when
flushed — and a batch that fails to be written waits for the next one."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask

from tests.conftest import AppFactory
from tests.portal.conftest import Portal, add_article


def _stored(app: Flask, *ids: int) -> list[int]:
    from unionhub import db
    from unionhub_portal.models import PortalArticle

    with app.app_context():
        s = db.session()
        return [s.get(PortalArticle, i).view_count for i in ids]  # type: ignore[union-attr]


def _articles(portal: Portal, count: int) -> list[int]:
    with portal.app.app_context():
        return [add_article(portal.sections["news"], f"阅读{i}",
                            owner_org_id=portal.world.org_id("city")) for i in range(count)]


def _view(app: Flask, article_id: int) -> str:
    r = app.test_client().get(f"/portal/a/{article_id}")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def _until(check: Callable[[], bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.fixture
def fast(portal: Portal, make_app: AppFactory) -> Flask:
    """A second process's app on the same (portal) database whose views wait 0.2 s."""
    return make_app(PORTAL_VIEW_FLUSH_SECONDS=0.2)


def test_the_flusher_writes_after_the_interval_then_rests(portal: Portal, fast: Flask) -> None:
    from unionhub_portal.site.counter import _counter

    aid, other = _articles(portal, 2)
    for _ in range(3):
        _view(fast, aid)
    _view(fast, other)
    assert _until(lambda: _stored(fast, aid, other) == [3, 1])
    counter = _counter(fast)
    assert counter.pending(aid) == 0
    assert _until(lambda: counter._thread is None)  # no thread while nothing waits
    _view(fast, aid)  # the next view starts it again
    assert _until(lambda: _stored(fast, aid) == [4])


def test_pages_show_their_own_process_views_before_they_are_written(portal: Portal) -> None:
    """Another process (app) shows what is stored; this one adds what it holds."""
    from unionhub_portal.site.counter import flush_views

    (aid,) = _articles(portal, 1)
    assert '<span class="views">1</span>' in _view(portal.app, aid)
    assert '<span class="views">2</span>' in _view(portal.app, aid)
    assert _stored(portal.app, aid) == [0]
    assert flush_views(portal.app) == 2
    assert '<span class="views">3</span>' in _view(portal.app, aid)


def test_a_failed_write_keeps_the_views_for_the_next(portal: Portal,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from unionhub_portal.site import service
    from unionhub_portal.site.counter import _counter, flush_views

    aid, other = _articles(portal, 2)
    _view(portal.app, aid)
    _view(portal.app, other)
    real = service.add_views

    def broken(*_args: object) -> None:
        raise RuntimeError("database away")

    monkeypatch.setattr(service, "add_views", broken)
    with pytest.raises(RuntimeError):
        flush_views(portal.app)
    assert _counter(portal.app).pending(aid) == 1
    _view(portal.app, aid)
    monkeypatch.setattr(service, "add_views", real)
    assert flush_views(portal.app) == 3
    assert _stored(portal.app, aid, other) == [2, 1]


def test_a_half_written_batch_is_rolled_back_and_kept(portal: Portal,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch is one transaction: a failure after the first rows leaves none written."""
    from sqlalchemy.orm import Session

    from unionhub_portal.site import service
    from unionhub_portal.site.counter import flush_views

    aid, other = _articles(portal, 2)
    _view(portal.app, aid)
    _view(portal.app, other)
    real = service.add_views

    def half(session: Session, counts: dict[int, int]) -> None:
        first = min(counts)
        real(session, {first: counts[first]})
        raise RuntimeError("connection lost")

    monkeypatch.setattr(service, "add_views", half)
    with pytest.raises(RuntimeError):
        flush_views(portal.app)
    assert _stored(portal.app, aid, other) == [0, 0]
    monkeypatch.setattr(service, "add_views", real)
    assert flush_views(portal.app) == 2
    assert _stored(portal.app, aid, other) == [1, 1]


def test_many_waiting_articles_are_written_at_once(portal: Portal, make_app: AppFactory,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from unionhub_portal.site import counter

    monkeypatch.setattr(counter, "MAX_PENDING", 3)
    app = make_app(PORTAL_VIEW_FLUSH_SECONDS=600)
    ids = _articles(portal, 3)
    for aid in ids[:2]:
        _view(app, aid)
    time.sleep(0.3)
    assert _stored(app, *ids) == [0, 0, 0]  # two waiting: the interval is ten minutes
    _view(app, ids[2])
    assert _until(lambda: _stored(app, *ids) == [1, 1, 1])


def test_views_are_written_when_the_process_exits(portal: Portal) -> None:
    from unionhub_portal.site import counter

    (aid,) = _articles(portal, 1)
    _view(portal.app, aid)
    assert counter._counter(portal.app) in counter._COUNTERS
    counter._flush_at_exit()
    assert _stored(portal.app, aid) == [1]


def test_no_interval_writes_each_view_in_its_request(portal: Portal,
                                                     make_app: AppFactory) -> None:
    from unionhub_portal.site.counter import _counter

    app = make_app(PORTAL_VIEW_FLUSH_SECONDS=0)
    (aid,) = _articles(portal, 1)
    assert '<span class="views">1</span>' in _view(app, aid)
    assert app.test_client().get(f"/api/v1/portal/articles/{aid}").get_json()["views"] == 2
    assert _stored(app, aid) == [2]
    assert _counter(app).pending(aid) == 0
