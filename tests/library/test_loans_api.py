"""Loans on the app API: borrow, my loans and holds with the place in the queue, return (the
next reader's copy reserved), renew refused early, cancel a hold, history, refusals as 409
with the reason, other readers' loans as 404, the file download, and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tests.helpers import PASSWORD
from tests.library.conftest import Library
from tests.library.test_loans_service import check_copies, lent_book
from tests.library.test_loans_web import add_file, grant
from unionhub import db
from unionhub.audit.models import AuditLog

API = "/api/v1/library"


def api_client(lib: Library, key: str) -> Any:
    client = lib.app.test_client()
    r = client.post("/api/v1/auth/token", json={"identifier": lib.world.people[key].mobile,
                                                "password": PASSWORD, "device": "t"})
    assert r.status_code == 201, r.get_json()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {r.get_json()['token']}"
    return client


def test_borrow_hold_return_and_history(library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=1, title="活着")
    m1, m2 = api_client(library, "m1"), api_client(library, "m2")

    r = m1.post(f"{API}/loans", json={"book_id": bid})
    assert r.status_code == 201, r.get_json()
    loan = r.get_json()
    assert loan["title"] == "活着" and loan["state"] == "active"
    assert loan["state_label"] == "借阅中"

    r = m1.post(f"{API}/loans", json={"book_id": bid})
    assert r.status_code == 409 and "已借阅" in r.get_json()["error"]["message"]
    r = m2.post(f"{API}/loans", json={"book_id": bid})
    assert r.status_code == 409 and "排队预约" in r.get_json()["error"]["message"]

    r = m2.post(f"{API}/holds", json={"book_id": bid})
    assert r.status_code == 201
    hold = r.get_json()
    assert hold["place"] == 1 and hold["state"] == "waiting" and hold["expires_at"] is None
    mine = m2.get(f"{API}/loans").get_json()
    assert mine["loans"] == [] and [h["id"] for h in mine["holds"]] == [hold["id"]]
    assert mine["limit"] == 5

    # Another reader's loan is not found; renewing two weeks early is refused.
    assert m2.post(f"{API}/loans/{loan['id']}/return").status_code == 404
    r = m1.post(f"{API}/loans/{loan['id']}/renew")
    assert r.status_code == 409 and "3 天内" in r.get_json()["error"]["message"]

    r = m1.post(f"{API}/loans/{loan['id']}/return")
    assert r.status_code == 200 and r.get_json()["state"] == "returned"
    assert m1.post(f"{API}/loans/{loan['id']}/return").status_code == 409
    mine = m2.get(f"{API}/loans").get_json()
    assert mine["holds"][0]["state"] == "notified" and mine["holds"][0]["place"] == 0
    assert mine["holds"][0]["expires_at"] is not None

    history = m1.get(f"{API}/loans/history").get_json()
    assert history["total"] == 1 and history["items"][0]["state_label"] == "已归还"

    r = m2.post(f"{API}/loans", json={"book_id": bid})
    assert r.status_code == 201
    with library.app.app_context():
        assert check_copies(bid) == 1


def test_cancel_hold_and_bad_input(library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=1)
    m1, m2 = api_client(library, "m1"), api_client(library, "m2")
    assert m1.post(f"{API}/loans", json={"book_id": bid}).status_code == 201
    hold = m2.post(f"{API}/holds", json={"book_id": bid}).get_json()
    assert m1.delete(f"{API}/holds/{hold['id']}").status_code == 404
    assert m2.delete(f"{API}/holds/{hold['id']}").status_code == 204
    assert m2.delete(f"{API}/holds/{hold['id']}").status_code == 409
    assert m2.get(f"{API}/loans").get_json()["holds"] == []
    assert m2.post(f"{API}/loans", json={"book_id": 999999}).status_code == 404
    r = m2.post(f"{API}/loans", json={"book_id": "x"})
    assert r.status_code == 422 and "book_id" in r.get_json()["error"]["fields"]
    assert library.app.test_client().get(f"{API}/loans").status_code == 401


def test_download_through_the_api(library: Library) -> None:
    with library.app.app_context():
        bid = lent_book(library, copies=1, title="围城")
        add_file(bid, "txt", "围城全文".encode())
    m1 = api_client(library, "m1")
    url = f"{API}/books/{bid}/download/txt"
    r = m1.get(url)
    assert r.status_code == 403 and "权限" in r.get_json()["error"]["message"]
    with library.app.app_context():
        grant(library, "m1")
    r = m1.get(url)
    assert r.status_code == 403 and "借阅" in r.get_json()["error"]["message"]
    assert m1.post(f"{API}/loans", json={"book_id": bid}).status_code == 201
    r = m1.get(url)
    assert r.status_code == 200 and r.data == "围城全文".encode()
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in r.headers["Content-Disposition"]
    assert m1.get(f"{API}/books/{bid}/download/epub").status_code == 404
    with library.app.app_context():
        entry = db.session().scalar(select(AuditLog).where(
            AuditLog.action == "library.book.download"))
        assert entry is not None and entry.details["channel"] == "app"
        assert db.session().scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "library.book.download")) == 1


def test_openapi_documents_the_loan_endpoints(library: Library) -> None:
    doc = library.app.test_client().get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    assert {"get", "post"} <= set(paths[f"{API}/loans"])
    assert "post" in paths[f"{API}/loans/{{loan_id}}/return"]
    assert "post" in paths[f"{API}/loans/{{loan_id}}/renew"]
    assert "post" in paths[f"{API}/holds"]
    assert "delete" in paths[f"{API}/holds/{{hold_id}}"]
    assert "get" in paths[f"{API}/loans/history"]
    download = paths[f"{API}/books/{{book_id}}/download/{{fmt}}"]["get"]
    assert "application/octet-stream" in download["responses"]["200"]["content"]
    assert {"LibraryMyLoansOut", "LibraryLoanOut", "LibraryHoldOut",
            "LibraryLoanBookIn"} <= set(doc["components"]["schemas"])
