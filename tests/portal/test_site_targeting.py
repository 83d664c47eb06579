"""Targeting on every surface: the same articles — public, targeted at 朝阳 (d1) or 海淀 (d2),
group-only, app-only, mobile-only, draft, scheduled, expired, in a hidden section — seen by an
anonymous visitor and by members of each district on the PC list, section, article and home
pages, the search (PC, mobile, API), the RSS and Atom feeds, the sitemap, the mobile pages and
the app API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from flask.testing import FlaskClient

from tests.helpers import PASSWORD, login
from tests.portal.conftest import Portal, add_article

WORD = "职工书屋"
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

#: title → who may read it on PC (None = anonymous visitor)
PUBLIC = "全市职工书屋开放"
D1 = "朝阳职工书屋通知"
D2 = "海淀职工书屋通知"
GROUP = "劳模职工书屋座谈"
APP_ONLY = "职工书屋App专享"
MOBILE_ONLY = "职工书屋微网站专享"
DRAFT = "职工书屋草稿"
SCHEDULED = "职工书屋定时发布"
EXPIRED = "职工书屋过期公告"
HIDDEN = "女职工书屋隐藏栏目"
ALL = {PUBLIC, D1, D2, GROUP, APP_ONLY, MOBILE_ONLY, DRAFT, SCHEDULED, EXPIRED, HIDDEN}


@dataclass
class Content:
    portal: Portal
    ids: dict[str, int]

    def client(self, who: str | None) -> FlaskClient:
        client = self.portal.app.test_client()
        if who is not None:
            login(client, self.portal.world.people[who].mobile)
        return client

    def token(self, who: str) -> str:
        r = self.portal.app.test_client().post("/api/v1/auth/token", json={
            "identifier": self.portal.world.people[who].card_number, "password": PASSWORD})
        return str(r.get_json()["token"])


#: What each viewer may read on each platform.
EXPECTED = {
    ("pc", None): {PUBLIC},
    ("pc", "m1"): {PUBLIC, D1},
    ("pc", "m2"): {PUBLIC, D2},
    ("pc", "m3"): {PUBLIC, D1, GROUP},
    ("mobile", None): {PUBLIC, MOBILE_ONLY},
    ("mobile", "m1"): {PUBLIC, D1, MOBILE_ONLY},
    ("mobile", "m2"): {PUBLIC, D2, MOBILE_ONLY},
    ("mobile", "m3"): {PUBLIC, D1, GROUP, MOBILE_ONLY},
    ("app", None): {PUBLIC, APP_ONLY},
    ("app", "m1"): {PUBLIC, D1, APP_ONLY},
    ("app", "m2"): {PUBLIC, D2, APP_ONLY},
    ("app", "m3"): {PUBLIC, D1, GROUP, APP_ONLY},
}
VIEWERS = (None, "m1", "m2", "m3")


@pytest.fixture
def content(portal: Portal) -> Content:
    from unionhub import db
    from unionhub.db import utcnow
    from unionhub.groups.service import add_members, create_group
    from unionhub.search.queue import enqueue, process_queue
    from unionhub_portal.models import PortalSection

    w, news = portal.world, portal.sections["news"]
    city = w.org_id("city")
    body = f"<p>{WORD}活动介绍。</p>"
    with portal.app.app_context():
        s = db.session()
        group = create_group(s, "model_worker", "劳动模范")
        add_members(s, group, [w.people["m3"].member_id])
        s.get(PortalSection, portal.sections["women"]).hidden = True
        s.commit()
        now = utcnow()
        ids = {
            PUBLIC: add_article(news, PUBLIC, owner_org_id=city, body=body, slug="reading-room"),
            D1: add_article(news, D1, owner_org_id=w.org_id("d1"), body=body,
                            audience_org_id=w.org_id("d1")),
            D2: add_article(news, D2, owner_org_id=w.org_id("d2"), body=body,
                            audience_org_id=w.org_id("d2")),
            GROUP: add_article(news, GROUP, owner_org_id=city, body=body, groups=[group.id]),
            APP_ONLY: add_article(news, APP_ONLY, owner_org_id=city, body=body,
                                  platforms=["app"]),
            MOBILE_ONLY: add_article(news, MOBILE_ONLY, owner_org_id=city, body=body,
                                     platforms=["mobile"]),
            DRAFT: add_article(news, DRAFT, owner_org_id=city, body=body, state="draft"),
            SCHEDULED: add_article(news, SCHEDULED, owner_org_id=city, body=body,
                                   published_at=now + timedelta(hours=2)),
            EXPIRED: add_article(news, EXPIRED, owner_org_id=city, body=body,
                                 expires_at=now - timedelta(minutes=5)),
            HIDDEN: add_article(portal.sections["women"], HIDDEN, owner_org_id=city, body=body),
        }
        enqueue(s, "portal.article", ids.values())
        s.commit()
    run = process_queue(portal.app)
    assert run.failed == 0 and run.upserted >= len(ALL)
    return Content(portal, ids)


def _titles_in(html: str) -> set[str]:
    return {t for t in ALL if t in html}


@pytest.mark.parametrize("who", VIEWERS)
def test_pc_pages(content: Content, who: str | None) -> None:
    expected = EXPECTED[("pc", who)]
    client = content.client(who)
    section = client.get("/portal/s/news")
    assert section.status_code == 200
    assert _titles_in(section.get_data(as_text=True)) == expected
    home = client.get("/portal/")
    assert home.status_code == 200
    assert _titles_in(home.get_data(as_text=True)) == expected
    for title, article_id in content.ids.items():
        r = client.get(f"/portal/a/{article_id}")
        assert r.status_code == (200 if title in expected else 404), title
        if title in expected:
            assert title in r.get_data(as_text=True)
    assert client.get("/portal/a/reading-room").status_code == 200
    assert client.get("/portal/s/women").status_code == 404  # hidden section


@pytest.mark.parametrize("who", (None, "m1", "m2"))
def test_mobile_pages(content: Content, who: str | None) -> None:
    expected = EXPECTED[("mobile", who)]
    client = content.client(who)
    listing = client.get("/portal/m/s/news")
    assert listing.status_code == 200
    assert _titles_in(listing.get_data(as_text=True)) == expected
    home = client.get("/portal/m/")
    assert _titles_in(home.get_data(as_text=True)) == expected
    for title, article_id in content.ids.items():
        r = client.get(f"/portal/m/a/{article_id}")
        assert r.status_code == (200 if title in expected else 404), title


def _search_titles(client: FlaskClient, url: str) -> set[str]:
    r = client.get(url)
    assert r.status_code == 200
    return _titles_in(r.get_data(as_text=True).replace("<b>", "").replace("</b>", ""))


@pytest.mark.parametrize("who", VIEWERS)
def test_search_on_every_platform(content: Content, who: str | None) -> None:
    client = content.client(who)
    assert _search_titles(client, f"/portal/search?q={WORD}") == EXPECTED[("pc", who)]
    if ("mobile", who) in EXPECTED:
        assert _search_titles(client, f"/portal/m/search?q={WORD}") == \
            EXPECTED[("mobile", who)]
    headers = {"Authorization": f"Bearer {content.token(who)}"} if who else {}
    api = content.portal.app.test_client().get(
        f"/api/v1/portal/articles?q={WORD}&per_page=50", headers=headers).get_json()
    assert {h["title"] for h in api["items"]} == EXPECTED[("app", who)]
    assert api["total"] == len(EXPECTED[("app", who)])
    # the core search page is the PC one: nothing off-PC, nothing targeted elsewhere
    core = _search_titles(client, f"/search/?q={WORD}&type=portal.article")
    assert core == EXPECTED[("pc", who)]


def test_feeds_and_sitemap_list_only_public_content(content: Content) -> None:
    client = content.client("m1")  # signing in changes nothing: feeds are public
    rss = ET.fromstring(client.get("/portal/feeds/news.rss").data)
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    items = rss.findall("./channel/item")
    assert {i.findtext("title") for i in items} == {PUBLIC}
    assert items[0].findtext("link").endswith("/portal/a/reading-room")
    assert items[0].findtext("pubDate").endswith("GMT")
    atom = ET.fromstring(client.get("/portal/feeds/news.atom").data)
    entries = atom.findall(f"{ATOM}entry")
    assert {e.findtext(f"{ATOM}title") for e in entries} == {PUBLIC}
    assert entries[0].findtext(f"{ATOM}updated").endswith("Z")
    assert client.get("/portal/feeds/women.rss").status_code == 404  # hidden section
    assert client.get("/portal/feeds/nothing.atom").status_code == 404
    sitemap = ET.fromstring(client.get("/portal/sitemap.xml").data)
    locs = [u.findtext(f"{SITEMAP}loc") for u in sitemap.findall(f"{SITEMAP}url")]
    article_locs = {loc.split("/portal/a/")[1] for loc in locs if "/portal/a/" in loc}
    assert article_locs == {"reading-room"}
    assert any(loc.endswith("/portal/s/news") for loc in locs)
    assert not any(loc.endswith("/portal/s/women") for loc in locs)
    assert locs[0].endswith("/portal/")


def test_a_targeted_section_has_no_feed(content: Content) -> None:
    from unionhub import db
    from unionhub_portal.models import PortalSection

    portal = content.portal
    with portal.app.app_context():
        db.session().get(PortalSection, portal.sections["culture"]).audience_org_id = \
            portal.world.org_id("d1")
        db.session().commit()
    client = content.client(None)
    assert client.get("/portal/feeds/culture.rss").status_code == 404
    assert client.get("/portal/feeds/culture.atom").status_code == 404
    assert client.get("/portal/feeds/news.atom").status_code == 200
    assert 'type="application/rss+xml" href="/portal/feeds/news.rss"' in \
        client.get("/portal/s/news").get_data(as_text=True)
    culture = content.client("m1").get("/portal/s/culture").get_data(as_text=True)
    assert "/portal/feeds/culture" not in culture  # a member's page names no feed for it


@pytest.mark.parametrize("who", VIEWERS)
def test_app_api(content: Content, who: str | None) -> None:
    expected = EXPECTED[("app", who)]
    headers = {"Authorization": f"Bearer {content.token(who)}"} if who else {}
    client = content.portal.app.test_client()

    def get(url: str) -> Any:
        return client.get(f"/api/v1/portal/{url}", headers=headers)

    listing = get("sections/news/articles?per_page=50").get_json()
    assert {a["title"] for a in listing["items"]} == expected
    assert listing["total"] == len(expected)
    latest = get("articles?per_page=50").get_json()
    assert {a["title"] for a in latest["items"]} == expected
    for title, article_id in content.ids.items():
        r = get(f"articles/{article_id}")
        assert r.status_code == (200 if title in expected else 404), title
    codes = {s["code"] for s in get("sections").get_json()}
    assert "news" in codes and "women" not in codes
    assert get("sections/women/articles").status_code == 404
    home = get("home").get_json()
    assert {a["title"] for a in home["hot"]} == expected


def test_search_documents_carry_the_parent_sections_audience(portal: Portal) -> None:
    """A sub-section's article is indexed with its parent's audience too (the rule of
    :func:`audience.section_clause`): a hidden parent hides it from search, a parent targeted
    at 海淀 limits it to 海淀, a parent off the PC portal keeps it off the PC search."""
    from unionhub import db
    from unionhub.search.acl import org_token
    from unionhub.search.queue import enqueue, process_queue
    from unionhub_portal.models import PortalSection
    from unionhub_portal.site.search import documents

    w = portal.world
    city = w.org_id("city")
    body = f"<p>{WORD}维权讲座。</p>"
    with portal.app.app_context():
        s = db.session()
        ids = {code: add_article(portal.sections[code], f"{WORD}{code}", owner_org_id=city,
                                 body=body)
               for code in ("legal_aid", "grassroots")}
        docs = {int(d.doc_id): d for d in documents(s, [str(i) for i in ids.values()])}
        assert docs[ids["legal_aid"]].status == "published"
        assert docs[ids["legal_aid"]].acl == ("public",)
        s.get(PortalSection, portal.sections["rights"]).hidden = True
        news = s.get(PortalSection, portal.sections["news"])
        news.audience_org_id, news.on_pc = w.org_id("d2"), False
        s.commit()
        docs = {int(d.doc_id): d for d in documents(s, [str(i) for i in ids.values()])}
        assert docs[ids["legal_aid"]].status == "hidden"
        grassroots = docs[ids["grassroots"]]
        assert grassroots.acl == (org_token(w.org_id("d2")),)
        assert "platform:pc" not in grassroots.tags and grassroots.status == "offsite"
        enqueue(s, "portal.article", ids.values())
        s.commit()
    assert process_queue(portal.app).failed == 0
    for who in ("m1", "m2"):
        client = portal.app.test_client()
        login(client, w.people[who].mobile)
        for url in (f"/portal/search?q={WORD}", f"/portal/m/search?q={WORD}"):
            html = client.get(url).get_data(as_text=True).replace("<b>", "").replace("</b>", "")
            assert f"{WORD}legal_aid" not in html, (who, url)
            shown = f"{WORD}grassroots" in html
            assert shown == (who == "m2" and "/m/" in url), (who, url)
