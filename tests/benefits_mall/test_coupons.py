"""Coupons on SQLite: codes, claiming under stock, per-member and channel limits, eligibility at
claim time, redemption refusals, idempotent retries, the undo window, expiry and reminders,
giving a coupon back, and the append-only event log."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from tests.benefits_mall.conftest import Mall
from unionhub import db
from unionhub.db import utcnow
from unionhub.identity.models import Member
from unionhub_benefits_mall import quota
from unionhub_benefits_mall.coupons import codes, service
from unionhub_benefits_mall.models import (
    BenefitsMallAudience,
    BenefitsMallChannel,
    BenefitsMallChannelOffer,
    BenefitsMallCoupon,
    BenefitsMallCouponEvent,
    BenefitsMallOffer,
    BenefitsMallOfferStore,
    BenefitsMallQuotaUse,
    BenefitsMallStaff,
    CouponState,
)


def _member(mall: Mall, key: str) -> Member:
    m = db.session().get(Member, mall.world.people[key].member_id)
    assert m is not None
    return m


def _staff(mall: Mall, username: str = "shop_clerk") -> BenefitsMallStaff:
    staff = db.session().scalar(select(BenefitsMallStaff).where(
        BenefitsMallStaff.account_id == mall.accounts[username]))
    assert staff is not None
    return staff


def _offer(mall: Mall) -> BenefitsMallOffer:
    offer = db.session().get(BenefitsMallOffer, mall.coupon_offer_id)
    assert offer is not None
    return offer


def _claim(mall: Mall, key: str, **kw) -> BenefitsMallCoupon:
    s = db.session()
    coupon = service.claim(s, _member(mall, key), mall.coupon_offer_id, **kw)
    s.commit()
    return coupon


def _refused(mall: Mall, key: str, offer_id: int | None = None, **kw) -> str:
    s = db.session()
    with pytest.raises(service.ClaimRefused) as exc:
        service.claim(s, _member(mall, key), offer_id or mall.coupon_offer_id, **kw)
    s.rollback()
    return exc.value.reason


def _count(model, *where) -> int:
    return int(db.session().scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _events(coupon_id: int | None = None) -> list[str]:
    e = BenefitsMallCouponEvent
    stmt = select(e.kind).order_by(e.id)
    if coupon_id is not None:
        stmt = stmt.where(e.coupon_id == coupon_id)
    return list(db.session().scalars(stmt))


def _redeem(mall: Mall, code: str, key: str, *, username: str = "shop_clerk",
            store: int = 0, now: datetime | None = None) -> service.RedeemResult:
    s = db.session()
    result = service.redeem(s, code, staff=_staff(mall, username),
                            store_id=mall.store_ids[store], idempotency_key=key, now=now)
    if result.ok:
        s.commit()
    else:
        s.rollback()
    return result


def _wide_validity(offer: BenefitsMallOffer) -> None:
    offer.valid_from, offer.valid_until = date(2020, 1, 1), date(2035, 12, 31)


# --- codes ------------------------------------------------------------------------------------


def test_codes_are_random_checked_and_forgiving():
    seen = {codes.generate() for _ in range(500)}
    assert len(seen) == 500
    code = next(iter(seen))
    assert len(code) == 17 and codes.is_valid(code)
    shown = codes.display(code)
    assert shown.count("-") == 4 and [len(g) for g in shown.split("-")] == [4, 4, 4, 4, 1]
    assert codes.normalize(shown.lower()) == code
    assert codes.normalize(" " + " ".join(shown.split("-")) + " ") == code
    confusable = code.replace("0", "O").replace("1", "l")
    assert codes.normalize(confusable) == code
    # Every single mistyped symbol is caught by the check symbol, at every position.
    for i, ch in enumerate(code):
        for other in codes.ALPHABET:
            if other != ch:
                assert not codes.is_valid(code[:i] + other + code[i + 1:])
    with pytest.raises(codes.CodeError, match="校验"):
        codes.normalize(code[:3] + ("A" if code[3] != "A" else "B") + code[4:])
    with pytest.raises(codes.CodeError, match="17 位"):
        codes.normalize(code[:-2])
    with pytest.raises(codes.CodeError, match="无效字符"):
        codes.normalize(code[:-1] + "U")
    with pytest.raises(codes.CodeError, match="请输入"):
        codes.normalize(" - ")
    svg = str(codes.qr_svg(code, title="<x>"))
    assert svg.startswith("<svg") and "&lt;x&gt;" in svg


# --- claiming ---------------------------------------------------------------------------------


def test_claim_issues_a_coupon_with_its_event_and_counters(mall: Mall):
    with mall.app.app_context():
        coupon = _claim(mall, "m1", account_id=mall.world.people["m1"].account_id)
        s = db.session()
        offer = _offer(mall)
        assert coupon.state == CouponState.ISSUED and codes.is_valid(coupon.code)
        assert coupon.merchant_id == mall.merchant_id and coupon.org_path
        assert offer.issued == 1
        assert coupon.expires_at - coupon.claimed_at == timedelta(days=30)
        assert _events(coupon.id) == ["claimed"]
        use = s.get(BenefitsMallQuotaUse, (coupon.member_id, f"offer:{offer.id}", "all"))
        assert use is not None and use.used == 1
        # one coupon per member (period "all")
        assert _refused(mall, "m1") == "该券每人限领 1 张，您已达到上限"
        assert _offer(mall).issued == 1 and _count(BenefitsMallCoupon) == 1


def test_expiry_never_passes_the_end_of_the_offers_last_day(mall: Mall):
    with mall.app.app_context():
        offer = _offer(mall)
        offer.valid_until = service.local_date(utcnow()) + timedelta(days=2)
        db.session().commit()
        coupon = _claim(mall, "m1")
        end = service.day_start(offer.valid_until + timedelta(days=1))
        assert coupon.expires_at == end
        assert end.astimezone(service.CHINA).strftime("%H:%M") == "00:00"


def test_stock_runs_out(mall: Mall):
    with mall.app.app_context():
        _offer(mall).stock = 2
        db.session().commit()
        _claim(mall, "m1")
        _claim(mall, "m2")
        assert _refused(mall, "m3") == "该券已领完"
        assert _offer(mall).issued == 2
        assert _count(BenefitsMallCoupon) == 2 and _events().count("claimed") == 2


def test_the_stock_update_decides_even_when_the_read_was_stale(mall: Mall):
    """The early refusal only spares work; the conditional UPDATE is what holds the line."""
    with mall.app.app_context():
        s = db.session()
        offer = _offer(mall)
        offer.stock, offer.issued = 1, 1
        s.commit()
        assert not quota.hold(s, BenefitsMallOffer, offer.id)
        offer.stock = None
        s.commit()
        assert quota.hold(s, BenefitsMallOffer, offer.id)
        s.rollback()
        m1 = mall.world.people["m1"].member_id
        assert quota.take_quota(s, m1, "offer:x", "all", 2)
        assert quota.take_quota(s, m1, "offer:x", "all", 2)
        assert not quota.take_quota(s, m1, "offer:x", "all", 2)
        assert quota.release_quota(s, m1, "offer:x", "all")
        assert quota.take_quota(s, m1, "offer:x", "all", 2)
        assert not quota.take_quota(s, m1, "offer:y", "all", 0)
        s.rollback()


def test_limit_per_month_follows_shanghai_days(mall: Mall):
    with mall.app.app_context():
        offer = _offer(mall)
        _wide_validity(offer)
        offer.per_member_limit, offer.per_member_period = 1, "month"
        db.session().commit()
        # 2026-03-31 23:00 in Beijing
        with time_machine.travel(datetime(2026, 3, 31, 15, 0, tzinfo=UTC), tick=False):
            _claim(mall, "m1")
            assert _refused(mall, "m1") == "该券每人每月限领 1 张，您已达到上限"
        # 2026-04-01 00:30 in Beijing, still March 31 in UTC: a new month
        with time_machine.travel(datetime(2026, 3, 31, 16, 30, tzinfo=UTC), tick=False):
            _claim(mall, "m1")
            assert _refused(mall, "m1").startswith("该券每人每月限领")
        with time_machine.travel(datetime(2026, 5, 10, 2, 0, tzinfo=UTC), tick=False):
            _claim(mall, "m1")
        periods = sorted(db.session().scalars(select(BenefitsMallQuotaUse.period)))
        assert periods == ["2026-03", "2026-04", "2026-05"]
        assert _offer(mall).issued == 3


def _channel(mall: Mall, **kw) -> BenefitsMallChannel:
    s = db.session()
    city = mall.world.orgs["city"]
    today = service.local_date(utcnow())
    values = dict(name="春节专享通道", org_id=city.id, org_path=city.path,
                  valid_from=today - timedelta(days=1), valid_until=today + timedelta(days=30),
                  total_quota=2, per_member_quota=1, per_member_period="month",
                  requires_jingka=False)
    values.update(kw)
    channel = BenefitsMallChannel(**values)
    s.add(channel)
    s.flush()
    s.add(BenefitsMallChannelOffer(channel_id=channel.id, offer_id=mall.coupon_offer_id))
    s.commit()
    return channel


def test_channel_quotas(mall: Mall):
    with mall.app.app_context():
        _offer(mall).per_member_limit = 5
        channel = _channel(mall)
        first = _claim(mall, "m1", channel_id=channel.id)
        assert first.channel_id == channel.id
        assert _refused(mall, "m1", channel_id=channel.id) == \
            "该优惠通道每人每月限领 1 张，您已达到上限"
        _claim(mall, "m1")  # outside the channel, the offer's own limit (5) applies
        _claim(mall, "m2", channel_id=channel.id)
        assert _refused(mall, "m3", channel_id=channel.id) == "该优惠通道名额已用完"
        s = db.session()
        s.refresh(channel)
        assert channel.issued == 2 and _offer(mall).issued == 3
        assert _count(BenefitsMallCoupon, BenefitsMallCoupon.channel_id == channel.id) == 2
        other = _channel(mall, name="另一通道")
        s.execute(BenefitsMallChannelOffer.__table__.delete().where(
            BenefitsMallChannelOffer.channel_id == other.id))
        s.commit()
        assert _refused(mall, "m3", channel_id=other.id) == "该优惠不属于这个优惠通道"
        assert _refused(mall, "m3", channel_id=999999) == "没有这个优惠通道"


def test_eligibility_is_checked_again_when_claiming(mall: Mall):
    with mall.app.app_context():
        s = db.session()
        d1 = mall.world.orgs["d1"]
        s.add(BenefitsMallAudience(owner_kind="offer", owner_id=mall.coupon_offer_id,
                                   org_id=d1.id, org_path=d1.path))
        s.commit()
        assert _refused(mall, "m2") == "该优惠仅面向指定工会或会员群体"
        _claim(mall, "m1")  # g1 lies under d1
        assert _refused(mall, "m1", offer_id=mall.service_offer_id).startswith("该优惠为预约服务")
        assert _refused(mall, "m1", offer_id=999999) == "没有这项优惠"
        offer = _offer(mall)
        offer.status = "offline"
        s.commit()
        assert _refused(mall, "m3") == "该优惠未上架"
        assert _count(BenefitsMallCoupon) == 1 and _offer(mall).issued == 1


def test_a_refused_claim_leaves_no_trace_after_rollback(mall: Mall):
    """The member's counter is raised before the stock is tried: the rollback undoes it."""
    with mall.app.app_context():
        s = db.session()
        offer = _offer(mall)
        offer.stock, offer.issued = 5, 5
        s.commit()
        assert _refused(mall, "m1") == "该券已领完"
        assert _count(BenefitsMallQuotaUse) == 0 and _count(BenefitsMallCouponEvent) == 0


