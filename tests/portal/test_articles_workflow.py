"""The article back office: the edit form's checks, the workflow (submit → review → publish /
reject → offline → republish), who may do what (scope in SQL; another district's officer gets
404), scheduling and expiry decided at read time, and stale forms refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from tests.conftest import PG_URL
from tests.helpers import login, post_form
from tests.portal.conftest import Portal, add_article


def article_form(portal: Portal, org: str = "d1", **over: Any) -> dict[str, Any]:
    """A valid article form owned by ``org``."""
    data: dict[str, Any] = {
        "title": "朝阳区总工会召开职工代表大会", "section_id": str(portal.sections["news"]),
        "owner_org_id": str(portal.world.org_id(org)), "summary": "大会审议通过了工作报告",
        "body": "<p>第一段</p><p>第二段</p>", "platforms": ["pc", "mobile", "app"],
        "tags": "职代会，民主管理", "source": "朝阳区总工会", "author": "宣传部"}
    data.update(over)
    return data


def officer(portal: Portal, username: str) -> FlaskClient:
    client = portal.app.test_client()
    login(client, username)
    return client


def create(client: FlaskClient, data: dict[str, Any]) -> int:
    resp = post_form(client, "/portal/admin/articles/new", data)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def act(portal: Portal, client: FlaskClient, article_id: int, action: str, **extra: Any) -> Any:
    rev = extra.pop("revision") if "revision" in extra else current(portal, article_id).revision
    return post_form(client, f"/portal/admin/articles/{article_id}/workflow",
                     {"action": action, "revision": str(rev), **extra},
                     form_url=f"/portal/admin/articles/{article_id}")


def current(portal: Portal, article_id: int) -> Any:
    """The article as stored now (read in its own app context: requests made by test
    clients inside an app context would share its ``g``)."""
    from unionhub import db
    from unionhub_portal.models import PortalArticle

    with portal.app.app_context():
        article = db.session().get(PortalArticle, article_id)
    assert article is not None
    return article


def visible(portal: Portal, person: str | None, platform: str = "pc",
            now: Any = None) -> set[str]:
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_portal.audience import Viewer, visible_articles
    from unionhub_portal.models import PortalArticle

    with portal.app.app_context():
        s = db.session()
        account = s.get(Account, portal.world.people[person].account_id) if person else None
        viewer = Viewer.of(s, account, platform)  # type: ignore[arg-type]
        return set(s.scalars(visible_articles(viewer, now)
                             .with_only_columns(PortalArticle.title)))


def test_write_submit_review_publish_offline_republish(portal: Portal) -> None:
    from unionhub import db
    from unionhub.audit.models import AuditLog
    from unionhub.search.models import SearchQueue

    editor, reviewer = officer(portal, "g1officer"), officer(portal, "chaoyang")
    aid = create(editor, article_form(portal, "g1", title="电控工会春季运动会"))
    a = current(portal, aid)
    assert (a.state, a.revision, a.created_by) == (
        "draft", 1, portal.world.officers["g1officer"])
    assert a.tags == "职代会,民主管理"
    # the editor may submit but not publish
    page = editor.get(f"/portal/admin/articles/{aid}").get_data(as_text=True)
    assert 'value="submit"' in page and 'value="publish"' not in page
    assert act(portal, editor, aid, "publish").status_code == 302
    assert current(portal, aid).state == "draft"
    act(portal, editor, aid, "submit")
    assert current(portal, aid).state == "pending"
    assert "电控工会春季运动会" not in visible(portal, "m1")
    # the district officer reviews: sends it back with a note, then publishes
    assert act(portal, reviewer, aid, "reject", note="").status_code == 302
    assert current(portal, aid).state == "pending"  # a note is required
    act(portal, reviewer, aid, "reject", note="请补充照片")
    a = current(portal, aid)
    assert (a.state, a.review_note) == ("draft", "请补充照片")
    act(portal, editor, aid, "submit")
    assert current(portal, aid).review_note is None
    act(portal, reviewer, aid, "publish")
    a = current(portal, aid)
    assert a.state == "published" and a.published_at is not None
    assert "电控工会春季运动会" in visible(portal, "m1")
    assert "电控工会春季运动会" in visible(portal, "m2")  # no audience restriction
    act(portal, reviewer, aid, "offline")
    assert current(portal, aid).state == "offline"
    assert "电控工会春季运动会" not in visible(portal, "m1")
    act(portal, reviewer, aid, "republish")
    assert current(portal, aid).state == "published"

    with portal.app.app_context():
        s = db.session()
        actions = list(s.scalars(select(AuditLog.action).where(
            AuditLog.target_type == "portal_article", AuditLog.target_id == str(aid))
            .order_by(AuditLog.id)))
        queued = s.scalar(select(func.count()).select_from(SearchQueue).where(
            SearchQueue.doc_type == "portal.article", SearchQueue.doc_id == str(aid)))
    assert actions == ["portal.article.reject", "portal.article.publish",
                       "portal.article.offline", "portal.article.publish"]
    assert queued >= 6


def test_other_districts_and_members_get_nothing(portal: Portal) -> None:
    chaoyang, haidian = officer(portal, "chaoyang"), officer(portal, "haidian")
    member = portal.app.test_client()
    login(member, portal.world.people["m1"].mobile)
    aid = create(chaoyang, article_form(portal, title="朝阳专属"))
    for url in (f"/portal/admin/articles/{aid}", f"/portal/admin/articles/{aid}/revisions",
                f"/portal/admin/articles/{aid}/preview"):
        assert haidian.get(url).status_code == 404, url
    resp = post_form(haidian, f"/portal/admin/articles/{aid}/workflow",
                     {"action": "publish", "revision": "1"},
                     form_url="/portal/admin/articles")
    assert resp.status_code == 404
    assert current(portal, aid).state == "draft"
    resp = post_form(haidian, f"/portal/admin/articles/{aid}",
                     article_form(portal, "d2", title="改掉", revision="1"),
                     form_url="/portal/admin/articles")
    assert resp.status_code == 404 and current(portal, aid).title == "朝阳专属"
    listing = haidian.get("/portal/admin/articles").get_data(as_text=True)
    assert "朝阳专属" not in listing
    assert "朝阳专属" in chaoyang.get("/portal/admin/articles").get_data(as_text=True)
    # the city officer's subtree holds both districts
    assert "朝阳专属" in officer(portal, "city").get(
        "/portal/admin/articles").get_data(as_text=True)
    assert member.get("/portal/admin/articles").status_code == 403
    assert member.get(f"/portal/admin/articles/{aid}").status_code == 403
    assert portal.app.test_client().get("/portal/admin/articles").status_code in (302, 401)


def test_list_filters_and_pending_counts(portal: Portal) -> None:
    client = officer(portal, "chaoyang")
    w, city = portal.world, portal.world.org_id("city")
    with portal.app.app_context():
        add_article(portal.sections["news"], "已发布新闻", owner_org_id=w.org_id("d1"))
        add_article(portal.sections["notices"], "待审通知", owner_org_id=w.org_id("g1"),
                    state="pending")
        add_article(portal.sections["notices"], "海淀待审", owner_org_id=w.org_id("d2"),
                    state="pending")
        add_article(portal.sections["news"], "市总草稿", owner_org_id=city, state="draft")
    page = client.get("/portal/admin/articles").get_data(as_text=True)
    assert "已发布新闻" in page and "待审通知" in page
    assert "海淀待审" not in page and "市总草稿" not in page
    filtered = client.get(f"/portal/admin/articles?state=pending&section="
                          f"{portal.sections['notices']}").get_data(as_text=True)
    assert "待审通知" in filtered and "已发布新闻" not in filtered
    assert "待审通知" not in client.get("/portal/admin/articles?q=新闻").get_data(as_text=True)
    assert "已发布新闻" in client.get("/portal/admin/articles?q=新闻").get_data(as_text=True)
    assert "没有符合条件" in client.get("/portal/admin/articles?q=%25").get_data(as_text=True)
    pending = client.get("/portal/admin/articles/pending").get_data(as_text=True)
    assert "待审通知" in pending and "海淀待审" not in pending and "已发布新闻" not in pending
    assert 'data-section="notices"' in pending


def test_bad_forms_are_refused_with_the_reason_and_change_nothing(portal: Portal) -> None:
    from unionhub import db
    from unionhub_portal.models import PortalArticle

    client = officer(portal, "g1officer")
    taken = create(client, article_form(portal, "g1", slug="spring-games"))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"title": ""}, "请填写标题"),
        ({"title": "长" * 201}, "不能超过 200"),
        ({"section_id": str(portal.sections["forum"])}, "该栏目不发布文章"),
        ({"section_id": "99999"}, "所选栏目不存在"),
        ({"slug": "Spring Games!"}, "小写字母"),
        ({"slug": "2024"}, "不能全是数字"),
        ({"slug": "spring-games"}, "已被其他文章使用"),
        ({"platforms": []}, "至少选择一个发布平台"),
        ({"platforms": ["tv"]}, "发布平台"),
        ({"owner_org_id": str(portal.world.org_id("d1"))}, "只能以您负责的工会"),
        ({"audience_org_id": str(portal.world.org_id("d2"))}, "面向工会只能选择"),
        ({"groups": ["99999"]}, "所选会员群体不存在"),
        ({"published_at": "2030-05-01T10:00", "expires_at": "2030-04-01T10:00"},
         "下线时间应晚于发布时间"),
        ({"published_at": "明天"}, "应为日期时间"),
    ]
    for over, message in cases:
        resp = post_form(client, "/portal/admin/articles/new",
                         article_form(portal, "g1", **over),
                         form_url="/portal/admin/articles/new")
        assert resp.status_code == 422, over
        assert message in resp.get_data(as_text=True), (over, message)
    with portal.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(PortalArticle)) == 1
    link_section = next(k for k in ("jingka", "hotline", "forum") if k in portal.sections)
    resp = post_form(client, f"/portal/admin/articles/{taken}",
                     article_form(portal, "g1", title="", revision="1",
                                  section_id=str(portal.sections[link_section])),
                     form_url=f"/portal/admin/articles/{taken}")
    assert resp.status_code == 422
    assert current(portal, taken).title == "朝阳区总工会召开职工代表大会"
    assert current(portal, taken).revision == 1


def test_scheduled_and_expiring_articles_are_decided_when_read(portal: Portal) -> None:
    from unionhub.db import utcnow
    from unionhub_portal.articles.service import local_input

    client = officer(portal, "chaoyang")
    later = utcnow() + timedelta(days=2)
    aid = create(client, article_form(portal, title="定时文章",
                                      published_at=local_input(later)))
    resp = act(portal, client, aid, "publish")
    assert "已定时发布" in client.get(resp.headers["Location"]).get_data(as_text=True)
    a = current(portal, aid)
    assert a.state == "published" and a.published_at > utcnow()
    assert "定时文章" not in visible(portal, "m1")
    assert "定时文章" in visible(portal, "m1", now=later + timedelta(minutes=1))

    # the schedule button with its own time
    sid = create(client, article_form(portal, title="按钮定时"))
    assert act(portal, client, sid, "schedule",
               publish_at=local_input(utcnow() - timedelta(hours=1))).status_code == 302
    assert current(portal, sid).state == "draft"  # a time in the past is refused
    act(portal, client, sid, "schedule", publish_at=local_input(utcnow() + timedelta(hours=3)))
    assert current(portal, sid).state == "published"
    assert "按钮定时" not in visible(portal, "m1")
    assert "按钮定时" in visible(portal, "m1", now=utcnow() + timedelta(hours=4))

    expires = utcnow() + timedelta(days=1)
    eid = create(client, article_form(portal, title="限时通知",
                                      expires_at=local_input(expires)))
    act(portal, client, eid, "publish")
    assert "限时通知" in visible(portal, "m1")
    assert "限时通知" not in visible(portal, "m1", now=expires + timedelta(minutes=1))
    assert current(portal, eid).state == "published"  # no sweeper needed: the read decides


def test_only_publishers_change_live_articles(portal: Portal) -> None:
    editor, reviewer = officer(portal, "g1officer"), officer(portal, "chaoyang")
    aid = create(editor, article_form(portal, "g1", title="原标题"))
    act(portal, reviewer, aid, "publish")
    resp = post_form(editor, f"/portal/admin/articles/{aid}",
                     article_form(portal, "g1", title="编辑偷改", revision="1"))
    assert resp.status_code == 422
    assert "有发布权限" in resp.get_data(as_text=True)
    assert current(portal, aid).title == "原标题"
    resp = post_form(reviewer, f"/portal/admin/articles/{aid}",
                     article_form(portal, "g1", title="审核人修改", revision="1"))
    assert resp.status_code == 302
    assert (current(portal, aid).title, current(portal, aid).revision) == ("审核人修改", 2)


def test_a_stale_form_is_refused_instead_of_overwriting(portal: Portal) -> None:
    first, second = officer(portal, "chaoyang"), officer(portal, "city")
    aid = create(first, article_form(portal, title="第一版"))
    # both opened the form at revision 1; the city officer saves first
    resp = post_form(second, f"/portal/admin/articles/{aid}",
                     article_form(portal, title="市总修改", revision="1"))
    assert resp.status_code == 302
    resp = post_form(first, f"/portal/admin/articles/{aid}",
                     article_form(portal, title="朝阳修改", revision="1"))
    assert resp.status_code == 409
    page = resp.get_data(as_text=True)
    assert "已被他人修改" in page and "第 2 版" in page
    assert "朝阳修改" in page  # the typed text is kept in the form, not lost
    a = current(portal, aid)
    assert (a.title, a.revision) == ("市总修改", 2)
    # a workflow action on an old revision is refused too
    act(portal, first, aid, "publish", revision=1)
    assert current(portal, aid).state == "draft"
    act(portal, first, aid, "publish")
    assert current(portal, aid).state == "published"


def test_the_revision_bump_is_conditional(portal: Portal) -> None:
    """Two saves racing past the form check: the conditional UPDATE lets only one win."""
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_portal.articles import service

    client = officer(portal, "chaoyang")
    aid = create(client, article_form(portal, title="并发"))
    with portal.app.test_request_context():
        s = db.session()
        account = s.get(Account, portal.world.officers["chaoyang"])
        article = s.get(service.PortalArticle, aid)
        assert article is not None and article.revision == 1
        # someone else saves behind this session's back, after it loaded revision 1
        other = db.get_db().factory()
        other.execute(update(service.PortalArticle).where(service.PortalArticle.id == aid)
                      .values(revision=2, title="他人保存"))
        other.commit()
        other.close()
        with pytest.raises(service.StaleError):
            service.update_article(s, account, article,
                                   article_form(portal, title="覆盖", revision="1"))
        s.rollback()
    assert current(portal, aid).title == "他人保存"


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL's row locks")
def test_two_concurrent_saves_one_wins(portal: Portal) -> None:
    """Two officers save the same revision at the same moment: one save wins, the other is
    refused as stale — never two revisions with the same number, never a silent overwrite."""
    import threading

    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_portal.articles import service
    from unionhub_portal.models import PortalRevision

    aid = create(officer(portal, "chaoyang"), article_form(portal, title="同时修改"))
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def save(username: str) -> None:
        with portal.app.test_request_context():
            s = db.session()
            account = s.get(Account, portal.world.officers[username])
            article = s.get(service.PortalArticle, aid)
            barrier.wait()
            try:
                service.update_article(s, account, article, article_form(
                    portal, title=f"{username} 的修改", revision="1"))
                s.commit()
                results[username] = "saved"
            except service.StaleError:
                s.rollback()
                results[username] = "stale"

    threads = [threading.Thread(target=save, args=(u,)) for u in ("chaoyang", "city")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == ["saved", "stale"]
    winner = next(u for u, r in results.items() if r == "saved")
    a = current(portal, aid)
    assert (a.title, a.revision) == (f"{winner} 的修改", 2)
    with portal.app.app_context():
        numbers = sorted(db.session().scalars(select(PortalRevision.number).where(
            PortalRevision.article_id == aid)))
    assert numbers == [1, 2]
