"""Section management (/portal/admin/sections): adding, renaming, reordering, hiding, audience,
deleting, the rules behind them, permissions, and the search re-indexing a change of audience
queues for the section's articles."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.helpers import csrf_token, login, post_form
from tests.portal.conftest import Portal, add_article

LIST = "/portal/admin/sections"
NEW = "/portal/admin/sections/new"


def _officer(portal: Portal, username: str = "city") -> FlaskClient:
    client = portal.app.test_client()
    assert login(client, username).status_code == 302
    return client


def _form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "党建工作", "kind": "news", "code": "party",
                            "platforms": ["pc", "mobile", "app"]}
    data.update(overrides)
    return data


def _section(code: str) -> Any:
    from unionhub import db
    from unionhub_portal.models import PortalSection

    s = db.session()
    s.expire_all()
    return s.scalar(select(PortalSection).where(PortalSection.code == code))


def _queued(portal: Portal) -> list[str]:
    from unionhub import db
    from unionhub.search.models import SearchQueue

    with portal.app.app_context():
        return sorted(db.session().scalars(select(SearchQueue.doc_id).where(
            SearchQueue.doc_type == "portal.article")))


def _audit(portal: Portal, action: str) -> list[dict[str, Any]]:
    from unionhub import db
    from unionhub.audit.models import AuditLog

    with portal.app.app_context():
        return [a.details for a in db.session().scalars(
            select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))]


def _edit_form(portal: Portal, section_code: str, **overrides: Any) -> dict[str, Any]:
    """The edit form as the page would post it now, with ``overrides``."""
    from unionhub import db
    from unionhub_portal.sections import service

    with portal.app.app_context():
        sec = _section(section_code)
        values = service.form_values(sec, service.group_ids_of(db.session(), sec.id))
    data = {k: v for k, v in values.items() if v not in (None, False, "")}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_menu_entry_and_list_page(portal: Portal) -> None:
    client = _officer(portal)
    html = client.get(LIST).get_data(as_text=True)
    assert 'href="/portal/admin/sections"' in html  # the admin menu entry
    assert 'data-section="notices"' in html and 'data-section="legal_aid"' in html
    assert "通知公告" in html and "文件库" in html and "链接" in html
    assert '<meta name="viewport"' in html


def test_members_and_officers_without_the_permission_get_403(portal: Portal) -> None:
    sid = portal.sections["news"]
    for who in (portal.world.people["m1"].mobile, "chaoyang", "g1officer"):
        client = portal.app.test_client()
        assert login(client, who).status_code == 302
        assert client.get(LIST).status_code == 403
        assert client.get(NEW).status_code == 403
        assert client.get(f"/portal/admin/sections/{sid}").status_code == 403
        token = csrf_token(client, "/")
        for action in ("move", "visibility", "delete"):
            r = client.post(f"/portal/admin/sections/{sid}/{action}",
                            data={"csrf_token": token, "direction": "up", "hidden": "1"})
            assert r.status_code == 403
    anonymous = portal.app.test_client().get(LIST)
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    with portal.app.app_context():
        assert _section("news").hidden is False
    assert _audit(portal, "portal.section.hide") == []
    assert _audit(portal, "portal.section.move") == []


def test_add_top_level_and_sub_section(portal: Portal) -> None:
    client = _officer(portal)
    r = post_form(client, NEW, _form(description="党建工作动态", on_home="1"))
    assert r.status_code == 302
    with portal.app.app_context():
        party = _section("party")
        assert (party.name, party.kind, party.parent_id, party.on_home) == (
            "党建工作", "news", None, True)
        top_sorts = sorted(s for s in (_section(c).sort for c in ("news", "notices", "party")))
        assert party.sort == top_sorts[-1]  # added last
        party_id = party.id
    r = post_form(client, NEW, _form(code="party-study", name="党员学习", kind="documents",
                                     parent_id=str(party_id)))
    assert r.status_code == 302
    with portal.app.app_context():
        assert _section("party-study").parent_id == party_id
    assert [d["code"] for d in _audit(portal, "portal.section.create")] == [
        "party", "party-study"]
    html = client.get(LIST).get_data(as_text=True)
    assert html.index('data-section="party"') < html.index('data-section="party-study"')


def test_add_refuses_bad_input_with_messages(portal: Portal) -> None:
    client = _officer(portal)
    legal_aid = portal.sections["legal_aid"]  # under "rights": already second level
    cases = [
        (_form(code=""), "请填写栏目代码"),
        (_form(code="Party News"), "栏目代码只能包含小写字母"),
        (_form(code="news"), "栏目代码「news」已被使用"),
        (_form(name=""), "请填写栏目名称"),
        (_form(name="长" * 61), "栏目名称不能超过 60 个字"),
        (_form(kind="blog"), "请选择栏目类型"),
        (_form(platforms=[]), "请至少选择一个发布平台"),
        (_form(parent_id=str(legal_aid)), "栏目最多两级"),
        (_form(parent_id="999999"), "上级栏目不存在"),
        (_form(kind="link"), "链接栏目须填写链接地址"),
        (_form(kind="link", link_url="javascript:alert(1)"), "链接地址须是本站路径"),
        (_form(kind="link", link_url="http://example.com/"), "链接地址须是本站路径"),
        (_form(kind="link", link_url="//evil.example/"), "本站路径须以单个"),
        (_form(kind="link", link_url="/a b"), "不能包含空格"),
        (_form(audience_org_id="999999"), "所选工会不存在"),
        (_form(group_ids=["999999"]), "所选会员群体不存在"),
        (_form(description="长" * 501), "栏目简介不能超过 500 个字"),
    ]
    for data, message in cases:
        r = post_form(client, NEW, data, form_url=NEW)
        assert r.status_code == 422, (data, r.status_code)
        assert message in r.get_data(as_text=True), message
    with portal.app.app_context():
        assert _section("party") is None
    assert _audit(portal, "portal.section.create") == []


def test_link_sections_accept_site_paths_and_https(portal: Portal) -> None:
    client = _officer(portal)
    assert post_form(client, NEW, _form(code="jobs", kind="link",
                                        link_url="/portal/s/employment")).status_code == 302
    assert post_form(client, NEW, _form(code="acftu", kind="link",
                                        link_url="https://www.acftu.org/")).status_code == 302
    with portal.app.app_context():
        assert _section("jobs").link_url == "/portal/s/employment"
        assert _section("acftu").link_url == "https://www.acftu.org/"
        # a non-link section keeps no link
        assert post_form(client, NEW, _form(code="plain", link_url="/x")).status_code == 302
        assert _section("plain").link_url is None


def test_rename_and_edit_description_seo_home(portal: Portal) -> None:
    client = _officer(portal)
    sid = portal.sections["media"]
    url = f"/portal/admin/sections/{sid}"
    r = post_form(client, url, _edit_form(portal, "media", name="媒体看工会",
                                          seo_title="媒体看工会 - 北京工会",
                                          seo_description="各大媒体对首都工会工作的报道",
                                          description="新的简介", on_home="1"))
    assert r.status_code == 302
    with portal.app.app_context():
        media = _section("media")
        assert (media.name, media.seo_title, media.description, media.on_home) == (
            "媒体看工会", "媒体看工会 - 北京工会", "新的简介", True)
        assert media.code == "media" and media.parent_id == portal.sections["news"]
    changed = _audit(portal, "portal.section.update")[-1]["changed"]
    assert changed["name"] == ["媒体聚焦", "媒体看工会"]
    assert _queued(portal) == []  # nothing about who may see it changed
    # the code cannot be changed through the form
    post_form(client, url, _edit_form(portal, "media", code="other"))
    with portal.app.app_context():
        assert _section("other") is None and _section("media") is not None


def test_kind_change_refused_while_articles_would_be_orphaned(portal: Portal) -> None:
    client = _officer(portal)
    city = portal.world.org_id("city")
    with portal.app.app_context():
        add_article(portal.sections["theory"], "学习文章", owner_org_id=city)
    url = f"/portal/admin/sections/{portal.sections['theory']}"
    r = post_form(client, url, _edit_form(portal, "theory", kind="forum"))
    assert r.status_code == 422
    assert "本栏目有 1 篇文章" in r.get_data(as_text=True)
    r = post_form(client, url, _edit_form(portal, "theory", kind="documents"))
    assert r.status_code == 302
    with portal.app.app_context():
        assert _section("theory").kind == "documents"
        # an empty section may become any kind
    r = post_form(client, f"/portal/admin/sections/{portal.sections['employment']}",
                  _edit_form(portal, "employment", kind="link", link_url="https://job.bjzgh.org/"))
    assert r.status_code == 302


def _order(portal: Portal, parent_code: str | None) -> list[str]:
    from unionhub import db
    from unionhub_portal.models import PortalSection

    with portal.app.app_context():
        parent = (PortalSection.parent_id.is_(None) if parent_code is None
                  else PortalSection.parent_id == portal.sections[parent_code])
        return list(db.session().scalars(select(PortalSection.code).where(parent)
                                         .order_by(PortalSection.sort, PortalSection.id)))


def test_reorder_moves_among_siblings_and_renumbers(portal: Portal) -> None:
    client = _officer(portal)
    before = _order(portal, None)
    i = before.index("documents")
    move = f"/portal/admin/sections/{portal.sections['documents']}/move"
    assert post_form(client, move, {"direction": "up"}, form_url=LIST).status_code == 302
    after = _order(portal, None)
    expected = before[:]
    expected[i - 1], expected[i] = expected[i], expected[i - 1]
    assert after == expected
    with portal.app.app_context():
        sorts = [_section(c).sort for c in after]
    assert sorts == [10 * (n + 1) for n in range(len(after))]  # renumbered, stable
    # children move among themselves only
    assert _order(portal, "rights") == ["legal_aid", "labour_protection"]
    move_child = f"/portal/admin/sections/{portal.sections['labour_protection']}/move"
    post_form(client, move_child, {"direction": "up"}, form_url=LIST)
    assert _order(portal, "rights") == ["labour_protection", "legal_aid"]
    assert _order(portal, None) == after
    # already first: nothing moves, a message says so
    first = f"/portal/admin/sections/{portal.sections[after[0]]}/move"
    r = post_form(client, first, {"direction": "up"}, form_url=LIST, follow_redirects=True)
    assert "已在最前或最后" in r.get_data(as_text=True)
    assert _order(portal, None) == after
    r = post_form(client, first, {"direction": "sideways"}, form_url=LIST,
                  follow_redirects=True)
    assert "移动方向无效" in r.get_data(as_text=True)
    # the menu follows the new order
    from unionhub_portal.audience import Viewer
    from unionhub_portal.web import menu_sections

    with portal.app.test_request_context():
        menu = [sec.code for sec in menu_sections(Viewer())]
    assert menu == [c for c in after if c in menu] and menu.index("documents") == i - 1
    assert [d["direction"] for d in _audit(portal, "portal.section.move")] == ["up", "up"]


def _visible_ids(account_id: int) -> set[int]:
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_portal.audience import Viewer, visible_articles
    from unionhub_portal.models import PortalArticle

    s = db.session()
    viewer = Viewer.of(s, s.get(Account, account_id))
    return set(s.scalars(visible_articles(viewer).with_only_columns(PortalArticle.id)))


def test_hide_and_show_requeue_the_articles(portal: Portal) -> None:
    client = _officer(portal)
    city = portal.world.org_id("city")
    with portal.app.app_context():
        a = add_article(portal.sections["culture"], "职工运动会", owner_org_id=city)
        b = add_article(portal.sections["culture"], "书画展", owner_org_id=city, state="draft")
        add_article(portal.sections["news"], "别的栏目", owner_org_id=city)
    url = f"/portal/admin/sections/{portal.sections['culture']}/visibility"
    r = post_form(client, url, {"hidden": "1"}, form_url=LIST, follow_redirects=True)
    assert "已隐藏" in r.get_data(as_text=True)
    with portal.app.app_context():
        assert _section("culture").hidden is True
        assert a not in _visible_ids(portal.world.people["m1"].account_id)
    assert _queued(portal) == sorted([str(a), str(b)])
    # hiding again changes nothing and queues nothing more
    post_form(client, url, {"hidden": "1"}, form_url=LIST)
    assert len(_queued(portal)) == 2
    post_form(client, url, {"hidden": "0"}, form_url=LIST)
    with portal.app.app_context():
        assert _section("culture").hidden is False
        assert a in _visible_ids(portal.world.people["m1"].account_id)
    assert len(_queued(portal)) == 4
    assert len(_audit(portal, "portal.section.hide")) == 1
    assert len(_audit(portal, "portal.section.show")) == 1


def test_audience_change_requeues_articles_and_applies(portal: Portal) -> None:
    from unionhub import db
    from unionhub.groups.service import create_group

    client = _officer(portal)
    w = portal.world
    city, d1 = w.org_id("city"), w.org_id("d1")
    with portal.app.app_context():
        group_id = create_group(db.session(), "model_worker", "劳动模范").id
        db.session().commit()
        a = add_article(portal.sections["women"], "女职工关爱行动", owner_org_id=city)
        add_article(portal.sections["news"], "不相干", owner_org_id=city)
    url = f"/portal/admin/sections/{portal.sections['women']}"
    # unchanged save: no re-indexing
    assert post_form(client, url, _edit_form(portal, "women")).status_code == 302
    assert _queued(portal) == []
    # target org
    r = post_form(client, url, _edit_form(portal, "women", audience_org_id=str(d1)))
    assert r.status_code == 302
    assert _queued(portal) == [str(a)]
    with portal.app.app_context():
        assert _section("women").audience_org_id == d1
    # groups
    post_form(client, url, _edit_form(portal, "women", group_ids=[str(group_id)]))
    assert _queued(portal) == [str(a)] * 2
    with portal.app.app_context():
        sec = _section("women")
        from unionhub_portal.sections import service

        assert sec.has_groups is True
        assert service.group_ids_of(db.session(), sec.id) == [group_id]
    # platforms
    post_form(client, url, _edit_form(portal, "women", platforms=["mobile"]))
    assert _queued(portal) == [str(a)] * 3
    with portal.app.app_context():
        assert _section("women").platforms == ("mobile",)
    changed = _audit(portal, "portal.section.update")[-1]["changed"]
    assert changed["on_pc"] == [True, False] and changed["on_app"] == [True, False]
    # back to everyone
    post_form(client, url, _edit_form(portal, "women", audience_org_id="", group_ids=[],
                                      platforms=["pc", "mobile", "app"]))
    with portal.app.app_context():
        sec = _section("women")
        assert (sec.audience_org_id, sec.has_groups, sec.platforms) == (
            None, False, ("pc", "mobile", "app"))
        assert service.group_ids_of(db.session(), sec.id) == []
    assert len(_queued(portal)) == 4


def test_audience_org_must_be_in_the_officers_scope(portal: Portal) -> None:
    """A portal editor whose grant is on 朝阳 can target 朝阳's subtree, not 海淀."""
    from unionhub import db
    from unionhub.identity.admin import create_officer
    from unionhub.orgs.models import Org

    w = portal.world
    with portal.app.app_context():
        s = db.session()
        create_officer(s, "editor", "编辑", "Passw0rd-Portal-1", "portal_editor",
                       s.get(Org, w.org_id("d1")))
        s.commit()
    client = portal.app.test_client()
    assert login(client, "editor", "Passw0rd-Portal-1").status_code == 302
    url = f"/portal/admin/sections/{portal.sections['skills']}"
    form = client.get(url).get_data(as_text=True)
    assert "朝阳区总工会" in form and "海淀区总工会" not in form
    r = post_form(client, url, _edit_form(portal, "skills", audience_org_id=str(w.org_id("d2"))))
    assert r.status_code == 422 and "不在您的管理范围内" in r.get_data(as_text=True)
    r = post_form(client, url, _edit_form(portal, "skills", audience_org_id=str(w.org_id("g1"))))
    assert r.status_code == 302
    with portal.app.app_context():
        assert _section("skills").audience_org_id == w.org_id("g1")