def test_claim_with_idempotency_key_returns_the_first_coupon(mall: Mall):
    with mall.app.app_context():
        _offer(mall).per_member_limit = 3
        db.session().commit()
        first = _claim(mall, "m1", idempotency_key="app-req-1")
        again = _claim(mall, "m1", idempotency_key="app-req-1")
        assert again.id == first.id and _offer(mall).issued == 1
        other = _claim(mall, "m1", idempotency_key="app-req-2")
        assert other.id != first.id
        # another member's identical key is theirs alone
        theirs = _claim(mall, "m2", idempotency_key="app-req-1")
        assert theirs.member_id != first.member_id
        with pytest.raises(service.InvalidKey):
            service.claim(db.session(), _member(mall, "m1"), mall.coupon_offer_id,
                          idempotency_key="x" * 65)
        db.session().rollback()


# --- redemption -------------------------------------------------------------------------------


def test_redemption_refusals_each_with_its_reason(mall: Mall):
    with mall.app.app_context():
        s = db.session()
        _offer(mall).per_member_limit = 5
        s.commit()
        coupon = _claim(mall, "m1")
        code = codes.display(coupon.code)
        unknown = codes.generate()
        assert _redeem(mall, unknown, "k0").reason == "没有这张券，请核对券码"
        typo = coupon.code[:5] + ("Z" if coupon.code[5] != "Z" else "Y") + coupon.code[6:]
        assert "校验不符" in _redeem(mall, typo, "k1").reason
        assert _redeem(mall, code, "k2", username="other_clerk").reason == "该券不属于本商户"
        other_store = s.scalar(select(BenefitsMallStaff.merchant_id).where(
            BenefitsMallStaff.account_id == mall.accounts["other_clerk"]))
        assert other_store == mall.other_merchant_id
        refused = service.redeem(s, code, staff=_staff(mall), store_id=999999,
                                 idempotency_key="k3")
        assert refused.reason == "请选择本商户的门店"
        s.rollback()
        s.add(BenefitsMallOfferStore(offer_id=mall.coupon_offer_id, store_id=mall.store_ids[0]))
        s.commit()
        assert _redeem(mall, code, "k4", store=1).reason == \
            "该券不能在海淀店使用（适用门店：朝阳店）"

        ok = _redeem(mall, code, "k5", store=0)
        assert ok.ok and ok.store_name == "朝阳店" and ok.amount == Decimal("50.00")
        again = _redeem(mall, code, "k6", store=0)
        assert not again.ok and again.reason.startswith("该券已核销（")
        assert "于朝阳店" in again.reason and again.offer_title == "职工体检套餐 8 折券"

        expired = _claim(mall, "m1")
        expired.expires_at = utcnow() - timedelta(minutes=1)
        s.commit()
        assert _redeem(mall, expired.code, "k7").reason.startswith("该券已过期（有效期至")

        given_back = _claim(mall, "m1")
        service.cancel(s, given_back.id, _member(mall, "m1"))
        s.commit()
        assert _redeem(mall, given_back.code, "k8").reason == "该券已由会员退还，已作废"
        assert _events(coupon.id) == ["claimed", "redeemed"]
        assert _events().count("redeemed") == 1


