"""The anonymous home page cache (site/pages.py ``cached_home``): anonymous visitors share a
page for a few seconds per platform; signed-in members and visitors with a flash message
waiting always get a fresh page; the cache can be turned off. Time is moved by replacing the
module's clock, never by sleeping."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.helpers import login
from tests.portal.conftest import Portal, add_article


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    from unionhub_portal.site import pages

    fake = Clock()
    monkeypatch.setattr(pages.time, "monotonic", fake.monotonic)
    return fake


def _add(portal: Portal, title: str) -> None:
    with portal.app.app_context():
        add_article(portal.sections["news"], title, owner_org_id=portal.world.org_id("city"))


def _html(client: FlaskClient, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200
    return r.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/portal/", "/portal/m/"])
def test_anonymous_home_is_shared_until_it_expires(portal: Portal, clock: Clock,
                                                   url: str) -> None:
    _add(portal, "第一篇动态")
    anonymous = portal.app.test_client()
    assert "第一篇动态" in _html(anonymous, url)
    _add(portal, "第二篇动态")
    assert "第二篇动态" not in _html(portal.app.test_client(), url)  # another visitor, cached
    member = portal.app.test_client()
    login(member, portal.world.people["m1"].mobile)
    assert "第二篇动态" in _html(member, url)  # signed in: never cached
    clock.now += 31
    assert "第二篇动态" in _html(anonymous, url)


def test_platforms_have_their_own_pages(portal: Portal, clock: Clock) -> None:
    with portal.app.app_context():
        add_article(portal.sections["news"], "只在手机上", owner_org_id=portal.world.org_id("city"),
                    platforms=("mobile",))
    client = portal.app.test_client()
    assert "只在手机上" not in _html(client, "/portal/")
    assert "只在手机上" in _html(client, "/portal/m/")
    assert "只在手机上" not in _html(client, "/portal/")


def test_a_waiting_flash_message_is_neither_served_from_nor_stored_in_the_cache(
        portal: Portal, clock: Clock) -> None:
    client = portal.app.test_client()
    _html(client, "/portal/")
    with client.session_transaction() as sess:
        sess["_flashes"] = [("info", "只给这位访客的消息")]
    assert "只给这位访客的消息" in _html(client, "/portal/")
    assert "只给这位访客的消息" not in _html(portal.app.test_client(), "/portal/")
    assert "只给这位访客的消息" not in _html(client, "/portal/")  # shown once


def test_cache_can_be_turned_off(portal: Portal, clock: Clock) -> None:
    portal.app.config["PORTAL_HOME_CACHE_SECONDS"] = 0
    client = portal.app.test_client()
    _html(client, "/portal/")
    _add(portal, "立即可见")
    assert "立即可见" in _html(client, "/portal/")


def test_many_hosts_do_not_grow_the_cache(portal: Portal, clock: Clock) -> None:
    from unionhub_portal.site import pages

    client = portal.app.test_client()
    for i in range(pages.HOME_CACHE_KEYS * 2):
        client.get("/portal/", headers={"Host": f"h{i}.example"})
    cache: dict[Any, Any] = portal.app.extensions["portal_home_cache"]
    assert 0 < len(cache) <= pages.HOME_CACHE_KEYS


def test_a_cached_page_ends_when_a_scheduled_article_goes_live_or_one_expires(
        portal: Portal, clock: Clock) -> None:
    import time_machine

    from unionhub.db import utcnow

    start = utcnow()
    city = portal.world.org_id("city")
    with portal.app.app_context():
        add_article(portal.sections["news"], "定时发布的动态", owner_org_id=city,
                    published_at=start + timedelta(seconds=10))
        add_article(portal.sections["news"], "即将到期的动态", owner_org_id=city,
                    expires_at=start + timedelta(seconds=20))
    anonymous = portal.app.test_client()
    with time_machine.travel(start, tick=False):
        page = _html(anonymous, "/portal/")
        assert "定时发布的动态" not in page and "即将到期的动态" in page
    with time_machine.travel(start + timedelta(seconds=11), tick=False):
        clock.now += 11  # within the 30 s, but past the scheduled moment
        page = _html(anonymous, "/portal/")
        assert "定时发布的动态" in page and "即将到期的动态" in page
    with time_machine.travel(start + timedelta(seconds=21), tick=False):
        clock.now += 10
        assert "即将到期的动态" not in _html(anonymous, "/portal/")