def test_delete_refused_with_articles_or_children_allowed_when_empty(portal: Portal) -> None:
    client = _officer(portal)
    city = portal.world.org_id("city")
    with portal.app.app_context():
        add_article(portal.sections["assistance"], "送温暖", owner_org_id=city, state="draft")

    def delete(code: str) -> Any:
        return post_form(client, f"/portal/admin/sections/{portal.sections[code]}/delete", {},
                         form_url=LIST, follow_redirects=True)

    page = delete("assistance").get_data(as_text=True)
    assert "还有 1 篇文章" in page and "不能删除" in page
    page = delete("rights").get_data(as_text=True)
    assert "还有 2 个下级栏目" in page
    page = delete("labour_protection").get_data(as_text=True)
    assert "已删除" in page
    with portal.app.app_context():
        assert _section("assistance") is not None and _section("rights") is not None
        assert _section("labour_protection") is None
    # an empty section with a group audience goes too (its group rows with it)
    from unionhub import db
    from unionhub.groups.service import create_group

    with portal.app.app_context():
        gid = create_group(db.session(), "youth", "青年职工").id
        db.session().commit()
    post_form(client, f"/portal/admin/sections/{portal.sections['theory']}",
              _edit_form(portal, "theory", group_ids=[str(gid)]))
    assert "已删除" in delete("theory").get_data(as_text=True)
    with portal.app.app_context():
        assert _section("theory") is None
    assert [d["code"] for d in _audit(portal, "portal.section.delete")] == [
        "labour_protection", "theory"]