def test_a_retry_with_the_same_key_redeems_once(mall: Mall):
    with mall.app.app_context():
        _offer(mall).per_member_limit = 5
        db.session().commit()
        first_coupon = _claim(mall, "m1")
        second_coupon = _claim(mall, "m1")
        first = _redeem(mall, first_coupon.code, "device-1-req-9")
        retry = _redeem(mall, first_coupon.code, "device-1-req-9")
        assert first.ok and retry.ok and retry.replayed and not first.replayed
        assert (retry.coupon_id, retry.at, retry.amount) == (first.coupon_id, first.at,
                                                             first.amount)
        # the same key sent with another code is refused: reporting the first outcome would
        # tell the clerk that the second coupon was redeemed
        mixed = _redeem(mall, second_coupon.code, "device-1-req-9")
        assert not mixed.ok and mixed.reason == "该请求编号已用于另一张券，请刷新页面后重新操作"
        s = db.session()
        s.refresh(second_coupon)
        assert second_coupon.state == CouponState.ISSUED
        assert _events().count("redeemed") == 1
        # another merchant's identical key is not ours
        other = _redeem(mall, first_coupon.code, "device-1-req-9", username="other_clerk")
        assert not other.ok and other.reason == "该券不属于本商户"


def test_undo_only_within_the_window_and_only_by_the_merchant(mall: Mall):
    with mall.app.app_context():
        _offer(mall).per_member_limit = 5
        db.session().commit()
        coupon = _claim(mall, "m1")
        t0 = utcnow()
        s = db.session()
        assert _redeem(mall, coupon.code, "r1", now=t0).ok
        outsider = service.undo(s, coupon.id, staff=_staff(mall, "other_clerk"),
                                idempotency_key="u0", now=t0 + timedelta(minutes=1))
        assert not outsider.ok and outsider.reason == "该券不属于本商户"
        s.rollback()
        undone = service.undo(s, coupon.id, staff=_staff(mall, "shop_manager"),
                              idempotency_key="u1", now=t0 + timedelta(minutes=29))
        s.commit()
        assert undone.ok and undone.kind == "undone" and undone.amount == Decimal("-50.00")
        s.refresh(coupon)
        assert coupon.state == CouponState.ISSUED and coupon.redeemed_at is None
        assert coupon.version == 3
        replay = service.undo(s, coupon.id, staff=_staff(mall), idempotency_key="u1")
        assert replay.ok and replay.replayed
        not_redeemed = service.undo(s, coupon.id, staff=_staff(mall), idempotency_key="u2")
        assert not not_redeemed.ok and "不是已核销状态" in not_redeemed.reason
        s.rollback()

        t1 = t0 + timedelta(hours=1)
        assert _redeem(mall, coupon.code, "r2", now=t1).ok
        late = service.undo(s, coupon.id, staff=_staff(mall), idempotency_key="u3",
                            now=t1 + timedelta(minutes=31))
        assert not late.ok and late.reason.startswith("已超过撤销时限：核销后 30 分钟内可撤销")
        s.rollback()
        from unionhub.settings import service as settings

        settings.put("benefits_mall.redeem_undo_minutes", "45")
        s.commit()
        assert service.undo(s, coupon.id, staff=_staff(mall), idempotency_key="u4",
                            now=t1 + timedelta(minutes=31)).ok
        s.commit()
        amounts = list(s.scalars(select(BenefitsMallCouponEvent.amount).where(
            BenefitsMallCouponEvent.coupon_id == coupon.id).order_by(BenefitsMallCouponEvent.id)))
        assert amounts == [Decimal("0.00"), Decimal("50.00"), Decimal("-50.00"),
                           Decimal("50.00"), Decimal("-50.00")]
        assert sum(amounts) == 0


