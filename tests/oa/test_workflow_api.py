"""Approvals on the app API: the inbox (counts and rows, bad tabs refused), a request with its
steps, trail and the caller's actions, and acting on it — approve to the end, reject needing an
opinion (422), a stale lock (409, nothing changed), requests of another district (404), members
(403), and the operations in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.helpers import PASSWORD
from tests.oa.conftest import OA, make_workflow
from tests.oa.test_workflow_views import CITY, DISTRICT, FIELDS, client_of, start, state
from unionhub import db
from unionhub_oa.workflow.models import OaAction

API = "/api/v1/oa"


def api_client(oa: OA, identifier: str) -> FlaskClient:
    client = oa.app.test_client()
    r = client.post("/api/v1/auth/token", json={"identifier": identifier,
                                                "password": PASSWORD, "device": "t"})
    assert r.status_code == 201, r.get_json()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {r.get_json()['token']}"
    return client


def actions(oa: OA, request_id: int) -> list[str]:
    with oa.app.app_context():
        return list(db.session().scalars(select(OaAction.action).where(
            OaAction.request_id == request_id).order_by(OaAction.id)))


def started(oa: OA, steps: list[dict[str, Any]]) -> int:
    with oa.app.app_context():
        make_workflow("expense", "oa.general", steps, FIELDS, name="费用报销")
    return start(client_of(oa, "g1officer"), oa)


def test_inbox_and_approval_to_the_end(oa: OA) -> None:
    rid = started(oa, [DISTRICT, CITY])
    cy = api_client(oa, "chaoyang")
    r = cy.get(f"{API}/inbox")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["tab"] == "todo" and body["counts"]["todo"] == 1 and body["total"] == 1
    row = body["items"][0]
    assert row["id"] == rid and row["title"] == "购买办公用品"
    assert row["workflow"] == "费用报销" and row["org"] == "电控工会"
    assert row["step"] == "区工会审核" and row["state"] == "running"
    assert row["state_label"] == "审批中" and row["task_state"] == "pending"

    r = cy.get(f"{API}/requests/{rid}")
    assert r.status_code == 200
    detail = r.get_json()
    assert {"approve", "reject", "comment"} <= set(detail["available"]["actions"])
    assert detail["available"]["task_id"]
    assert [s["state"] for s in detail["steps"]] == ["active", "todo"]
    assert {"label": "金额（元）", "value": "1200.50"} in detail["fields"]
    assert detail["initiator"] == "g1officer" and detail["org"] == "电控工会"
    assert [t["action"] for t in detail["trail"]][:1] == ["start"]

    r = cy.post(f"{API}/requests/{rid}/actions",
                json={"action": "approve", "opinion": "同意", "lock": detail["lock"]})
    assert r.status_code == 200, r.get_json()
    after = r.get_json()
    assert after["state"] == "running" and after["steps"][0]["state"] == "done"
    assert after["available"]["actions"] == ["comment"]
    assert after["lock"] != detail["lock"]

    city = api_client(oa, "city")
    lock = city.get(f"{API}/requests/{rid}").get_json()["lock"]
    r = city.post(f"{API}/requests/{rid}/actions", json={"action": "approve", "lock": lock})
    assert r.status_code == 200 and r.get_json()["state"] == "approved"
    assert r.get_json()["state_label"] == "已通过"

    g1 = api_client(oa, "g1officer")
    mine = g1.get(f"{API}/inbox?tab=mine").get_json()
    assert [x["id"] for x in mine["items"]] == [rid] and mine["items"][0]["state"] == "approved"
    done = cy.get(f"{API}/inbox?tab=done&page=1").get_json()
    assert done["counts"]["todo"] == 0 and [x["id"] for x in done["items"]] == [rid]


def test_refusals(oa: OA) -> None:
    rid = started(oa, [DISTRICT])
    cy = api_client(oa, "chaoyang")
    lock = cy.get(f"{API}/requests/{rid}").get_json()["lock"]

    r = cy.post(f"{API}/requests/{rid}/actions", json={"action": "reject", "lock": lock})
    assert r.status_code == 422 and "不同意时请填写意见" in r.get_json()["error"]["message"]
    r = cy.post(f"{API}/requests/{rid}/actions",
                json={"action": "approve", "lock": lock + 3})
    assert r.status_code == 409 and "他人" in r.get_json()["error"]["message"]
    r = cy.post(f"{API}/requests/{rid}/actions", json={"action": "withdraw", "lock": lock})
    assert r.status_code == 422
    r = cy.post(f"{API}/requests/{rid}/actions",
                json={"action": "transfer", "lock": lock, "to": "nobody"})
    assert r.status_code == 422 and "nobody" in r.get_json()["error"]["message"]
    r = cy.post(f"{API}/requests/{rid}/actions", json={"action": "fly", "lock": lock})
    assert r.status_code == 422 and "action" in r.get_json()["error"]["fields"]
    r = cy.post(f"{API}/requests/{rid}/actions", json={"action": "approve"})
    assert r.status_code == 422 and "lock" in r.get_json()["error"]["fields"]
    assert state(oa, rid) == "running"
    assert "approve" not in actions(oa, rid) and "reject" not in actions(oa, rid)

    assert cy.get(f"{API}/inbox?tab=later").status_code == 400
    assert cy.get(f"{API}/inbox?page=0").status_code == 400
    assert cy.get(f"{API}/requests/0").status_code == 404

    hd = api_client(oa, "haidian")
    assert hd.get(f"{API}/requests/{rid}").status_code == 404
    r = hd.post(f"{API}/requests/{rid}/actions", json={"action": "approve", "lock": lock})
    assert r.status_code == 404
    assert hd.get(f"{API}/inbox").get_json()["counts"]["todo"] == 0

    member = api_client(oa, oa.world.people["m1"].mobile)
    assert member.get(f"{API}/inbox").status_code == 403
    assert member.get(f"{API}/requests/{rid}").status_code == 403
    assert oa.app.test_client().get(f"{API}/inbox").status_code == 401

    # The comment works and the initiator may withdraw while nobody acted.
    g1 = api_client(oa, "g1officer")
    r = g1.post(f"{API}/requests/{rid}/actions",
                json={"action": "comment", "opinion": "请尽快", "lock": lock})
    assert r.status_code == 200 and r.get_json()["trail"][-1]["opinion"] == "请尽快"
    r = g1.post(f"{API}/requests/{rid}/actions", json={"action": "withdraw", "lock": lock})
    assert r.status_code == 200 and r.get_json()["state"] == "withdrawn"
    with oa.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(OaAction).where(
            OaAction.request_id == rid, OaAction.action == "withdraw")) == 1


def test_openapi_lists_the_operations(oa: OA) -> None:
    doc = oa.app.test_client().get("/api/v1/openapi.json").get_json()
    assert "/api/v1/oa/inbox" in doc["paths"]
    assert "/api/v1/oa/requests/{request_id}" in doc["paths"]
    post = doc["paths"]["/api/v1/oa/requests/{request_id}/actions"]["post"]
    assert {"200", "409", "422"} <= set(post["responses"])
    assert "OaActionIn" in doc["components"]["schemas"]


def test_operations_fuzzed_with_an_officer(oa: OA) -> None:
    """Schema-generated requests from an officer with a request to act on get documented,
    well-formed answers (never a server error)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    started(oa, [DISTRICT, CITY])
    r = oa.app.test_client().post("/api/v1/auth/token",
                                  json={"identifier": "chaoyang", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {r.get_json()['token']}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", oa.app)
    schema.config.generation.allow_x00 = False
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path not in MINE:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.headers = {**(case.headers or {}), **headers}
            # a valid body may rightly be refused (no such task, stale lock, opinion needed)
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert sorted(checked) == ["GET /api/v1/oa/inbox", "GET /api/v1/oa/requests/{request_id}",
                               "POST /api/v1/oa/requests/{request_id}/actions"]


MINE = {f"{API}/inbox", f"{API}/requests/{{request_id}}", f"{API}/requests/{{request_id}}/actions"}
