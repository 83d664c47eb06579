"""Museum search through the core search service: documents of published exhibitions are
public, drafts are never found (by anyone), and edits, publishing and deletions are
re-indexed through the queue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.helpers import login, post_form
from tests.library.test_museum_support import build_exhibition

DOC = "library.museum_item"


def _index(library: Any) -> None:
    from unionhub.search.queue import process_queue

    run = process_queue(library.app)
    assert run.acquired and run.failed == 0


def _found(library: Any, text: str, account_id: int | None = None) -> set[str]:
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub.search.service import get_service

    with library.app.test_request_context():
        who = db.session().get(Account, account_id) if account_id else None
        results = get_service(library.app).search_as(who, text, doc_type=DOC, per_page=50)
        return {h.title for h in results.hits}


def test_documents_acl_follows_publication(library: Any) -> None:
    from unionhub import db
    from unionhub.search.acl import PUBLIC
    from unionhub_library.museum.search import documents

    with library.app.app_context():
        live = build_exhibition(library.world)
        draft = build_exhibition(library.world, owner="d1", slug="draft", published=False,
                                 prefix="草稿")
        docs = {d.title: d for d in documents(db.session(), None)}
    item = docs["长辛店机车厂"]
    assert item.acl == (PUBLIC,) and item.status == "published"
    assert item.url == f"/library/museum/item/{live.items['长辛店机车厂']}"
    assert "王铁生" in item.body and "铁路工人" in item.body and "蒸汽机车" in item.body
    assert "北京工人运动史展" in item.body
    assert "我们要求承认工会" in docs["罢工宣言"].body
    hidden = docs["草稿长辛店机车厂"]
    assert hidden.status == "draft" and PUBLIC not in hidden.acl
    d1 = library.world.org_id("d1")
    assert f"officer:library.museum.manage:{d1}" in hidden.acl
    assert hidden.doc_id == str(draft.items["草稿长辛店机车厂"])


def test_search_finds_published_items_only(library: Any) -> None:
    with library.app.app_context():
        build_exhibition(library.world)
        build_exhibition(library.world, owner="d1", slug="draft", published=False,
                         prefix="草稿")
    _index(library)
    assert _found(library, "长辛店机车厂") == {"长辛店机车厂"}
    assert _found(library, "王铁生") == {"长辛店机车厂"}  # dc:creator
    assert _found(library, "会员服务") == {"京卡互助服务卡"}  # dc:subject
    assert _found(library, "承认工会") == {"罢工宣言"}  # the text's body
    # the draft's manager does not find it in search either: the status hides it
    assert _found(library, "草稿长辛店机车厂", library.world.officers["city"]) == set()


def test_publish_edit_and_delete_are_reindexed(library: Any) -> None:
    from unionhub import db
    from unionhub_library.models import MuseumExhibition

    with library.app.app_context():
        built = build_exhibition(library.world, published=False)
    _index(library)
    assert _found(library, "长辛店机车厂") == set()
    city = library.app.test_client()
    login(city, "city")
    admin = f"/library/museum/admin/{built.exhibition_id}"
    assert post_form(city, admin + "/publish", {"published": "1"}, form_url=admin
                     ).status_code == 302
    _index(library)
    assert _found(library, "长辛店机车厂") == {"长辛店机车厂"}
    item = built.items["长辛店机车厂"]
    assert post_form(city, f"/library/museum/admin/items/{item}", {
        "title": "二七机车车辆厂", "section_id": str(built.section_ids[0]),
        "dc_subject": "蒸汽机车修造"}).status_code == 302
    _index(library)
    assert _found(library, "二七机车车辆厂") == {"二七机车车辆厂"}
    assert _found(library, "修造") == {"二七机车车辆厂"}
    assert _found(library, "王铁生") == set()  # the creator was cleared
    assert post_form(city, f"/library/museum/admin/items/{item}/delete", {},
                     form_url=admin).status_code == 302
    _index(library)
    assert _found(library, "二七机车车辆厂") == set()
    assert post_form(city, admin + "/publish", {"published": "0"}, form_url=admin
                     ).status_code == 302
    _index(library)
    assert _found(library, "京卡互助服务卡") == set()
    with library.app.app_context():
        assert db.session().scalar(select(MuseumExhibition.published)) is False


def test_search_page(library: Any) -> None:
    with library.app.app_context():
        built = build_exhibition(library.world)
        build_exhibition(library.world, owner="d1", slug="draft", published=False,
                         prefix="草稿")
    client = library.app.test_client()
    not_yet = client.get("/library/museum/search?q=长辛店机车厂")  # nothing indexed yet
    assert not_yet.status_code == 200 and "没有找到相关展品" in not_yet.get_data(as_text=True)
    _index(library)
    home = client.get("/library/museum/").get_data(as_text=True)
    assert 'action="/library/museum/search"' in home
    html = client.get("/library/museum/search?q=长辛店机车厂").get_data(as_text=True)
    item = built.items["长辛店机车厂"]
    assert f'href="/library/museum/item/{item}"' in html
    assert f"/library/museum/media/{item}/thumb" in html
    assert "草稿长辛店机车厂" not in html
    assert "共找到 1 件展品" in html
    empty = client.get("/library/museum/search?q=不存在的展品名称").get_data(as_text=True)
    assert "没有找到相关展品" in empty
    blank = client.get("/library/museum/search").get_data(as_text=True)
    assert "可按展品名称" in blank