# --- expiry and reminders ---------------------------------------------------------------------


def test_expiry_and_reminders(mall: Mall):
    from unionhub.notify.models import Notification, NotifyBatch

    with mall.app.app_context():
        s = db.session()
        _offer(mall).per_member_limit = 5
        s.commit()
        due = _claim(mall, "m1")
        soon = _claim(mall, "m2")
        later = _claim(mall, "m3")
        now = utcnow()
        due.expires_at = now - timedelta(seconds=1)
        soon.expires_at = now + timedelta(days=2)
        s.commit()
        assert service.expire_due(s, now) == 1
        assert service.expire_due(s, now) == 0
        s.commit()
        for c in (due, soon, later):
            s.refresh(c)
        assert (due.state, soon.state, later.state) == ("expired", "issued", "issued")
        assert due.version == 2 and _events(due.id) == ["claimed", "expired"]
        assert _offer(mall).issued == 3  # stock counts issued coupons: nothing released
        assert service.notify_expiring(s, now) == 1
        s.commit()
        assert service.notify_expiring(s, now) == 0
        s.commit()
        batch = s.scalar(select(NotifyBatch).where(
            NotifyBatch.type_key == "benefits_mall.coupon_expiring"))
        assert batch is not None and batch.key == f"coupon_expiring:{soon.id}"
        note = s.scalar(select(Notification).where(Notification.batch_id == batch.id))
        assert note is not None and note.member_id == soon.member_id
        assert note.url == f"/benefits_mall/my/coupons/{soon.id}"
        assert "职工体检套餐 8 折券" in note.body
        assert all(len(v) <= 20 for v in batch.message["wechat_fields"].values())


