"""The mobile-app API: tokens, masked profile, devices, errors, OpenAPI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text, update

from tests.helpers import PASSWORD, login
from unionhub import db
from unionhub.api.models import ApiToken
from unionhub.db import utcnow


def token_for(client, identifier: str, password: str = PASSWORD, device: str = "iPhone"):
    r = client.post("/api/v1/auth/token",
                    json={"identifier": identifier, "password": password, "device": device})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_sign_in_and_masked_profile(app, world, client):
    p = world.people["m1"]
    tok = token_for(client, p.card_number)
    assert tok["token"].startswith("uh_") and tok["device"] == "iPhone"
    me = client.get("/api/v1/me", headers=auth(tok["token"]))
    assert me.status_code == 200
    body = me.get_json()
    assert body["name"] == "张伟" and body["org"]["code"] == "G1"
    assert body["id_number"] == p.id_number[:4] + "*" * 10 + p.id_number[-4:]
    raw = me.get_data(as_text=True)
    assert p.id_number not in raw and p.card_number not in raw and p.mobile not in raw
    cards = client.get("/api/v1/me/cards", headers=auth(tok["token"])).get_json()
    assert cards == [{"number": p.card_number[:4] + " **** **** " + p.card_number[-4:],
                      "status": "active", "issued_on": cards[0]["issued_on"]}]


def test_errors_are_json_with_code_and_message(app, world, client):
    bad = client.post("/api/v1/auth/token",
                      json={"identifier": world.people["m1"].card_number, "password": "x"})
    unknown = client.post("/api/v1/auth/token",
                          json={"identifier": "nobody", "password": "x"})
    assert bad.status_code == unknown.status_code == 401
    assert bad.get_json() == unknown.get_json() == {
        "error": {"code": "bad_credentials", "message": "账号或密码错误"}}
    assert client.get("/api/v1/me").get_json()["error"]["code"] == "unauthorized"
    invalid = client.post("/api/v1/auth/token", json={"identifier": "", "password": 3})
    assert invalid.status_code == 422
    assert set(invalid.get_json()["error"]["fields"]) == {"identifier", "password"}
    assert client.post("/api/v1/auth/token", data="not json").status_code == 400
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_nul_characters_are_refused_before_the_database(app, world, client):
    """PostgreSQL text cannot hold NUL: the API refuses it with the field named (422 in a
    body, 400 in the query string) instead of failing in the database."""
    r = client.post("/api/v1/auth/token",
                    json={"identifier": "1\x00", "password": "x", "device": "a"})
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {"identifier": "不能包含空字符（NUL）"}
    tok = token_for(client, world.people["m1"].card_number)["token"]
    r = client.get("/api/v1/me/notifications?page=1&q=%00", headers=auth(tok))
    assert r.status_code == 400
    assert r.get_json()["error"]["fields"] == {"q": "不能包含空字符（NUL）"}


def test_lockout_answers_429(app, world, client):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/api/v1/auth/token", json={"identifier": "admin", "password": "nope"})
    r = client.post("/api/v1/auth/token", json={"identifier": "admin", "password": PASSWORD})
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "locked"


def test_cookie_session_does_not_authenticate_the_api(app, world, client):
    login(client, world.people["m1"].card_number)
    assert client.get("/me").status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_devices_listed_and_revoked(app, world, client):
    p = world.people["m1"]
    phone = token_for(client, p.card_number, device="手机")["token"]
    tablet = token_for(client, p.card_number, device="平板")
    devices = client.get("/api/v1/me/devices", headers=auth(phone)).get_json()
    assert [d["device"] for d in devices] == ["平板", "手机"]
    assert [d["current"] for d in devices] == [False, True]
    r = client.delete(f"/api/v1/me/devices/{tablet['token_id']}", headers=auth(phone))
    assert r.status_code == 204
    assert client.get("/api/v1/me", headers=auth(tablet["token"])).status_code == 401
    other = token_for(client, world.people["m2"].card_number)["token"]
    assert client.delete(f"/api/v1/me/devices/{tablet['token_id']}",
                         headers=auth(other)).status_code == 404
    assert client.delete("/api/v1/auth/token", headers=auth(phone)).status_code == 204
    assert client.get("/api/v1/me", headers=auth(phone)).status_code == 401


def test_tokens_stored_hashed_and_expire(app, world, client):
    tok = token_for(client, "admin")
    with app.app_context():
        dump = str(db.session().execute(text("SELECT * FROM api_token")).all())
        assert tok["token"] not in dump
        db.session().execute(update(ApiToken).values(expires_at=utcnow() - timedelta(1)))
        db.session().commit()
    assert client.get("/api/v1/me/devices", headers=auth(tok["token"])).status_code == 401


def test_password_change_required_refuses_a_token(app, world, client):
    from unionhub.identity.models import Account

    with app.app_context():
        db.session().get(Account, world.officers["clerk"]).must_change_password = True
        db.session().commit()
    r = client.post("/api/v1/auth/token", json={"identifier": "clerk", "password": PASSWORD})
    assert r.status_code == 403


def test_openapi_document_covers_core_and_plugin_endpoints(make_app, world):
    make_app.set_plugin("sample", True)
    app = make_app()
    client = app.test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/auth/token", "/api/v1/me", "/api/v1/me/devices/{token_id}",
            "/api/v1/sample/ping", "/api/v1/sample/notes"} <= set(spec["paths"])
    notes = spec["paths"]["/api/v1/sample/notes"]["get"]
    assert {p["name"] for p in notes["parameters"]} == {"page", "per_page"}
    assert notes["security"] == [{"bearer": []}]
    assert "ProfileOut" in spec["components"]["schemas"]
    assert "/api/v1/openapi.json" not in spec["paths"]
    assert "/api/v1/sample/ping" in client.get("/api/v1/docs").get_data(as_text=True)
    # uniform pagination on a plugin endpoint
    tok = token_for(client, world.people["m1"].card_number)["token"]
    page = client.get("/api/v1/sample/notes?per_page=5", headers=auth(tok)).get_json()
    assert page == {"items": [], "page": 1, "per_page": 5, "total": 0}
    bad = client.get("/api/v1/sample/notes?per_page=500", headers=auth(tok))
    assert bad.status_code == 400 and "per_page" in bad.get_json()["error"]["fields"]


def test_disabled_plugin_endpoints_absent_from_document(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert not any(p.startswith("/api/v1/sample") for p in spec["paths"])


def test_my_notifications_read_and_unread(app, world, client):
    from unionhub.notify import service as notify

    p = world.people["m1"]
    with app.app_context():
        s = db.session()
        for i in range(3):
            notify.send(s, "core.notice", [p.member_id, world.people["m2"].member_id],
                        {"title": f"通知{i}", "body": "内容"}, f"api-{i}")
        s.commit()
    tok = token_for(client, p.card_number)["token"]
    h = auth(tok)
    assert client.get("/api/v1/me/notifications/unread", headers=h).get_json() == {"unread": 3}
    page = client.get("/api/v1/me/notifications?per_page=2", headers=h).get_json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert [n["title"] for n in page["items"]] == ["通知2", "通知1"]
    first = page["items"][0]["id"]
    assert client.post(f"/api/v1/me/notifications/{first}/read", headers=h).status_code == 204
    unread = client.get("/api/v1/me/notifications?unread=1", headers=h).get_json()
    assert unread["total"] == 2 and first not in [n["id"] for n in unread["items"]]
    other = token_for(client, world.people["m2"].card_number)["token"]
    assert client.post(f"/api/v1/me/notifications/{first}/read",
                       headers=auth(other)).status_code == 404
    assert client.post("/api/v1/me/notifications/read-all", headers=h).get_json() == {
        "unread": 0}
    assert client.get("/api/v1/me/notifications?unread=2", headers=h).status_code == 400


def test_two_api_models_of_one_name_are_refused():
    """Components are named by class: two plugins' different ``CategoryOut`` must not silently
    share one schema in the OpenAPI document (the same model used twice is fine)."""
    from pydantic import BaseModel

    from unionhub.api.openapi import _schema

    class CategoryOut(BaseModel):
        code: str

    first = CategoryOut

    class CategoryOut(BaseModel):  # another plugin's model of the same name
        id: int

    components: dict = {}
    assert _schema(first, components) == _schema(first, components)
    with pytest.raises(ValueError, match="CategoryOut"):
        _schema(CategoryOut, components)
