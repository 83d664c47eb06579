"""Reports from the coupon event log: the merchant report by store and Beijing day (undos
netted), settlement statements whose sums equal the events, an event in one statement only,
status transitions, and the officers' dashboard scoped in SQL to their orgs.

Coupons and events are inserted directly (the coupons service is another feature's)."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.benefits_mall.conftest import Mall
from unionhub import db

D = Decimal
CHINA = ZoneInfo("Asia/Shanghai")
#: "Now" for these tests: 2026-04-15 18:00 in Beijing.
NOW = datetime(2026, 4, 15, 10, 0, tzinfo=UTC)
TODAY = date(2026, 4, 15)
_keys = itertools.count(1)


@pytest.fixture(autouse=True)
def _clock() -> Iterator[None]:
    import time_machine

    with time_machine.travel(NOW, tick=True):
        yield


def bj(y: int, mo: int, d: int, h: int = 12, mi: int = 0) -> datetime:
    """A Beijing wall-clock time as an aware datetime (stored as UTC)."""
    return datetime(y, mo, d, h, mi, tzinfo=CHINA)


@dataclass
class Seeder:
    """Inserts coupons and events the way the coupons feature writes them."""

    mall: Mall

    @property
    def s(self) -> Any:
        return db.session()

    def offer(self, merchant_id: int, title: str, subsidy: str, category: str = "medical"
              ) -> int:
        from unionhub_benefits_mall.models import BenefitsMallOffer, OfferStatus

        o = BenefitsMallOffer(merchant_id=merchant_id, category_code=category, title=title,
                              subsidy=D(subsidy), valid_from=date(2026, 1, 1),
                              valid_until=date(2026, 12, 31), status=OfferStatus.APPROVED)
        self.s.add(o)
        self.s.flush()
        return o.id

    def coupon(self, offer_id: int, member: str = "m1", claimed_at: datetime | None = None,
               state: str = "issued") -> Any:
        from unionhub.identity.models import Member
        from unionhub_benefits_mall.models import BenefitsMallCoupon, BenefitsMallOffer

        offer = self.s.get(BenefitsMallOffer, offer_id)
        m = self.s.get(Member, self.mall.world.people[member].member_id)
        claimed = claimed_at or bj(2026, 3, 1, 9)
        c = BenefitsMallCoupon(code=secrets.token_hex(8).upper(), offer_id=offer_id,
                               merchant_id=offer.merchant_id, member_id=m.id,
                               org_path=m.org.path, state=state, claimed_at=claimed,
                               expires_at=claimed + timedelta(days=30))
        self.s.add(c)
        self.s.flush()
        return c

    def event(self, coupon: Any, kind: str, at: datetime, store_id: int | None = None,
              amount: str | None = None) -> Any:
        from unionhub_benefits_mall.models import BenefitsMallCouponEvent, BenefitsMallOffer

        subsidy = self.s.get(BenefitsMallOffer, coupon.offer_id).subsidy
        if amount is None:
            amount_d = subsidy if kind == "redeemed" else -subsidy if kind == "undone" else D(0)
        else:
            amount_d = D(amount)
        e = BenefitsMallCouponEvent(coupon_id=coupon.id, merchant_id=coupon.merchant_id,
                                    offer_id=coupon.offer_id, kind=kind, at=at,
                                    store_id=store_id, amount=amount_d,
                                    idempotency_key=f"t-{next(_keys)}")
        self.s.add(e)
        self.s.flush()
        return e

    def redeem(self, offer_id: int, at: datetime, store_id: int | None = None,
               member: str = "m1") -> Any:
        c = self.coupon(offer_id, member, claimed_at=at - timedelta(days=1), state="redeemed")
        self.event(c, "claimed", at - timedelta(days=1))
        return c, self.event(c, "redeemed", at, store_id)


def _service() -> Any:
    from unionhub_benefits_mall.reports import service

    return service


# --- merchant report ----------------------------------------------------------------------


def test_store_day_report_uses_beijing_days_and_nets_undos(mall: Mall) -> None:
    svc = _service()
    with mall.app.app_context():
        sd = Seeder(mall)
        a, b = mall.store_ids
        offer = mall.coupon_offer_id  # subsidy 50.00
        second = sd.offer(mall.merchant_id, "中医理疗体验券", "12.34")
        # 23:30 Beijing on 10 March is 15:30 UTC the same day; 00:30 on 11 March is still
        # 10 March in UTC: only a Beijing-day grouping puts it on the 11th.
        c1, _ = sd.redeem(offer, bj(2026, 3, 10, 23, 30), a)
        sd.event(c1, "undone", bj(2026, 3, 10, 23, 45))  # no store: counted at the redemption's
        sd.redeem(offer, bj(2026, 3, 11, 0, 30), a)
        sd.redeem(second, bj(2026, 3, 10, 10), b)
        sd.redeem(second, bj(2026, 3, 10, 0, 0), b)  # first instant of the day
        sd.redeem(offer, bj(2026, 3, 9, 23, 59), b)  # the day before: outside the range
        c_exp = sd.coupon(offer)
        sd.event(c_exp, "expired", bj(2026, 3, 10, 12))  # not a redemption
        other_offer = sd.offer(mall.other_merchant_id, "周边游", "80.00", "travel")
        sd.redeem(other_offer, bj(2026, 3, 10, 12))  # another merchant's

        report = svc.merchant_report(sd.s, mall.merchant_id, date(2026, 3, 10),
                                     date(2026, 3, 11))
        rows = {(r.day, r.store_id): (r.redeemed, r.undone, r.net, r.amount)
                for r in report.by_store_day}
        assert rows == {
            (date(2026, 3, 10), a): (1, 1, 0, D("0.00")),
            (date(2026, 3, 10), b): (2, 0, 2, D("24.68")),
            (date(2026, 3, 11), a): (1, 0, 1, D("50.00")),
        }
        assert {r.store_name for r in report.by_store_day} == {"朝阳店", "海淀店"}
        assert (report.total.redeemed, report.total.undone, report.total.net,
                report.total.amount) == (4, 1, 3, D("74.68"))
        offers = {r.offer_id: (r.net, r.amount) for r in report.by_offer}
        assert offers == {offer: (1, D("50.00")), second: (2, D("24.68"))}

        one_day = svc.merchant_report(sd.s, mall.merchant_id, date(2026, 3, 10),
                                      date(2026, 3, 10))
        assert one_day.total.net == 2 and one_day.total.amount == D("24.68")
        assert {r.day for r in one_day.by_store_day} == {date(2026, 3, 10)}


def test_report_refuses_bad_ranges(mall: Mall) -> None:
    svc = _service()
    with mall.app.app_context():
        with pytest.raises(svc.ReportError, match="开始日期不能晚于结束日期"):
            svc.merchant_report(db.session(), mall.merchant_id, date(2026, 3, 2),
                                date(2026, 3, 1))
        with pytest.raises(svc.ReportError, match="最长为 366 天"):
            svc.merchant_report(db.session(), mall.merchant_id, date(2025, 1, 1),
                                date(2026, 3, 1))
        with pytest.raises(svc.ReportError, match="超出可查询的范围"):
            svc.merchant_report(db.session(), mall.merchant_id, date(1, 1, 1), date(1, 1, 2))


# --- settlement statements ----------------------------------------------------------------


def _march(sd: Seeder, mall: Mall) -> list[Any]:
    """Redemptions and undos around March 2026 with awkward amounts; returns the events."""
    a, b = mall.store_ids
    offers = [mall.coupon_offer_id, sd.offer(mall.merchant_id, "一分钱券", "0.01"),
              sd.offer(mall.merchant_id, "零头券", "33.33")]
    events = []
    times = [bj(2026, 2, 28, 23, 59), bj(2026, 3, 1, 0, 0), bj(2026, 3, 5, 10),
             bj(2026, 3, 15, 8, 8), bj(2026, 3, 31, 23, 59), bj(2026, 4, 1, 0, 0)]
    for i, at in enumerate(times):
        for j, offer in enumerate(offers):
            c, e = sd.redeem(offer, at + timedelta(minutes=j), (a, b)[(i + j) % 2])
            events.append(e)
            if (i + j) % 3 == 0:
                events.append(sd.event(c, "undone", at + timedelta(minutes=j, seconds=30)))
    return events


def _expected(events: list[Any], start: date, end: date) -> tuple[set[int], int, int, Decimal]:
    """Independently, in Python: the events whose Beijing date is in the period."""
    chosen = [e for e in events if start <= e.at.astimezone(CHINA).date() <= end]
    return ({e.id for e in chosen}, sum(e.kind == "redeemed" for e in chosen),
            sum(e.kind == "undone" for e in chosen), sum((e.amount for e in chosen), D("0.00")))


def test_statement_sums_equal_the_events(mall: Mall) -> None:
    from unionhub_benefits_mall.models import BenefitsMallSettlementLine

    svc = _service()
    with mall.app.app_context():
        sd = Seeder(mall)
        events = _march(sd, mall)
        sd.s.commit()
        st = svc.build_statement(sd.s, mall.merchant_id, date(2026, 3, 1), date(2026, 3, 31),
                                 mall.accounts["operator"])
        sd.s.commit()
        ids, redeemed, undone, amount = _expected(events, date(2026, 3, 1), date(2026, 3, 31))
        lines = sd.s.execute(select(BenefitsMallSettlementLine.event_id,
                                    BenefitsMallSettlementLine.amount)
                             .where(BenefitsMallSettlementLine.settlement_id == st.id)).all()
        assert {e for e, _ in lines} == ids
        assert (st.redemptions, st.undone, st.amount) == (redeemed, undone, amount)
        assert sum((a for _, a in lines), D("0.00")) == st.amount
        assert st.status == "draft" and st.created_by == mall.accounts["operator"]
        assert redeemed == 12 and undone > 0  # the boundary events are really outside


def test_an_event_is_in_one_statement_only(mall: Mall) -> None:
    from unionhub_benefits_mall.models import BenefitsMallSettlement, BenefitsMallSettlementLine

    svc = _service()
    with mall.app.app_context():
        sd = Seeder(mall)
        a = mall.store_ids[0]
        c, redeemed = sd.redeem(mall.coupon_offer_id, bj(2026, 3, 20, 15), a)
        sd.redeem(mall.coupon_offer_id, bj(2026, 3, 21, 15), a)
        sd.s.commit()
        march = svc.build_statement(sd.s, mall.merchant_id, date(2026, 3, 1),
                                    date(2026, 3, 31), None)
        sd.s.commit()
        assert (march.redemptions, march.amount) == (2, D("100.00"))

        with pytest.raises(svc.SettlementError, match="该期间已生成结算单"):
            svc.build_statement(sd.s, mall.merchant_id, date(2026, 3, 1), date(2026, 3, 31),
                                None)
        with pytest.raises(svc.SettlementError, match="重叠"):
            svc.build_statement(sd.s, mall.merchant_id, date(2026, 3, 15), date(2026, 4, 10),
                                None)
        # The redemption of 20 March is undone in April (say, by an operator's correction):
        # the undo lands in April's statement, March's stays as it was.
        undo = sd.event(c, "undone", bj(2026, 4, 2, 9), a)
        sd.s.commit()
        april = svc.build_statement(sd.s, mall.merchant_id, date(2026, 4, 1),
                                    date(2026, 4, 14), None)
        sd.s.commit()
        assert (april.redemptions, april.undone, april.amount) == (0, 1, D("-50.00"))
        lines = dict(sd.s.execute(select(BenefitsMallSettlementLine.event_id,
                                         BenefitsMallSettlementLine.settlement_id)).all())
        assert lines[redeemed.id] == march.id and lines[undo.id] == april.id
        per_event = sd.s.execute(select(BenefitsMallSettlementLine.event_id, func.count())
                                 .group_by(BenefitsMallSettlementLine.event_id)).all()
        assert all(n == 1 for _, n in per_event) and len(per_event) == 3
        assert sd.s.scalar(select(func.count()).select_from(BenefitsMallSettlement)) == 2
        sd.s.refresh(march)
        assert (march.redemptions, march.undone, march.amount) == (2, 0, D("100.00"))


def test_a_racing_second_build_fails_cleanly(mall: Mall, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    """When the overlap check is passed by two builds at once, the database's keys refuse
    the second one; the message is the same and the caller's session stays usable."""
    from unionhub_benefits_mall.models import BenefitsMallSettlement

    svc = _service()
    with mall.app.app_context():
        sd = Seeder(mall)
        sd.redeem(mall.coupon_offer_id, bj(2026, 3, 20, 15), mall.store_ids[0])
        sd.s.commit()
        first = svc.build_statement(sd.s, mall.merchant_id, date(2026, 3, 1), date(2026, 3, 31),
                                    None)
        sd.s.commit()
        sd.redeem(mall.coupon_offer_id, bj(2026, 3, 22, 15), mall.store_ids[0], member="m2")
        sd.s.commit()
        monkeypatch.setattr(svc, "overlapping", lambda *a, **k: None)  # the race's blind spot
        with pytest.raises(svc.SettlementError, match="该期间已生成结算单"):
            svc.build_statement(sd.s, mall.merchant_id, date(2026, 3, 1), date(2026, 3, 31),
                                None)
        sd.s.commit()  # still usable
        rows = sd.s.scalars(select(BenefitsMallSettlement)).all()
        assert [r.id for r in rows] == [first.id] and rows[0].redemptions == 1


