"""The audience rule as SQL (listings) and as a refusal (claiming)."""

from __future__ import annotations

from sqlalchemy import select

from tests.helpers import beijing_today
from unionhub import db
from unionhub.groups.service import add_members, create_group
from unionhub.identity.models import Member, MemberStatus
from unionhub_benefits_mall import eligibility
from unionhub_benefits_mall.models import BenefitsMallAudience, BenefitsMallOffer


def _visible(viewer: eligibility.Viewer | None) -> set[int]:
    s = db.session()
    return set(s.scalars(select(BenefitsMallOffer.id)
                         .where(eligibility.offer_clause(viewer, beijing_today()))))


def test_org_and_group_audience(mall):
    w = mall.world
    with mall.app.app_context():
        s = db.session()
        offer_id = mall.coupon_offer_id
        m1, m2 = (s.get(Member, w.people[k].member_id) for k in ("m1", "m2"))
        v1, v2 = eligibility.Viewer.of(s, m1), eligibility.Viewer.of(s, m2)
        assert offer_id in _visible(v1) and offer_id in _visible(v2) and offer_id in _visible(None)
        s.add(BenefitsMallAudience(owner_kind="offer", owner_id=offer_id,
                                   org_id=w.orgs["d1"].id, org_path=w.orgs["d1"].path))
        s.flush()
        assert offer_id in _visible(v1)
        assert offer_id not in _visible(v2) and offer_id not in _visible(None)
        offer = s.get(BenefitsMallOffer, offer_id)
        refused = eligibility.refusal(s, v2, offer, beijing_today())
        assert refused == "该优惠仅面向指定工会或会员群体"
        assert eligibility.refusal(s, v1, offer, beijing_today()) is None

        group = create_group(s, "model_worker", "劳动模范")
        s.add(BenefitsMallAudience(owner_kind="offer", owner_id=offer_id, group_id=group.id))
        s.flush()
        assert offer_id not in _visible(eligibility.Viewer.of(s, m1))  # district ok, group not
        add_members(s, group, [m1.id, m2.id])
        assert offer_id in _visible(eligibility.Viewer.of(s, m1))
        assert offer_id not in _visible(eligibility.Viewer.of(s, m2))  # group ok, district not


def test_inactive_member_and_jingka_rule(mall):
    w = mall.world
    with mall.app.app_context():
        s = db.session()
        m1 = s.get(Member, w.people["m1"].member_id)
        offer = s.get(BenefitsMallOffer, mall.coupon_offer_id)
        offer.requires_jingka = True
        m1.status = MemberStatus.LEFT
        s.flush()
        v = eligibility.Viewer.of(s, m1)
        assert eligibility.refusal(s, v, offer, beijing_today()) == "仅限在册会员领取"
        assert offer.id not in _visible(v)


def test_a_channel_is_for_its_owning_unions_subtree_even_without_audience_rows(mall):
    from datetime import timedelta

    from unionhub_benefits_mall.models import BenefitsMallChannel, BenefitsMallChannelOffer

    w = mall.world
    with mall.app.app_context():
        s = db.session()
        today = beijing_today()
        d1 = w.orgs["d1"]
        channel = BenefitsMallChannel(name="朝阳专区", org_id=d1.id, org_path=d1.path,
                                      valid_from=today - timedelta(days=1),
                                      valid_until=today + timedelta(days=9))
        s.add(channel)
        s.flush()
        s.add(BenefitsMallChannelOffer(channel_id=channel.id, offer_id=mall.coupon_offer_id))
        s.flush()
        offer = s.get(BenefitsMallOffer, mall.coupon_offer_id)
        m1, m2 = (s.get(Member, w.people[k].member_id) for k in ("m1", "m2"))
        v1, v2 = eligibility.Viewer.of(s, m1), eligibility.Viewer.of(s, m2)
        open_to = {v: set(s.scalars(select(BenefitsMallChannel.id)
                                    .where(eligibility.channel_clause(v, today))))
                   for v in (v1, v2)}
        assert channel.id in open_to[v1] and channel.id not in open_to[v2]
        assert eligibility.refusal(s, v1, offer, today, channel) is None
        why = eligibility.refusal(s, v2, offer, today, channel)
        assert why == "该优惠通道仅面向指定工会或会员群体"
