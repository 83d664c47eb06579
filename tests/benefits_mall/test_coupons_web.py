"""Coupon pages and API: a member claims and sees the QR, the clerk redeems on the phone page
(a double submit redeems once, a second redemption is refused), undo, today's list, the
profile panel, and the app API for members and staff tokens."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select

from tests.benefits_mall.conftest import Mall
from tests.helpers import PASSWORD, csrf_token, login
from unionhub import db
from unionhub_benefits_mall.coupons import codes
from unionhub_benefits_mall.models import (
    BenefitsMallAudience,
    BenefitsMallCoupon,
    BenefitsMallCouponEvent,
    BenefitsMallOffer,
)

KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')
CODE_RE = re.compile(r'class="coupon-code mono">([^<]+)<')


def _claim_url(mall: Mall) -> str:
    return f"/benefits_mall/offers/{mall.coupon_offer_id}/claim"


def _flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as sess:
        return list(sess.get("_flashes", []))


def _member_claims(mall: Mall, client, person: str = "m1"):
    login(client, mall.world.people[person].card_number)
    token = csrf_token(client, "/benefits_mall/my/coupons")
    return client.post(_claim_url(mall), data={"csrf_token": token})


def _coupons() -> int:
    return int(db.session().scalar(select(func.count()).select_from(BenefitsMallCoupon)) or 0)


def test_member_claims_and_sees_the_qr(mall: Mall):
    client = mall.app.test_client()
    r = _member_claims(mall, client)
    assert r.status_code == 302
    m = re.fullmatch(r"/benefits_mall/my/coupons/(\d+)", r.headers["Location"])
    assert m, r.headers["Location"]
    page = client.get(r.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "coupon-qr" in html
    with mall.app.app_context():
        coupon = db.session().get(BenefitsMallCoupon, int(m.group(1)))
        assert coupon is not None
        assert codes.display(coupon.code) in html
    assert "朝阳店" in html and "海淀店" in html  # stores where it can be used
    assert "领取成功" in html
    listing = client.get("/benefits_mall/my/coupons").get_data(as_text=True)
    assert "职工体检套餐 8 折券" in listing
    assert "职工体检套餐 8 折券" not in client.get(
        "/benefits_mall/my/coupons?tab=used").get_data(as_text=True)
    me = client.get("/me").get_data(as_text=True)
    assert "我的券" in me and 'id="coupons-usable">1<' in me

    # a second claim is refused (one per member) and goes back to the offer page
    r = client.post(_claim_url(mall), data={"csrf_token": csrf_token(client, "/me")})
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/benefits_mall/offers/{mall.coupon_offer_id}")
    assert ("error", "该券每人限领 1 张，您已达到上限") in _flashes(client)

    # another member cannot open it
    other = mall.app.test_client()
    login(other, mall.world.people["m2"].card_number)
    assert other.get(f"/benefits_mall/my/coupons/{m.group(1)}").status_code == 404


def test_claim_needs_a_csrf_token(mall: Mall):
    client = mall.app.test_client()
    login(client, mall.world.people["m1"].card_number)
    r = client.post(_claim_url(mall), data={})
    assert r.status_code == 400
    with mall.app.app_context():
        assert _coupons() == 0


def test_direct_post_by_an_ineligible_member_is_refused(mall: Mall):
    with mall.app.app_context():
        s = db.session()
        d1 = mall.world.orgs["d1"]
        s.add(BenefitsMallAudience(owner_kind="offer", owner_id=mall.coupon_offer_id,
                                   org_id=d1.id, org_path=d1.path))
        s.commit()
    client = mall.app.test_client()
    r = _member_claims(mall, client, "m2")
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/benefits_mall/offers/{mall.coupon_offer_id}")
    assert ("error", "该优惠仅面向指定工会或会员群体") in _flashes(client)
    with mall.app.app_context():
        assert _coupons() == 0
        assert db.session().get(BenefitsMallOffer, mall.coupon_offer_id).issued == 0


def _redeem_page(client) -> tuple[str, str]:
    page = client.get("/benefits_mall/merchant/redeem")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    m = KEY_RE.search(html)
    assert m
    return html, m.group(1)


def test_clerk_redeems_once_and_a_second_redemption_is_refused(mall: Mall):
    member = mall.app.test_client()
    r = _member_claims(mall, member)
    code = CODE_RE.search(member.get(r.headers["Location"]).get_data(as_text=True)).group(1)

    clerk = mall.app.test_client()
    login(clerk, "shop_clerk")
    html, key = _redeem_page(clerk)
    assert "BarcodeDetector" in html and 'name="store_id"' in html and "朝阳店" in html
    token = csrf_token(clerk, "/benefits_mall/merchant/redeem")
    form = {"csrf_token": token, "code": code.lower().replace("-", " "),
            "store_id": str(mall.store_ids[1]), "idempotency_key": key}
    first = clerk.post("/benefits_mall/merchant/redeem", data=form)
    body = first.get_data(as_text=True)
    assert first.status_code == 200 and "核销成功" in body and "海淀店" in body
    assert "撤销核销" in body
    # the same form submitted again (double tap, network retry): one redemption
    again = clerk.post("/benefits_mall/merchant/redeem", data=form)
    assert again.status_code == 200 and "核销成功" in again.get_data(as_text=True)
    assert "重复提交" in again.get_data(as_text=True)
    # a new attempt (new page, new key) is refused with when and where
    _html, key2 = _redeem_page(clerk)
    refused = clerk.post("/benefits_mall/merchant/redeem", data={**form, "idempotency_key": key2})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "不能核销" in text and "该券已核销" in text
    assert "于海淀店" in text
    with mall.app.app_context():
        kinds = list(db.session().scalars(select(BenefitsMallCouponEvent.kind)))
        assert kinds.count("redeemed") == 1

    listing = clerk.get("/benefits_mall/merchant/redemptions").get_data(as_text=True)
    assert code in listing and 'id="count-redeemed">1<' in listing
    undo_key = KEY_RE.search(listing.split("<tbody>")[1]).group(1)
    r = clerk.post(f"/benefits_mall/merchant/redeem/{_coupon_id(mall)}/undo",
                   data={"csrf_token": token, "idempotency_key": undo_key, "back": "list"})
    assert r.status_code == 302
    listing = clerk.get("/benefits_mall/merchant/redemptions").get_data(as_text=True)
    assert 'id="count-undone">1<' in listing
    with mall.app.app_context():
        assert db.session().get(BenefitsMallCoupon, _coupon_id(mall)).state == "issued"

    other = mall.app.test_client()
    login(other, "other_clerk")
    _html, key3 = _redeem_page(other)
    r = other.post("/benefits_mall/merchant/redeem",
                   data={"csrf_token": csrf_token(other, "/benefits_mall/merchant/redeem"),
                         "code": code, "store_id": str(mall.store_ids[0]),
                         "idempotency_key": key3})
    assert r.status_code == 422 and "该券不属于本商户" in r.get_data(as_text=True)


def _coupon_id(mall: Mall) -> int:
    with mall.app.app_context():
        cid = db.session().scalar(select(BenefitsMallCoupon.id))
        assert cid is not None
        return cid


def test_merchant_pages_are_for_staff_only(mall: Mall):
    client = mall.app.test_client()
    login(client, mall.world.people["m1"].card_number)
    assert client.get("/benefits_mall/merchant/redeem").status_code == 403
    assert client.get("/benefits_mall/merchant/redemptions").status_code == 403
    officer = mall.app.test_client()
    login(officer, "city")
    assert officer.get("/benefits_mall/merchant/redeem").status_code == 403
    anonymous = mall.app.test_client()
    assert anonymous.get("/benefits_mall/merchant/redeem").status_code in (302, 401)


def test_member_gives_a_coupon_back(mall: Mall):
    client = mall.app.test_client()
    r = _member_claims(mall, client)
    url = r.headers["Location"]
    r = client.post(f"{url}/cancel", data={"csrf_token": csrf_token(client, url)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/benefits_mall/my/coupons")
    with mall.app.app_context():
        assert db.session().get(BenefitsMallOffer, mall.coupon_offer_id).issued == 0
    expired_tab = client.get("/benefits_mall/my/coupons?tab=expired").get_data(as_text=True)
    assert "职工体检套餐 8 折券" in expired_tab and "已退还" in expired_tab
    r = client.post(_claim_url(mall), data={"csrf_token": csrf_token(client, url)})
    assert re.fullmatch(r"/benefits_mall/my/coupons/\d+", r.headers["Location"])  # released


# --- API --------------------------------------------------------------------------------------


def _token(client, identifier: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token",
                    json={"identifier": identifier, "password": PASSWORD, "device": "phone"})
    assert r.status_code == 201, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def test_api_claim_list_detail_cancel(mall: Mall):
    client = mall.app.test_client()
    member = _token(client, mall.world.people["m1"].card_number)
    url = f"/api/v1/benefits_mall/offers/{mall.coupon_offer_id}/claim"
    key = str(uuid.uuid4())
    r = client.post(url, json={}, headers={**member, "Idempotency-Key": key})
    assert r.status_code == 201, r.get_json()
    first = r.get_json()
    assert first["state"] == "issued" and "qr_svg" not in first
    retry = client.post(url, json={}, headers={**member, "Idempotency-Key": key})
    assert retry.status_code == 201 and retry.get_json()["id"] == first["id"]
    refused = client.post(url, json={}, headers=member)
    assert refused.status_code == 409
    assert refused.get_json()["error"]["message"] == "该券每人限领 1 张，您已达到上限"
    bad = client.post(url, json={}, headers={**member, "Idempotency-Key": "x" * 80})
    assert bad.status_code == 422

    page = client.get("/api/v1/benefits_mall/coupons", headers=member).get_json()
    assert page["total"] == 1 and page["items"][0]["code"] == first["code"]
    assert client.get("/api/v1/benefits_mall/coupons?state=used",
                      headers=member).get_json()["total"] == 0
    assert client.get("/api/v1/benefits_mall/coupons?state=nope",
                      headers=member).status_code == 400
    detail = client.get(f"/api/v1/benefits_mall/coupons/{first['id']}", headers=member)
    assert detail.status_code == 200 and detail.get_json()["code"] == first["code"]
    assert detail.get_json()["qr_svg"].startswith("<svg")
    assert [s["name"] for s in detail.get_json()["stores"]] == ["朝阳店", "海淀店"]
    assert [e["kind"] for e in detail.get_json()["events"]] == ["claimed"]
    other = _token(client, mall.world.people["m2"].card_number)
    assert client.get(f"/api/v1/benefits_mall/coupons/{first['id']}",
                      headers=other).status_code == 404

    staff = _token(client, "shop_clerk")
    body = {"code": first["code"], "store_id": mall.store_ids[0],
            "idempotency_key": str(uuid.uuid4())}
    r = client.post("/api/v1/benefits_mall/merchant/redeem", json=body, headers=staff)
    assert r.status_code == 200 and r.get_json()["ok"] and not r.get_json()["replayed"]
    assert r.get_json()["amount"] == "50.00"
    r2 = client.post("/api/v1/benefits_mall/merchant/redeem", json=body, headers=staff)
    assert r2.status_code == 200 and r2.get_json()["replayed"]
    assert r2.get_json()["at"] == r.get_json()["at"]
    again = client.post("/api/v1/benefits_mall/merchant/redeem",
                        json={**body, "idempotency_key": "another"}, headers=staff)
    assert again.status_code == 409 and "已核销" in again.get_json()["error"]["message"]
    assert client.post("/api/v1/benefits_mall/merchant/redeem", json=body,
                       headers=member).status_code == 403
    cancel = client.post(f"/api/v1/benefits_mall/coupons/{first['id']}/cancel", headers=member)
    assert cancel.status_code == 409 and "已核销" in cancel.get_json()["error"]["message"]

    undo = client.post(f"/api/v1/benefits_mall/merchant/coupons/{first['id']}/undo",
                       json={"idempotency_key": str(uuid.uuid4())}, headers=staff)
    assert undo.status_code == 200 and undo.get_json()["kind"] == "undone"
    assert undo.get_json()["amount"] == "-50.00"
    cancel = client.post(f"/api/v1/benefits_mall/coupons/{first['id']}/cancel", headers=member)
    assert cancel.status_code == 200 and cancel.get_json()["state"] == "cancelled"


def test_claim_from_the_offer_page_form(mall: Mall):
    """The catalogue's offer page posts its 领取 form here; a refusal comes back to it."""
    client = mall.app.test_client()
    login(client, mall.world.people["m1"].card_number)
    offer_url = f"/benefits_mall/offers/{mall.coupon_offer_id}"
    html = client.get(offer_url).get_data(as_text=True)
    assert f'action="{_claim_url(mall)}"' in html
    r = client.post(_claim_url(mall), data={"csrf_token": csrf_token(client, offer_url)})
    assert re.fullmatch(r"/benefits_mall/my/coupons/\d+", r.headers["Location"])
    r = client.post(_claim_url(mall), data={"csrf_token": csrf_token(client, offer_url)},
                    follow_redirects=True)
    assert r.request.path == offer_url
    assert "该券每人限领 1 张，您已达到上限" in r.get_data(as_text=True)


def test_officers_look_coupons_up_within_their_orgs(mall: Mall):
    member = mall.app.test_client()
    r = _member_claims(mall, member)
    code = CODE_RE.search(member.get(r.headers["Location"]).get_data(as_text=True)).group(1)
    assert member.get(f"/benefits_mall/admin/coupons?code={code}").status_code == 403
    city = mall.app.test_client()
    login(city, "city")
    page = city.get(f"/benefits_mall/admin/coupons?code={code.lower()}").get_data(as_text=True)
    assert 'id="coupon"' in page and code in page and "领取" in page
    haidian = mall.app.test_client()  # m1 belongs to g1 under d1, not to d2
    login(haidian, "haidian")
    page = haidian.get(f"/benefits_mall/admin/coupons?code={code}").get_data(as_text=True)
    assert 'id="coupon"' not in page and "不在您管理的范围内" in page
    page = city.get("/benefits_mall/admin/coupons?code=ABC").get_data(as_text=True)
    assert "券码应为 17 位" in page
