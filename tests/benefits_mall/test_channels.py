"""Discount channels: audiences (saving, describing, officer scope), channel validation and
quotas, bundling offers (service level, SQLite)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.helpers import beijing_today
from unionhub import db
from unionhub.audit.models import AuditLog
from unionhub.groups.service import create_group
from unionhub.identity.models import Account
from unionhub_benefits_mall.channels import audience, service
from unionhub_benefits_mall.models import (
    BenefitsMallAudience,
    BenefitsMallChannel,
    BenefitsMallChannelOffer,
    BenefitsMallOffer,
    BenefitsMallQuotaUse,
    OfferStatus,
)

TODAY = beijing_today()


def _account(mall: Any, username: str) -> Account:
    acc = db.session().get(Account, mall.world.officers.get(username)
                           or mall.accounts.get(username))
    assert acc is not None
    return acc


def _data(mall: Any, **kw: Any) -> service.ChannelData:
    values: dict[str, Any] = dict(name="五一职工福利季", org_id=mall.world.org_id("d1"),
                                  valid_from=TODAY - timedelta(days=1),
                                  valid_until=TODAY + timedelta(days=30), total_quota=100,
                                  per_member_quota=2, per_member_period="month")
    values.update(kw)
    return service.ChannelData(**values)


def _rows(kind: str, owner_id: int) -> int:
    return db.session().scalar(select(func.count()).select_from(BenefitsMallAudience).where(
        BenefitsMallAudience.owner_kind == kind, BenefitsMallAudience.owner_id == owner_id)) or 0


def test_save_load_describe_audience(mall):
    w = mall.world
    with mall.app.app_context():
        s = db.session()
        assert audience.describe(s, "channel", 4242) == "全体会员"
        group = create_group(s, "model_worker", "劳动模范")
        audience.save_audience(s, "channel", 7, [w.org_id("d1")], [group.id])
        assert audience.load_audience(s, "channel", 7) == ([w.org_id("d1")], [group.id])
        assert audience.describe(s, "channel", 7) == "朝阳区总工会及下级；劳动模范"
        row = s.scalar(select(BenefitsMallAudience).where(
            BenefitsMallAudience.owner_id == 7, BenefitsMallAudience.org_id.is_not(None)))
        assert row.org_path == w.orgs["d1"].path
        # the offer with the same id is another owner: untouched by the channel's rows
        audience.save_audience(s, "offer", 7, [w.org_id("d2")], [])
        audience.save_audience(s, "channel", 7, [w.org_id("d2"), w.org_id("d1")], [])
        assert _rows("channel", 7) == 2 and _rows("offer", 7) == 1
        assert audience.describe(s, "channel", 7) == "朝阳区总工会及下级、海淀区总工会及下级"
        assert audience.describe_many(s, "channel", [7, 8]) == {
            7: "朝阳区总工会及下级、海淀区总工会及下级", 8: "全体会员"}
        audience.save_audience(s, "channel", 7, [], [])
        assert _rows("channel", 7) == 0 and audience.describe(s, "channel", 7) == "全体会员"
        with pytest.raises(ValueError):
            audience.save_audience(s, "article", 7, [], [])


def test_audience_scope_refused(mall):
    w = mall.world
    with mall.app.app_context():
        s = db.session()
        chaoyang = _account(mall, "chaoyang")
        audience.check_targets(s, chaoyang, "channel", None, [w.org_id("d1"), w.org_id("b1")], [])
        with pytest.raises(audience.AudienceError) as err:
            audience.save_audience(s, "channel", 9, [w.org_id("g1"), w.org_id("d2")], [],
                                   account=chaoyang)
        assert "海淀区总工会" in err.value.errors["audience_org"]
        assert "电控工会" not in err.value.errors["audience_org"]
        assert _rows("channel", 9) == 0  # nothing stored
        with pytest.raises(audience.AudienceError) as err:
            audience.check_targets(s, chaoyang, "channel", None, [w.org_id("city")], [])
        assert "北京市总工会" in err.value.errors["audience_org"]
        with pytest.raises(audience.AudienceError) as err:
            audience.check_targets(s, chaoyang, "channel", None, [], [999])
        assert err.value.errors["audience_group"] == "所选会员群体不存在"
        with pytest.raises(audience.AudienceError):
            audience.check_targets(s, chaoyang, "channel", None, [99999], [])
        # an org the owner already targets (set by the city) may be kept, not added elsewhere
        audience.save_audience(s, "channel", 9, [w.org_id("d2")], [],
                               account=_account(mall, "city"))
        audience.save_audience(s, "channel", 9, [w.org_id("d2"), w.org_id("g1")], [],
                               account=chaoyang)
        assert sorted(audience.load_audience(s, "channel", 9)[0]) == sorted(
            [w.org_id("d2"), w.org_id("g1")])
        with pytest.raises(audience.AudienceError):
            audience.check_targets(s, chaoyang, "channel", 10, [w.org_id("d2")], [])
        # the member m1 holds no channel permission at all
        m1 = s.get(Account, w.people["m1"].account_id)
        with pytest.raises(audience.AudienceError):
            audience.check_targets(s, m1, "channel", None, [w.org_id("g1")], [])


def test_parse_form_and_choices(mall):
    from werkzeug.datastructures import MultiDict

    w = mall.world
    with mall.app.app_context():
        s = db.session()
        form = MultiDict([("audience_org", str(w.org_id("d1"))), ("audience_org", ""),
                          ("audience_org", str(w.org_id("d1"))), ("audience_group", "3")])
        assert audience.parse_form(form) == ([w.org_id("d1")], [3])
        with pytest.raises(audience.AudienceError) as err:
            audience.parse_form(MultiDict([("audience_org", "d1")]))
        assert "audience_org" in err.value.errors
        names = [o.name for o in audience.org_choices(s, _account(mall, "chaoyang"))]
        assert names == ["朝阳区总工会", "电控工会", "京东方分会"]  # tree order
        extra = audience.org_choices(s, _account(mall, "chaoyang"), extra_ids=[w.org_id("d2")])
        assert "海淀区总工会" in [o.name for o in extra]


def test_parse_names_every_bad_field(mall):
    with mall.app.app_context():
        with pytest.raises(service.ChannelError) as err:
            service.parse({})
        assert set(err.value.errors) == {"name", "org_id", "valid_from", "valid_until"}
        with pytest.raises(service.ChannelError) as err:
            service.parse({"name": "x" * 201, "org_id": "1", "valid_from": "2026-05-10",
                           "valid_until": "2026-05-01", "total_quota": "-3",
                           "per_member_quota": "1.5", "per_member_period": "week"})
        errors = err.value.errors
        assert "结束日期不能早于开始日期" in errors["valid_until"]
        assert "总名额应为正整数" in errors["total_quota"]
        assert "每人限额应为正整数" in errors["per_member_quota"]
        assert "限额周期" in errors["per_member_period"]
        assert "200" in errors["name"]
        with pytest.raises(service.ChannelError) as err:
            service.parse({"name": "a", "org_id": "1", "valid_from": "2026-13-01",
                           "valid_until": "2026-05-01", "total_quota": "5",
                           "per_member_quota": "6"})
        assert "格式" in err.value.errors["valid_from"]
        assert "不能大于总名额" in err.value.errors["per_member_quota"]
        data = service.parse({"name": " 女职工关爱专区 ", "org_id": "3", "valid_from": "2026-05-01",
                              "valid_until": "2026-05-01", "total_quota": "", "active": "1",
                              "requires_jingka": "on", "per_member_period": "year"})
        assert data.name == "女职工关爱专区" and data.total_quota is None
        assert data.active and data.requires_jingka and not data.requires_active_member
        assert data.per_member_period == "year"


def test_create_in_scope_only_and_audited(mall):
    w = mall.world
    with mall.app.app_context():
        s = db.session()
        chaoyang = _account(mall, "chaoyang")
        with pytest.raises(service.ChannelError) as err:
            service.create(s, chaoyang, _data(mall, org_id=w.org_id("d2"),
                                              org_ids=[w.org_id("d2")]))
        assert set(err.value.errors) == {"org_id", "audience_org"}
        assert s.scalar(select(func.count()).select_from(BenefitsMallChannel)) == 0
        channel = service.create(s, chaoyang, _data(mall, org_ids=[w.org_id("g1")]))
        s.commit()
        assert channel.org_path == w.orgs["d1"].path and channel.created_by == chaoyang.id
        assert audience.describe(s, "channel", channel.id) == "电控工会及下级"
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "benefits_mall.channel.create"))
        assert entry.target_id == str(channel.id) and entry.actor_id == chaoyang.id
        assert service.scoped_channel(s, chaoyang, channel.id) is not None
        assert service.scoped_channel(s, _account(mall, "haidian"), channel.id) is None
        assert service.scoped_channel(s, _account(mall, "city"), channel.id) is not None


def test_quota_cannot_go_below_issued(mall):
    with mall.app.app_context():
        s = db.session()
        chaoyang = _account(mall, "chaoyang")
        channel = service.create(s, chaoyang, _data(mall, total_quota=100))
        s.execute(update(BenefitsMallChannel).where(BenefitsMallChannel.id == channel.id)
                  .values(issued=5))
        s.commit()
        s.refresh(channel)
        with pytest.raises(service.ChannelError) as err:
            service.edit(s, chaoyang, channel, _data(mall, name="改名", total_quota=3))
        message = err.value.errors["total_quota"]
        assert "5" in message and "不会收回" in message
        s.rollback()
        assert s.get(BenefitsMallChannel, channel.id).name == "五一职工福利季"  # unchanged
        assert channel.total_quota == 100
        service.edit(s, chaoyang, channel, _data(mall, name="改名", total_quota=5))
        s.commit()
        assert (channel.name, channel.total_quota) == ("改名", 5)
        service.edit(s, chaoyang, channel, _data(mall, total_quota=None))  # unlimited: fine
        assert channel.total_quota is None
        entry = s.scalars(select(AuditLog).where(AuditLog.action == "benefits_mall.channel.update")
                          .order_by(AuditLog.id)).first()
        assert entry.details["changed"]["total_quota"] == [100, 5]


def test_quota_check_holds_against_a_concurrent_claim(mall):
    """The check reads ``issued`` from a stale object; the conditional UPDATE still refuses."""
    with mall.app.app_context():
        s = db.session()
        chaoyang = _account(mall, "chaoyang")
        channel = service.create(s, chaoyang, _data(mall, total_quota=100))
        s.commit()
        s.execute(update(BenefitsMallChannel).where(BenefitsMallChannel.id == channel.id)
                  .values(issued=8).execution_options(synchronize_session=False))
        assert channel.issued == 0  # what the edit's own check sees
        with pytest.raises(service.ChannelError) as err:
            service.edit(s, chaoyang, channel, _data(mall, name="改名", total_quota=6))
        assert "8" in err.value.errors["total_quota"]
        s.rollback()
        s.expire_all()
        assert s.get(BenefitsMallChannel, channel.id).total_quota == 100


def test_per_member_quota_not_below_this_periods_use(mall):
    w = mall.world
    with mall.app.app_context():
        s = db.session()
        chaoyang = _account(mall, "chaoyang")
        channel = service.create(s, chaoyang, _data(mall, per_member_quota=3))
        s.add(BenefitsMallQuotaUse(member_id=w.people["m1"].member_id,
                                   scope=f"channel:{channel.id}",
                                   period=f"{service.today():%Y-%m}", used=2))
        s.commit()
        with pytest.raises(service.ChannelError) as err:
            service.edit(s, chaoyang, channel, _data(mall, per_member_quota=1))
        assert "2" in err.value.errors["per_member_quota"]
        s.rollback()
        service.edit(s, chaoyang, channel, _data(mall, per_member_quota=2))
        # a yearly period starts a new counter: last month's use does not bind it
        service.edit(s, chaoyang, channel, _data(mall, per_member_quota=1,
                                                 per_member_period="year"))
        assert channel.per_member_quota == 1 and channel.per_member_period == "year"


def test_edit_keeps_audience_and_owner_in_scope(mall):
    w = mall.world
    with mall.app.app_context():
        s = db.session()
        chaoyang = _account(mall, "chaoyang")
        channel = service.create(s, chaoyang, _data(mall, org_ids=[w.org_id("g1")]))
        s.commit()
        with pytest.raises(service.ChannelError) as err:
            service.edit(s, chaoyang, channel, _data(mall, org_id=w.org_id("city")))
        assert "org_id" in err.value.errors
        s.rollback()
        service.edit(s, chaoyang, channel, _data(mall, org_id=w.org_id("g1"),
                                                 org_ids=[w.org_id("b1")]))
        assert channel.org_id == w.org_id("g1") and channel.org_path == w.orgs["g1"].path
        assert audience.load_audience(s, "channel", channel.id) == ([w.org_id("b1")], [])


def test_attach_only_approved_offers(mall):
    with mall.app.app_context():
        s = db.session()
        chaoyang = _account(mall, "chaoyang")
        channel = service.create(s, chaoyang, _data(mall))
        coupon = s.get(BenefitsMallOffer, mall.coupon_offer_id)
        proposed = BenefitsMallOffer(
            merchant_id=mall.merchant_id, category_code="medical", title="待审核的体检券",
            valid_from=TODAY, valid_until=TODAY + timedelta(days=9),
            status=OfferStatus.PROPOSED)
        expired = BenefitsMallOffer(
            merchant_id=mall.merchant_id, category_code="medical", title="过期的体检券",
            valid_from=TODAY - timedelta(days=30), valid_until=TODAY - timedelta(days=1),
            status=OfferStatus.APPROVED)
        s.add_all([proposed, expired])
        s.flush()
        with pytest.raises(service.ChannelError) as err:
            service.attach(s, chaoyang, channel, proposed.id)
        assert "尚未通过审核" in err.value.errors["offer_id"]
        with pytest.raises(service.ChannelError) as err:
            service.attach(s, chaoyang, channel, expired.id)
        assert "过期" in err.value.errors["offer_id"]
        with pytest.raises(service.ChannelError):
            service.attach(s, chaoyang, channel, 987654)
        service.attach(s, chaoyang, channel, coupon.id)
        with pytest.raises(service.ChannelError) as err:
            service.attach(s, chaoyang, channel, coupon.id)
        assert "已在本通道中" in err.value.errors["offer_id"]
        assert [o.id for o in s.scalars(service.channel_offers(channel.id))] == [coupon.id]
        found = {o.id for o in s.scalars(service.attachable_offers(channel.id, "", TODAY))}
        assert found == {mall.service_offer_id}  # not attached, not proposed, not expired
        assert {o.id for o in s.scalars(service.attachable_offers(channel.id, "理疗", TODAY))
                } == {mall.service_offer_id}
        assert not list(s.scalars(service.attachable_offers(channel.id, "旅游", TODAY)))
        service.detach(s, chaoyang, channel, coupon.id)
        with pytest.raises(service.ChannelError):
            service.detach(s, chaoyang, channel, coupon.id)
        assert s.scalar(select(func.count()).select_from(BenefitsMallChannelOffer)) == 0
        actions = list(s.scalars(select(AuditLog.action).where(
            AuditLog.action.like("benefits_mall.channel.offer_%")).order_by(AuditLog.id)))
        assert actions == ["benefits_mall.channel.offer_attach",
                           "benefits_mall.channel.offer_detach"]


def test_remaining_for_a_member(mall):
    w = mall.world
    with mall.app.app_context():
        s = db.session()
        chaoyang = _account(mall, "chaoyang")
        a = service.create(s, chaoyang, _data(mall, total_quota=10, per_member_quota=3))
        b = service.create(s, chaoyang, _data(mall, total_quota=None, per_member_quota=None))
        c = service.create(s, chaoyang, _data(mall, total_quota=4, per_member_quota=2,
                                              per_member_period="all"))
        a.issued, c.issued = 9, 4
        m1 = w.people["m1"].member_id
        s.add_all([BenefitsMallQuotaUse(member_id=m1, scope=f"channel:{a.id}",
                                        period=f"{TODAY:%Y-%m}", used=1),
                   BenefitsMallQuotaUse(member_id=m1, scope=f"channel:{a.id}",
                                        period="2001-01", used=3),
                   BenefitsMallQuotaUse(member_id=m1, scope=f"channel:{c.id}",
                                        period="all", used=1)])
        s.flush()
        left = service.remaining(s, m1, [a, b, c], TODAY)
        assert (left[a.id].total, left[a.id].mine, left[a.id].for_member) == (1, 2, 1)
        assert (left[b.id].total, left[b.id].mine, left[b.id].for_member) == (None, None, None)
        assert (left[c.id].total, left[c.id].mine, left[c.id].for_member) == (0, 1, 0)


def _viewer(mall: Any, key: str) -> Any:
    from unionhub.identity.models import Member
    from unionhub_benefits_mall.eligibility import Viewer

    s = db.session()
    return Viewer.of(s, s.get(Member, mall.world.people[key].member_id))


def test_no_org_picked_means_the_owning_subtree(mall):
    """A district officer's channel with no org ticked is that district's, not the city's:
    the owning org is saved as the org target, and eligibility (listing and claiming) keeps
    the other district out."""
    from unionhub_benefits_mall import eligibility

    w = mall.world
    with mall.app.app_context():
        s = db.session()
        chaoyang = _account(mall, "chaoyang")
        channel = service.create(s, chaoyang, _data(mall, name="朝阳区职工普惠"))
        service.attach(s, chaoyang, channel, mall.coupon_offer_id)
        city_wide = service.create(s, _account(mall, "city"),
                                   _data(mall, name="全市通道", org_id=w.org_id("city")))
        s.commit()
        assert audience.load_audience(s, "channel", channel.id) == ([w.org_id("d1")], [])
        assert audience.describe(s, "channel", channel.id) == "朝阳区总工会及下级"
        assert audience.load_audience(s, "channel", city_wide.id) == ([w.org_id("city")], [])
        m1, m2 = _viewer(mall, "m1"), _viewer(mall, "m2")  # m1 under d1, m2 under d2
        assert service.open_channel(s, m2, channel.id, TODAY) is None
        assert service.open_channel(s, m1, channel.id, TODAY) is not None
        assert [c.name for c in s.scalars(service.open_channels(m2, TODAY))] == ["全市通道"]
        assert {c.name for c in s.scalars(service.open_channels(m1, TODAY))} == {
            "朝阳区职工普惠", "全市通道"}
        # the claim-time re-check reads the saved audience too
        offer = s.get(BenefitsMallOffer, mall.coupon_offer_id)
        why = eligibility.refusal(s, m2, offer, TODAY, channel)
        assert why == "该优惠通道仅面向指定工会或会员群体"
        assert eligibility.refusal(s, m1, offer, TODAY, channel) is None
        entry = s.scalar(select(AuditLog).where(AuditLog.action == "benefits_mall.channel.create",
                                                AuditLog.target_id == str(channel.id)))
        assert entry.details["org_ids"] == [w.org_id("d1")]
        # the form shows the default as no org ticked; moving the owner moves the default
        assert service.form_values(channel, [w.org_id("d1")], [])["org_ids"] == []
        service.edit(s, chaoyang, channel, _data(mall, name="电控职工普惠",
                                                 org_id=w.org_id("g1")))
        assert audience.load_audience(s, "channel", channel.id) == ([w.org_id("g1")], [])


def test_groups_narrow_within_the_owning_subtree(mall):
    w = mall.world
    with mall.app.app_context():
        s = db.session()
        group = create_group(s, "model_worker", "劳动模范")
        from unionhub.groups.service import add_members

        add_members(s, group, [w.people["m1"].member_id, w.people["m2"].member_id])
        channel = service.create(s, _account(mall, "chaoyang"),
                                 _data(mall, name="朝阳劳模专享", group_ids=[group.id]))
        s.commit()
        assert audience.load_audience(s, "channel", channel.id) == ([w.org_id("d1")], [group.id])
        assert audience.describe(s, "channel", channel.id) == "朝阳区总工会及下级；劳动模范"
        assert service.open_channel(s, _viewer(mall, "m1"), channel.id, TODAY) is not None
        # m2 is in the group but outside the district; m3 is in the district, not the group
        assert service.open_channel(s, _viewer(mall, "m2"), channel.id, TODAY) is None
        assert service.open_channel(s, _viewer(mall, "m3"), channel.id, TODAY) is None


def test_orgs_outside_the_owning_subtree_refused(mall):
    w = mall.world
    with mall.app.app_context():
        s = db.session()
        city = _account(mall, "city")
        # in the city officer's scope, but not under the owning district
        with pytest.raises(service.ChannelError) as err:
            service.create(s, city, _data(mall, org_ids=[w.org_id("g1"), w.org_id("d2")]))
        message = err.value.errors["audience_org"]
        assert "朝阳区总工会" in message and "海淀区总工会" in message
        assert "电控工会" not in message
        assert set(err.value.errors) == {"audience_org"}
        s.rollback()
        assert s.scalar(select(func.count()).select_from(BenefitsMallChannel)) == 0
        assert _rows("channel", 1) == 0
        # a district officer: d1 is in scope but above the grassroots owner g1
        chaoyang = _account(mall, "chaoyang")
        with pytest.raises(service.ChannelError) as err:
            service.create(s, chaoyang, _data(mall, org_id=w.org_id("g1"),
                                              org_ids=[w.org_id("d1")]))
        assert "电控工会" in err.value.errors["audience_org"]
        s.rollback()
        channel = service.create(s, chaoyang, _data(mall, org_id=w.org_id("g1"),
                                                    org_ids=[w.org_id("g1"), w.org_id("b1")]))
        s.commit()
        # moving the owner away from the audience it targets is refused, nothing changes
        with pytest.raises(service.ChannelError) as err:
            service.edit(s, city, channel, _data(mall, org_id=w.org_id("d2"),
                                                 org_ids=[w.org_id("b1")]))
        assert "海淀区总工会" in err.value.errors["audience_org"]
        s.rollback()
        s.expire_all()
        assert s.get(BenefitsMallChannel, channel.id).org_id == w.org_id("g1")
        assert sorted(audience.load_audience(s, "channel", channel.id)[0]) == sorted(
            [w.org_id("g1"), w.org_id("b1")])


def test_channel_without_audience_rows_stays_in_its_owner(mall):
    """Rows saved before the owner rule (no org target at all) still do not open a district's
    channel to the whole city on the member pages."""
    with mall.app.app_context():
        s = db.session()
        channel = service.create(s, _account(mall, "chaoyang"), _data(mall))
        audience.save_audience(s, "channel", channel.id, [], [])
        s.commit()
        assert audience.describe(s, "channel", channel.id) == "全体会员"
        assert service.open_channel(s, _viewer(mall, "m2"), channel.id, TODAY) is None
        assert not list(s.scalars(service.open_channels(_viewer(mall, "m2"), TODAY)))
        assert service.open_channel(s, _viewer(mall, "m3"), channel.id, TODAY) is not None


def test_claims_by_offer_for_a_page(mall):
    from unionhub_benefits_mall.models import BenefitsMallCoupon

    w = mall.world
    with mall.app.app_context():
        s = db.session()
        channel = service.create(s, _account(mall, "chaoyang"), _data(mall))
        expires = datetime.now(UTC) + timedelta(days=9)
        for i, offer_id in enumerate((mall.coupon_offer_id, mall.coupon_offer_id,
                                      mall.service_offer_id)):
            s.add(BenefitsMallCoupon(offer_id=offer_id, merchant_id=mall.merchant_id,
                                     member_id=w.people["m1"].member_id, channel_id=channel.id,
                                     org_path=w.orgs["g1"].path, code=f"TESTCODE{i}",
                                     expires_at=expires))
        s.flush()
        everything = service.claims_by_offer(s, channel.id)
        assert everything == {mall.coupon_offer_id: 2, mall.service_offer_id: 1}
        assert service.claims_by_offer(s, channel.id, [mall.service_offer_id]) == {
            mall.service_offer_id: 1}
        assert service.claims_by_offer(s, channel.id, []) == {}