def test_expiry_job_on_its_beat(mall: Mall):
    from unionhub.jobs import service as jobs
    from unionhub.jobs.models import Job

    with mall.app.app_context():
        reg = jobs.registry()
        assert "benefits_mall.coupons_expire" in reg.specs
        _plugin, entry = reg.beat["benefits_mall.coupons_expire"]
        assert entry.every == 900 and entry.job == "benefits_mall.coupons_expire"
        coupon = _claim(mall, "m1")
        coupon.expires_at = utcnow() - timedelta(minutes=5)
        s = db.session()
        job = jobs.submit("benefits_mall.coupons_expire", {}, session=s)
        s.commit()
        mall.app.extensions["jobs_transport"].drain()
        s.expire_all()
        done = s.get(Job, job.id)
        assert done is not None and done.status == "succeeded", done.error
        assert done.result == {"expired": 1, "notified": 0}
        assert s.get(BenefitsMallCoupon, coupon.id).state == "expired"


# --- giving back ------------------------------------------------------------------------------


def test_cancel_releases_stock_quota_and_channel(mall: Mall):
    with mall.app.app_context():
        s = db.session()
        offer = _offer(mall)
        offer.stock = 1
        channel = _channel(mall, total_quota=1)
        m1 = _member(mall, "m1")
        coupon = _claim(mall, "m1", channel_id=channel.id)
        assert _refused(mall, "m2") == "该券已领完"
        service.cancel(s, coupon.id, m1)
        s.commit()
        s.refresh(channel)
        assert coupon.state == CouponState.CANCELLED and _offer(mall).issued == 0
        assert channel.issued == 0
        uses = {scope: used for scope, used in s.execute(
            select(BenefitsMallQuotaUse.scope, BenefitsMallQuotaUse.used))}
        assert uses == {f"offer:{offer.id}": 0, f"channel:{channel.id}": 0}
        with pytest.raises(service.CouponError, match="已由会员退还"):
            service.cancel(s, coupon.id, m1)
        s.rollback()
        with pytest.raises(service.CouponError, match="没有这张券"):
            service.cancel(s, coupon.id, _member(mall, "m2"))
        s.rollback()
        again = _claim(mall, "m1", channel_id=channel.id)  # the limits were released
        assert _redeem(mall, again.code, "r1").ok
        with pytest.raises(service.CouponError, match="已核销"):
            service.cancel(s, again.id, m1)
        s.rollback()
        assert _events(coupon.id) == ["claimed", "cancelled"]


