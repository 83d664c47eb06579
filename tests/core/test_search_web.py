"""The search page and the JSON endpoint."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.core.test_search_support import NOTICE, Store, rebuild_all, wire
from tests.helpers import World, login
from unionhub.search.acl import MEMBER


@pytest.fixture
def store() -> Store:
    s = Store()
    for i in range(12):
        s.put(str(i), f"工会通知{i}", "请拨打职工服务热线12351咨询。<script>x</script>")
    s.put("m", "会员专享京卡优惠", "凭京卡享受优惠。", acl=(MEMBER,))
    return s


@pytest.fixture
def search(app: Flask, world: World, store: Store) -> Flask:
    with app.app_context():
        wire(app, store)
    rebuild_all(app)
    return app


def test_anonymous_json_sees_public_documents_only(search: Flask, client: FlaskClient) -> None:
    r = client.get("/search/api?q=工会")
    assert r.status_code == 200
    data = r.get_json()
    assert data["total"] == 12
    assert data["facets"] == {"core.member": 0, NOTICE: 12}
    assert data["labels"] == {"core.member": "会员", NOTICE: "通知"}
    assert len(data["hits"]) == 10 and data["pages"] == 2
    hit = data["hits"][0]
    assert set(hit) >= {"doc_type", "title", "url", "snippet", "type_label"}
    assert hit["doc_type"] == NOTICE and hit["url"].startswith("/n/")
    assert "<script>" not in hit["snippet"]
    assert client.get("/search/api?q=京卡").get_json()["total"] == 0
    page2 = client.get("/search/api?q=工会&page=2").get_json()
    assert len(page2["hits"]) == 2
    assert not {h["doc_id"] for h in page2["hits"]} & {h["doc_id"] for h in data["hits"]}


def test_json_for_an_officer_filters_by_type(search: Flask, client: FlaskClient,
                                             world: World) -> None:
    login(client, "chaoyang")
    data = client.get("/search/api?q=工会&type=core.member").get_json()
    assert data["type"] == "core.member"
    assert [h["title"] for h in data["hits"]] == ["张伟"]
    assert data["facets"] == {"core.member": 1, NOTICE: 12}
    m2 = world.people["m2"]
    assert client.get(f"/search/api?q={m2.name}").get_json()["total"] == 0


def test_member_sees_member_only_content(search: Flask, client: FlaskClient,
                                        world: World) -> None:
    assert client.get("/search/api?q=京卡").get_json()["total"] == 0
    login(client, world.people["m1"].card_number)
    data = client.get("/search/api?q=京卡").get_json()
    assert [h["title"] for h in data["hits"]] == ["会员专享京卡优惠"]


def test_officer_finds_members_of_their_district_on_the_page(search: Flask,
                                                             client: FlaskClient,
                                                             world: World) -> None:
    m1, m2, m3 = (world.people[k] for k in ("m1", "m2", "m3"))
    login(client, "chaoyang")
    html = client.get(f"/search/?q={m1.name}").get_data(as_text=True)
    assert f'href="/office/members/{m1.member_id}"' in html
    assert "<b>张</b>" in html or "<b>张伟</b>" in html
    assert "会员" in html  # the type tab
    html = client.get(f"/search/?q={m2.name}").get_data(as_text=True)
    assert f"/office/members/{m2.member_id}" not in html
    assert "没有找到相关内容" in html
    html = client.get(f"/search/?q={m3.name}&type=core.member").get_data(as_text=True)
    assert f'href="/office/members/{m3.member_id}"' in html


def test_page_has_tabs_counts_and_pager(search: Flask, client: FlaskClient) -> None:
    r = client.get("/search/?q=工会")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'class="subnav search-tabs"' in html
    assert "type=test.notice" in html and "type=core.member" in html
    assert "page=2" in html and "1 / 2" in html
    assert html.count('class="card search-hit"') == 10
    assert "<script>x</script>" not in html
    html2 = client.get("/search/?q=工会&page=2").get_data(as_text=True)
    assert html2.count('class="card search-hit"') == 2


def test_page_without_query_and_anonymous_member_search(search: Flask, client: FlaskClient,
                                                        world: World) -> None:
    r = client.get("/search/")
    assert r.status_code == 200 and 'name="q"' in r.get_data(as_text=True)
    html = client.get(f"/search/?q={world.people['m1'].name}").get_data(as_text=True)
    assert "/office/members/" not in html


def test_plugin_indexer_and_member_changes_are_indexed(make_app, world: World) -> None:
    """Wired end to end: the sample plugin's indexer and the core's member indexer, updated
    through the queue that the identity service and the sample's data feed."""
    from unionhub import db
    from unionhub.search.queue import process_queue
    from unionhub.search.service import rebuild
    from unionhub_sample.models import SampleNote

    make_app.set_plugin("sample", True)
    app = make_app()
    with app.app_context():
        s = db.session()
        s.add(SampleNote(member_id=world.people["m1"].member_id, text="职工服务热线十二点开通"))
        s.commit()
    rebuild(app)
    m1, m2 = app.test_client(), app.test_client()
    login(m1, world.people["m1"].card_number)
    login(m2, world.people["m2"].card_number)
    hits = m1.get("/search/api?q=%22职工服务热线%22").get_json()
    assert [h["doc_type"] for h in hits["hits"]] == ["sample.note"]
    assert m2.get("/search/api?q=%22职工服务热线%22").get_json()["total"] == 0
    # a member created now is found by an officer once the queue is applied
    from tests.helpers import add_member

    with app.app_context():
        person = add_member(world.orgs["g1"], "欧阳新会员", password=None)
    process_queue(app)
    officer = app.test_client()
    login(officer, "chaoyang")
    found = officer.get("/search/api?q=欧阳新会员").get_json()
    assert [h["url"] for h in found["hits"]] == [f"/office/members/{person.member_id}"]
