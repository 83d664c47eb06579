"""Bookings on the web and the API: the member's form and list, the merchant's page (only its
own bookings, pending first, phone usable), confirm / cancel / complete, and the app API."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.benefits_mall.conftest import Mall
from tests.helpers import PASSWORD, beijing_today, login, post_form
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
    data = {"service_date": (beijing_today() + timedelta(days=2)).isoformat(),
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
    # the contact phone is typed by the member: the registered mobile is not on the form
    assert mall.world.people["m1"].mobile not in page
    assert re.search(r'<input[^>]*name="contact_phone"[^>]*value=""[^>]*required', page)
    r = _book(mall, client)
    assert r.status_code == 302 and r.headers["Location"].endswith("/benefits_mall/my/bookings")
    booking = _booking(mall)
    assert booking.state == "pending" and booking.store_id == mall.store_ids[1]
    mine = client.get("/benefits_mall/my/bookings").get_data(as_text=True)
    assert booking.number in mine and "待确认" in mine and "取消预约" in mine
    assert _issued(mall) == 1


def test_form_errors_name_the_field(mall: Mall) -> None:
    client = _client(mall, "m1")
    r = _book(mall, client, service_date=(beijing_today() - timedelta(days=1)).isoformat())
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
    # a clerk sees the contact phone masked, with no number to call
    assert "138****8000" in html and "13800138000" not in html and "tel:" not in html
    assert "张*" in html and "张伟" not in html  # the member's name is masked for the merchant
    manager = _client(mall, "shop_manager").get("/benefits_mall/merchant/bookings")
    managed = manager.get_data(as_text=True)
    assert '<a href="tel:13800138000">138****8000</a>' in managed
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
    _book(mall, member, service_date=beijing_today().isoformat())
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
    day = (beijing_today() + timedelta(days=5)).isoformat()
    url = f"/api/v1/benefits_mall/offers/{mall.service_offer_id}/bookings"
    base = {"service_date": day, "store_id": mall.store_ids[0], "people": 2}
    # the contact phone is required: never silently the registered mobile
    r = client.post(url, json=base, headers=auth)
    assert r.status_code == 422 and "contact_phone" in r.get_json()["error"]["fields"]
    r = client.post(url, json={**base, "contact_phone": ""}, headers=auth)
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"]["contact_phone"].startswith("联系电话")
    assert _issued(mall) == 0
    r = client.post(url, json={**base, "contact_phone": "0571-88886666"}, headers=auth)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["state"] == "pending" and body["contact_phone"] == "0571-88886666"
    assert body["channel_id"] is None
    assert re.fullmatch(r"YY\d{16}", body["number"])
    r = client.post(url, json={"service_date": day, "store_id": 424242,
                               "contact_phone": "13912345678"}, headers=auth)
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


def _target(mall: Mall, offer_id: int, org: str) -> None:
    from unionhub_benefits_mall.models import BenefitsMallAudience

    with mall.app.app_context():
        s = db.session()
        o = mall.world.orgs[org]
        s.add(BenefitsMallAudience(owner_kind="offer", owner_id=offer_id, org_id=o.id,
                                   org_path=o.path))
        s.commit()


def test_targeted_service_is_not_bookable_outside_its_audience(mall: Mall) -> None:
    _target(mall, mall.service_offer_id, "d1")
    url = f"/benefits_mall/offers/{mall.service_offer_id}/book"
    outsider = _client(mall, "m2")  # g2 under d2
    assert outsider.get(url).status_code == 404
    r = post_form(outsider, url, _form(mall), form_url="/benefits_mall/my/bookings")
    assert r.status_code == 404
    api = mall.app.test_client()
    auth = _bearer(api, mall.world.people["m2"].mobile)
    r = api.post(f"/api/v1/benefits_mall/offers/{mall.service_offer_id}/bookings",
                 json={"service_date": (beijing_today() + timedelta(days=2)).isoformat(),
                       "store_id": mall.store_ids[0], "contact_phone": "13912345678"},
                 headers=auth)
    assert r.status_code == 404
    assert _issued(mall) == 0
    insider = _client(mall, "m1")
    assert insider.get(url).status_code == 200
    assert _book(mall, insider).status_code == 302 and _issued(mall) == 1


def test_contact_phone_is_required_on_the_form(mall: Mall) -> None:
    client = _client(mall, "m1")
    r = _book(mall, client, contact_phone="")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "联系电话：请填写联系电话" in html and mall.world.people["m1"].mobile not in html
    assert _issued(mall) == 0
    assert _book(mall, client, contact_phone="010-6666 8888").status_code == 302
    assert _booking(mall).contact_phone == "010-66668888"


def _channel(mall: Mall, **kw: Any) -> int:
    from unionhub_benefits_mall.models import BenefitsMallChannel, BenefitsMallChannelOffer

    with mall.app.app_context():
        s = db.session()
        city = mall.world.orgs["city"]
        values: dict[str, Any] = dict(
            name="职工健康月", org_id=city.id, org_path=city.path,
            valid_from=beijing_today() - timedelta(days=1),
            valid_until=beijing_today() + timedelta(days=30), total_quota=10, per_member_quota=1,
            per_member_period="month", requires_jingka=False)
        values.update(kw)
        channel = BenefitsMallChannel(**values)
        s.add(channel)
        s.flush()
        s.add(BenefitsMallChannelOffer(channel_id=channel.id, offer_id=mall.service_offer_id))
        s.commit()
        return channel.id


def test_booking_through_a_channel_from_the_offer_page(mall: Mall) -> None:
    from unionhub_benefits_mall.models import BenefitsMallChannel

    channel_id = _channel(mall)
    client = _client(mall, "m1")
    offer_page = client.get(f"/benefits_mall/offers/{mall.service_offer_id}?channel={channel_id}")
    book_url = f"/benefits_mall/offers/{mall.service_offer_id}/book?channel={channel_id}"
    assert f'href="{book_url}"' in offer_page.get_data(as_text=True).replace("&amp;", "&")
    page = client.get(book_url).get_data(as_text=True)
    assert "职工健康月" in page
    assert f'<input type="hidden" name="channel_id" value="{channel_id}">' in page
    r = post_form(client, book_url, _form(mall, channel_id=str(channel_id)))
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    assert _booking(mall).channel_id == channel_id
    r = post_form(client, book_url, _form(mall, channel_id=str(channel_id)))
    assert r.status_code == 422
    assert "您在该优惠通道的预约次数已用完" in r.get_data(as_text=True)
    with mall.app.app_context():
        channel = db.session().get(BenefitsMallChannel, channel_id)
        assert channel is not None and channel.issued == 1
    assert _issued(mall) == 1
    # a channel that does not bundle the offer, or does not exist, is refused on the page
    page = client.get(f"/benefits_mall/offers/{mall.service_offer_id}/book?channel=98765")
    assert page.status_code == 200 and "没有这个优惠通道" in page.get_data(as_text=True)
    assert 'name="contact_phone"' not in page.get_data(as_text=True)
    # the API books through the channel too (m2 has their own quota)
    api = mall.app.test_client()
    auth = _bearer(api, mall.world.people["m2"].mobile)
    r = api.post(f"/api/v1/benefits_mall/offers/{mall.service_offer_id}/bookings",
                 json={"service_date": (beijing_today() + timedelta(days=2)).isoformat(),
                       "store_id": mall.store_ids[0], "contact_phone": "13912345678",
                       "channel_id": channel_id}, headers=auth)
    assert r.status_code == 201 and r.get_json()["channel_id"] == channel_id
    r = api.post(f"/api/v1/benefits_mall/offers/{mall.service_offer_id}/bookings",
                 json={"service_date": (beijing_today() + timedelta(days=2)).isoformat(),
                       "store_id": mall.store_ids[0], "contact_phone": "13912345678",
                       "channel_id": channel_id}, headers=auth)
    assert r.status_code == 422 and "优惠通道" in r.get_json()["error"]["message"]


def test_offer_page_offers_booking_when_this_months_limit_is_used(mall: Mall) -> None:
    """The service allows 2 a month per service date: with this month used up, next month
    is still bookable, so the offer page keeps its 预约 link (coupons stay gated)."""
    client = _client(mall, "m1")
    today = beijing_today().isoformat()
    assert _book(mall, client, service_date=today).status_code == 302
    assert _book(mall, client, service_date=today).status_code == 302
    html = client.get(f"/benefits_mall/offers/{mall.service_offer_id}").get_data(as_text=True)
    start = html.index('id="claim"')
    claim = html[start:html.index("</section>", start)]
    assert f'href="/benefits_mall/offers/{mall.service_offer_id}/book"' in claim
    assert "您已达到本期领取上限" not in claim and "本期已用 2 次" in html
    api = mall.app.test_client()
    auth = _bearer(api, mall.world.people["m1"].mobile)
    detail = api.get(f"/api/v1/benefits_mall/offers/{mall.service_offer_id}",
                     headers=auth).get_json()
    assert detail["eligible"] is True and detail["used"] == 2 and detail["action"] == "book"
    # a coupon whose limit is used is still refused on its page
    r = post_form(client, f"/benefits_mall/offers/{mall.coupon_offer_id}/claim", {},
                  form_url=f"/benefits_mall/offers/{mall.coupon_offer_id}")
    assert r.status_code == 302
    coupon = client.get(f"/benefits_mall/offers/{mall.coupon_offer_id}").get_data(as_text=True)
    assert "您已达到本期领取上限" in coupon
    detail = api.get(f"/api/v1/benefits_mall/offers/{mall.coupon_offer_id}",
                     headers=auth).get_json()
    assert detail["eligible"] is False and detail["refusal"] == "您已达到本期领取上限"


def _many_bookings(mall: Mall, n: int) -> list[str]:
    """``n`` bookings of m1 inserted directly (more than the offer's stock and limit allow:
    only the listings are under test here)."""
    from unionhub.db import utcnow
    from unionhub_benefits_mall.models import BenefitsMallBooking as B

    with mall.app.app_context():
        s = db.session()
        now = utcnow()
        member_id = mall.world.people["m1"].member_id
        org_path = mall.world.orgs["g1"].path
        numbers = [f"YY20990101{i:08d}" for i in range(n)]
        s.add_all([B(number=num, offer_id=mall.service_offer_id, merchant_id=mall.merchant_id,
                     store_id=mall.store_ids[0], member_id=member_id, org_path=org_path,
                     service_date=beijing_today() + timedelta(days=3), people=1,
                     contact_phone="13912345678", note="", state="pending", created_at=now,
                     hold_until=now + timedelta(hours=1)) for num in numbers])
        s.commit()
    return numbers


def test_booking_lists_are_paginated(mall: Mall) -> None:
    numbers = _many_bookings(mall, 25)
    member = _client(mall, "m1")
    first = member.get("/benefits_mall/my/bookings").get_data(as_text=True)
    second = member.get("/benefits_mall/my/bookings?page=2").get_data(as_text=True)
    for html, shown in ((first, 20), (second, 5)):
        assert sum(num in html for num in numbers) == shown
        assert "1 / 2" in html or "2 / 2" in html
    assert numbers[-1] in first and numbers[0] in second  # newest first
    clerk = _client(mall, "shop_clerk")
    first = clerk.get("/benefits_mall/merchant/bookings").get_data(as_text=True)
    second = clerk.get("/benefits_mall/merchant/bookings?page=2").get_data(as_text=True)
    assert sum(num in first for num in numbers) == 20
    assert sum(num in second for num in numbers) == 5
    assert "1 / 2" in first and "page=2" in first and "2 / 2" in second
    # an action on page 2 comes back to page 2
    from unionhub_benefits_mall.models import BenefitsMallBooking as B

    with mall.app.app_context():
        target = db.session().scalar(select(B.id).where(B.number == numbers[24]))
    assert f"/benefits_mall/merchant/bookings/{target}/confirm?tab=open&amp;page=2" in second
    r = post_form(clerk, f"/benefits_mall/merchant/bookings/{target}/confirm?tab=open&page=2",
                  {}, form_url="/benefits_mall/merchant/bookings?page=2")
    assert r.status_code == 302 and r.headers["Location"].endswith("tab=open&page=2")