def test_build_refusals(mall: Mall) -> None:
    from unionhub_benefits_mall.models import BenefitsMallSettlement

    svc = _service()
    with mall.app.app_context():
        sd = Seeder(mall)
        sd.redeem(mall.coupon_offer_id, bj(2026, 4, 10, 15), mall.store_ids[0])
        sd.s.commit()
        with pytest.raises(svc.SettlementError, match="尚未结束"):  # period_end == today
            svc.build_statement(sd.s, mall.merchant_id, date(2026, 4, 1), TODAY, None)
        with pytest.raises(svc.SettlementError, match="尚未结束"):
            svc.build_month(sd.s, date(2026, 4, 1), None)
        with pytest.raises(svc.SettlementError, match="开始日期不能晚于结束日期"):
            svc.build_statement(sd.s, mall.merchant_id, date(2026, 3, 2), date(2026, 3, 1),
                                None)
        with pytest.raises(svc.SettlementError, match="没有待结算的核销记录"):
            svc.build_statement(sd.s, mall.merchant_id, date(2026, 2, 1), date(2026, 2, 28),
                                None)
        with pytest.raises(svc.SettlementError, match="没有该商户"):
            svc.build_statement(sd.s, 987654, date(2026, 2, 1), date(2026, 2, 28), None)
        assert sd.s.scalar(select(func.count()).select_from(BenefitsMallSettlement)) == 0
        built = svc.build_statement(sd.s, mall.merchant_id, date(2026, 4, 1), date(2026, 4, 14),
                                    None)
        assert built.redemptions == 1