def test_stale_form_and_unknown_section(portal: Portal) -> None:
    client = _officer(portal)
    r = client.post(NEW, data=_form())
    assert r.status_code == 400 and "页面已过期" in r.get_data(as_text=True)
    assert client.get("/portal/admin/sections/999999").status_code == 404
    token = csrf_token(client, LIST)
    r = client.post("/portal/admin/sections/999999/move",
                    data={"csrf_token": token, "direction": "up"})
    assert r.status_code == 404
    with portal.app.app_context():
        assert _section("party") is None


def test_phone_sized_form_renders(portal: Portal) -> None:
    client = _officer(portal)
    html = client.get(NEW).get_data(as_text=True)
    assert 'name="code"' in html and 'name="platforms"' in html
    assert 'class="form-grid"' in html  # one column on a phone, two on wider screens


def test_parent_changes_requeue_the_sub_sections_articles(portal: Portal) -> None:
    """Hiding or re-targeting a parent section changes who may see its sub-sections' articles
    (section_clause checks the parent), so they are queued too; other sections' are not."""
    client = _officer(portal)
    w = portal.world
    city, d1 = w.org_id("city"), w.org_id("d1")
    with portal.app.app_context():
        own = add_article(portal.sections["rights"], "维权服务总览", owner_org_id=city)
        aid = add_article(portal.sections["legal_aid"], "法律援助案例", owner_org_id=city)
        safety = add_article(portal.sections["labour_protection"], "安全生产月",
                             owner_org_id=city, state="draft")
        add_article(portal.sections["news"], "不相干", owner_org_id=city)
    children = sorted([str(own), str(aid), str(safety)])
    hide = f"/portal/admin/sections/{portal.sections['rights']}/visibility"
    post_form(client, hide, {"hidden": "1"}, form_url=LIST)
    assert _queued(portal) == children
    with portal.app.app_context():
        assert aid not in _visible_ids(w.people["m1"].account_id)
    post_form(client, hide, {"hidden": "0"}, form_url=LIST)
    assert _queued(portal) == sorted(children * 2)
    url = f"/portal/admin/sections/{portal.sections['rights']}"
    assert post_form(client, url, _edit_form(portal, "rights", audience_org_id=str(d1))
                     ).status_code == 302
    assert _queued(portal) == sorted(children * 3)
    with portal.app.app_context():
        assert aid in _visible_ids(w.people["m1"].account_id)  # m1 is in d1
        assert aid not in _visible_ids(w.people["m2"].account_id)
    # editing a sub-section queues only its own articles
    sub = f"/portal/admin/sections/{portal.sections['legal_aid']}"
    post_form(client, sub, _edit_form(portal, "legal_aid", platforms=["pc"]))
    assert _queued(portal) == sorted([*children * 3, str(aid)])
