"""Discount channels on the web and the API: officer pages scoped to their subtree, member
pages and API limited to the channel's audience, and the demo seeder."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from tests.helpers import PASSWORD, login, post_form
from unionhub import db
from unionhub.groups.service import add_members, create_group
from unionhub.identity.models import Account
from unionhub_benefits_mall.channels import audience, service
from unionhub_benefits_mall.models import (
    BenefitsMallChannel,
    BenefitsMallChannelOffer,
    BenefitsMallOffer,
    BenefitsMallQuotaUse,
    OfferStatus,
)

TODAY = date.today()
NEW = "/benefits_mall/admin/channels/new"


def _client(mall: Any, identifier: str) -> Any:
    client = mall.app.test_client()
    r = login(client, identifier)
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    return client


def _member(mall: Any, key: str) -> Any:
    return _client(mall, mall.world.people[key].mobile)


def _form(mall: Any, **kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "朝阳区职工普惠通道", "org_id": mall.world.org_id("d1"),
        "valid_from": (TODAY - timedelta(days=1)).isoformat(),
        "valid_until": (TODAY + timedelta(days=30)).isoformat(), "total_quota": "50",
        "per_member_quota": "2", "per_member_period": "month", "requires_active_member": "1",
        "requires_jingka": "1", "active": "1", "description": "辖区职工常年普惠"}
    values.update(kw)
    return values


def _channel(mall: Any, officer: str = "chaoyang", offers: tuple[int, ...] = (),
             **kw: Any) -> int:
    """A channel created through the service as ``officer`` (orgs/groups as ids in kw)."""
    with mall.app.app_context():
        s = db.session()
        acc = s.get(Account, mall.world.officers[officer])
        data = service.ChannelData(
            name=kw.pop("name", "测试通道"), org_id=kw.pop("org_id", mall.world.org_id("d1")),
            valid_from=kw.pop("valid_from", TODAY - timedelta(days=1)),
            valid_until=kw.pop("valid_until", TODAY + timedelta(days=30)), **kw)
        channel = service.create(s, acc, data)
        for offer_id in offers:
            service.attach(s, acc, channel, offer_id)
        s.commit()
        return channel.id


def _count_channels(mall: Any) -> int:
    with mall.app.app_context():
        return db.session().scalar(select(func.count()).select_from(BenefitsMallChannel)) or 0


def test_officer_creates_and_edits_a_channel(mall):
    w = mall.world
    client = _client(mall, "chaoyang")
    page = client.get(NEW).get_data(as_text=True)
    assert 'name="audience_org"' in page and "电控工会" in page and "海淀区总工会" not in page
    r = post_form(client, NEW, _form(mall, audience_org=[str(w.org_id("g1"))]))
    assert r.status_code == 302, r.get_data(as_text=True)[:3000]
    m = re.search(r"/admin/channels/(\d+)/offers$", r.headers["Location"])
    assert m
    channel_id = int(m.group(1))
    with mall.app.app_context():
        s = db.session()
        channel = s.get(BenefitsMallChannel, channel_id)
        assert (channel.name, channel.total_quota, channel.per_member_quota) == (
            "朝阳区职工普惠通道", 50, 2)
        assert channel.requires_jingka and channel.active
        assert audience.describe(s, "channel", channel_id) == "电控工会及下级"
    listing = client.get("/benefits_mall/admin/channels").get_data(as_text=True)
    assert "朝阳区职工普惠通道" in listing and "已发放 0 / 50 份" in listing
    assert "电控工会及下级" in listing
    edit_url = f"/benefits_mall/admin/channels/{channel_id}"
    page = client.get(edit_url).get_data(as_text=True)
    assert 'value="朝阳区职工普惠通道"' in page
    assert re.search(rf'value="{w.org_id("g1")}" checked', page)
    r = post_form(client, edit_url, _form(mall, name="朝阳区职工普惠通道（二期）", active=""))
    assert r.status_code == 302
    with mall.app.app_context():
        s = db.session()
        channel = s.get(BenefitsMallChannel, channel_id)
        assert channel.name == "朝阳区职工普惠通道（二期）" and not channel.active
        assert audience.describe(s, "channel", channel_id) == "全体会员"


def test_bad_form_is_refused_with_field_messages(mall):
    client = _client(mall, "chaoyang")
    r = post_form(client, NEW, _form(mall, name="", valid_until=(TODAY - timedelta(days=5))
                                     .isoformat(), total_quota="十"))
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "请填写通道名称" in page and "结束日期不能早于开始日期" in page
    assert "总名额应为正整数" in page
    assert 'value="十"' in page  # the input is shown back
    r = post_form(client, NEW, _form(mall, org_id=mall.world.org_id("d2"),
                                     audience_org=[str(mall.world.org_id("d2"))]),
                  form_url=NEW)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "所属工会不在您的管理范围内" in page and "不能作为适用范围" in page
    assert _count_channels(mall) == 0


def test_quota_below_issued_refused_on_the_form(mall):
    channel_id = _channel(mall, total_quota=20)
    with mall.app.app_context():
        s = db.session()
        s.get(BenefitsMallChannel, channel_id).issued = 12
        s.commit()
    client = _client(mall, "chaoyang")
    url = f"/benefits_mall/admin/channels/{channel_id}"
    assert "已发放 12 / 20 份" in client.get(url).get_data(as_text=True)
    r = post_form(client, url, _form(mall, total_quota="10"))
    assert r.status_code == 422
    assert "总名额不能少于已发放的 12 份" in r.get_data(as_text=True)
    with mall.app.app_context():
        channel = db.session().get(BenefitsMallChannel, channel_id)
        assert (channel.total_quota, channel.name) == (20, "测试通道")


def test_officer_of_another_district_gets_404(mall):
    d1_channel = _channel(mall, name="朝阳专享")
    d2_channel = _channel(mall, officer="haidian", name="海淀专享",
                          org_id=mall.world.org_id("d2"))
    haidian = _client(mall, "haidian")
    for url in (f"/benefits_mall/admin/channels/{d1_channel}",
                f"/benefits_mall/admin/channels/{d1_channel}/offers"):
        assert haidian.get(url).status_code == 404
    r = post_form(haidian, f"/benefits_mall/admin/channels/{d1_channel}", _form(mall),
                  form_url=NEW)
    assert r.status_code == 404
    r = post_form(haidian, f"/benefits_mall/admin/channels/{d1_channel}/offers/attach",
                  {"offer_id": mall.coupon_offer_id}, form_url=NEW)
    assert r.status_code == 404
    listing = haidian.get("/benefits_mall/admin/channels").get_data(as_text=True)
    assert "海淀专享" in listing and "朝阳专享" not in listing
    chaoyang = _client(mall, "chaoyang")
    listing = chaoyang.get("/benefits_mall/admin/channels").get_data(as_text=True)
    assert "朝阳专享" in listing and "海淀专享" not in listing
    assert chaoyang.get(f"/benefits_mall/admin/channels/{d2_channel}").status_code == 404
    city = _client(mall, "city").get("/benefits_mall/admin/channels").get_data(as_text=True)
    assert "朝阳专享" in city and "海淀专享" in city
    # members and merchant staff hold no channel permission
    assert _member(mall, "m1").get("/benefits_mall/admin/channels").status_code == 403
    assert _client(mall, "shop_clerk").get(NEW).status_code == 403


def test_officer_attaches_and_detaches_offers(mall):
    channel_id = _channel(mall)
    with mall.app.app_context():
        s = db.session()
        s.add(BenefitsMallOffer(merchant_id=mall.merchant_id, category_code="medical",
                                title="体检套餐待审核版", valid_from=TODAY,
                                valid_until=TODAY + timedelta(days=9),
                                status=OfferStatus.PROPOSED))
        s.commit()
    client = _client(mall, "chaoyang")
    url = f"/benefits_mall/admin/channels/{channel_id}/offers"
    page = client.get(url + "?q=体检").get_data(as_text=True)
    assert "职工体检套餐 8 折券" in page and "体检套餐待审核版" not in page
    r = post_form(client, url + "/attach", {"offer_id": mall.coupon_offer_id, "q": "体检"},
                  form_url=url)
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已将「职工体检套餐 8 折券」加入通道" in page
    assert "通道内的优惠（1 项）" in page
    r = post_form(client, url + "/attach", {"offer_id": mall.coupon_offer_id}, form_url=url)
    assert "已在本通道中" in client.get(r.headers["Location"]).get_data(as_text=True)
    r = post_form(client, url + "/detach", {"offer_id": mall.coupon_offer_id}, form_url=url)
    assert "已将「职工体检套餐 8 折券」移出通道" in client.get(r.headers["Location"]).get_data(
        as_text=True)
    with mall.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(
            BenefitsMallChannelOffer)) == 0


def test_members_see_channels_of_their_org(mall):
    w = mall.world
    offers = (mall.coupon_offer_id, mall.service_offer_id)
    d1 = _channel(mall, name="朝阳区职工专享", offers=offers, org_ids=[w.org_id("d1")],
                  total_quota=10, per_member_quota=3)
    everyone = _channel(mall, officer="city", name="五一职工福利季", org_id=w.org_id("city"),
                        offers=(mall.coupon_offer_id,))
    _channel(mall, name="已停用的通道", active=False)
    _channel(mall, name="未开始的通道", valid_from=TODAY + timedelta(days=3),
             valid_until=TODAY + timedelta(days=9))
    with mall.app.app_context():
        s = db.session()
        s.add(BenefitsMallQuotaUse(member_id=w.people["m3"].member_id, scope=f"channel:{d1}",
                                   period=f"{service.today():%Y-%m}", used=1))
        s.commit()
    m3 = _member(mall, "m3")  # in b1, under g1, under d1
    page = m3.get("/benefits_mall/channels").get_data(as_text=True)
    assert "朝阳区职工专享" in page and "五一职工福利季" in page
    assert "已停用的通道" not in page and "未开始的通道" not in page
    assert "您还可领 2 份" in page
    m2 = _member(mall, "m2")  # in d2
    page = m2.get("/benefits_mall/channels").get_data(as_text=True)
    assert "五一职工福利季" in page and "朝阳区职工专享" not in page
    assert m2.get(f"/benefits_mall/channels/{d1}").status_code == 404
    assert m2.get(f"/benefits_mall/channels/{everyone}").status_code == 200
    page = m3.get(f"/benefits_mall/channels/{d1}").get_data(as_text=True)
    assert "职工体检套餐 8 折券" in page and "中医理疗专属服务" in page
    assert f"/benefits_mall/offers/{mall.coupon_offer_id}?channel={d1}" in page
    # an offer that goes offline leaves the member's channel page
    with mall.app.app_context():
        s = db.session()
        s.get(BenefitsMallOffer, mall.service_offer_id).status = OfferStatus.OFFLINE
        s.commit()
    page = m3.get(f"/benefits_mall/channels/{d1}").get_data(as_text=True)
    assert "职工体检套餐 8 折券" in page and "中医理疗专属服务" not in page


def test_members_see_channels_of_their_group(mall):
    w = mall.world
    with mall.app.app_context():
        s = db.session()
        group = create_group(s, "model_worker", "劳动模范")
        s.commit()
        group_id = group.id
    channel_id = _channel(mall, officer="city", name="劳模疗休养", org_id=w.org_id("city"),
                          group_ids=[group_id])
    m2 = _member(mall, "m2")
    assert "劳模疗休养" not in m2.get("/benefits_mall/channels").get_data(as_text=True)
    assert m2.get(f"/benefits_mall/channels/{channel_id}").status_code == 404
    with mall.app.app_context():
        s = db.session()
        add_members(s, s.get(type(group), group_id), [w.people["m2"].member_id])
        s.commit()
    page = m2.get("/benefits_mall/channels").get_data(as_text=True)
    assert "劳模疗休养" in page and "劳动模范" in page
    assert m2.get(f"/benefits_mall/channels/{channel_id}").status_code == 200
    assert _member(mall, "m1").get(f"/benefits_mall/channels/{channel_id}").status_code == 404


def _bearer(mall: Any, identifier: str) -> dict[str, str]:
    client = mall.app.test_client()
    r = client.post("/api/v1/auth/token",
                    json={"identifier": identifier, "password": PASSWORD, "device": "test"})
    assert r.status_code == 201, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def test_api_channels(mall):
    w = mall.world
    d1 = _channel(mall, name="朝阳区职工专享", offers=(mall.coupon_offer_id,),
                  org_ids=[w.org_id("d1")], total_quota=10, per_member_quota=2,
                  per_member_period="all")
    client = mall.app.test_client()
    assert client.get("/api/v1/benefits_mall/channels").status_code == 401
    m1 = _bearer(mall, w.people["m1"].mobile)
    body = client.get("/api/v1/benefits_mall/channels", headers=m1).get_json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["name"] == "朝阳区职工专享" and item["remaining_for_me"] == 2
    assert item["remaining_total"] == 10 and item["offer_count"] == 1
    assert item["audience"] == "朝阳区总工会及下级" and item["per_member_period"] == "all"
    detail = client.get(f"/api/v1/benefits_mall/channels/{d1}", headers=m1).get_json()
    assert [o["id"] for o in detail["offers"]] == [mall.coupon_offer_id]
    assert detail["offers"][0]["member_price"] == "400.00"
    assert detail["offers"][0]["remaining_stock"] == 100
    m2 = _bearer(mall, w.people["m2"].mobile)
    assert client.get("/api/v1/benefits_mall/channels", headers=m2).get_json()["total"] == 0
    r = client.get(f"/api/v1/benefits_mall/channels/{d1}", headers=m2)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    officer = _bearer(mall, "chaoyang")
    assert client.get("/api/v1/benefits_mall/channels", headers=officer).status_code == 403


def test_demo_seeds_thirty_channels(mall):
    from unionhub.demo import DemoContext
    from unionhub_benefits_mall.channels import demo

    w = mall.world
    with mall.app.app_context():
        s = db.session()
        group = create_group(s, "women", "女职工")
        proposed = BenefitsMallOffer(merchant_id=mall.merchant_id, category_code="medical",
                                     title="待审核", valid_from=TODAY,
                                     valid_until=TODAY + timedelta(days=9),
                                     status=OfferStatus.PROPOSED)
        s.add(proposed)
        s.flush()
        officers = {name: s.get(Account, w.officers[name])
                    for name in ("city", "chaoyang", "haidian")}
        ctx = DemoContext(rng=random.Random(1), orgs={"110000": w.orgs["city"],
                                                      "110105": w.orgs["d1"],
                                                      "110108": w.orgs["d2"]},
                          member_ids=[], officers=officers)
        demo.seed(s, ctx)
        s.commit()
        channels = list(s.scalars(select(BenefitsMallChannel)))
        assert len(channels) == 30 and len({c.name for c in channels}) == 30
        owners = {c.name: c.org_id for c in channels}
        assert owners["朝阳区职工普惠通道"] == w.org_id("d1")
        assert owners["海淀区科技职工健康季"] == w.org_id("d2")
        assert owners["西城区金融街职工午餐优惠"] == w.org_id("city")  # unknown code: the city
        linked = set(s.scalars(select(BenefitsMallChannelOffer.offer_id)))
        assert linked == {mall.coupon_offer_id, mall.service_offer_id}
        women = next(c for c in channels if c.name == "女职工关爱专区")
        assert audience.load_audience(s, "channel", women.id) == ([], [group.id])
        assert any("30 个" in line for line in ctx.lines)