def test_build_month_for_every_merchant_with_redemptions(mall: Mall) -> None:
    svc = _service()
    with mall.app.app_context():
        sd = Seeder(mall)
        sd.redeem(mall.coupon_offer_id, bj(2026, 3, 3), mall.store_ids[0])
        travel = sd.offer(mall.other_merchant_id, "周边游", "80.00", "travel")
        sd.redeem(travel, bj(2026, 3, 4))
        sd.redeem(travel, bj(2026, 2, 4))  # February: not in March's statements
        sd.s.commit()
        outcomes = svc.build_month(sd.s, date(2026, 3, 1), None)
        sd.s.commit()
        got = {o.merchant.id: (o.settlement.redemptions, o.settlement.amount) for o in outcomes}
        assert got == {mall.merchant_id: (1, D("50.00")), mall.other_merchant_id: (1, D("80.00"))}
        assert svc.build_month(sd.s, date(2026, 3, 1), None) == []  # nothing left to settle


def test_status_transitions(mall: Mall) -> None:
    svc = _service()
    with mall.app.app_context():
        sd = Seeder(mall)
        sd.redeem(mall.coupon_offer_id, bj(2026, 3, 3), mall.store_ids[0])
        sd.s.commit()
        st = svc.build_statement(sd.s, mall.merchant_id, date(2026, 3, 1), date(2026, 3, 31),
                                 None)
        sd.s.commit()
        with pytest.raises(svc.SettlementError, match="只有商户已确认"):
            svc.mark_paid(sd.s, st.id, account_id=None)  # a draft cannot be paid
        with pytest.raises(svc.SettlementError, match="只有待确认"):
            svc.confirm(sd.s, st.id, merchant_id=mall.other_merchant_id, account_id=None)
        assert svc.confirm(sd.s, st.id, merchant_id=mall.merchant_id,
                           account_id=None).status == "confirmed"
        with pytest.raises(svc.SettlementError, match="只有待确认"):
            svc.confirm(sd.s, st.id, merchant_id=mall.merchant_id, account_id=None)
        assert svc.mark_paid(sd.s, st.id, account_id=None).status == "paid"
        with pytest.raises(svc.SettlementError):
            svc.mark_paid(sd.s, st.id, account_id=None)
        sd.s.commit()
        actions = [h.action for h in svc.statement_history(sd.s, st.id)]
        assert actions == ["benefits_mall.settlement.build", "benefits_mall.settlement.confirm",
                           "benefits_mall.settlement.paid"]


