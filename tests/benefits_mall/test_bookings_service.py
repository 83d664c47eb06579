"""Bookings of exclusive services: the state machine, stock and quota held and given back,
the hold timeout, eligibility at booking, merchant isolation and the members' notifications."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from tests.benefits_mall.conftest import Mall
from unionhub import db
from unionhub.identity.models import Member
from unionhub.notify.models import Notification

#: 10:00 in Beijing today (the fixture's offers are valid from 30 days ago to 60 days ahead)
NOW = datetime.combine(date.today(), time(2, 0), tzinfo=UTC)
TODAY = NOW.date()
DAY = TODAY + timedelta(days=3)
#: a day in the month after DAY's (still within the offers' validity)
NEXT_MONTH = (DAY.replace(day=1) + timedelta(days=32)).replace(day=2)


@pytest.fixture
def clock() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _svc() -> Any:
    from unionhub_benefits_mall.bookings import service

    return service


def _member(mall: Mall, key: str) -> Member:
    m = db.session().get(Member, mall.world.people[key].member_id)
    assert m is not None
    return m


def _staff(mall: Mall, username: str) -> Any:
    from unionhub_benefits_mall.models import BenefitsMallStaff

    staff = db.session().scalar(select(BenefitsMallStaff).where(
        BenefitsMallStaff.account_id == mall.accounts[username]))
    assert staff is not None
    return staff


def _offer(mall: Mall, offer_id: int | None = None) -> Any:
    from unionhub_benefits_mall.models import BenefitsMallOffer

    offer = db.session().scalar(select(BenefitsMallOffer).where(
        BenefitsMallOffer.id == (offer_id or mall.service_offer_id))
        .execution_options(populate_existing=True))
    assert offer is not None
    return offer


def _used(mall: Mall, key: str, day: date = DAY) -> int:
    from unionhub_benefits_mall.models import BenefitsMallQuotaUse as Q

    return int(db.session().scalar(select(Q.used).where(
        Q.member_id == mall.world.people[key].member_id,
        Q.scope == f"offer:{mall.service_offer_id}", Q.period == f"{day:%Y-%m}")) or 0)


def _book(mall: Mall, key: str = "m1", day: date = DAY,
          offer_id: int | None = None, **kw: Any) -> Any:
    args: dict[str, Any] = {"service_date": day, "store_id": mall.store_ids[0], "people": 2,
                            "contact_phone": "13912345678", "note": "下午"}
    args.update(kw)
    return _svc().book(db.session(), _member(mall, key), offer_id or mall.service_offer_id,
                       **args)


def _inbox(mall: Mall, key: str) -> list[str]:
    return list(db.session().scalars(select(Notification.type_key).where(
        Notification.member_id == mall.world.people[key].member_id).order_by(Notification.id)))


def test_booking_holds_stock_and_quota(mall: Mall, clock: Any) -> None:
    with mall.app.app_context():
        booking = _book(mall)
        db.session().commit()
        assert booking.state == "pending"
        assert booking.number.startswith(f"YY{TODAY:%Y%m%d}") and len(booking.number) == 18
        assert booking.hold_until == NOW + timedelta(minutes=60)
        assert booking.merchant_id == mall.merchant_id
        assert booking.org_path == _member(mall, "m1").org.path
        assert _offer(mall).issued == 1
        assert _used(mall, "m1") == 1


def test_fields_are_checked_and_nothing_held_when_refused(mall: Mall, clock: Any) -> None:
    svc = _svc()
    with mall.app.app_context():
        cases = [
            ({"service_date": TODAY - timedelta(days=1)}, "service_date", "不能早于今天"),
            ({"service_date": TODAY + timedelta(days=400)}, "service_date", "截止"),
            ({"service_date": None}, "service_date", "请选择"),
            ({"store_id": 9999}, "store_id", "不在这家门店"),
            ({"store_id": None}, "store_id", "请选择门店"),
            ({"people": 0}, "people", "1 到 20"),
            ({"contact_phone": "12345"}, "contact_phone", "手机号"),
            ({"contact_phone": "  "}, "contact_phone", "请填写联系电话"),
            ({"contact_phone": "1381234567"}, "contact_phone", "手机号"),
            ({"note": "很" * 501}, "note", "500"),
        ]
        for change, field, text in cases:
            with pytest.raises(svc.BookingRefused) as err:
                _book(mall, **change)
            assert err.value.field == field and text in err.value.reason, change
        assert _offer(mall).issued == 0 and _used(mall, "m1") == 0
        # a landline with an area code is fine
        assert _book(mall, contact_phone="010-66668888").contact_phone == "010-66668888"


def test_eligibility_is_checked_when_booking(mall: Mall, clock: Any) -> None:
    from unionhub_benefits_mall.models import BenefitsMallAudience

    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        with pytest.raises(svc.BookingRefused) as err:
            _book(mall, offer_id=mall.coupon_offer_id)
        assert "没有这项可预约的服务" in err.value.reason
        d2 = mall.world.orgs["d2"]
        s.add(BenefitsMallAudience(owner_kind="offer", owner_id=mall.service_offer_id,
                                   org_id=d2.id, org_path=d2.path))
        s.flush()
        with pytest.raises(svc.BookingRefused) as err:
            _book(mall, "m1")
        assert err.value.reason == "该优惠仅面向指定工会或会员群体"
        assert _book(mall, "m2").state == "pending"
        _offer(mall).status = "offline"
        s.flush()
        with pytest.raises(svc.BookingRefused) as err:
            _book(mall, "m2")
        assert err.value.reason == "该优惠未上架"
        assert _offer(mall).issued == 1


def test_per_member_quota_by_month_of_service(mall: Mall, clock: Any) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        first = _book(mall)
        _book(mall)
        with pytest.raises(svc.BookingRefused) as err:
            _book(mall)
        assert "每人每月限预约 2 次" in err.value.reason
        assert _offer(mall).issued == 2 and _used(mall, "m1") == 2
        # another month has its own quota
        assert _book(mall, day=NEXT_MONTH).state == "pending"
        assert _used(mall, "m1", NEXT_MONTH) == 1
        # cancelling gives the quota back
        svc.cancel(s, first.id, by_member=_member(mall, "m1"))
        assert _used(mall, "m1") == 1
        assert _book(mall).state == "pending"
        assert _offer(mall).issued == 3  # two this month, one next month


def test_stock_runs_out(mall: Mall, clock: Any) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        _offer(mall).stock = 1
        s.flush()
        _book(mall, "m1")
        with pytest.raises(svc.BookingRefused) as err:
            _book(mall, "m2")
        assert err.value.reason == "该服务的预约名额已满"
        assert _used(mall, "m2") == 0  # the quota taken before the refusal was rolled back
        assert _offer(mall).issued == 1


def test_state_machine(mall: Mall, clock: Any) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        clerk = _staff(mall, "shop_clerk")
        booking = _book(mall, day=TODAY)
        confirmed = svc.confirm(s, booking.id, clerk)
        assert confirmed.state == "confirmed" and confirmed.decided_by == clerk.account_id
        with pytest.raises(svc.BookingError) as err:
            svc.confirm(s, booking.id, clerk)
        assert "已确认" in err.value.message
        done = svc.complete(s, booking.id, clerk)
        assert done.state == "completed"
        assert _offer(mall).issued == 1 and _used(mall, "m1", TODAY) == 1  # used, not given back
        for action in (lambda: svc.cancel(s, booking.id, by_staff=clerk, reason="x"),
                       lambda: svc.cancel(s, booking.id, by_member=_member(mall, "m1")),
                       lambda: svc.complete(s, booking.id, clerk)):
            with pytest.raises(svc.BookingError) as err:
                action()
            assert "已完成" in err.value.message


def test_complete_not_before_the_service_date(mall: Mall, clock: Any) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        clerk = _staff(mall, "shop_clerk")
        booking = _book(mall, day=TODAY + timedelta(days=2))
        with pytest.raises(svc.BookingError) as err:
            svc.complete(s, booking.id, clerk)  # still pending
        assert "待确认" in err.value.message
        svc.confirm(s, booking.id, clerk)
        with pytest.raises(svc.BookingError) as err:
            svc.complete(s, booking.id, clerk)
        assert "之前不能标记完成" in err.value.message
        assert svc.complete(s, booking.id, clerk,
                            today=TODAY + timedelta(days=2)).state == "completed"


def test_cancel_releases_stock_and_quota(mall: Mall, clock: Any) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        clerk = _staff(mall, "shop_manager")
        a, b = _book(mall, "m1"), _book(mall, "m2")
        svc.confirm(s, b.id, clerk)
        assert _offer(mall).issued == 2
        with pytest.raises(svc.BookingError) as err:
            svc.cancel(s, b.id, by_staff=clerk, reason="  ")
        assert "请填写取消原因" in err.value.message
        cancelled = svc.cancel(s, b.id, by_staff=clerk, reason="技师休假")
        assert cancelled.state == "cancelled" and cancelled.reason == "技师休假"
        mine = svc.cancel(s, a.id, by_member=_member(mall, "m1"))
        assert mine.reason == "会员取消"
        assert _offer(mall).issued == 0
        assert _used(mall, "m1") == 0 and _used(mall, "m2") == 0
        with pytest.raises(svc.BookingError):
            svc.cancel(s, a.id, by_member=_member(mall, "m1"))  # twice: nothing more released
        assert _offer(mall).issued == 0


def test_release_gives_back_what_was_taken_after_the_limit_changed(mall: Mall,
                                                                   clock: Any) -> None:
    """An officer changes the offer's per-member period while a booking holds: cancelling
    releases the counter the booking raised (this month's), not one of the new period."""
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        booking = _book(mall, "m1")
        assert booking.quota_taken == [[f"offer:{mall.service_offer_id}", f"{DAY:%Y-%m}"]]
        _offer(mall).per_member_period = "year"
        s.flush()
        svc.cancel(s, booking.id, by_member=_member(mall, "m1"))
        assert _used(mall, "m1") == 0


def test_cancel_refused_when_the_state_changed_meanwhile(mall: Mall, clock: Any) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        booking = _book(mall)
        svc.confirm(s, booking.id, _staff(mall, "shop_clerk"))
        with pytest.raises(svc.BookingError) as err:
            svc.cancel(s, booking.id, by_staff=_staff(mall, "shop_manager"), reason="约满",
                       expected_state="pending")
        assert "刚刚已确认" in err.value.message
        assert _offer(mall).issued == 1
        assert svc.cancel(s, booking.id, by_staff=_staff(mall, "shop_manager"), reason="约满",
                          expected_state="confirmed").state == "cancelled"
        assert _offer(mall).issued == 0


def test_member_and_merchant_isolation(mall: Mall, clock: Any) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        booking = _book(mall, "m1")
        other = _staff(mall, "other_clerk")
        for action in (lambda: svc.confirm(s, booking.id, other),
                       lambda: svc.cancel(s, booking.id, by_staff=other, reason="x"),
                       lambda: svc.cancel(s, booking.id, by_member=_member(mall, "m2"))):
            with pytest.raises(svc.BookingError) as err:
                action()
            assert err.value.not_found
        assert _offer(mall).issued == 1
        assert s.get(type(booking), booking.id).state == "pending"


def test_member_cannot_cancel_after_the_service_date(mall: Mall, clock: Any) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        booking = _book(mall, day=TODAY)
        svc.confirm(s, booking.id, _staff(mall, "shop_clerk"))
        with pytest.raises(svc.BookingError) as err:
            svc.cancel(s, booking.id, by_member=_member(mall, "m1"),
                       today=TODAY + timedelta(days=1))
        assert "服务日期已过" in err.value.message


def test_hold_times_out_and_gives_everything_back(mall: Mall, clock: Any) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        clerk = _staff(mall, "shop_clerk")
        early = _book(mall, "m1")
        clock.shift(timedelta(minutes=30))
        late = _book(mall, "m2")
        s.commit()
        assert svc.expire_holds(s) == 0
        clock.shift(timedelta(minutes=31))  # 61 minutes after the first booking
        # too late to confirm, even before the expiry job has run
        with pytest.raises(svc.BookingError) as err:
            svc.confirm(s, early.id, clerk)
        assert "已超过确认时限" in err.value.message
        assert svc.expire_holds(s) == 1
        s.commit()
        assert s.get(type(early), early.id).state == "expired"
        assert _offer(mall).issued == 1 and _used(mall, "m1") == 0 and _used(mall, "m2") == 1
        assert svc.confirm(s, late.id, clerk).state == "confirmed"
        clock.shift(timedelta(hours=2))
        assert svc.expire_holds(s) == 0  # confirmed bookings never expire
        assert _offer(mall).issued == 1
        assert "benefits_mall.booking_expired" in _inbox(mall, "m1")


def test_expire_holds_counts_per_offer(mall: Mall, clock: Any) -> None:
    from unionhub_benefits_mall.models import BenefitsMallOffer

    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        second = BenefitsMallOffer(
            merchant_id=mall.merchant_id, category_code="medical", kind="service",
            title="上门康复护理", valid_from=TODAY - timedelta(days=1),
            valid_until=TODAY + timedelta(days=30), status="approved", stock=5,
            per_member_limit=None, booking_hold_minutes=10)
        s.add(second)
        s.flush()
        _book(mall, "m1")
        _book(mall, "m2")
        _book(mall, "m3")
        _book(mall, "m1", offer_id=second.id)
        _book(mall, "m2", offer_id=second.id)
        s.commit()
        clock.shift(timedelta(minutes=11))
        assert svc.expire_holds(s) == 2  # only the second offer's 10-minute holds
        assert _offer(mall, second.id).issued == 0 and _offer(mall).issued == 3
        clock.shift(timedelta(minutes=50))
        assert svc.expire_holds(s) == 3
        assert _offer(mall).issued == 0
        assert [_used(mall, k) for k in ("m1", "m2", "m3")] == [0, 0, 0]


def test_members_are_notified(mall: Mall, clock: Any) -> None:
    from unionhub.notify.models import NotifyBatch

    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        clerk = _staff(mall, "shop_clerk")
        a = _book(mall, "m1")
        svc.confirm(s, a.id, clerk)
        b = _book(mall, "m1")
        svc.cancel(s, b.id, by_staff=clerk,
                   reason="当日技师已约满，请改约其他日期，给您带来不便敬请谅解")
        c = _book(mall, "m2")
        svc.cancel(s, c.id, by_member=_member(mall, "m2"))
        s.commit()
        assert _inbox(mall, "m1") == ["benefits_mall.booking_confirmed",
                                      "benefits_mall.booking_cancelled"]
        assert _inbox(mall, "m2") == []  # a member's own cancellation needs no message
        batches = list(s.scalars(select(NotifyBatch).where(
            NotifyBatch.type_key.like("benefits_mall.booking%"))))
        for batch in batches:
            fields = batch.message["wechat_fields"]
            assert fields and all(len(v) <= 20 for v in fields.values()), fields
        cancelled = next(b for b in batches if b.type_key.endswith("cancelled"))
        assert "当日技师已约满" in cancelled.message["body"]
        assert cancelled.message["url"] == "/benefits_mall/my/bookings"


# -- contact phone ----------------------------------------------------------------------------


def test_contact_phone_is_normalized_and_masked() -> None:
    svc = _svc()
    assert svc.normalize_phone("138 1234 5678") == "13812345678"
    assert svc.normalize_phone("+86 138-1234-5678") == "13812345678"
    assert svc.normalize_phone("１３８１２３４５６７８") == "13812345678"
    assert svc.normalize_phone("010-66668888") == "010-66668888"
    assert svc.normalize_phone("0571 - 8888 6666-12") == "0571-88886666-12"
    assert svc.normalize_phone("01066668888") == "01066668888"
    for bad in ("", "  ", "12812345678", "1381234567", "010-666", "abc", "110"):
        assert svc.normalize_phone(bad) is None, bad
    assert svc.mask_phone("13812341234") == "138****1234"
    assert svc.mask_phone("010-66668888") == "010-****8888"
    assert svc.mask_phone("0571-88886666-12") == "0571-****6666"
    assert svc.mask_phone("01066668888") == "010****8888"
    assert svc.mask_phone("garbage") == "*" * 11


def test_booking_keeps_the_typed_phone_not_the_registered_mobile(mall: Mall,
                                                                 clock: Any) -> None:
    with mall.app.app_context():
        booking = _book(mall, contact_phone="139 8765 4321")
        assert booking.contact_phone == "13987654321"
        assert booking.contact_phone != _member(mall, "m1").mobile


# -- discount channels ------------------------------------------------------------------------


def _channel(mall: Mall, *, offer_id: int | None = None, **kw: Any) -> int:
    """A channel (city-wide, open to all) bundling the service offer."""
    from unionhub_benefits_mall.models import BenefitsMallChannel, BenefitsMallChannelOffer

    s = db.session()
    city = mall.world.orgs["city"]
    values: dict[str, Any] = dict(name="职工健康月", org_id=city.id, org_path=city.path,
                                  valid_from=TODAY - timedelta(days=1),
                                  valid_until=TODAY + timedelta(days=90), total_quota=5,
                                  per_member_quota=1, per_member_period="month",
                                  requires_jingka=False)
    values.update(kw)
    channel = BenefitsMallChannel(**values)
    s.add(channel)
    s.flush()
    s.add(BenefitsMallChannelOffer(channel_id=channel.id,
                                   offer_id=offer_id or mall.service_offer_id))
    s.flush()
    return channel.id


def _channel_issued(channel_id: int) -> int:
    from unionhub_benefits_mall.models import BenefitsMallChannel

    return int(db.session().scalar(select(BenefitsMallChannel.issued).where(
        BenefitsMallChannel.id == channel_id)) or 0)


def _channel_used(mall: Mall, key: str, channel_id: int, period: str) -> int:
    from unionhub_benefits_mall.models import BenefitsMallQuotaUse as Q

    return int(db.session().scalar(select(Q.used).where(
        Q.member_id == mall.world.people[key].member_id,
        Q.scope == f"channel:{channel_id}", Q.period == period)) or 0)


def test_channel_per_member_quota_refuses_a_second_booking(mall: Mall, clock: Any) -> None:
    svc = _svc()
    with mall.app.app_context():
        channel_id = _channel(mall)
        first = _book(mall, channel_id=channel_id)
        assert first.channel_id == channel_id
        assert _channel_issued(channel_id) == 1
        assert _channel_used(mall, "m1", channel_id, f"{DAY:%Y-%m}") == 1
        with pytest.raises(svc.BookingRefused) as err:
            _book(mall, channel_id=channel_id)
        assert err.value.reason == "您在该优惠通道的预约次数已用完（每人每月限预约 1 次）"
        # nothing of the refused booking is held
        assert _channel_issued(channel_id) == 1 and _offer(mall).issued == 1
        assert _used(mall, "m1") == 1
        # without the channel the offer's own limit (2 a month) still allows one more
        assert _book(mall).channel_id is None
        # the channel's quota counts per month of the service date, like the offer's
        assert _book(mall, day=NEXT_MONTH, channel_id=channel_id).state == "pending"
        assert _channel_used(mall, "m1", channel_id, f"{NEXT_MONTH:%Y-%m}") == 1
        assert _channel_issued(channel_id) == 2
        # another member has their own quota
        assert _book(mall, "m2", channel_id=channel_id).channel_id == channel_id


def test_channel_total_quota_and_eligibility(mall: Mall, clock: Any) -> None:
    from unionhub_benefits_mall.models import BenefitsMallAudience, BenefitsMallChannel

    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        channel_id = _channel(mall, total_quota=1, per_member_quota=None)
        _book(mall, "m1", channel_id=channel_id)
        with pytest.raises(svc.BookingRefused) as err:
            _book(mall, "m2", channel_id=channel_id)
        assert err.value.reason == "该优惠通道名额已用完"
        assert _offer(mall).issued == 1 and _used(mall, "m2") == 0
        closed = _channel(mall, name="已关闭", active=False)
        elsewhere = _channel(mall, name="只对海淀", offer_id=mall.coupon_offer_id)
        d2 = mall.world.orgs["d2"]
        targeted = _channel(mall, name="海淀专享")
        s.add(BenefitsMallAudience(owner_kind="channel", owner_id=targeted, org_id=d2.id,
                                   org_path=d2.path))
        s.flush()
        for channel, reason in ((closed, "该优惠通道已关闭"),
                                (elsewhere, "该优惠不属于这个优惠通道"),
                                (targeted, "该优惠通道仅面向指定工会或会员群体"),
                                (987654, "没有这个优惠通道")):
            with pytest.raises(svc.BookingRefused) as err:
                _book(mall, "m1", channel_id=channel)
            assert err.value.reason == reason
        assert _book(mall, "m2", channel_id=targeted).channel_id == targeted
        assert s.get(BenefitsMallChannel, closed).issued == 0
        assert _offer(mall).issued == 2


def test_cancelling_gives_the_channel_quota_back(mall: Mall, clock: Any) -> None:
    from unionhub_benefits_mall.models import BenefitsMallChannel

    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        channel_id = _channel(mall, total_quota=2)
        mine = _book(mall, "m1", channel_id=channel_id)
        theirs = _book(mall, "m2", channel_id=channel_id)
        assert _channel_issued(channel_id) == 2
        loaded = s.get(BenefitsMallChannel, channel_id)
        assert loaded is not None and loaded.issued == 2
        svc.cancel(s, mine.id, by_member=_member(mall, "m1"))
        assert _channel_issued(channel_id) == 1
        assert loaded.issued == 1 and mine.offer.issued == 1  # loaded counters not stale
        assert _channel_used(mall, "m1", channel_id, f"{DAY:%Y-%m}") == 0
        manager = _staff(mall, "shop_manager")
        svc.confirm(s, theirs.id, manager)
        svc.cancel(s, theirs.id, by_staff=manager, reason="技师休假")
        assert _channel_issued(channel_id) == 0
        assert _channel_used(mall, "m2", channel_id, f"{DAY:%Y-%m}") == 0
        assert _offer(mall).issued == 0
        # the places and the quota are usable again
        assert _book(mall, "m1", channel_id=channel_id).state == "pending"
        assert _book(mall, "m2", channel_id=channel_id).state == "pending"
        assert _channel_issued(channel_id) == 2


def test_expiry_gives_channel_quotas_back_per_channel(mall: Mall, clock: Any) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        monthly = _channel(mall, per_member_quota=2, per_member_period="month")
        yearly = _channel(mall, name="全年", per_member_quota=3, per_member_period="year")
        untouched = _channel(mall, name="未使用")
        _book(mall, "m1", channel_id=monthly)
        _book(mall, "m1", day=NEXT_MONTH, channel_id=monthly)
        _book(mall, "m2", channel_id=monthly)
        _book(mall, "m2", channel_id=yearly)
        _book(mall, "m3", channel_id=yearly)
        _book(mall, "m3")
        s.commit()
        assert (_channel_issued(monthly), _channel_issued(yearly)) == (3, 2)
        clock.shift(timedelta(minutes=61))
        assert svc.expire_holds(s) == 6
        s.commit()
        assert [_channel_issued(c) for c in (monthly, yearly, untouched)] == [0, 0, 0]
        assert _channel_used(mall, "m1", monthly, f"{DAY:%Y-%m}") == 0
        assert _channel_used(mall, "m1", monthly, f"{NEXT_MONTH:%Y-%m}") == 0
        assert _channel_used(mall, "m2", monthly, f"{DAY:%Y-%m}") == 0
        assert _channel_used(mall, "m2", yearly, f"{DAY:%Y}") == 0
        assert _channel_used(mall, "m3", yearly, f"{DAY:%Y}") == 0
        assert _offer(mall).issued == 0
        assert [_used(mall, k) for k in ("m1", "m2", "m3")] == [0, 0, 0]


def test_expiry_leaves_other_bookings_channel_quota_alone(mall: Mall, clock: Any) -> None:
    """Only the expired bookings' units come back: a confirmed booking through the same
    channel keeps its place and its member's quota."""
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        channel_id = _channel(mall, per_member_quota=2)
        kept = _book(mall, "m1", channel_id=channel_id)
        _book(mall, "m1", channel_id=channel_id)
        svc.confirm(s, kept.id, _staff(mall, "shop_clerk"))
        s.commit()
        clock.shift(timedelta(minutes=61))
        assert svc.expire_holds(s) == 1
        assert _channel_issued(channel_id) == 1
        assert _channel_used(mall, "m1", channel_id, f"{DAY:%Y-%m}") == 1
        assert _offer(mall).issued == 1 and _used(mall, "m1") == 1


def test_bookable_offer_hides_targeted_offers(mall: Mall, clock: Any) -> None:
    from unionhub_benefits_mall.eligibility import Viewer
    from unionhub_benefits_mall.models import BenefitsMallAudience

    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        d1 = mall.world.orgs["d1"]
        s.add(BenefitsMallAudience(owner_kind="offer", owner_id=mall.service_offer_id,
                                   org_id=d1.id, org_path=d1.path))
        s.flush()

        def bookable(key: str, offer_id: int) -> bool:
            viewer = Viewer.of(s, _member(mall, key))
            return svc.bookable_offer(s, viewer, offer_id, TODAY) is not None

        assert bookable("m1", mall.service_offer_id)
        assert bookable("m3", mall.service_offer_id)  # b1 lies under g1, under d1
        assert not bookable("m2", mall.service_offer_id)
        assert not bookable("m1", mall.coupon_offer_id)  # a coupon is not booked


def test_demo_books_through_the_service_some_through_a_channel(mall: Mall) -> None:
    """The demo's bookings keep every counter consistent with the bookings still holding,
    use a channel that bundles the offer, and never the members' registered mobiles."""
    import random

    from sqlalchemy import func

    from unionhub.demo import DemoContext
    from unionhub_benefits_mall.bookings import demo
    from unionhub_benefits_mall.models import BenefitsMallBooking as B

    with mall.app.app_context():
        s = db.session()
        channel_id = _channel(mall, total_quota=50, per_member_quota=None)
        s.commit()
        people = [mall.world.people[k] for k in ("m1", "m2", "m3")]
        ctx = DemoContext(rng=random.Random(7), orgs={}, member_ids=[p.member_id for p in people],
                          officers={})
        demo.seed(s, ctx)
        s.commit()
        states = dict(s.execute(select(B.state, func.count()).group_by(B.state)).all())
        assert {"pending", "expired"} <= set(states), states
        assert len(states) >= 4, states
        holding = ("pending", "confirmed", "completed")
        assert _offer(mall).issued == s.scalar(select(func.count()).where(
            B.state.in_(holding)))
        via = s.scalar(select(func.count()).where(B.channel_id == channel_id))
        assert via and via >= 1
        assert _channel_issued(channel_id) == s.scalar(select(func.count()).where(
            B.channel_id == channel_id, B.state.in_(holding)))
        phones = set(s.scalars(select(B.contact_phone)))
        assert not phones & {p.mobile for p in people}
        assert all(_svc().normalize_phone(p) == p for p in phones)
        assert ctx.lines and ctx.lines[0].startswith("专属服务预约: ")
