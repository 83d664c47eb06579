"""Coupon races on a real PostgreSQL: 5,000 simultaneous claims on 1,000 coupons issue exactly
1,000; one member claiming from many devices at once gets one; two devices redeeming one
coupon at once — exactly one wins; one request retried from two threads redeems once."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from tests.benefits_mall.conftest import Mall
from tests.helpers import beijing_today
from tests.integration.test_pg_identity import race
from unionhub import db
from unionhub.db import make_engine
from unionhub.identity.models import Member
from unionhub_benefits_mall.coupons import service
from unionhub_benefits_mall.models import (
    BenefitsMallCoupon,
    BenefitsMallCouponEvent,
    BenefitsMallOffer,
    BenefitsMallQuotaUse,
    BenefitsMallStaff,
)

pytestmark = pytest.mark.integration

CLAIMANTS = 5000
STOCK = 1000
THREADS = 32


def _bulk_members(mall: Mall, n: int) -> list[int]:
    """``n`` active members in g1, inserted in one statement (minimal fields; the ID number
    columns only need to be unique here)."""
    with mall.app.app_context():
        s = db.session()
        ids = list(s.scalars(text(
            "INSERT INTO member (name, sex, id_number_enc, id_number_hash, id_number_masked, "
            "birth_date, org_id, status, created_at, updated_at) "
            "SELECT '压测会员' || g, 'M', 'race', 'race-' || g || '-' || :tag, "
            "'1101**********000X', DATE '1990-05-17', :org, 'active', now(), now() "
            "FROM generate_series(1, :n) AS g RETURNING id"),
            {"n": n, "org": mall.world.org_id("g1"), "tag": uuid.uuid4().hex[:8]}))
        s.commit()
        return ids


def _set_stock(mall: Mall, stock: int | None, limit: int | None = 1) -> None:
    with mall.app.app_context():
        s = db.session()
        offer = s.get(BenefitsMallOffer, mall.coupon_offer_id)
        assert offer is not None
        offer.stock, offer.per_member_limit = stock, limit
        s.commit()


def test_5000_claims_on_1000_coupons_issue_exactly_1000(pg_database_url, mall: Mall):
    _set_stock(mall, STOCK)
    member_ids = _bulk_members(mall, CLAIMANTS)
    outcomes: Counter[str] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)

    # One connection per thread (the app's pool holds 15: threads would queue for it).
    engine = make_engine(pg_database_url, pool_size=THREADS, max_overflow=0)
    factory = sessionmaker(bind=engine, expire_on_commit=False)

    def work(chunk: list[int]) -> None:
        local: Counter[str] = Counter()
        with mall.app.app_context(), factory() as s:
            barrier.wait()
            for member_id in chunk:
                try:
                    member = s.get(Member, member_id)
                    assert member is not None
                    service.claim(s, member, mall.coupon_offer_id)
                    s.commit()
                    local["issued"] += 1
                except service.ClaimRefused as exc:
                    s.rollback()
                    local[exc.reason] += 1
                except BaseException as exc:  # collected and asserted below
                    s.rollback()
                    with lock:
                        errors.append(exc)
        with lock:
            outcomes.update(local)

    chunks = [member_ids[i::THREADS] for i in range(THREADS)]
    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    engine.dispose()
    assert not errors, errors[:3]
    assert outcomes == {"issued": STOCK, "该券已领完": CLAIMANTS - STOCK}
    with mall.app.app_context():
        s = db.session()
        offer = s.get(BenefitsMallOffer, mall.coupon_offer_id)
        assert offer is not None and offer.issued == STOCK
        assert s.scalar(select(func.count()).select_from(BenefitsMallCoupon)) == STOCK
        assert s.scalar(select(func.count()).select_from(BenefitsMallCouponEvent).where(
            BenefitsMallCouponEvent.kind == "claimed")) == STOCK
        assert s.scalar(select(func.count(func.distinct(BenefitsMallCoupon.member_id)))) == STOCK
        assert s.scalar(select(func.count(func.distinct(BenefitsMallCoupon.code)))) == STOCK
        # the counters of refused claims were rolled back with them
        assert s.scalar(select(func.sum(BenefitsMallQuotaUse.used))) == STOCK


def test_one_member_claiming_from_eight_devices_gets_one(pg_database_url, mall: Mall):
    _set_stock(mall, None, limit=1)
    member_id = mall.world.people["m1"].member_id
    outcomes: list[Any] = []

    def work() -> None:
        s = db.session()
        member = s.get(Member, member_id)
        try:
            outcomes.append(service.claim(s, member, mall.coupon_offer_id).id)
        except service.ClaimRefused as exc:
            outcomes.append(exc.reason)
            raise

    results = race(mall.app, work, n=8)
    assert sum(r is None for r in results) == 1, results
    reasons = [o for o in outcomes if isinstance(o, str)]
    assert reasons == ["该券每人限领 1 张，您已达到上限"] * 7
    with mall.app.app_context():
        s = db.session()
        assert s.scalar(select(func.count()).select_from(BenefitsMallCoupon)) == 1
        assert s.scalar(select(BenefitsMallOffer.issued)
                        .where(BenefitsMallOffer.id == mall.coupon_offer_id)) == 1


def test_points_priced_claims_of_one_member_at_once_never_deadlock(pg_database_url, mall: Mall):
    """Each claim inserts rows referencing the member (quota use, coupon) before its points
    spend locks the member: with ``FOR UPDATE`` two such claims deadlocked. 6 claims of a
    30-point coupon on a 100-point balance: exactly 3 succeed, 10 points are left."""

    from unionhub.orgs.models import Org
    from unionhub_benefits_mall.points import service as points

    _set_stock(mall, None, limit=None)
    member_id = mall.world.people["m1"].member_id
    with mall.app.app_context():
        s = db.session()
        s.get(BenefitsMallOffer, mall.coupon_offer_id).points_price = 30
        city = s.get(Org, mall.world.orgs["city"].id)
        points.set_rule(s, city, "spring_festival", 100, 100, 100)
        points.grant(s, org=city, member_ids=[member_id], occasion="spring_festival", points=100,
                     year=beijing_today().year, account_id=None, batch_key="race")
        s.commit()

    def work() -> None:
        s = db.session()
        service.claim(s, s.get(Member, member_id), mall.coupon_offer_id)

    results = race(mall.app, work, n=6)
    failures = [r for r in results if r is not None]
    assert len(failures) == 3, results
    assert all(isinstance(r, service.ClaimRefused) for r in failures), failures
    with mall.app.app_context():
        s = db.session()
        assert points.balance(s, member_id) == 10
        assert s.scalar(select(func.count()).select_from(BenefitsMallCoupon)) == 3


def _coupons(mall: Mall, n: int) -> list[str]:
    _set_stock(mall, None, limit=None)
    with mall.app.app_context():
        s = db.session()
        member = s.get(Member, mall.world.people["m1"].member_id)
        codes = [service.claim(s, member, mall.coupon_offer_id).code for _ in range(n)]
        s.commit()
        return codes


def _redeem_in_race(mall: Mall, code: str, keys: list[str]) -> list[service.RedeemResult]:
    """Redeem ``code`` from ``len(keys)`` threads at once, one key each; the results."""
    pending = iter(keys)
    lock = threading.Lock()
    results: list[service.RedeemResult] = []

    def work() -> None:
        with lock:
            key = next(pending)
        s = db.session()
        staff = s.scalar(select(BenefitsMallStaff).where(
            BenefitsMallStaff.account_id == mall.accounts["shop_clerk"]))
        result = service.redeem(s, code, staff=staff, store_id=mall.store_ids[0],
                                idempotency_key=key)
        with lock:
            results.append(result)
        if not result.ok:
            s.rollback()

    errors = race(mall.app, work, n=len(keys))
    assert errors == [None] * len(keys), errors
    return results


def test_two_devices_redeeming_one_coupon_at_once(pg_database_url, mall: Mall):
    for code in _coupons(mall, 5):
        results = _redeem_in_race(mall, code, [str(uuid.uuid4()), str(uuid.uuid4())])
        assert sorted(r.ok for r in results) == [False, True], results
        loser = next(r for r in results if not r.ok)
        assert "已核销" in loser.reason and "朝阳店" in loser.reason
        with mall.app.app_context():
            s = db.session()
            coupon = s.scalar(select(BenefitsMallCoupon).where(BenefitsMallCoupon.code == code))
            assert coupon is not None and coupon.state == "redeemed" and coupon.version == 2
            assert s.scalar(select(func.count()).select_from(BenefitsMallCouponEvent).where(
                BenefitsMallCouponEvent.coupon_id == coupon.id,
                BenefitsMallCouponEvent.kind == "redeemed")) == 1


def test_the_same_key_from_two_threads_redeems_once(pg_database_url, mall: Mall):
    for code in _coupons(mall, 5):
        key = str(uuid.uuid4())
        results = _redeem_in_race(mall, code, [key, key])
        assert all(r.ok for r in results), results
        assert len({(r.coupon_id, r.at) for r in results}) == 1
        with mall.app.app_context():
            s = db.session()
            events = list(s.scalars(select(BenefitsMallCouponEvent).join(
                BenefitsMallCoupon, BenefitsMallCoupon.id == BenefitsMallCouponEvent.coupon_id)
                .where(BenefitsMallCoupon.code == code,
                       BenefitsMallCouponEvent.kind == "redeemed")))
            assert len(events) == 1 and events[0].idempotency_key.endswith(key)


def test_set_based_expiry_and_reminders_on_postgresql(pg_database_url, mall: Mall):
    from datetime import timedelta

    from unionhub.db import utcnow
    from unionhub.notify.models import NotifyBatch

    codes = _coupons(mall, 4)
    with mall.app.app_context():
        s = db.session()
        now = utcnow()
        rows = list(s.scalars(select(BenefitsMallCoupon).where(BenefitsMallCoupon.code.in_(codes))
                              .order_by(BenefitsMallCoupon.id)))
        rows[0].expires_at = rows[1].expires_at = now - timedelta(minutes=1)
        rows[2].expires_at = now + timedelta(days=1)
        s.commit()
        assert service.expire_due(s, now) == 2
        assert service.notify_expiring(s, now) == 1
        s.commit()
        assert service.expire_due(s, now) == 0 and service.notify_expiring(s, now) == 0
        events = list(s.execute(select(BenefitsMallCouponEvent.coupon_id,
                                       BenefitsMallCouponEvent.detail)
                                .where(BenefitsMallCouponEvent.kind == "expired")
                                .order_by(BenefitsMallCouponEvent.coupon_id)))
        assert [(cid, detail) for cid, detail in events] == [(rows[0].id, {}), (rows[1].id, {})]
        assert s.scalar(select(NotifyBatch.key).where(
            NotifyBatch.type_key == "benefits_mall.coupon_expiring")) == \
            f"coupon_expiring:{rows[2].id}"