# --- officers' dashboard ------------------------------------------------------------------


def _dashboard_data(sd: Seeder, mall: Mall) -> dict[str, int]:
    """Claims by m1 (g1, under d1), m3 (b1, under g1) and m2 (g2, under d2) in the last 30
    days, some redeemed (one undone), plus one older claim outside the window."""
    travel = sd.offer(mall.other_merchant_id, "周边游", "80.00", "travel")
    a = mall.store_ids[0]
    plan = [("m1", mall.coupon_offer_id, bj(2026, 4, 14, 23, 30), True),
            ("m1", travel, bj(2026, 4, 1, 9), False),
            ("m3", mall.coupon_offer_id, bj(2026, 4, 10, 0, 30), True),  # 9 April in UTC
            ("m2", travel, bj(2026, 4, 12, 9), True),
            ("m2", travel, bj(2026, 4, 12, 10), False),
            ("m2", mall.coupon_offer_id, bj(2026, 3, 1, 9), True)]  # outside the 30 days
    for member, offer, at, redeem in plan:
        c = sd.coupon(offer, member, claimed_at=at,
                      state="redeemed" if redeem else "issued")
        sd.event(c, "claimed", at)
        if redeem:
            sd.event(c, "redeemed", at + timedelta(minutes=20), a)
    # m3's redemption undone then redeemed again: nets to one
    c3 = sd.coupon(mall.coupon_offer_id, "m3", claimed_at=bj(2026, 4, 13, 9), state="redeemed")
    sd.event(c3, "redeemed", bj(2026, 4, 13, 10), a)
    sd.event(c3, "undone", bj(2026, 4, 13, 10, 5), a)
    sd.event(c3, "redeemed", bj(2026, 4, 13, 10, 10), a)
    sd.s.commit()
    return {"travel": travel}


