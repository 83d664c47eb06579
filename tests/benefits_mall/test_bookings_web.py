"""Bookings on the web and the API: the member's form and list, the merchant's page (only its
own bookings, pending first, phone usable), confirm / cancel / complete, and the app API."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from tests.benefits_mall.conftest import Mall
from tests.helpers import PASSWORD, login, post_form
from unionhub import db


def _client(mall: Mall, who: str) -> Any:
    client = mall.app.test_client()
    ident = mall.world.people[who].mobile if who in mall.world.people else who
    r = login(client, ident)
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return client


def _booking(mall: Mall, number: str | None = None) -> Any:
    from unionhub_benefits_mall.models import BenefitsMallBooking as B

    with mall.app.app_context():
        stmt = select(B).order_by(B.id.desc())
        if number:
            stmt = stmt.where(B.number == number)
        return db.session().scalar(stmt)


def _issued(mall: Mall) -> int:
    from unionhub_benefits_mall.models import BenefitsMallOffer

    with mall.app.app_context():
        return int(db.session().scalar(select(BenefitsMallOffer.issued).where(
            BenefitsMallOffer.id == mall.service_offer_id)) or 0)


def _form(mall: Mall, **kw: Any) -> dict[str, Any]:
    data = {"service_date": (date.today() + timedelta(days=2)).isoformat(),
            "store_id": str(mall.store_ids[1]), "people": "1",
            "contact_phone": "13800138000", "note": "需要停车位"}
    data.update(kw)
    return data


def _book(mall: Mall, client: Any, **kw: Any) -> Any:
    url = f"/benefits_mall/offers/{mall.service_offer_id}/book"
    return post_form(client, url, _form(mall, **kw))


def test_member_books_and_sees_the_booking(mall: Mall) -> None:
    client = _client(mall, "m1")
    url = f"/benefits_mall/offers/{mall.service_offer_id}/book"
    page = client.get(url).get_data(as_text=True)
    assert "中医理疗专属服务" in page and "朝阳店" in page and "海淀店" in page
    assert mall.world.people["m1"].mobile in page  # the phone is prefilled
    r = _book(mall, client)
    assert r.status_code == 302 and r.headers["Location"].endswith("/benefits_mall/my/bookings")
    booking = _booking(mall)
    assert booking.state == "pending" and booking.store_id == mall.store_ids[1]
    mine = client.get("/benefits_mall/my/bookings").get_data(as_text=True)
    assert booking.number in mine and "待确认" in mine and "取消预约" in mine
    assert _issued(mall) == 1


def test_form_errors_name_the_field(mall: Mall) -> None:
    client = _client(mall, "m1")
    r = _book(mall, client, service_date=(date.today() - timedelta(days=1)).isoformat())
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "服务日期：不能早于今天" in html and "需要停车位" in html  # input kept
    r = _book(mall, client, contact_phone="abc")
    assert r.status_code == 422 and "联系电话" in r.get_data(as_text=True)
    assert _issued(mall) == 0


def test_coupon_offer_and_officer_cannot_book(mall: Mall) -> None:
    client = _client(mall, "m1")
    assert client.get(f"/benefits_mall/offers/{mall.coupon_offer_id}/book").status_code == 404
    officer = _client(mall, "city")
    assert officer.get(f"/benefits_mall/offers/{mall.service_offer_id}/book").status_code in (
        403, 404)


def test_unapproved_offer_is_not_shown(mall: Mall) -> None:
    from unionhub_benefits_mall.models import BenefitsMallOffer

    with mall.app.app_context():
        s = db.session()
        offer = s.get(BenefitsMallOffer, mall.service_offer_id)
        assert offer is not None
        offer.status = "proposed"
        s.commit()
    client = _client(mall, "m1")
    assert client.get(f"/benefits_mall/offers/{mall.service_offer_id}/book").status_code == 404
    assert _book(mall, client).status_code in (400, 404)
    assert _issued(mall) == 0


def test_member_cancels(mall: Mall) -> None:
    client = _client(mall, "m1")
    _book(mall, client)
    booking = _booking(mall)
    r = post_form(client, f"/benefits_mall/my/bookings/{booking.id}/cancel", {},
                  form_url="/benefits_mall/my/bookings")
    assert r.status_code == 302
    assert _booking(mall).state == "cancelled" and _issued(mall) == 0
    other = _client(mall, "m2")
    r = post_form(other, f"/benefits_mall/my/bookings/{booking.id}/cancel", {},
                  form_url="/benefits_mall/my/bookings")
    assert r.status_code == 404


def test_merchant_page_lists_only_its_bookings_pending_first(mall: Mall) -> None:
    member = _client(mall, "m1")
    _book(mall, member)
    first = _booking(mall)
    _book(mall, member)
    second = _booking(mall)
    clerk = _client(mall, "shop_clerk")
    r = post_form(clerk, f"/benefits_mall/merchant/bookings/{first.id}/confirm", {},
                  form_url="/benefits_mall/merchant/bookings")
    assert r.status_code == 302
    html = clerk.get("/benefits_mall/merchant/bookings").get_data(as_text=True)
    listing = html[html.index('class="cards"'):]
    assert listing.index(second.number) < listing.index(first.number)  # pending first
    assert "剩余 60 分钟确认" in html or "剩余 59 分钟确认" in html
    assert 'href="tel:13800138000"' in html
    assert "张*" in html and "张伟" not in html  # the member's name is masked for the merchant
    other = _client(mall, "other_clerk")
    assert second.number not in other.get("/benefits_mall/merchant/bookings").get_data(
        as_text=True)
    r = post_form(other, f"/benefits_mall/merchant/bookings/{second.id}/confirm", {},
                  form_url="/benefits_mall/merchant/bookings")
    assert r.status_code == 404
    assert _booking(mall, second.number).state == "pending"
    assert member.get("/benefits_mall/merchant/bookings").status_code == 403


def test_merchant_cancel_needs_a_reason_and_completes(mall: Mall) -> None:
    member = _client(mall, "m1")
    _book(mall, member, service_date=date.today().isoformat())
    booking = _booking(mall)
    manager = _client(mall, "shop_manager")
    page = "/benefits_mall/merchant/bookings"
    r = post_form(manager, f"{page}/{booking.id}/cancel", {"reason": ""}, form_url=page)
    assert r.status_code == 302
    assert "请填写取消原因" in manager.get(page).get_data(as_text=True)
    assert _booking(mall).state == "pending"
    post_form(manager, f"{page}/{booking.id}/confirm", {}, form_url=page)
    r = post_form(manager, f"{page}/{booking.id}/complete", {}, form_url=page)
    assert r.status_code == 302 and _booking(mall).state == "completed"
    html = manager.get(f"{page}?tab=completed").get_data(as_text=True)
    assert booking.number in html
    _book(mall, member)
    other = _booking(mall)
    post_form(manager, f"{page}/{other.id}/cancel", {"reason": "设备检修"}, form_url=page)
    assert _booking(mall, other.number).state == "cancelled"
    assert "设备检修" in member.get("/benefits_mall/my/bookings").get_data(as_text=True)


def _bearer(client: Any, identifier: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token",
                    json={"identifier": identifier, "password": PASSWORD, "device": "test"})
    assert r.status_code == 201, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def test_api_book_list_cancel(mall: Mall) -> None:
    client = mall.app.test_client()
    auth = _bearer(client, mall.world.people["m2"].mobile)
    day = (date.today() + timedelta(days=5)).isoformat()
    r = client.post(f"/api/v1/benefits_mall/offers/{mall.service_offer_id}/bookings",
                    json={"service_date": day, "store_id": mall.store_ids[0], "people": 2},
                    headers=auth)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["state"] == "pending" and body["contact_phone"] == mall.world.people["m2"].mobile
    assert re.fullmatch(r"YY\d{16}", body["number"])
    r = client.post(f"/api/v1/benefits_mall/offers/{mall.service_offer_id}/bookings",
                    json={"service_date": day, "store_id": 424242}, headers=auth)
    assert r.status_code == 422 and "store_id" in r.get_json()["error"]["fields"]
    listed = client.get("/api/v1/benefits_mall/bookings", headers=auth).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == body["id"]
    r = client.post(f"/api/v1/benefits_mall/bookings/{body['id']}/cancel", json={},
                    headers=auth)
    assert r.status_code == 200 and r.get_json()["state"] == "cancelled"
    r = client.post(f"/api/v1/benefits_mall/bookings/{body['id']}/cancel", json={},
                    headers=auth)
    assert r.status_code == 409
    other = _bearer(client, mall.world.people["m1"].mobile)
    r = client.post(f"/api/v1/benefits_mall/bookings/{body['id']}/cancel", json={},
                    headers=other)
    assert r.status_code == 404
    assert _issued(mall) == 0
