"""Booking races on a real PostgreSQL: 50 members booking 10 places at once get exactly 10
holds; bookings through a discount channel hold exactly its total quota and each member's
quota for it, and the expiry gives them back; two staff deciding one booking at once, or a
confirmation racing the expiry job, end with exactly one winner."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.benefits_mall.conftest import Mall
from tests.helpers import add_member, beijing_today
from tests.integration.test_pg_identity import race
from unionhub import db
from unionhub.identity.models import Member

pytestmark = pytest.mark.integration


def _service() -> Any:
    from unionhub_benefits_mall.bookings import service

    return service


def _staff(mall: Mall, username: str) -> Any:
    from unionhub_benefits_mall.models import BenefitsMallStaff

    staff = db.session().scalar(select(BenefitsMallStaff).where(
        BenefitsMallStaff.account_id == mall.accounts[username]))
    assert staff is not None
    return staff


def _book(mall: Mall, member_id: int, **kw: Any) -> Any:
    s = db.session()
    member = s.get(Member, member_id)
    assert member is not None
    return _service().book(s, member, mall.service_offer_id,
                           service_date=beijing_today() + timedelta(days=3),
                           store_id=mall.store_ids[0], people=1,
                           contact_phone="13800138000", note="", **kw)


def test_fifty_bookings_on_ten_places(pg_database_url: str, mall: Mall) -> None:
    from unionhub_benefits_mall.models import BenefitsMallBooking, BenefitsMallOffer

    with mall.app.app_context():
        g2 = mall.world.orgs["g2"]
        ids = [add_member(g2, f"会员{i:02d}", password=None).member_id for i in range(50)]
    queue = iter(ids)
    lock = threading.Lock()

    def book() -> None:
        with lock:
            member_id = next(queue)
        _book(mall, member_id)

    results = race(mall.app, book, n=50)
    refused = [r for r in results if r is not None]
    assert len(refused) == 40, refused[:3]
    svc = _service()
    assert all(isinstance(r, svc.BookingRefused) and r.reason == "该服务的预约名额已满"
               for r in refused)
    with mall.app.app_context():
        s = db.session()
        assert s.scalar(select(BenefitsMallOffer.issued).where(
            BenefitsMallOffer.id == mall.service_offer_id)) == 10
        assert s.scalar(select(func.count()).select_from(BenefitsMallBooking)) == 10
        numbers = s.scalars(select(BenefitsMallBooking.number)).all()
        assert len(set(numbers)) == 10


def test_one_member_racing_for_the_quota(pg_database_url: str, mall: Mall) -> None:
    """Six bookings by one member at once: the offer allows two a month."""
    from unionhub_benefits_mall.models import BenefitsMallOffer, BenefitsMallQuotaUse

    member_id = mall.world.people["m1"].member_id
    results = race(mall.app, lambda: _book(mall, member_id), n=6)
    assert sum(r is None for r in results) == 2, results
    with mall.app.app_context():
        s = db.session()
        assert s.scalar(select(BenefitsMallQuotaUse.used).where(
            BenefitsMallQuotaUse.member_id == member_id)) == 2
        assert s.scalar(select(BenefitsMallOffer.issued).where(
            BenefitsMallOffer.id == mall.service_offer_id)) == 2


@pytest.mark.parametrize("second", ["confirm", "cancel"])
def test_two_staff_deciding_one_booking(pg_database_url: str, mall: Mall, second: str) -> None:
    """One clerk confirms while a colleague confirms too, or cancels what they saw pending."""
    from unionhub_benefits_mall.models import BenefitsMallBooking, BenefitsMallOffer

    with mall.app.app_context():
        booking_id = _book(mall, mall.world.people["m1"].member_id).id
        db.session().commit()
    actions = iter(["confirm", second])
    lock = threading.Lock()

    def decide() -> None:
        with lock:
            action = next(actions)
        s = db.session()
        svc = _service()
        if action == "confirm":
            svc.confirm(s, booking_id, _staff(mall, "shop_clerk"))
        else:
            svc.cancel(s, booking_id, by_staff=_staff(mall, "shop_manager"), reason="约满",
                       expected_state="pending")

    results = race(mall.app, decide)
    assert sum(r is None for r in results) == 1, results
    assert isinstance(next(r for r in results if r is not None), _service().BookingError)
    with mall.app.app_context():
        s = db.session()
        booking = s.get(BenefitsMallBooking, booking_id)
        issued = s.scalar(select(BenefitsMallOffer.issued).where(
            BenefitsMallOffer.id == mall.service_offer_id))
        assert booking is not None and booking.state in ("confirmed", "cancelled")
        if second == "confirm":
            assert booking.state == "confirmed"
        assert issued == (1 if booking.state == "confirmed" else 0)


def test_two_cancellations_release_once(pg_database_url: str, mall: Mall) -> None:
    from unionhub_benefits_mall.models import BenefitsMallOffer, BenefitsMallQuotaUse

    member_id = mall.world.people["m1"].member_id
    with mall.app.app_context():
        first = _book(mall, member_id).id
        _book(mall, member_id)
        db.session().commit()

    def cancel() -> None:
        s = db.session()
        _service().cancel(s, first, by_member=s.get(Member, member_id))

    results = race(mall.app, cancel)
    assert sum(r is None for r in results) == 1, results
    with mall.app.app_context():
        s = db.session()
        assert s.scalar(select(BenefitsMallOffer.issued).where(
            BenefitsMallOffer.id == mall.service_offer_id)) == 1
        assert s.scalar(select(BenefitsMallQuotaUse.used).where(
            BenefitsMallQuotaUse.member_id == member_id)) == 1


def test_confirmation_racing_the_expiry(pg_database_url: str, mall: Mall) -> None:
    """A booking right at its hold's end: the confirmation or the expiry wins, never both."""
    from unionhub.db import utcnow
    from unionhub_benefits_mall.models import BenefitsMallBooking, BenefitsMallOffer

    with mall.app.app_context():
        booking = _book(mall, mall.world.people["m1"].member_id,
                        now=utcnow() - timedelta(minutes=60) + timedelta(milliseconds=300))
        booking_id = booking.id
        db.session().commit()
    kinds = iter(["confirm", "expire"])
    lock = threading.Lock()
    outcome: dict[str, BaseException | None] = {}

    def act() -> None:
        with lock:
            kind = next(kinds)
        s = db.session()
        svc = _service()
        try:
            if kind == "confirm":
                svc.confirm(s, booking_id, _staff(mall, "shop_clerk"))
            else:
                assert svc.expire_holds(s, utcnow() + timedelta(seconds=1)) in (0, 1)
        except BaseException as exc:
            outcome[kind] = exc
            raise
        outcome[kind] = None

    race(mall.app, act)
    with mall.app.app_context():
        s = db.session()
        state = s.get(BenefitsMallBooking, booking_id).state
        issued = s.scalar(select(BenefitsMallOffer.issued).where(
            BenefitsMallOffer.id == mall.service_offer_id))
    assert outcome["expire"] is None
    if state == "confirmed":
        assert outcome["confirm"] is None and issued == 1
    else:
        assert state == "expired" and issued == 0
        assert isinstance(outcome["confirm"], _service().BookingError)