def _account(mall: Mall, username: str) -> Any:
    from unionhub.identity.models import Account

    return db.session().get(Account, mall.world.officers[username])


def test_dashboard_is_scoped_to_the_officers_orgs(mall: Mall) -> None:
    svc = _service()
    with mall.app.app_context():
        sd = Seeder(mall)
        ids = _dashboard_data(sd, mall)
        w = mall.world

        d2 = svc.dashboard(sd.s, svc.Scope(_account(mall, "haidian")), TODAY)
        h = d2.headline
        assert (h.claims, h.redemptions, h.redeemed_of_claimed) == (2, 1, 1)
        assert h.amount == D("80.00") and h.rate == D("50.0")
        assert [g.name for g in d2.merchants] == ["悦行旅游"]  # no 康健体检中心 claims in d2
        assert d2.base is not None and d2.base.id == w.org_id("d2")
        assert [(g.name, g.claims) for g in d2.orgs] == [("软件园工会", 2)]

        d1 = svc.dashboard(sd.s, svc.Scope(_account(mall, "chaoyang")), TODAY)
        h = d1.headline
        # m1: 2 claims (1 redeemed), m3: 2 claims (both redeemed, one after an undo)
        assert (h.claims, h.redemptions, h.redeemed_of_claimed) == (4, 3, 3)
        assert h.amount == D("150.00") and h.rate == D("75.0")
        assert [(g.name, g.claims, g.redemptions) for g in d1.orgs] == [("电控工会", 4, 3)]
        by_day = {x.day: (x.claims, x.redemptions) for x in d1.days}
        assert len(d1.days) == 30 and d1.days[0].day == date(2026, 3, 17)
        assert by_day[date(2026, 4, 14)] == (1, 1)  # claimed 23:30, redeemed 23:50 Beijing
        assert by_day[date(2026, 4, 15)] == (0, 0)
        assert by_day[date(2026, 4, 10)] == (1, 1) and by_day[date(2026, 4, 9)] == (0, 0)
        assert by_day[date(2026, 4, 13)] == (1, 1)  # redeemed, undone, redeemed again
        assert sum(x.claims for x in d1.days) == 4 and sum(x.redemptions for x in d1.days) == 3
        cats = {g.key: (g.claims, g.redemptions) for g in d1.categories}
        assert cats == {"medical": (3, 3), "travel": (1, 0)}

        city = svc.dashboard(sd.s, svc.Scope(_account(mall, "city")), TODAY)
        assert city.headline.claims == 6 and city.headline.redemptions == 4
        assert {(g.name, g.claims) for g in city.orgs} == {("朝阳区总工会", 4),
                                                            ("海淀区总工会", 2)}
        merchants = {g.name: (g.claims, g.redemptions, g.amount) for g in city.merchants}
        assert merchants == {"康健体检中心": (3, 3, D("150.00")),
                             "悦行旅游": (3, 1, D("80.00"))}
        assert city.merchants[0].name == "康健体检中心"  # most redemptions first

        narrowed = svc.dashboard(sd.s, svc.Scope(_account(mall, "city"), w.orgs["g1"]), TODAY)
        assert narrowed.headline.claims == 4
        assert [(g.name, g.claims) for g in narrowed.orgs] == [("京东方分会", 2),
                                                                ("电控工会（本级）", 2)]

        month = svc.headline(sd.s, svc.Scope(_account(mall, "haidian")), date(2026, 4, 1),
                             TODAY)
        assert (month.claims, month.redemptions) == (2, 1)
        assert ids["travel"]
        assert svc.in_scope(sd.s, _account(mall, "haidian"), w.org_id("d1")) is None
        assert svc.in_scope(sd.s, _account(mall, "haidian"), w.org_id("g2")) is not None


