"""Officers' museum management: permission, scope (a d2 officer cannot touch a d1
exhibition), exhibitions, sections and items from creation to deletion, form errors that
change nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.helpers import csrf_token, login, post_form
from tests.library.test_museum_support import (
    add_museum_officer,
    build_exhibition,
    image_bytes,
    stored_files,
)

ADMIN = "/library/museum/admin"


def _officers(library: Any) -> None:
    with library.app.app_context():
        add_museum_officer("mu_d1", "d1", library.world)
        add_museum_officer("mu_d2", "d2", library.world)


def _client(library: Any, who: str) -> Any:
    client = library.app.test_client()
    login(client, who)
    return client


def _count(model: Any, library: Any) -> int:
    from unionhub import db

    with library.app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(model)) or 0)


def test_admin_needs_the_permission(library: Any) -> None:
    anonymous = library.app.test_client()
    assert anonymous.get(ADMIN).status_code in (302, 401)
    member = library.app.test_client()
    login(member, library.world.people["m1"].card_number)
    assert member.get(ADMIN).status_code == 403
    assert _client(library, "haidian").get(ADMIN).status_code == 403  # no museum.manage
    page = _client(library, "city").get(ADMIN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "数字博物馆管理" in html
    assert 'href="/library/museum/admin"' in html  # the officer menu's item


def test_officer_menu_item_only_for_museum_managers(library: Any) -> None:
    reg = library.app.extensions["unionhub"].registries
    museum = [item for plugin, item in reg.nav["officer"]
              if plugin == "library" and item.endpoint == "library.museum_admin_list"]
    assert len(museum) == 1
    assert museum[0].label == "数字博物馆管理"
    assert museum[0].permission == "library.museum.manage"
    city = _client(library, "city").get("/office/").get_data(as_text=True)
    assert 'href="/library/museum/admin"' in city
    g1 = _client(library, "g1officer").get("/office/").get_data(as_text=True)
    assert 'href="/library/museum/admin"' not in g1


def test_scope_d2_officer_cannot_touch_a_d1_exhibition(library: Any) -> None:
    _officers(library)
    with library.app.app_context():
        built = build_exhibition(library.world, owner="d1", published=False)
    d2 = _client(library, "mu_d2")
    assert "北京工人运动史展" not in d2.get(ADMIN).get_data(as_text=True)
    eid, sid = built.exhibition_id, built.section_ids[0]
    item = built.items["长辛店机车厂"]
    token = csrf_token(d2, ADMIN + "/new")
    for url in (f"{ADMIN}/{eid}", f"{ADMIN}/{eid}/edit", f"{ADMIN}/sections/{sid}",
                f"{ADMIN}/sections/{sid}/items/new", f"{ADMIN}/items/{item}"):
        assert d2.get(url).status_code == 404, url
    for url, data in ((f"{ADMIN}/{eid}/publish", {"published": "1"}),
                      (f"{ADMIN}/{eid}/edit", {"title": "被改了", "owner_org_id": "0"}),
                      (f"{ADMIN}/{eid}/delete", {"confirm": "1"}),
                      (f"{ADMIN}/sections/{sid}/move", {"direction": "down"}),
                      (f"{ADMIN}/sections/{sid}/delete", {}),
                      (f"{ADMIN}/items/{item}/delete", {}),
                      (f"{ADMIN}/items/{item}/cover", {})):
        assert d2.post(url, data={"csrf_token": token, **data}).status_code == 404, url
    from unionhub import db
    from unionhub_library.models import MuseumExhibition, MuseumItem

    with library.app.app_context():
        ex = db.session().get(MuseumExhibition, eid)
        assert ex is not None and not ex.published and ex.title == "北京工人运动史展"
        assert db.session().get(MuseumItem, item) is not None
    # the d1 officer manages it, and so does the city officer (an ancestor's grant)
    assert _client(library, "mu_d1").get(f"{ADMIN}/{eid}").status_code == 200
    assert _client(library, "city").get(f"{ADMIN}/{eid}").status_code == 200


def test_officer_cannot_give_an_exhibition_to_another_subtree(library: Any) -> None:
    _officers(library)
    d2 = _client(library, "mu_d2")
    from unionhub_library.models import MuseumExhibition

    resp = post_form(d2, ADMIN + "/new", {"title": "海淀展", "slug": "haidian",
                                          "owner_org_id": str(library.world.org_id("d1"))})
    assert resp.status_code == 422
    assert "请选择主办工会" in resp.get_data(as_text=True)
    assert _count(MuseumExhibition, library) == 0
    ok = post_form(d2, ADMIN + "/new", {"title": "海淀展", "slug": "haidian",
                                        "owner_org_id": str(library.world.org_id("g2"))})
    assert ok.status_code == 302
    assert _count(MuseumExhibition, library) == 1


@pytest.mark.parametrize(("slug", "message"), [
    ("Bad Slug!", "只能用小写字母"),
    ("search", "已被系统使用"),
    ("labour-history", "已被其他展览使用"),
])
def test_bad_exhibition_form_changes_nothing(library: Any, slug: str, message: str) -> None:
    with library.app.app_context():
        build_exhibition(library.world)
    from unionhub_library.models import MuseumExhibition

    city = _client(library, "city")
    resp = post_form(city, ADMIN + "/new", {"title": "", "slug": slug, "owner_org_id":
                                            str(library.world.org_id("city"))})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in html and "请填写展览名称" in html
    assert _count(MuseumExhibition, library) == 1


def test_exhibition_lifecycle(library: Any) -> None:
    from unionhub import db
    from unionhub_library.models import MuseumExhibition, MuseumItem, MuseumSection

    city = _client(library, "city")
    public = library.app.test_client()
    resp = post_form(city, ADMIN + "/new", {
        "title": "劳模风采展", "subtitle": "劳动最光荣", "slug": "model-workers",
        "owner_org_id": str(library.world.org_id("city")), "sort": "5",
        "intro": "劳动模范是民族的精英。\n\n<script>alert(1)</script>"})
    assert resp.status_code == 302
    with library.app.app_context():
        ex = db.session().scalar(select(MuseumExhibition))
        assert ex is not None
        eid = ex.id
        assert not ex.published and ex.sort == 5
        assert "劳动模范是民族的精英" in ex.intro_html and "<script" not in ex.intro_html
    assert public.get("/library/museum/model-workers").status_code == 404  # a draft

    # sections: add two, rename, reorder
    for title in ("时代楷模", "新时代工匠"):
        assert post_form(city, f"{ADMIN}/{eid}/sections/new",
                         {"title": title, "intro": "单元简介"}).status_code == 302
    bad = post_form(city, f"{ADMIN}/{eid}/sections/new", {"title": ""})
    assert bad.status_code == 422 and "请填写单元名称" in bad.get_data(as_text=True)
    with library.app.app_context():
        first, second = (s.id for s in db.session().scalar(
            select(MuseumExhibition).where(MuseumExhibition.id == eid)).sections)
    assert post_form(city, f"{ADMIN}/sections/{second}/move", {"direction": "up"},
                     form_url=f"{ADMIN}/{eid}").status_code == 302
    assert post_form(city, f"{ADMIN}/sections/{first}", {"title": "时代楷模（一）"}
                     ).status_code == 302
    with library.app.app_context():
        titles = [s.title for s in db.session().get(MuseumExhibition, eid).sections]
    assert titles == ["新时代工匠", "时代楷模（一）"]

    # items: an image with Dublin Core metadata and a text
    url = f"{ADMIN}/sections/{first}/items/new"
    token = csrf_token(city, url)
    resp = city.post(url, content_type="multipart/form-data", data={
        "csrf_token": token, "kind": "image", "title": "时传祥像",
        "dc_creator": "美术组", "dc_date": "1959", "dc_description": "纪念肖像",
        "dc_subject": "劳动模范", "dc_identifier": "LM-001",
        "file": (io.BytesIO(image_bytes((900, 1200))), "portrait.png")})
    assert resp.status_code == 302
    resp = post_form(city, url, {"kind": "text", "title": "劳模精神",
                                 "body": "爱岗敬业、争创一流"})
    assert resp.status_code == 302
    missing = post_form(city, url, {"kind": "image", "title": "没有文件"})
    assert missing.status_code == 422 and "请选择要上传的文件" in missing.get_data(as_text=True)
    long_dc = post_form(city, url, {"kind": "text", "title": "长", "body": "正文",
                                    "dc_creator": "张" * 201})
    assert long_dc.status_code == 422
    assert "创作者不能超过 200 个字" in long_dc.get_data(as_text=True)
    with library.app.app_context():
        items = list(db.session().scalars(select(MuseumItem).order_by(MuseumItem.id)))
    assert [i.title for i in items] == ["时传祥像", "劳模精神"]
    image, text = items
    assert image.dc == {"creator": "美术组", "date": "1959", "description": "纪念肖像",
                        "subject": "劳动模范", "identifier": "LM-001"}
    assert (image.width, image.height) == (900, 1200)
    assert text.body_html == "爱岗敬业、争创一流"

    # reorder items, edit metadata and move the text to the other section
    assert post_form(city, f"{ADMIN}/items/{text.id}/move", {"direction": "up"},
                     form_url=f"{ADMIN}/{eid}").status_code == 302
    with library.app.app_context():
        assert [i.title for i in db.session().get(MuseumSection, first).items] == \
            ["劳模精神", "时传祥像"]
    assert post_form(city, f"{ADMIN}/items/{image.id}", {
        "title": "时传祥纪念像", "section_id": str(first), "dc_creator": "美术组",
        "dc_rights": "公有领域"}).status_code == 302
    assert post_form(city, f"{ADMIN}/items/{text.id}", {
        "title": "劳模精神", "section_id": str(second), "body": "爱岗敬业"}).status_code == 302
    foreign = post_form(city, f"{ADMIN}/items/{text.id}", {
        "title": "劳模精神", "section_id": "999999", "body": "爱岗敬业"})
    assert foreign.status_code == 422
    with library.app.app_context():
        s = db.session()
        assert s.get(MuseumItem, image.id).dc == {"creator": "美术组", "rights": "公有领域"}
        assert s.get(MuseumItem, text.id).section_id == second

    # cover, publish, unpublish
    assert post_form(city, f"{ADMIN}/items/{image.id}/cover", {},
                     form_url=f"{ADMIN}/{eid}").status_code == 302
    assert post_form(city, f"{ADMIN}/{eid}/publish", {"published": "1"},
                     form_url=f"{ADMIN}/{eid}").status_code == 302
    home = public.get("/library/museum/").get_data(as_text=True)
    assert "劳模风采展" in home and f"/library/museum/media/{image.id}/thumb" in home
    page = public.get("/library/museum/model-workers").get_data(as_text=True)
    assert "时传祥纪念像" in page and page.index("新时代工匠") < page.index("时代楷模（一）")
    assert post_form(city, f"{ADMIN}/{eid}/publish", {"published": "0"},
                     form_url=f"{ADMIN}/{eid}").status_code == 302
    assert public.get("/library/museum/model-workers").status_code == 404

    # delete an item, then the whole exhibition (files go too)
    files_before = stored_files(library.app)
    assert any(f.startswith("museum/media/") for f in files_before)
    assert post_form(city, f"{ADMIN}/items/{text.id}/delete", {},
                     form_url=f"{ADMIN}/{eid}").status_code == 302
    unconfirmed = post_form(city, f"{ADMIN}/{eid}/delete", {}, form_url=f"{ADMIN}/{eid}")
    assert unconfirmed.status_code == 302
    assert _count(MuseumExhibition, library) == 1
    assert post_form(city, f"{ADMIN}/{eid}/delete", {"confirm": "1"},
                     form_url=f"{ADMIN}/{eid}").status_code == 302
    assert _count(MuseumExhibition, library) == 0
    assert _count(MuseumSection, library) == 0
    assert _count(MuseumItem, library) == 0
    assert not any(f.startswith(("museum/media/", "museum/thumbs/"))
                   for f in stored_files(library.app))


def test_replacing_an_items_file_removes_the_old_one(library: Any) -> None:
    with library.app.app_context():
        built = build_exhibition(library.world)
    from unionhub import db
    from unionhub_library.models import MuseumItem

    item_id = built.items["长辛店机车厂"]
    with library.app.app_context():
        old = db.session().get(MuseumItem, item_id).media_name
    city = _client(library, "city")
    url = f"{ADMIN}/items/{item_id}"
    token = csrf_token(city, url)
    resp = city.post(url, content_type="multipart/form-data", data={
        "csrf_token": token, "title": "长辛店机车厂", "section_id": str(built.section_ids[0]),
        "file": (io.BytesIO(image_bytes((320, 240), "GIF", 5, mode="P")), "new.gif")})
    assert resp.status_code == 302
    with library.app.app_context():
        item = db.session().get(MuseumItem, item_id)
        assert item.media_name != old and (item.width, item.height) == (320, 240)
    files = stored_files(library.app)
    assert f"museum/media/{old}" not in files
    assert f"museum/media/{item.media_name}" in files
    # an image item refuses a non-image replacement and keeps its file
    token = csrf_token(city, url)
    refused = city.post(url, content_type="multipart/form-data", data={
        "csrf_token": token, "title": "长辛店机车厂", "section_id": str(built.section_ids[0]),
        "file": (io.BytesIO(b"GIF89a but not really"), "fake.gif")})
    assert refused.status_code == 422
    with library.app.app_context():
        assert db.session().get(MuseumItem, item_id).media_name == item.media_name
    assert stored_files(library.app) == files


def test_address_taken_meanwhile_is_a_form_error(library: Any, monkeypatch: Any) -> None:
    """Two officers saving the same address at once: the check passes for both, the unique
    index refuses the second, who gets the form back with the reason."""
    from unionhub_library.models import MuseumExhibition
    from unionhub_library.museum import forms

    with library.app.app_context():
        build_exhibition(library.world)
    monkeypatch.setattr(forms, "free_slug", lambda *_a, **_k: True)
    resp = post_form(_client(library, "city"), ADMIN + "/new", {
        "title": "同名展", "slug": "labour-history",
        "owner_org_id": str(library.world.org_id("city"))})
    assert resp.status_code == 422
    assert "网址名称“labour-history”已被其他展览使用" in resp.get_data(as_text=True)
    assert _count(MuseumExhibition, library) == 1
