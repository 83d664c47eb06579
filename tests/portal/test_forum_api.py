"""The forum on the app API: boards, topics, a topic with posts, creating, replying with a
quote, reporting; refusals with their statuses; org boards invisible to other members."""

from __future__ import annotations

from typing import Any

from tests.helpers import PASSWORD
from tests.portal.conftest import Portal
from tests.portal.test_forum_service import add_board, add_word, new_topic, set_limit


def _auth(portal: Portal, identifier: str) -> dict[str, str]:
    r = portal.app.test_client().post("/api/v1/auth/token", json={
        "identifier": identifier, "password": PASSWORD, "device": "phone"})
    assert r.status_code == 201, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def test_api_read_post_reply_report(portal: Portal) -> None:
    w = portal.world
    with portal.app.app_context():
        board = add_board(portal, "职工之家")
        g1_board = add_board(portal, "电控工会", org="g1")
        new_topic(portal, "m1", g1_board, "电控内部")
    c = portal.app.test_client()
    m1, m2 = _auth(portal, w.people["m1"].mobile), _auth(portal, w.people["m2"].mobile)
    assert c.get("/api/v1/portal/forum/boards").status_code == 401
    assert {b["name"] for b in c.get("/api/v1/portal/forum/boards", headers=m1).get_json()} \
        == {"职工之家", "电控工会"}
    assert [b["name"] for b in c.get("/api/v1/portal/forum/boards", headers=m2).get_json()] \
        == ["职工之家"]
    assert c.get(f"/api/v1/portal/forum/boards/{g1_board}/topics", headers=m2).status_code == 404

    r = c.post(f"/api/v1/portal/forum/boards/{board}/topics", headers=m1,
               json={"title": "工会活动室开放时间", "body": "周末能开放吗？<script>x</script>"})
    assert r.status_code == 201, r.get_json()
    topic = r.get_json()
    assert topic["author"] == "张*" and not topic["pending"]
    page = c.get(f"/api/v1/portal/forum/boards/{board}/topics", headers=m2).get_json()
    assert page["total"] == 1 and page["items"][0]["title"] == "工会活动室开放时间"
    detail = c.get(f"/api/v1/portal/forum/topics/{topic['id']}", headers=m2).get_json()
    first = detail["posts"]["items"][0]
    assert "<script>" not in first["html"] and "&lt;script&gt;" in first["html"]
    assert detail["can_reply"] and not detail["subscribed"]

    r = c.post(f"/api/v1/portal/forum/topics/{topic['id']}/posts", headers=m2,
               json={"body": "同问", "quote_post_id": first["id"]})
    assert r.status_code == 201
    reply = r.get_json()
    assert reply["quote"]["author"] == "张*" and reply["mine"]
    detail = c.get(f"/api/v1/portal/forum/topics/{topic['id']}?per_page=1&page=2",
                   headers=m2).get_json()
    assert detail["topic"]["reply_count"] == 1 and detail["subscribed"]
    assert detail["posts"]["total"] == 2 and detail["posts"]["items"][0]["id"] == reply["id"]

    r = c.post(f"/api/v1/portal/forum/posts/{reply['id']}/report", headers=m1,
               json={"reason": "灌水"})
    assert r.status_code == 201 and r.get_json()["state"] == "open"
    r = c.post(f"/api/v1/portal/forum/posts/{reply['id']}/report", headers=m1,
               json={"reason": "灌水"})
    assert r.status_code == 409
    r = c.post(f"/api/v1/portal/forum/posts/{reply['id']}/report", headers=m1, json={})
    assert r.status_code == 422


def test_api_refusals(portal: Portal) -> None:
    w = portal.world
    with portal.app.app_context():
        board = add_board(portal, "一线心声")
        add_word(portal, "赌博", "block")
        set_limit(2)
    c = portal.app.test_client()
    m1 = _auth(portal, w.people["m1"].mobile)
    r = c.post(f"/api/v1/portal/forum/boards/{board}/topics", headers=m1,
               json={"title": "x", "body": "内容"})
    assert r.status_code == 422 and "title" in r.get_json()["error"]["fields"]
    r = c.post(f"/api/v1/portal/forum/boards/{board}/topics", headers=m1,
               json={"title": "网上赌博", "body": "内容"})
    assert r.status_code == 409 and "赌博" in r.get_json()["error"]["message"]
    r = c.post(f"/api/v1/portal/forum/boards/{board}/topics", headers=m1,
               json={"title": "第一帖", "body": "内容"})
    topic_id = r.get_json()["id"]
    assert c.post(f"/api/v1/portal/forum/topics/{topic_id}/posts", headers=m1,
                  json={"body": "二"}).status_code == 201
    r = c.post(f"/api/v1/portal/forum/topics/{topic_id}/posts", headers=m1, json={"body": "三"})
    assert r.status_code == 429 and "10 分钟" in r.get_json()["error"]["message"]
    assert c.post("/api/v1/portal/forum/topics/999999/posts", headers=m1,
                  json={"body": "x"}).status_code == 404
    officer = _auth(portal, "g1officer")  # no forum rights
    r = c.post(f"/api/v1/portal/forum/boards/{board}/topics", headers=officer,
               json={"title": "干部发帖", "body": "内容"})
    assert r.status_code == 403


def test_api_documented_and_fuzzed(portal: Portal) -> None:
    """The forum's operations are in the OpenAPI document, and schema-generated requests get
    documented, well-formed answers (never a server error)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    with portal.app.app_context():
        board = add_board(portal)
        new_topic(portal, "m1", board)
    headers = _auth(portal, portal.world.people["m2"].mobile)
    doc = portal.app.test_client().get("/api/v1/openapi.json").get_json()
    forum = sorted(p for p in doc["paths"] if p.startswith("/api/v1/portal/forum"))
    assert forum == ["/api/v1/portal/forum/boards", "/api/v1/portal/forum/boards/{board_id}/topics",
                     "/api/v1/portal/forum/posts/{post_id}/report",
                     "/api/v1/portal/forum/topics/{topic_id}",
                     "/api/v1/portal/forum/topics/{topic_id}/posts"]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", portal.app)
    schema.config.generation.allow_x00 = False
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/v1/portal/forum"):
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.headers = {**(case.headers or {}), **headers}
            # posting rules (rate limit, words, states) may rightly refuse a valid body
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()
        checked += 1
    assert checked == 6
