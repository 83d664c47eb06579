"""Discount channels on the web and the API: officer pages scoped to their subtree, member
pages and API limited to the channel's audience, and the demo seeder."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from tests.helpers import PASSWORD, beijing_today, login, post_form
from unionhub import db
from unionhub.groups.service import add_members, create_group
from unionhub.identity.models import Account, Member
from unionhub.orgs.models import Org
from unionhub_benefits_mall.channels import audience, service
from unionhub_benefits_mall.eligibility import Viewer
from unionhub_benefits_mall.models import (
    BenefitsMallChannel,
    BenefitsMallChannelOffer,
    BenefitsMallOffer,
    BenefitsMallQuotaUse,
    OfferStatus,
)

TODAY = beijing_today()
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
    assert "不勾选工会表示所属工会及其全部下级工会的会员" in page
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
        # no org ticked: the owning district and its sub-unions, not the whole city
        assert audience.describe(s, "channel", channel_id) == "朝阳区总工会及下级"
    page = client.get(edit_url).get_data(as_text=True)
    assert not re.search(r'name="audience_org" value="\d+" checked', page)


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
    r = client.get(url + "?q=体检")  # the old search URL leads to the search page
    assert r.status_code == 302 and "/offers/add?q=" in r.headers["Location"]
    page = client.get(url + "/add?q=体检").get_data(as_text=True)
    assert "职工体检套餐 8 折券" in page and "体检套餐待审核版" not in page
    offer_button = f'name="offer_id" value="{mall.coupon_offer_id}"'
    assert offer_button in page
    r = post_form(client, url + "/attach", {"offer_id": mall.coupon_offer_id, "q": "体检"},
                  form_url=url)
    assert r.status_code == 302 and "/offers/add?q=" in r.headers["Location"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已将「职工体检套餐 8 折券」加入通道" in page
    assert offer_button not in page  # attached: no longer offered to add
    assert "通道内的优惠（1 项）" in client.get(url).get_data(as_text=True)
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
    assert detail["name"] == "朝阳区职工专享" and detail["offer_count"] == 1
    assert "offers" not in detail
    offers = client.get(f"/api/v1/benefits_mall/channels/{d1}/offers", headers=m1).get_json()
    assert offers["total"] == 1 and offers["page"] == 1
    assert [o["id"] for o in offers["items"]] == [mall.coupon_offer_id]
    assert offers["items"][0]["member_price"] == "400.00"
    assert offers["items"][0]["remaining_stock"] == 100
    m2 = _bearer(mall, w.people["m2"].mobile)
    assert client.get("/api/v1/benefits_mall/channels", headers=m2).get_json()["total"] == 0
    r = client.get(f"/api/v1/benefits_mall/channels/{d1}", headers=m2)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/benefits_mall/channels/{d1}/offers",
                      headers=m2).status_code == 404
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
        assert audience.load_audience(s, "channel", women.id) == ([w.org_id("city")], [group.id])
        # every audience lies inside its owner: a district's channels stay in the district
        for c in channels:
            org_ids = audience.load_audience(s, "channel", c.id)[0]
            assert org_ids, c.name
            paths = s.scalars(select(Org.path).where(Org.id.in_(org_ids)))
            assert all(p.startswith(c.org_path) for p in paths), c.name
        m2 = Viewer.of(s, s.get(Member, w.people["m2"].member_id))
        seen = {c.name for c in s.scalars(service.open_channels(m2, service.today()))}
        assert "五一职工福利季" in seen and "海淀区科技职工健康季" in seen
        assert not any(name.startswith("朝阳区") for name in seen)
        assert any("30 个" in line for line in ctx.lines)


def test_district_channel_with_no_org_ticked_stays_in_the_district(mall):
    client = _client(mall, "chaoyang")
    r = post_form(client, NEW, _form(mall, name="朝阳区职工普惠通道"))  # no audience_org
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    channel_id = int(re.search(r"/admin/channels/(\d+)/offers$", r.headers["Location"]).group(1))
    with mall.app.app_context():
        assert audience.load_audience(db.session(), "channel", channel_id) == (
            [mall.world.org_id("d1")], [])
    m2 = _member(mall, "m2")  # under d2
    assert "朝阳区职工普惠通道" not in m2.get("/benefits_mall/channels").get_data(as_text=True)
    assert m2.get(f"/benefits_mall/channels/{channel_id}").status_code == 404
    m1 = _member(mall, "m1")  # under g1, under d1
    assert "朝阳区职工普惠通道" in m1.get("/benefits_mall/channels").get_data(as_text=True)
    assert m1.get(f"/benefits_mall/channels/{channel_id}").status_code == 200


def test_org_outside_the_owner_refused_on_the_form(mall):
    w = mall.world
    client = _client(mall, "city")
    r = post_form(client, NEW, _form(mall, audience_org=[str(w.org_id("d2"))]))
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "适用工会只能是所属工会「朝阳区总工会」或其下级工会" in page
    assert re.search(r'class="error">[^<]*海淀区总工会', page)
    assert _count_channels(mall) == 0
    # and when editing: the audience stays as it was
    channel_id = _channel(mall, officer="city", org_ids=[w.org_id("g1")])
    url = f"/benefits_mall/admin/channels/{channel_id}"
    r = post_form(client, url, _form(mall, audience_org=[str(w.org_id("d2"))]))
    assert r.status_code == 422 and "不在其中：海淀区总工会" in r.get_data(as_text=True)
    with mall.app.app_context():
        assert audience.load_audience(db.session(), "channel", channel_id) == (
            [w.org_id("g1")], [])


def test_offer_page_ignores_a_channel_not_open_to_the_member(mall):
    d1 = _channel(mall, name="朝阳专享通道", offers=(mall.coupon_offer_id,))
    url = f"/benefits_mall/offers/{mall.coupon_offer_id}?channel={d1}"
    m2 = _member(mall, "m2")  # under d2: the offer is open to all, the channel is not
    r = m2.get(url)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "职工体检套餐 8 折券" in page
    assert "朝阳专享通道" not in page and 'name="channel_id"' not in page
    anonymous = mall.app.test_client().get(url).get_data(as_text=True)
    assert "朝阳专享通道" not in anonymous
    page = _member(mall, "m1").get(url).get_data(as_text=True)
    assert "朝阳专享通道" in page
    assert f'name="channel_id" value="{d1}"' in page


def _many_offers(mall: Any, n: int) -> list[int]:
    with mall.app.app_context():
        s = db.session()
        offers = [BenefitsMallOffer(merchant_id=mall.merchant_id, category_code="medical",
                                    title=f"批量体检券 {i:02d}", valid_from=TODAY,
                                    valid_until=TODAY + timedelta(days=9),
                                    status=OfferStatus.APPROVED) for i in range(1, n + 1)]
        s.add_all(offers)
        s.commit()
        return [o.id for o in offers]


def _link(mall: Any, channel_id: int, offer_ids: list[int]) -> None:
    with mall.app.app_context():
        s = db.session()
        s.add_all(BenefitsMallChannelOffer(channel_id=channel_id, offer_id=i) for i in offer_ids)
        s.commit()


def test_admin_offers_page_is_paginated(mall):
    channel_id = _channel(mall)
    ids = _many_offers(mall, 25)
    _link(mall, channel_id, ids)
    client = _client(mall, "chaoyang")
    url = f"/benefits_mall/admin/channels/{channel_id}/offers"
    first = client.get(url).get_data(as_text=True)
    assert "通道内的优惠（25 项）" in first
    detach = f'action="/benefits_mall/admin/channels/{channel_id}/offers/detach"'
    assert first.count(detach) == 20
    assert "批量体检券 01" in first and "批量体检券 21" not in first
    assert "1 / 2" in first and "page=2" in first
    second = client.get(url + "?page=2").get_data(as_text=True)
    assert second.count('name="offer_id"') == 5
    assert "批量体检券 21" in second and "批量体检券 01" not in second
    # removing the last offer of page 2 from page 2 comes back to a page that exists
    for offer_id in ids[20:]:
        r = post_form(client, url + "/detach", {"offer_id": offer_id, "page": "2"},
                      form_url=url)
        assert r.status_code == 302
    r = client.get(r.headers["Location"])
    assert r.status_code == 302 and r.headers["Location"].endswith("page=1")
    # the search for offers to add pages on its own
    more = _many_offers(mall, 22)
    assert more
    search = client.get(url + "/add?q=批量").get_data(as_text=True)
    assert search.count(f'action="/benefits_mall/admin/channels/{channel_id}/offers/attach"') == 20
    search = client.get(url + "/add?q=批量&page=2").get_data(as_text=True)
    assert search.count(f'action="/benefits_mall/admin/channels/{channel_id}/offers/attach"') == 7


def test_member_channel_page_is_paginated(mall):
    channel_id = _channel(mall)
    _link(mall, channel_id, _many_offers(mall, 23))
    m1 = _member(mall, "m1")
    url = f"/benefits_mall/channels/{channel_id}"
    first = m1.get(url).get_data(as_text=True)
    assert first.count(f"?channel={channel_id}") == 40  # title link and button per offer
    second = m1.get(url + "?page=2").get_data(as_text=True)
    assert second.count(f"?channel={channel_id}") == 6


def test_api_channel_offers_are_paginated(mall):
    w = mall.world
    channel_id = _channel(mall)
    ids = _many_offers(mall, 25)
    _link(mall, channel_id, ids)
    client = mall.app.test_client()
    m1 = _bearer(mall, w.people["m1"].mobile)
    url = f"/api/v1/benefits_mall/channels/{channel_id}/offers"
    body = client.get(url + "?per_page=10", headers=m1).get_json()
    assert (body["total"], body["page"], body["per_page"], len(body["items"])) == (25, 1, 10, 10)
    last = client.get(url + "?per_page=10&page=3", headers=m1).get_json()
    assert len(last["items"]) == 5
    seen = {o["id"] for o in body["items"]} | {o["id"] for o in last["items"]}
    middle = client.get(url + "?per_page=10&page=2", headers=m1).get_json()
    seen |= {o["id"] for o in middle["items"]}
    assert seen == set(ids)
    assert client.get(url, headers=m1).get_json()["per_page"] == 20
    r = client.get(url + "?per_page=1000", headers=m1)
    assert r.status_code == 400
    detail = client.get(f"/api/v1/benefits_mall/channels/{channel_id}", headers=m1).get_json()
    assert detail["offer_count"] == 25
