"""The catalogue API, the offer search tab and the Jingka-discount provider all keep the
audience rule: a member of d2 never meets an offer targeted at d1."""

from __future__ import annotations

from typing import Any

from tests.benefits_mall.test_catalogue_web import add_offers, target
from tests.helpers import PASSWORD
from unionhub import db
from unionhub.groups.service import add_members, create_group
from unionhub.identity.models import Account, CardStatus, JingkaCard
from unionhub.offers.service import offers_for
from unionhub.search import acl
from unionhub.search.service import get_service, rebuild
from unionhub_benefits_mall.catalogue import provider, service
from unionhub_benefits_mall.catalogue.search import offer_acl
from unionhub_benefits_mall.models import BenefitsMallAudience, BenefitsMallOffer, OfferStatus


def api_client(mall: Any, person: str) -> Any:
    client = mall.app.test_client()
    r = client.post("/api/v1/auth/token", json={
        "identifier": mall.world.people[person].mobile, "password": PASSWORD, "device": "t"})
    assert r.status_code == 201, r.get_json()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {r.get_json()['token']}"
    return client


def ids(body: dict[str, Any]) -> set[int]:
    return {item["id"] for item in body["items"]}


def test_api_lists_pages_and_filters_for_the_member(mall):
    target(mall, mall.coupon_offer_id, "d1")
    m1, m2 = api_client(mall, "m1"), api_client(mall, "m2")
    assert mall.app.test_client().get("/api/v1/benefits_mall/offers").status_code == 401
    body = m1.get("/api/v1/benefits_mall/offers").get_json()
    assert ids(body) == {mall.coupon_offer_id, mall.service_offer_id} and body["total"] == 2
    assert ids(m2.get("/api/v1/benefits_mall/offers").get_json()) == {mall.service_offer_id}
    page = m1.get("/api/v1/benefits_mall/offers?per_page=1&page=2").get_json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["page"] == 2
    assert m1.get("/api/v1/benefits_mall/offers?category=travel").get_json()["items"] == []
    r = m1.get("/api/v1/benefits_mall/offers?category=nope")
    assert r.status_code == 400 and "category" in r.get_json()["error"]["fields"]
    assert m1.get("/api/v1/benefits_mall/offers?sort=oldest").status_code == 400
    item = next(i for i in body["items"] if i["id"] == mall.coupon_offer_id)
    assert item["member_price"] == "400.00" and item["remaining"] == 100
    assert item["url"] == f"/benefits_mall/offers/{mall.coupon_offer_id}"
    cats = {c["code"]: c["offers"] for c in
            m2.get("/api/v1/benefits_mall/categories").get_json()}
    assert len(cats) == 16 and cats["medical"] == 1 and cats["travel"] == 0
    assert {c["code"]: c["offers"] for c in
            m1.get("/api/v1/benefits_mall/categories").get_json()}["medical"] == 2


def test_api_detail_eligibility_and_audience(mall):
    target(mall, mall.coupon_offer_id, "d1")
    m1, m2 = api_client(mall, "m1"), api_client(mall, "m2")
    url = f"/api/v1/benefits_mall/offers/{mall.coupon_offer_id}"
    assert m2.get(url).status_code == 404
    body = m1.get(url).get_json()
    assert body["eligible"] is True and body["refusal"] is None and body["used"] == 0
    assert body["action"] == "claim" and [s["name"] for s in body["stores"]] == ["朝阳店", "海淀店"]
    with mall.app.app_context():
        s = db.session()
        offer = s.get(BenefitsMallOffer, mall.coupon_offer_id)
        offer.requires_jingka, offer.issued = True, 100
        for card in s.query(JingkaCard).filter_by(member_id=mall.world.people["m1"].member_id):
            card.status = CardStatus.LOST
        s.commit()
    body = m1.get(url).get_json()
    assert body["eligible"] is False and body["refusal"] == "仅限持有效京卡的会员领取"
    assert body["remaining"] == 0
    service_url = f"/api/v1/benefits_mall/offers/{mall.service_offer_id}"
    body = m2.get(service_url).get_json()
    assert body["action"] == "book" and body["eligible"] is True
    with mall.app.app_context():
        s = db.session()
        s.get(BenefitsMallOffer, mall.service_offer_id).issued = 10
        s.commit()
    assert m2.get(service_url).get_json()["refusal"] == "已领完"
    assert m1.get("/api/v1/benefits_mall/offers/999999").status_code == 404


def test_search_keeps_the_audience(mall):
    target(mall, mall.coupon_offer_id, "d1")
    group_offer = add_offers(mall, 1, summary="劳模疗养")[0]
    proposal = add_offers(mall, 1, summary="待审核的体检")[0]
    with mall.app.app_context():
        s = db.session()
        group = create_group(s, "model_worker", "劳动模范")
        add_members(s, group, [mall.world.people["m2"].member_id])
        s.add(BenefitsMallAudience(owner_kind="offer", owner_id=group_offer, group_id=group.id))
        s.get(BenefitsMallOffer, proposal).status = OfferStatus.PROPOSED
        s.commit()
    rebuild(mall.app)
    with mall.app.test_request_context():
        s = db.session()
        svc = get_service(mall.app)

        def found(who: str | None, q: str) -> set[int]:
            acc = None
            if who is not None:
                acc = s.get(Account, mall.world.people[who].account_id)
            hits = svc.search_as(acc, q, doc_type=service.OFFER_DOC, per_page=50).hits
            return {int(h.doc_id) for h in hits}

        assert found("m1", "体检套餐") == {mall.coupon_offer_id}
        assert found("m2", "体检套餐") == set()
        assert found(None, "体检套餐") == set()
        assert found(None, "中医理疗") == {mall.service_offer_id}
        assert found("m2", "劳模疗养") == {group_offer}
        assert found("m1", "劳模疗养") == set()
        assert found("m1", "待审核的体检") == set()


def test_documents_tokens_for_orgs_and_groups(mall):
    d1, d2 = mall.world.orgs["d1"].id, mall.world.orgs["d2"].id
    assert offer_acl([], []) == (acl.PUBLIC,)
    assert offer_acl([d1, d2], []) == (acl.org_token(d1), acl.org_token(d2))
    assert offer_acl([], [7]) == (acl.group_token(7),)
    assert offer_acl([d1], [7, 8]) == (acl.org_group_token(d1, 7), acl.org_group_token(d1, 8))


def test_provider_keeps_the_audience(mall):
    target(mall, mall.coupon_offer_id, "d1")
    with mall.app.test_request_context():
        s = db.session()
        m1 = s.get(Account, mall.world.people["m1"].account_id)
        m2 = s.get(Account, mall.world.people["m2"].account_id)
        titles = {c.title for c in provider.listing(m1, 10, None)}
        assert titles == {"职工体检套餐 8 折券", "中医理疗专属服务"}
        assert {c.title for c in provider.listing(m2, 10, None)} == {"中医理疗专属服务"}
        assert {c.title for c in provider.listing(None, 10, None)} == {"中医理疗专属服务"}
        assert provider.listing(m1, 10, "travel") == []
        assert len(provider.listing(m1, 1, None)) == 1
        cards = offers_for(m2, limit=5)  # through the core hook
        assert [c.title for c in cards] == ["中医理疗专属服务"]
        card = cards[0]
        assert card.member_price == "¥199.00" and card.merchant == "康健体检中心"
        assert card.url == f"/benefits_mall/offers/{mall.service_offer_id}"
        assert "专属服务" in card.tags and "限量" in card.tags
        assert ("medical", "医疗健康") in provider.categories()
