"""Revisions: one per save (none for a save that changes nothing), a readable diff of fields
and body text, and restore as a new revision."""

from __future__ import annotations

import re

from tests.helpers import post_form
from tests.portal.conftest import Portal
from tests.portal.test_articles_workflow import article_form, create, current, officer


def _save(client, portal: Portal, aid: int, **over: str) -> int:  # type: ignore[no-untyped-def]
    rev = current(portal, aid).revision
    resp = post_form(client, f"/portal/admin/articles/{aid}",
                     article_form(portal, revision=str(rev), **over))
    return resp.status_code


def test_every_save_is_a_revision_and_the_diff_reads_well(portal: Portal) -> None:
    from unionhub import db
    from unionhub_portal.articles import service
    from unionhub_portal.models import PortalRevision

    client = officer(portal, "chaoyang")
    aid = create(client, article_form(portal, title="第一稿",
                                      body="<p>第一段</p><p>第二段</p><p>第三段</p>"))
    assert _save(client, portal, aid, title="第一稿",
                 body="<p>第一段</p><p>第二段</p><p>第三段</p>") == 302
    assert current(portal, aid).revision == 1  # nothing changed: no revision
    assert _save(client, portal, aid, title="第二稿", body="<p>第一段</p><p>第二段（修订）</p>"
                 "<p>第三段</p>", audience_org_id=str(portal.world.org_id("g1")),
                 platforms=["pc", "mobile"]) == 302
    assert _save(client, portal, aid, title="第二稿", body="<p>第一段</p><p>第二段（修订）</p>"
                 "<p>第三段</p><p>新增第四段</p>", audience_org_id=str(portal.world.org_id("g1")),
                 platforms=["pc", "mobile"]) == 302
    assert current(portal, aid).revision == 3

    with portal.app.test_request_context():
        s = db.session()
        revs = service.revisions(s, aid)
        assert [r.number for r in revs] == [3, 2, 1]
        first = revs[2]
        assert first.meta["platforms"] == ["pc", "mobile", "app"]
        assert first.meta["tags"] == "职代会,民主管理" and first.meta["published_at"] is None
        assert set(first.meta) == set(service.META_KEYS)
        d = service.diff(s, first, revs[1])
        fields = {c.label: (c.old, c.new) for c in d.fields}
        assert fields["标题"] == ("第一稿", "第二稿")
        assert fields["面向工会"] == ("—", "电控工会")
        assert fields["发布平台"] == ("门户网站、微网站、App", "门户网站、微网站")
        assert ("-", "第二段") in d.body and ("+", "第二段（修订）") in d.body
        assert ("-", "第一段") not in d.body
        assert s.query(PortalRevision).filter_by(article_id=aid).count() == 3

    page = client.get(f"/portal/admin/articles/{aid}/revisions?a=1&b=3").get_data(as_text=True)
    assert "第 1 版 → 第 3 版" in page
    assert re.search(r'class="ins">\+新增第四段<', page)
    assert re.search(r'class="del">-第二段<', page)
    assert "<del>第一稿</del>" in page and "<ins>第二稿</ins>" in page
    assert client.get(f"/portal/admin/articles/{aid}/revisions?a=1&b=9").status_code == 404


def test_markup_only_changes_still_show(portal: Portal) -> None:
    from unionhub import db
    from unionhub_portal.articles import service

    client = officer(portal, "chaoyang")
    aid = create(client, article_form(portal, body="<p>同样的文字</p>"))
    _save(client, portal, aid, body="<p><strong>同样的文字</strong></p>")
    with portal.app.test_request_context():
        s = db.session()
        new, old = service.revisions(s, aid)
        d = service.diff(s, old, new)
        assert not d.fields
        assert ("+", "<p><strong>同样的文字</strong></p>") in d.body


def test_restore_brings_an_old_revision_back_as_a_new_one(portal: Portal) -> None:
    client = officer(portal, "chaoyang")
    aid = create(client, article_form(portal, title="原始标题", body="<p>原始正文</p>",
                                      tags="甲，乙"))
    _save(client, portal, aid, title="改后标题", body="<p>改后正文</p>", tags="丙",
          slug="renamed")
    assert current(portal, aid).revision == 2
    resp = post_form(client, f"/portal/admin/articles/{aid}/revisions/1/restore",
                     {"revision": "2"}, form_url=f"/portal/admin/articles/{aid}/revisions")
    assert resp.status_code == 302
    a = current(portal, aid)
    assert (a.title, a.body_html, a.tags, a.slug, a.revision) == (
        "原始标题", "<p>原始正文</p>", "甲,乙", None, 3)
    page = client.get(f"/portal/admin/articles/{aid}/revisions").get_data(as_text=True)
    assert "恢复第 1 版" in page
    # restoring the current content changes nothing; a stale restore is refused
    post_form(client, f"/portal/admin/articles/{aid}/revisions/1/restore", {"revision": "3"},
              form_url=f"/portal/admin/articles/{aid}/revisions")
    assert current(portal, aid).revision == 3
    resp = post_form(client, f"/portal/admin/articles/{aid}/revisions/2/restore",
                     {"revision": "2"}, form_url=f"/portal/admin/articles/{aid}/revisions")
    assert "已被他人修改" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert current(portal, aid).title == "原始标题"
    # another officer's district cannot restore
    other = officer(portal, "haidian")
    resp = post_form(other, f"/portal/admin/articles/{aid}/revisions/2/restore",
                     {"revision": "3"}, form_url="/portal/admin/articles")
    assert resp.status_code == 404


def test_restore_refuses_what_no_longer_fits(portal: Portal) -> None:
    client = officer(portal, "chaoyang")
    aid = create(client, article_form(portal, title="甲文", slug="taken-later"))
    _save(client, portal, aid, title="甲文", slug="")
    create(client, article_form(portal, title="乙文", slug="taken-later"))
    resp = post_form(client, f"/portal/admin/articles/{aid}/revisions/1/restore",
                     {"revision": "2"}, form_url=f"/portal/admin/articles/{aid}/revisions")
    assert "已被其他文章使用" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert (current(portal, aid).slug, current(portal, aid).revision) == (None, 2)