@pytest.mark.integration
def test_two_builds_at_once_make_one_statement(database_url: str, mall: Mall) -> None:
    """On PostgreSQL: two operators build the same month at the same moment — one statement,
    the other build refused with a clear message, every event in exactly one statement."""
    import threading

    from unionhub_benefits_mall.models import BenefitsMallSettlement, BenefitsMallSettlementLine

    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (UNIONHUB_TEST_DATABASE_URL)")
    svc = _service()
    with mall.app.app_context():
        sd = Seeder(mall)
        for day in range(1, 21):
            sd.redeem(mall.coupon_offer_id, bj(2026, 3, day, 12), mall.store_ids[day % 2])
        sd.s.commit()
    barrier = threading.Barrier(2)
    results: list[BaseException | None] = [None, None]

    def build(i: int) -> None:
        with mall.app.app_context():
            s = db.session()
            barrier.wait()
            try:
                svc.build_statement(s, mall.merchant_id, date(2026, 3, 1), date(2026, 3, 31),
                                    None)
                s.commit()
            except BaseException as exc:  # collected and asserted below
                s.rollback()
                results[i] = exc

    threads = [threading.Thread(target=build, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    errors = [r for r in results if r is not None]
    assert len(errors) == 1 and isinstance(errors[0], svc.SettlementError), results
    assert "该期间已生成结算单" in str(errors[0])
    with mall.app.app_context():
        s = db.session()
        (st,) = s.scalars(select(BenefitsMallSettlement)).all()
        assert (st.redemptions, st.amount) == (20, D("1000.00"))
        assert s.scalar(select(func.count()).select_from(BenefitsMallSettlementLine)) == 20