def test_points_are_spent_on_claim_and_refunded_on_cancel(mall: Mall):
    """Uses the points feature's ``spend``/``refund`` (the ledger is the sum of entries)."""
    from unionhub_benefits_mall.models import BenefitsMallPointsEntry
    from unionhub_benefits_mall.points import service as points

    with mall.app.app_context():
        s = db.session()
        offer = _offer(mall)
        offer.points_price = 30
        s.commit()
        m1 = _member(mall, "m1")
        assert "积分" in _refused(mall, "m1")
        year = service.local_date(utcnow()).year
        s.add(BenefitsMallPointsEntry(member_id=m1.id, kind="grant", points=50,
                                      occasion="festival", year=year, org_path=m1.org.path,
                                      expires_on=date(year + 1, 12, 31),
                                      batch_key="test-grant"))
        s.commit()
        coupon = _claim(mall, "m1")
        assert coupon.points_spent == 30
        assert points.balance(s, m1.id) == 20
        service.cancel(s, coupon.id, m1)
        s.commit()
        assert points.balance(s, m1.id) == 50
        kinds = sorted(s.scalars(select(BenefitsMallPointsEntry.kind).where(
            BenefitsMallPointsEntry.member_id == m1.id)))
        assert kinds == ["grant", "refund", "spend"]


# --- the log ----------------------------------------------------------------------------------