def _channel(mall: Mall, **kw: Any) -> int:
    from unionhub_benefits_mall.models import BenefitsMallChannel, BenefitsMallChannelOffer

    with mall.app.app_context():
        s = db.session()
        city = mall.world.orgs["city"]
        values: dict[str, Any] = dict(
            name="职工健康月", org_id=city.id, org_path=city.path,
            valid_from=beijing_today() - timedelta(days=1),
            valid_until=beijing_today() + timedelta(days=30), total_quota=None,
            per_member_quota=None, per_member_period="month", requires_jingka=False)
        values.update(kw)
        channel = BenefitsMallChannel(**values)
        s.add(channel)
        s.flush()
        s.add(BenefitsMallChannelOffer(channel_id=channel.id, offer_id=mall.service_offer_id))
        s.commit()
        return channel.id


def _counters(mall: Mall, channel_id: int) -> tuple[int, int]:
    from unionhub_benefits_mall.models import BenefitsMallChannel, BenefitsMallOffer

    with mall.app.app_context():
        s = db.session()
        return (int(s.scalar(select(BenefitsMallChannel.issued).where(
                    BenefitsMallChannel.id == channel_id)) or 0),
                int(s.scalar(select(BenefitsMallOffer.issued).where(
                    BenefitsMallOffer.id == mall.service_offer_id)) or 0))


def test_twenty_bookings_on_a_channel_of_five(pg_database_url: str, mall: Mall) -> None:
    """The channel's total quota (5) is tighter than the offer's stock (10): exactly five
    bookings go through, and the offer's stock held matches; the expiry gives both back."""
    from unionhub.db import utcnow
    from unionhub_benefits_mall.models import BenefitsMallBooking

    channel_id = _channel(mall, total_quota=5)
    with mall.app.app_context():
        g2 = mall.world.orgs["g2"]
        ids = [add_member(g2, f"通道{i:02d}", password=None).member_id for i in range(20)]
    queue = iter(ids)
    lock = threading.Lock()

    def book() -> None:
        with lock:
            member_id = next(queue)
        _book(mall, member_id, channel_id=channel_id)

    results = race(mall.app, book, n=20)
    refused = [r for r in results if r is not None]
    assert len(refused) == 15, refused[:3]
    assert all(isinstance(r, _service().BookingRefused) and r.reason == "该优惠通道名额已用完"
               for r in refused)
    assert _counters(mall, channel_id) == (5, 5)
    with mall.app.app_context():
        s = db.session()
        assert s.scalar(select(func.count()).select_from(BenefitsMallBooking).where(
            BenefitsMallBooking.channel_id == channel_id)) == 5
        assert _service().expire_holds(s, utcnow() + timedelta(hours=2)) == 5
        s.commit()
    assert _counters(mall, channel_id) == (0, 0)


def test_one_member_racing_for_a_channels_quota(pg_database_url: str, mall: Mall) -> None:
    """Four bookings by one member at once through a channel allowing one a month."""
    from unionhub_benefits_mall.models import BenefitsMallQuotaUse as Q

    channel_id = _channel(mall, per_member_quota=1)
    member_id = mall.world.people["m1"].member_id
    results = race(mall.app, lambda: _book(mall, member_id, channel_id=channel_id), n=4)
    assert sum(r is None for r in results) == 1, results
    assert _counters(mall, channel_id) == (1, 1)
    with mall.app.app_context():
        s = db.session()
        used = dict(s.execute(select(Q.scope, Q.used).where(Q.member_id == member_id)).all())
        assert used == {f"channel:{channel_id}": 1, f"offer:{mall.service_offer_id}": 1}
