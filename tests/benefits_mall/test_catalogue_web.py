"""Catalogue pages: the member catalogue (audience, paging, refusals, inert descriptions), the
officers' merchant and offer management, merchant staff pages (isolation, proposals)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from tests.benefits_mall.test_catalogue_service import (
    LIVE,
    PNG,
    XSS,
    merchant_form,
    offer_form,
)
from tests.helpers import csrf_token, login, post_form
from unionhub import db
from unionhub.db import utcnow
from unionhub.identity.models import Account, Member, MemberStatus
from unionhub_benefits_mall.catalogue import service
from unionhub_benefits_mall.models import (
    BenefitsMallAudience,
    BenefitsMallCoupon,
    BenefitsMallCouponEvent,
    BenefitsMallMerchant,
    BenefitsMallOffer,
    BenefitsMallStaff,
    OfferKind,
    OfferStatus,
)

OFFER_IDS = re.compile(r'data-offer="(\d+)"')


def client_for(mall: Any, who: str | None) -> Any:
    """A test client signed in as a member (m1, m2, m3), an officer or a staff username."""
    client = mall.app.test_client()
    if who is None:
        return client
    identifier = mall.world.people[who].mobile if who in mall.world.people else who
    r = login(client, identifier)
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return client


def target(mall: Any, offer_id: int, org: str) -> None:
    with mall.app.app_context():
        s = db.session()
        o = mall.world.orgs[org]
        s.add(BenefitsMallAudience(owner_kind="offer", owner_id=offer_id, org_id=o.id,
                                   org_path=s.merge(o).path))
        s.commit()


def add_offers(mall: Any, n: int, **fields: Any) -> list[int]:
    with mall.app.app_context():
        s = db.session()
        today = service.today()
        offers = [BenefitsMallOffer(
            merchant_id=mall.merchant_id, category_code="medical", kind=OfferKind.COUPON,
            title=f"加购优惠 {i}", valid_from=today - timedelta(days=1),
            valid_until=today + timedelta(days=10), status=OfferStatus.APPROVED, **fields)
            for i in range(n)]
        s.add_all(offers)
        s.commit()
        return [o.id for o in offers]


def listed(client: Any, url: str = "/benefits_mall/") -> list[int]:
    r = client.get(url)
    assert r.status_code == 200
    return [int(i) for i in OFFER_IDS.findall(r.get_data(as_text=True))]


# -- member catalogue --------------------------------------------------------------------------


def test_home_lists_by_audience_category_and_pages(mall):
    extra = add_offers(mall, 14)
    target(mall, mall.coupon_offer_id, "d1")
    everyone = {mall.service_offer_id, *extra}
    m1, m2, anon = client_for(mall, "m1"), client_for(mall, "m2"), client_for(mall, None)
    first = listed(m1)
    assert len(first) == 12  # a page
    second = listed(m1, "/benefits_mall/?page=2")
    assert len(second) == 4 and not set(first) & set(second)
    assert set(first) | set(second) == everyone | {mall.coupon_offer_id}
    seen_by_m2 = set(listed(m2)) | set(listed(m2, "/benefits_mall/?page=2"))
    assert seen_by_m2 == everyone
    seen_by_anon = set(listed(anon)) | set(listed(anon, "/benefits_mall/?page=2"))
    assert seen_by_anon == everyone
    assert listed(m1, "/benefits_mall/?category=travel") == []
    assert listed(m1, "/benefits_mall/?kind=service") == [mall.service_offer_id]
    html = m1.get("/benefits_mall/").get_data(as_text=True)
    assert html.count('class="mall-chips"') == 1 and html.count("?category=") >= 16
    assert 'name="type" value="benefits_mall.offer"' in html and 'action="/search/' in html


def test_popular_sort_follows_claims(mall):
    with mall.app.app_context():
        s = db.session()
        s.get(BenefitsMallOffer, mall.service_offer_id).issued = 5
        s.commit()
    m1 = client_for(mall, "m1")
    assert listed(m1, "/benefits_mall/?sort=popular")[0] == mall.service_offer_id


def test_offer_page_audience_refusal_and_views(mall):
    target(mall, mall.coupon_offer_id, "d1")
    url = f"/benefits_mall/offers/{mall.coupon_offer_id}"
    assert client_for(mall, "m2").get(url).status_code == 404
    assert client_for(mall, None).get(url).status_code == 404
    assert client_for(mall, "shop_manager").get(url).status_code == 404  # not a member
    m1 = client_for(mall, "m1")
    html = m1.get(url).get_data(as_text=True)
    assert 'id="refusal"' not in html and "¥400.00" in html and "朝阳店" in html
    if "benefits_mall.coupon_claim" in mall.app.view_functions:
        assert f'action="/benefits_mall/offers/{mall.coupon_offer_id}/claim"' in html
    else:
        assert "领取功能即将开放" in html
    m1.get(url + "?channel=999999")
    with mall.app.app_context():
        assert db.session().get(BenefitsMallOffer, mall.coupon_offer_id).view_count == 2
        member = db.session().get(Member, mall.world.people["m1"].member_id)
        member.status = MemberStatus.LEFT
        db.session().commit()
    html = m1.get(url).get_data(as_text=True)
    assert 'id="refusal"' in html and "仅限在册会员领取" in html
    assert "/claim" not in html
    assert mall.coupon_offer_id not in listed(m1)  # the listing leaves it out altogether
    anon = client_for(mall, None)
    r = anon.get(f"/benefits_mall/offers/{mall.service_offer_id}")
    assert r.status_code == 200 and "登录后预约" in r.get_data(as_text=True)
    target(mall, mall.coupon_offer_id, "city")  # org rows: members only, never visitors
    assert anon.get(url).status_code == 404


def test_offer_not_live_is_404(mall):
    with mall.app.app_context():
        s = db.session()
        s.get(BenefitsMallOffer, mall.coupon_offer_id).status = OfferStatus.PROPOSED
        s.get(BenefitsMallOffer, mall.service_offer_id).valid_until = service.today() - \
            timedelta(days=1)
        s.commit()
    m1 = client_for(mall, "m1")
    for offer_id in (mall.coupon_offer_id, mall.service_offer_id, 10**6):
        assert m1.get(f"/benefits_mall/offers/{offer_id}").status_code == 404
    assert listed(m1) == []


def test_description_payloads_come_out_inert(mall):
    with mall.app.app_context():
        s = db.session()
        offer = s.get(BenefitsMallOffer, mall.coupon_offer_id)
        offer.description = XSS  # as if stored by something that skipped the sanitiser
        op = s.get(Account, mall.accounts["operator"])
        other = service.create_offer(s, s.get(BenefitsMallMerchant, mall.merchant_id),
                                     offer_form(description=XSS, title="<b>标题</b>"),
                                     actor=op, officer=True)
        s.commit()
        other_id = other.id
    m1 = client_for(mall, "m1")
    for offer_id in (mall.coupon_offer_id, other_id):
        html = m1.get(f"/benefits_mall/offers/{offer_id}").get_data(as_text=True)
        section = html.split('id="description"', 1)[1].split("</section>", 1)[0]
        assert "点我" in section and "正文" in section
        assert not LIVE.search(section)
        assert "<b>标题</b>" not in html
    r = client_for(mall, "operator").get(f"/benefits_mall/admin/offers/{other_id}")
    assert r.status_code == 200 and not LIVE.search(r.get_data(as_text=True))


# -- officers ----------------------------------------------------------------------------------


def test_officer_pages_need_the_permission(mall):
    for who in ("m1", "chaoyang", "shop_manager"):
        assert client_for(mall, who).get("/benefits_mall/admin/offers").status_code == 403
    for who in ("operator", "city"):
        c = client_for(mall, who)
        assert c.get("/benefits_mall/admin/offers").status_code == 200
        assert c.get("/benefits_mall/admin/merchants").status_code == 200


def test_officer_creates_merchant_with_clear_errors(mall):
    op = client_for(mall, "operator")
    url = "/benefits_mall/admin/merchants/new"
    r = post_form(op, url, merchant_form(credit_code="91350100M000100Y44", name=""))
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "校验位" in html and "请填写商户名称" in html
    assert "0200 0049 0920 0123 456" not in html  # the account number is not echoed back
    with mall.app.app_context():
        assert db.session().scalar(select(func.count(BenefitsMallMerchant.id))) == 2
    r = post_form(op, url, merchant_form())
    assert r.status_code == 302
    html = op.get(r.headers["Location"]).get_data(as_text=True)
    assert "0200 **** **** 3456" in html and "0200004909200123456" not in html
    merchant_url = r.headers["Location"]
    r = post_form(op, merchant_url + "/stores", {"name": "西单店", "district": "西城区"},
                  form_url=merchant_url)
    assert r.status_code == 302
    r = post_form(op, merchant_url + "/staff", {"username": "jh_manager", "display_name": "刘晓",
                                                "role": "manager"}, form_url=merchant_url)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    password = re.search(r'id="password">([^<]+)<', html).group(1)
    staff = mall.app.test_client()
    assert login(staff, "jh_manager", password).status_code == 302


def test_proposal_flow_through_the_pages(mall):
    manager = client_for(mall, "shop_manager")
    data = {k: v for k, v in offer_form(title="口腔检查 1 元", subsidy="999").items()
            if not isinstance(v, list)}
    r = post_form(manager, "/benefits_mall/merchant/offers/new",
                  {**data, "store_ids": str(mall.store_ids[0]),
                   "images": (io.BytesIO(PNG), "photo.png")},
                  content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    offer_id = int(r.headers["Location"].rsplit("/", 1)[1])
    with mall.app.app_context():
        offer = db.session().get(BenefitsMallOffer, offer_id)
        assert offer.status == OfferStatus.PROPOSED and offer.subsidy == 0
        assert len(offer.images) == 1
        image = offer.images[0]
    m1 = client_for(mall, "m1")
    assert m1.get(f"/benefits_mall/offers/{offer_id}").status_code == 404
    r = m1.get(f"/benefits_mall/images/{image}")
    assert r.status_code == 200 and r.mimetype == "image/png" and r.data == PNG
    assert m1.get("/benefits_mall/images/..%2f..%2fsecret.png").status_code == 404
    op = client_for(mall, "operator")
    html = op.get("/benefits_mall/admin/offers").get_data(as_text=True)
    assert next(int(i) for i in OFFER_IDS.findall(html)) == offer_id  # proposals first
    review = f"/benefits_mall/admin/offers/{offer_id}/review"
    form_url = f"/benefits_mall/admin/offers/{offer_id}"
    r = post_form(op, review, {"action": "reject", "note": ""}, form_url=form_url)
    assert r.status_code == 302
    assert "驳回时请填写审核意见" in op.get(r.headers["Location"]).get_data(as_text=True)
    r = post_form(op, review, {"action": "approve", "note": "同意上架"}, form_url=form_url)
    assert r.status_code == 302
    assert offer_id in listed(m1)
    html = manager.get(f"/benefits_mall/merchant/offers/{offer_id}").get_data(as_text=True)
    assert "已上架" in html and "同意上架" in html and "<fieldset disabled" in html
    r = post_form(manager, f"/benefits_mall/merchant/offers/{offer_id}", data)
    assert r.status_code == 422 and "不能由商户修改" in r.get_data(as_text=True)


def test_manager_keeps_stores(mall):
    manager = client_for(mall, "shop_manager")
    r = post_form(manager, "/benefits_mall/merchant/stores/new",
                  {"name": "通州店", "district": "通州区", "phone": "电话"},
                  form_url="/benefits_mall/merchant/stores")
    assert "门店电话只能包含数字" in manager.get(r.headers["Location"]).get_data(as_text=True)
    r = post_form(manager, "/benefits_mall/merchant/stores/new",
                  {"name": "通州店", "district": "通州区"},
                  form_url="/benefits_mall/merchant/stores")
    assert r.status_code == 302
    store = f"/benefits_mall/merchant/stores/{mall.store_ids[0]}"
    r = post_form(manager, store, {"name": "海淀店"})
    assert r.status_code == 422 and "该商户已有同名门店" in r.get_data(as_text=True)
    assert post_form(manager, store, {"active": "0"}).status_code == 302
    with mall.app.app_context():
        s = db.session()
        names = [st.name for st in service.stores_of(s, mall.merchant_id, active_only=True)]
    assert names == ["海淀店", "通州店"]
    html = client_for(mall, "m1").get(f"/benefits_mall/offers/{mall.coupon_offer_id}").get_data(
        as_text=True)
    assert "朝阳店" not in html and "通州店" in html


def test_officer_offer_form_refuses_bad_images_and_saves_audience(mall):
    op = client_for(mall, "operator")
    url = f"/benefits_mall/admin/offers/{mall.coupon_offer_id}"
    data = {k: v for k, v in offer_form(title="改过的标题").items() if not isinstance(v, list)}
    r = post_form(op, url, {**data, "images": (io.BytesIO(b"MZ\x90\x00 not an image"), "a.png")},
                  content_type="multipart/form-data")
    assert r.status_code == 422 and "不是 JPEG、PNG 或 WebP 图片" in r.get_data(as_text=True)
    big = PNG + b"\x00" * service.MAX_IMAGE_BYTES
    r = post_form(op, url, {**data, "images": (io.BytesIO(big), "big.png")},
                  content_type="multipart/form-data")
    assert r.status_code == 422 and "超过 2 MB" in r.get_data(as_text=True)
    with mall.app.app_context():
        assert db.session().get(BenefitsMallOffer, mall.coupon_offer_id).title != "改过的标题"
    r = post_form(op, url, {**data, "audience_org": "999999"})
    assert r.status_code == 422 and "所选工会不存在" in r.get_data(as_text=True)
    d2 = mall.world.orgs["d2"].id
    r = post_form(op, url, {**data, "audience_org": str(d2)})
    assert r.status_code == 302
    with mall.app.app_context():
        s = db.session()
        assert s.get(BenefitsMallOffer, mall.coupon_offer_id).title == "改过的标题"
        assert service.audience_of(s, mall.coupon_offer_id) == ([d2], [])
    assert client_for(mall, "m1").get(url.replace("/admin", "")).status_code == 404
    assert client_for(mall, "m2").get(url.replace("/admin", "")).status_code == 200


# -- merchant staff ----------------------------------------------------------------------------


def test_staff_see_only_their_merchant(mall):
    mine = f"/benefits_mall/merchant/offers/{mall.coupon_offer_id}"
    other = client_for(mall, "other_clerk")
    assert other.get(mine).status_code == 404
    assert other.post(mine, data={"csrf_token": csrf_token(other, "/benefits_mall/merchant/")}
                      ).status_code in (403, 404)
    assert "职工体检套餐" not in other.get("/benefits_mall/merchant/offers").get_data(
        as_text=True)
    assert "康健体检中心" not in other.get("/benefits_mall/merchant/").get_data(as_text=True)
    assert other.get("/benefits_mall/merchant/offers/new").status_code == 403  # a clerk
    clerk = client_for(mall, "shop_clerk")
    assert clerk.get(mine).status_code == 200
    assert clerk.get("/benefits_mall/merchant/offers/new").status_code == 403
    r = clerk.post(mine, data={"csrf_token": csrf_token(clerk, mine), "title": "x"})
    assert r.status_code == 403
    assert clerk.get("/benefits_mall/merchant/staff").status_code == 403
    assert client_for(mall, "m1").get("/benefits_mall/merchant/").status_code == 403
    manager = client_for(mall, "shop_manager")
    with mall.app.app_context():
        other_store = db.session().scalar(select(service.BenefitsMallStore.id).where(
            service.BenefitsMallStore.merchant_id == mall.other_merchant_id))
        other_staff = db.session().scalar(select(BenefitsMallStaff.id).where(
            BenefitsMallStaff.merchant_id == mall.other_merchant_id))
    assert manager.get(f"/benefits_mall/merchant/stores/{other_store}").status_code == 404
    r = manager.post(f"/benefits_mall/merchant/staff/{other_staff}",
                     data={"csrf_token": csrf_token(manager, "/benefits_mall/merchant/staff"),
                           "do": "reset"})
    assert r.status_code == 404


def test_manager_manages_clerks_only(mall):
    manager = client_for(mall, "shop_manager")
    r = post_form(manager, "/benefits_mall/merchant/staff/new",
                  {"username": "clerk_two", "display_name": "李四", "role": "manager",
                   "store_id": str(mall.store_ids[1])}, form_url="/benefits_mall/merchant/staff")
    assert r.status_code == 200 and 'id="password"' in r.get_data(as_text=True)
    with mall.app.app_context():
        s = db.session()
        made = s.scalar(select(BenefitsMallStaff).join(Account, Account.id ==
                                                       BenefitsMallStaff.account_id)
                        .where(Account.username == "clerk_two"))
        assert made.role == "clerk" and made.store_id == mall.store_ids[1]
        own = s.scalar(select(BenefitsMallStaff.id).where(
            BenefitsMallStaff.account_id == mall.accounts["shop_manager"]))
    r = post_form(manager, f"/benefits_mall/merchant/staff/{own}", {"do": "remove"},
                  form_url="/benefits_mall/merchant/staff")
    assert r.status_code == 403
    r = post_form(manager, f"/benefits_mall/merchant/staff/{made.id}", {"do": "remove"},
                  form_url="/benefits_mall/merchant/staff")
    assert r.status_code == 302
    assert login(mall.app.test_client(), "clerk_two").status_code != 302


def test_merchant_home_counts_todays_redemptions_and_links(mall):
    with mall.app.app_context():
        s = db.session()
        coupon = BenefitsMallCoupon(code="TESTCODE0001", offer_id=mall.coupon_offer_id,
                                    merchant_id=mall.merchant_id,
                                    member_id=mall.world.people["m1"].member_id,
                                    org_path="/1/", expires_at=utcnow() + timedelta(days=3))
        s.add(coupon)
        s.flush()
        for kind, at in (("redeemed", utcnow()), ("redeemed", utcnow()), ("undone", utcnow()),
                         ("redeemed", utcnow() - timedelta(days=2))):
            s.add(BenefitsMallCouponEvent(coupon_id=coupon.id, merchant_id=mall.merchant_id,
                                          offer_id=mall.coupon_offer_id, kind=kind, at=at))
        s.add(BenefitsMallCouponEvent(coupon_id=coupon.id, merchant_id=mall.other_merchant_id,
                                      offer_id=mall.coupon_offer_id, kind="redeemed"))
        s.commit()
    html = client_for(mall, "shop_clerk").get("/benefits_mall/merchant/").get_data(as_text=True)
    assert "康健体检中心" in html
    assert re.search(r'id="redeemed-today"><b>1</b>', html)
    for endpoint, path in (("benefits_mall.redeem", "/benefits_mall/merchant/redeem"),
                           ("benefits_mall.merchant_bookings", "/benefits_mall/merchant/bookings")):
        assert (f'href="{path}"' in html) == (endpoint in mall.app.view_functions)
    assert "经营报表" not in html  # reports are the managers'


def test_merchant_menu_only_for_staff(mall):
    assert "商户工作台" in client_for(mall, "shop_clerk").get("/").get_data(as_text=True)
    assert "商户工作台" not in client_for(mall, "m1").get("/").get_data(as_text=True)
    assert "商户工作台" not in client_for(mall, None).get("/").get_data(as_text=True)