def test_events_are_append_only(mall: Mall):
    with mall.app.app_context():
        s = db.session()
        _offer(mall).per_member_limit = 5
        s.commit()
        snapshots: list[list[tuple]] = []

        def snapshot() -> list[tuple]:
            e = BenefitsMallCouponEvent
            return [tuple(r) for r in s.execute(
                select(e.id, e.coupon_id, e.kind, e.at, e.amount, e.idempotency_key)
                .order_by(e.id))]

        a = _claim(mall, "m1")
        b = _claim(mall, "m1")
        snapshots.append(snapshot())
        t0 = utcnow()
        _redeem(mall, a.code, "x1", now=t0)
        snapshots.append(snapshot())
        service.undo(s, a.id, staff=_staff(mall), idempotency_key="x2",
                     now=t0 + timedelta(minutes=1))
        s.commit()
        snapshots.append(snapshot())
        _redeem(mall, a.code, "x3", now=t0 + timedelta(minutes=2))
        _redeem(mall, a.code, "x3", now=t0 + timedelta(minutes=3))  # retry: no new event
        snapshots.append(snapshot())
        b.expires_at = t0
        s.commit()
        service.expire_due(s, t0 + timedelta(minutes=4))
        s.commit()
        snapshots.append(snapshot())
        sizes = [len(x) for x in snapshots]
        assert sizes == [2, 3, 4, 5, 6]
        for before, after in itertools.pairwise(snapshots):
            assert after[:len(before)] == before  # earlier events never change
        assert [k for _i, _c, k, *_rest in snapshots[-1]] == [
            "claimed", "claimed", "redeemed", "undone", "redeemed", "expired"]


# --- demo -------------------------------------------------------------------------------------


def test_demo_claims_redeems_undoes_and_expires_through_the_services(mall: Mall):
    import random

    from unionhub.demo import DemoContext
    from unionhub_benefits_mall.coupons import demo

    with mall.app.app_context():
        s = db.session()
        g1 = mall.world.orgs["g1"]
        members = [Member(name=f"演示会员{i}", sex="F", id_number_enc="x",
                          id_number_hash=f"demo-{i}", id_number_masked="1101**********000X",
                          birth_date=date(1988, 1, 1), org_id=g1.id) for i in range(90)]
        s.add_all(members)
        first = _offer(mall)
        second = BenefitsMallOffer(
            merchant_id=first.merchant_id, category_code=first.category_code, kind="coupon",
            title="体检加项 5 折券", subsidy=Decimal("20.00"), stock=100, per_member_limit=1,
            valid_from=first.valid_from, valid_until=first.valid_until, status="approved")
        s.add(second)
        s.commit()
        ctx = DemoContext(rng=random.Random(12351), orgs={}, officers={},
                          member_ids=[m.id for m in members])
        demo.seed(s, ctx)
        s.commit()
        kinds = _events()
        coupons = _count(BenefitsMallCoupon)
        assert coupons == kinds.count("claimed") > 30
        s.refresh(second)
        assert _offer(mall).issued + second.issued == coupons
        assert kinds.count("redeemed") == 80 and kinds.count("undone") == 4
        assert kinds.count("expired") >= 8
        states = {state: n for state, n in s.execute(
            select(BenefitsMallCoupon.state, func.count()).group_by(BenefitsMallCoupon.state))}
        assert states["redeemed"] == 80 - 4
        assert states["expired"] == kinds.count("expired")
        # redemptions come after their claims, at the merchant's own stores
        late = s.scalar(select(func.count()).select_from(BenefitsMallCouponEvent).join(
            BenefitsMallCoupon, BenefitsMallCoupon.id == BenefitsMallCouponEvent.coupon_id)
            .where(BenefitsMallCouponEvent.kind == "redeemed",
                   BenefitsMallCouponEvent.at <= BenefitsMallCoupon.claimed_at))
        assert late == 0
        stores = set(s.scalars(select(BenefitsMallCouponEvent.store_id).where(
            BenefitsMallCouponEvent.kind == "redeemed")))
        assert stores <= set(mall.store_ids)
        assert any("福利券" in line for line in ctx.lines)
