"""The catalogue's demo seeder: merchants across the categories, staff accounts that can sign
in, offers approved around today, proposals waiting and one rejected, targeted offers."""

from __future__ import annotations

import random
from collections import Counter

from sqlalchemy import func, select

from tests.helpers import login
from unionhub import db
from unionhub.demo import DEMO_PASSWORD, DemoContext
from unionhub.groups.service import create_group
from unionhub_benefits_mall.catalogue import demo, service
from unionhub_benefits_mall.models import (
    BenefitsMallAudience,
    BenefitsMallMerchant,
    BenefitsMallOffer,
    BenefitsMallStaff,
    BenefitsMallStore,
    OfferStatus,
)


def test_demo_catalogue(mall):
    with mall.app.app_context():  # as `unionhub demo` runs it: no request
        s = db.session()
        w = mall.world
        create_group(s, "model_worker", "劳动模范")
        ctx = DemoContext(rng=random.Random(1), orgs={o.code: s.merge(o) for o in w.orgs.values()},
                          member_ids=[p.member_id for p in w.people.values()], officers={})
        demo.seed(s, ctx)
        s.commit()
        names = [m.name for m in s.scalars(select(BenefitsMallMerchant).where(
            BenefitsMallMerchant.id > mall.other_merchant_id))]
        assert len(names) == 20
        cats = set(s.scalars(select(BenefitsMallMerchant.category_code)))
        assert len(cats) == 16
        for m in s.scalars(select(BenefitsMallMerchant).where(
                BenefitsMallMerchant.id > mall.other_merchant_id)):
            assert service.credit_code_problem(m.credit_code) is None
            assert m.settlement_account_masked and service.settlement_account(m)
        assert s.scalar(select(func.count(BenefitsMallStore.id))) >= 20 + 3
        staff = Counter(s.scalars(select(BenefitsMallStaff.role)))
        assert staff["manager"] == 21 and staff["clerk"] == 3  # with the fixture's
        today = service.today()
        seeded = select(BenefitsMallOffer).where(
            BenefitsMallOffer.merchant_id > mall.other_merchant_id)
        offers = list(s.scalars(seeded))
        by = Counter((o.status, o.kind) for o in offers)
        assert by[(OfferStatus.APPROVED, "service")] == 27
        assert by[(OfferStatus.APPROVED, "coupon")] == 40
        assert sum(n for (st, _k), n in by.items() if st == OfferStatus.PROPOSED) == 3
        assert sum(n for (st, _k), n in by.items() if st == OfferStatus.REJECTED) == 1
        assert all(o.valid_from <= today <= o.valid_until for o in offers)
        audience = list(s.scalars(select(BenefitsMallAudience).where(
            BenefitsMallAudience.owner_kind == "offer")))
        assert sum(1 for a in audience if a.org_id) == 2 and sum(1 for a in audience
                                                                  if a.group_id) == 1
        assert any("merchant_1" in line for line in ctx.lines)
        assert any("clerk_1" in line for line in ctx.lines)
    for username in ("merchant_1", "merchant_20", "clerk_1", "mall_op"):
        assert login(mall.app.test_client(), username, DEMO_PASSWORD).status_code == 302
    op = mall.app.test_client()
    login(op, "mall_op", DEMO_PASSWORD)
    html = op.get("/benefits_mall/admin/offers?status=proposed").get_data(as_text=True)
    assert html.count("data-offer=") == 3
