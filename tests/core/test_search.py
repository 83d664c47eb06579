"""Search service: Chinese matching, ranking, facets, pagination and — above all — that no
query shows a viewer what they may not see."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from tests.core.test_search_support import (
    NOTICE,
    Store,
    core_extra,
    rebuild_all,
    titles,
    wire,
)
from tests.helpers import World
from unionhub import db
from unionhub.access.models import RolePermission
from unionhub.db import utcnow
from unionhub.identity.models import Account
from unionhub.plugins.discovery import PluginError
from unionhub.search.acl import MEMBER, PUBLIC, officer_tokens, org_token, viewer_tokens
from unionhub.search.backend import SearchResults
from unionhub.search.core_indexers import CORE_INDEXERS
from unionhub.search.service import get_service, init_search
from unionhub.search.types import SearchDocument, SearchIndexer


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def search(app: Flask, world: World, store: Store) -> Flask:
    with app.app_context():
        wire(app, store)
    return app


def account_id(world: World, who: str) -> int:
    return world.people[who].account_id if who in world.people else world.officers[who]


def find(app: Flask, world: World, who: str | None, q: str, **kw: Any) -> SearchResults:
    with app.app_context():
        acc = None if who is None else db.session().get(Account, account_id(world, who))
        return get_service(app).search_as(acc, q, **kw)


def found(app: Flask, world: World, who: str | None, q: str, **kw: Any) -> list[str]:
    return titles(find(app, world, who, q, **kw))


# ---------------------------------------------------------------- matching and ranking


def test_two_character_words_match_inside_longer_words(search: Flask, world: World,
                                                       store: Store) -> None:
    store.put("1", "北京市总工会发布通知", "即日起办理京卡互助服务卡。")
    store.put("2", "食堂菜单", "今日供应饺子。")
    rebuild_all(search)
    assert found(search, world, None, "工会") == ["北京市总工会发布通知"]
    assert found(search, world, None, "京卡") == ["北京市总工会发布通知"]
    assert found(search, world, None, "饺子") == ["食堂菜单"]


def test_quoted_phrase_finds_only_the_verbatim_text(search: Flask, world: World,
                                                   store: Store) -> None:
    store.put("exact", "服务指南", "有困难请拨打职工服务热线12351咨询。")
    store.put("scattered", "热线说明", "职工可以通过多种服务渠道反映问题，热线全天开通。")
    rebuild_all(search)
    assert found(search, world, None, '"职工服务热线"') == ["服务指南"]
    assert found(search, world, None, "“服务热线”") == ["服务指南"]


def test_exact_phrase_ranks_above_scattered_words(search: Flask, world: World,
                                                  store: Store) -> None:
    store.put("scattered", "热线说明", "职工可以通过多种服务渠道反映问题，热线全天开通。")
    store.put("exact", "服务指南", "有困难的会员可以拨打职工服务热线反映问题，全天开通。")
    rebuild_all(search)
    for q in ("职工服务热线", "职工 服务 热线", "服务热线"):
        assert found(search, world, None, q) == ["服务指南", "热线说明"], q


def test_title_matches_rank_above_body_matches(search: Flask, world: World,
                                               store: Store) -> None:
    store.put("body", "活动安排", "本周举办二次报销政策讲座，欢迎参加。")
    store.put("title", "二次报销政策", "本周举办讲座，欢迎参加，地点另行通知。")
    rebuild_all(search)
    assert found(search, world, None, "二次报销") == ["二次报销政策", "活动安排"]


def test_all_words_are_required(search: Flask, world: World, store: Store) -> None:
    store.put("1", "京卡办理", "京卡在代办处办理。")
    store.put("2", "疗休养", "女职工疗休养报名。")
    rebuild_all(search)
    assert found(search, world, None, "京卡 疗休养") == []
    assert found(search, world, None, "京卡 代办处") == ["京卡办理"]


def test_empty_or_punctuation_query_finds_nothing(search: Flask, world: World,
                                                  store: Store) -> None:
    store.put("1", "京卡办理")
    rebuild_all(search)
    assert find(search, world, None, "").total == 0
    assert find(search, world, None, "，。！").total == 0


def test_hits_carry_highlighted_title_and_escaped_snippet(search: Flask, world: World,
                                                         store: Store) -> None:
    store.put("1", "<i>京卡</i>须知", '<script>alert(1)</script>京卡挂失请拨打12351。')
    rebuild_all(search)
    hit = find(search, world, None, "京卡").hits[0]
    assert str(hit.title_html) == "&lt;i&gt;<b>京卡</b>&lt;/i&gt;须知"
    assert "<script>" not in str(hit.snippet) and "&lt;/script&gt;" in str(hit.snippet)
    assert "<b>京卡</b>" in hit.snippet
    assert hit.url == "/n/1" and hit.doc_type == NOTICE


# ---------------------------------------------------------------- facets and pages


def test_facets_and_pagination(search: Flask, world: World, store: Store) -> None:
    for i in range(25):
        store.put(str(i), f"工会通知第{i}号", "请各基层工会做好准备。")
    rebuild_all(search)
    # The admin also sees two members, whose org names (电控工会, 软件园工会) match.
    res = find(search, world, "admin", "工会", per_page=10)
    assert res.facets == {"core.member": 2, NOTICE: 25}
    assert (res.total, res.pages, len(res.hits)) == (27, 3, 10)
    last = find(search, world, "admin", "工会", per_page=10, page=3)
    assert len(last.hits) == 7 and not last.has_next and last.has_prev

    seen: list[str] = []
    for page in (1, 2, 3):
        tab = find(search, world, "admin", "工会", per_page=10, page=page, doc_type=NOTICE)
        assert tab.facets == {"core.member": 2, NOTICE: 25}
        assert {h.doc_type for h in tab.hits} == {NOTICE}
        seen += [h.doc_id for h in tab.hits]
    assert sorted(seen) == sorted(str(i) for i in range(25))
    assert find(search, world, "admin", "工会", doc_type="core.member").total == 2


def test_page_beyond_the_end_is_empty(search: Flask, world: World, store: Store) -> None:
    store.put("1", "京卡办理")
    rebuild_all(search)
    res = find(search, world, None, "京卡", page=7)
    assert res.total == 1 and res.hits == []


# ---------------------------------------------------------------- permissions and audience


def test_drafts_never_show(search: Flask, world: World, store: Store) -> None:
    store.put("pub", "工会新闻", "已发布")
    store.put("draft", "工会草稿", "未发布", status="draft")
    rebuild_all(search)
    for who in (None, "m1", "m2"):
        assert found(search, world, who, "工会") == ["工会新闻"], who
    assert "工会草稿" not in found(search, world, "admin", "工会")


def test_indexer_may_show_other_statuses(app: Flask, world: World) -> None:
    store = Store()
    store.put("1", "京卡公告", status="pinned")
    with app.app_context():
        wire(app, store, visible_statuses=("published", "pinned"))
    rebuild_all(app)
    assert found(app, world, None, "京卡") == ["京卡公告"]


def test_scheduled_and_expired_content_is_hidden(search: Flask, world: World,
                                                 store: Store) -> None:
    now = utcnow()
    store.put("past", "京卡通知甲", published_at=now - timedelta(days=1))
    store.put("future", "京卡通知乙", published_at=now + timedelta(days=1))
    store.put("expired", "京卡通知丙", expires_at=now - timedelta(minutes=1))
    store.put("running", "京卡通知丁", expires_at=now + timedelta(days=1))
    rebuild_all(search)
    assert set(found(search, world, "admin", "京卡")) == {"京卡通知甲", "京卡通知丁"}


def test_content_targeted_at_another_district_is_hidden(search: Flask, world: World,
                                                        store: Store) -> None:
    store.put("d1", "朝阳区疗休养通知", acl=(org_token(world.orgs["d1"]),))
    store.put("g1", "电控工会疗休养通知", acl=(org_token(world.orgs["g1"]),))
    rebuild_all(search)
    assert set(found(search, world, "m1", "疗休养")) == {"朝阳区疗休养通知", "电控工会疗休养通知"}
    assert len(found(search, world, "m3", "疗休养")) == 2  # b1 is under g1 under d1
    assert found(search, world, "m2", "疗休养") == []
    assert found(search, world, None, "疗休养") == []


def test_member_only_content_is_hidden_from_anonymous(search: Flask, world: World,
                                                      store: Store) -> None:
    store.put("1", "会员专享京卡优惠", acl=(MEMBER,))
    rebuild_all(search)
    assert found(search, world, "m2", "京卡") == ["会员专享京卡优惠"]
    assert found(search, world, None, "京卡") == []


def test_left_member_loses_member_tokens(search: Flask, world: World, store: Store) -> None:
    store.put("1", "会员专享京卡优惠", acl=(MEMBER,))
    rebuild_all(search)
    with search.app_context():
        acc = db.session().get(Account, world.people["m2"].account_id)
        acc.member.status = "left"
        db.session().commit()
    assert found(search, world, "m2", "京卡") == []


def test_member_records_stay_within_the_officers_district(search: Flask,
                                                          world: World) -> None:
    rebuild_all(search)
    m1, m2, m3 = (world.people[k] for k in ("m1", "m2", "m3"))
    chaoyang = find(search, world, "chaoyang", m1.name)
    assert [(h.title, h.url) for h in chaoyang.hits] == [
        (m1.name, f"/office/members/{m1.member_id}")]
    assert found(search, world, "chaoyang", m2.name) == []
    assert found(search, world, "chaoyang", m3.name) == [m3.name]
    assert found(search, world, "haidian", m2.name) == [m2.name]
    assert found(search, world, "haidian", m1.name) == []
    assert found(search, world, "g1officer", m3.name) == [m3.name]
    assert found(search, world, "g1officer", m2.name) == []
    assert found(search, world, "city", m2.name) == [m2.name]
    # Members themselves and anonymous visitors never find member records.
    assert found(search, world, "m1", m1.name) == []
    assert found(search, world, None, m1.name) == []


def test_admin_added_role_permission_counts(search: Flask, world: World,
                                            store: Store) -> None:
    g1 = world.orgs["g1"]
    store.put("1", "代办处京卡台账", acl=officer_tokens("test.ledger", g1.path))
    rebuild_all(search)
    assert found(search, world, "clerk", "京卡") == []
    with search.app_context():
        db.session().add(RolePermission(role="agent_clerk", permission="test.ledger"))
        db.session().commit()
    assert found(search, world, "clerk", "京卡") == ["代办处京卡台账"]
    assert found(search, world, "g1officer", "京卡") == []
    assert found(search, world, "haidian", "京卡") == []


def test_permissions_of_the_implicit_member_role_cover_the_members_org(
        search: Flask, world: World, store: Store) -> None:
    g1 = world.orgs["g1"]
    store.put("1", "电控工会京卡团购", acl=officer_tokens("test.groupbuy", g1.path))
    rebuild_all(search)
    with search.app_context():
        db.session().add(RolePermission(role="member", permission="test.groupbuy"))
        db.session().commit()
    assert found(search, world, "m1", "京卡") == ["电控工会京卡团购"]  # member at g1
    assert found(search, world, "m2", "京卡") == []  # member at g2
    assert found(search, world, "chaoyang", "京卡") == []  # no member record


def test_inactive_account_holds_only_public(search: Flask, world: World) -> None:
    with search.app_context():
        acc = db.session().get(Account, world.officers["admin"])
        assert len(viewer_tokens(acc)) > 1
        acc.is_active = False
        assert viewer_tokens(acc) == frozenset({PUBLIC})
        assert viewer_tokens(None) == frozenset({PUBLIC})


def test_officer_tokens_follow_role_grants(search: Flask, world: World) -> None:
    with search.app_context():
        acc = db.session().get(Account, world.officers["chaoyang"])
        tokens = viewer_tokens(acc)
    d1, d2 = world.org_id("d1"), world.org_id("d2")
    assert f"officer:core.members.view:{d1}" in tokens
    assert f"officer:core.members.view:{d2}" not in tokens
    assert MEMBER not in tokens


def test_documents_of_unregistered_types_never_show(search: Flask, world: World) -> None:
    backend = get_service(search).backend
    with backend.exclusive(1) as ok:
        assert ok
        backend.apply([("ghost.page", SearchDocument("1", "京卡幽灵页", "/x", (PUBLIC,)))],
                      [])
    assert found(search, world, None, "京卡") == []


def test_member_index_holds_no_clear_numbers(search: Flask, world: World) -> None:
    rebuild_all(search)
    p = world.people["m1"]
    s = get_service(search).backend.searcher()  # type: ignore[attr-defined]
    stored = [f for f in s.all_stored_fields() if f["doc_type"] == "core.member"]
    assert len(stored) == 3
    blob = repr(stored)
    for secret in (p.mobile, p.id_number, p.card_number, p.mobile[-8:]):
        assert secret not in blob
    assert p.mobile[-4:] in blob  # the masked form 139****1234 is there
    assert found(search, world, "admin", p.mobile) == []
    assert found(search, world, "admin", p.card_number) == []


# ---------------------------------------------------------------- registration


def _indexer(doc_type: str) -> SearchIndexer:
    return SearchIndexer(doc_type, "x", lambda _s, _i: iter(()))


def test_indexers_must_be_namespaced_by_their_plugin(app: Flask) -> None:
    with pytest.raises(PluginError, match=r"must start with 'library\.'"):
        init_search(app, extra_indexers=[("library", _indexer("portal.article"))])


def test_duplicate_doc_types_are_refused(app: Flask) -> None:
    with pytest.raises(PluginError, match="duplicate"):
        init_search(app, extra_indexers=[("library", _indexer("library.book")),
                                         ("library", _indexer("library.book"))])


def test_core_indexers_are_valid_and_ordered(app: Flask) -> None:
    book = SearchIndexer("library.book", "图书", lambda _s, _i: iter(()), priority=200)
    service = init_search(app, extra_indexers=[("library", book), *core_extra(app)])
    assert list(service.indexers) == ["core.member", "library.book"]
    assert service.indexers["core.member"] is CORE_INDEXERS[0]


def test_documents_validate_their_audience() -> None:
    with pytest.raises(ValueError, match="acl is empty"):
        SearchDocument("1", "t", "/x", ())
    with pytest.raises(ValueError, match="bad token"):
        SearchDocument("1", "t", "/x", ("org 1",))
    with pytest.raises(ValueError, match=r"plugin\.type"):
        SearchIndexer("book", "图书", lambda _s, _i: iter(()))
