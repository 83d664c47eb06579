"""Fixtures for the welfare mall: the plugin enabled on the world of tests/helpers.py, one
merchant with two stores and its staff, an operator, a coupon offer and a service offer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from flask import Flask

from tests.conftest import AppFactory
from tests.helpers import PASSWORD, World, beijing_today, build_world


@dataclass
class Mall:
    app: Flask
    world: World
    merchant_id: int = 0
    store_ids: list[int] = field(default_factory=list)
    #: username → account id: "shop_manager", "shop_clerk" (this merchant's staff),
    #: "other_clerk" (the other merchant's), "operator" (role mall_operator at the city)
    accounts: dict[str, int] = field(default_factory=dict)
    coupon_offer_id: int = 0
    service_offer_id: int = 0
    other_merchant_id: int = 0


def build_mall(make_app: AppFactory) -> Mall:
    """The ``mall`` fixture (declared in tests/conftest.py so integration tests share it).
    Offers are valid from 30 days ago to 60 days ahead, approved, open to every member."""
    make_app.set_plugin("benefits_mall", True)
    app = make_app()
    with app.app_context():
        from unionhub import db
        from unionhub.identity.admin import create_account, create_officer
        from unionhub_benefits_mall import categories
        from unionhub_benefits_mall.models import (
            BenefitsMallMerchant,
            BenefitsMallOffer,
            BenefitsMallStaff,
            BenefitsMallStore,
            OfferKind,
            OfferStatus,
            StaffRole,
        )

        world = build_world()
        s = db.session()
        categories.seed(s)
        mall = Mall(app, world)
        merchant = BenefitsMallMerchant(name="康健体检中心", category_code="medical",
                                        contact_name="周经理", contact_phone="010-66668888")
        other = BenefitsMallMerchant(name="悦行旅游", category_code="travel")
        s.add_all([merchant, other])
        s.flush()
        stores = [BenefitsMallStore(merchant_id=merchant.id, name=f"{n}店", district=n)
                  for n in ("朝阳", "海淀")]
        s.add_all(stores)
        s.add(BenefitsMallStore(merchant_id=other.id, name="王府井店", district="东城"))
        s.flush()
        for username, role in (("shop_manager", StaffRole.MANAGER), ("shop_clerk", StaffRole.CLERK),
                               ("other_clerk", StaffRole.CLERK)):
            acc = create_account(s, username, username, PASSWORD)
            owner = other if username == "other_clerk" else merchant
            s.add(BenefitsMallStaff(merchant_id=owner.id, account_id=acc.id, role=role))
            mall.accounts[username] = acc.id
        op = create_officer(s, "operator", "福利平台运营", PASSWORD, "mall_operator",
                            world.orgs["city"])
        mall.accounts["operator"] = op.id
        today = beijing_today()
        common = dict(merchant_id=merchant.id, category_code="medical",
                      valid_from=today - timedelta(days=30), valid_until=today + timedelta(days=60),
                      status=OfferStatus.APPROVED)
        coupon = BenefitsMallOffer(kind=OfferKind.COUPON, title="职工体检套餐 8 折券",
                                   summary="京卡会员专享", price=Decimal("500.00"),
                                   member_price=Decimal("400.00"), subsidy=Decimal("50.00"),
                                   stock=100, per_member_limit=1, per_member_period="all",
                                   coupon_valid_days=30, **common)
        service = BenefitsMallOffer(kind=OfferKind.SERVICE, title="中医理疗专属服务",
                                    price=Decimal("300.00"), member_price=Decimal("199.00"),
                                    subsidy=Decimal("30.00"), stock=10, per_member_limit=2,
                                    per_member_period="month", booking_hold_minutes=60, **common)
        s.add_all([coupon, service])
        s.commit()
        mall.merchant_id, mall.other_merchant_id = merchant.id, other.id
        mall.store_ids = [st.id for st in stores]
        mall.coupon_offer_id, mall.service_offer_id = coupon.id, service.id
    return mall
