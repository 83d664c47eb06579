"""The welfare-points ledger: caps, all-or-nothing grants, idempotent batches, spending,
expiry (before and after the nightly job) and refunds."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.benefits_mall.conftest import Mall
from unionhub import db
from unionhub.groups.service import add_members, create_group
from unionhub.identity.models import Member, MemberStatus
from unionhub.orgs.models import Org

TODAY = date(2026, 3, 10)


def _svc() -> Any:
    from unionhub_benefits_mall.points import service

    return service


def _org(mall: Mall, key: str) -> Org:
    org = db.session().get(Org, mall.world.org_id(key))
    assert org is not None
    return org


def _mid(mall: Mall, key: str) -> int:
    return mall.world.people[key].member_id


def _entries(member_id: int) -> list[tuple[str, int]]:
    from unionhub_benefits_mall.models import BenefitsMallPointsEntry as E

    return [(e.kind, e.points) for e in db.session().scalars(
        select(E).where(E.member_id == member_id).order_by(E.id))]


def _ledger_sum(member_id: int) -> int:
    from unionhub_benefits_mall.models import BenefitsMallPointsEntry as E

    return int(db.session().scalar(select(func.coalesce(func.sum(E.points), 0))
                                   .where(E.member_id == member_id)) or 0)


def _rules(mall: Mall) -> None:
    svc = _svc()
    s = db.session()
    svc.set_rule(s, _org(mall, "city"), "spring_festival", 200, 200, 500, 12)
    svc.set_rule(s, _org(mall, "city"), "mid_autumn", 150, 300, 500, 6)
    svc.set_rule(s, _org(mall, "city"), "birthday", 100, 100, 500, 12)


def _grant(mall: Mall, org: str, occasion: str, points: int, key: str,
           members: list[str] | None = None, today: date = TODAY, **kw: Any) -> Any:
    ids = None if members is None else [_mid(mall, m) for m in members]
    return _svc().grant(db.session(), org=_org(mall, org), member_ids=ids, occasion=occasion,
                        points=points, year=today.year, account_id=mall.world.officers["city"],
                        batch_key=key, today=today, **kw)


def test_grant_to_subtree_active_members_only(mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        _rules(mall)
        m3 = s.get(Member, _mid(mall, "m3"))
        assert m3 is not None
        m3.status = MemberStatus.LEFT
        s.flush()
        result = _grant(mall, "d1", "spring_festival", 200, "sf-d1")
        assert (result.granted, result.targets) == (1, 1)  # m1 (g1); m3 left; m2 is in d2
        assert result.expires_on == date(2027, 3, 10)
        assert svc.balance(s, _mid(mall, "m1"), TODAY) == 200
        assert svc.balance(s, _mid(mall, "m2"), TODAY) == 0
        assert svc.balance(s, _mid(mall, "m3"), TODAY) == 0
        from unionhub.notify.models import Notification

        told = list(s.scalars(select(Notification).where(
            Notification.type_key == "benefits_mall.points_granted")))
        assert [n.member_id for n in told] == [_mid(mall, "m1")]
        assert "200" in told[0].body and "2027-03-10" in told[0].body
        # re-running the batch tells nobody twice
        _grant(mall, "d1", "spring_festival", 200, "sf-d1")
        assert len(list(s.scalars(select(Notification.id).where(
            Notification.type_key == "benefits_mall.points_granted")))) == 1


def test_no_rule_refused(mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        with pytest.raises(svc.PointsError) as err:
            _grant(mall, "city", "dragon_boat", 10, "db")
        assert "没有设置“端午”的积分规则" in err.value.message
        assert _ledger_sum(_mid(mall, "m1")) == 0


def test_nearest_rule_up_the_tree_applies(mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        _rules(mall)
        svc.set_rule(s, _org(mall, "d1"), "spring_festival", 50, 50, 100, 3)
        rule, org = svc.rule_for(s, _org(mall, "b1"), "spring_festival")
        assert org.id == mall.world.org_id("d1") and rule.per_grant == 50
        with pytest.raises(svc.PointsError) as err:
            _grant(mall, "g1", "spring_festival", 60, "too-much")
        assert "单次发放上限 50" in err.value.message
        result = _grant(mall, "g1", "spring_festival", 50, "ok")
        assert result.expires_on == date(2026, 6, 10)  # d1's rule: 3 months
        rule, org = svc.rule_for(s, _org(mall, "g2"), "spring_festival")
        assert org.id == mall.world.org_id("city") and rule.per_grant == 200


def test_per_occasion_cap_is_all_or_nothing_and_names_members(mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        _rules(mall)
        _grant(mall, "g1", "mid_autumn", 150, "ma-1", members=["m1"])
        # per occasion 300 a year: m1 has 150, another 150 fits; a third does not
        _grant(mall, "d1", "mid_autumn", 150, "ma-2")
        assert svc.balance(s, _mid(mall, "m1"), TODAY) == 300
        assert svc.balance(s, _mid(mall, "m3"), TODAY) == 150
        before = (_ledger_sum(_mid(mall, "m1")), _ledger_sum(_mid(mall, "m3")))
        with pytest.raises(svc.PointsError) as err:
            _grant(mall, "d1", "mid_autumn", 100, "ma-3")
        assert [p.member_id for p in err.value.problems] == [_mid(mall, "m1")]
        assert "张伟" in err.value.message and "上限 300" in err.value.message
        # nobody got anything, not even m3 who had room
        assert (_ledger_sum(_mid(mall, "m1")), _ledger_sum(_mid(mall, "m3"))) == before
        # counted over the rule's subtree: a grant made by the city also counts
        with pytest.raises(svc.PointsError):
            _grant(mall, "city", "mid_autumn", 10, "ma-4", members=["m1"])


def test_per_year_cap_over_all_occasions(mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        _rules(mall)
        _grant(mall, "g1", "spring_festival", 200, "y-1")
        _grant(mall, "g1", "mid_autumn", 150, "y-2")
        _grant(mall, "g1", "mid_autumn", 100, "y-3")  # 450 of 500
        with pytest.raises(svc.PointsError) as err:
            _grant(mall, "g1", "birthday", 100, "y-4", members=["m1"])
        assert "全年上限 500" in err.value.message
        _grant(mall, "g1", "birthday", 50, "y-5", members=["m1"])
        assert svc.balance(s, _mid(mall, "m1"), TODAY) == 500
        # a new year starts again
        _grant(mall, "g1", "birthday", 100, "y-6", members=["m1"], today=date(2027, 1, 5))
        # mid-autumn points (6 months) have expired by then: 200 + 50 + 100
        assert svc.balance(s, _mid(mall, "m1"), date(2027, 1, 5)) == 350


def test_batch_key_is_idempotent_per_member(mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        _rules(mall)
        first = _grant(mall, "g1", "spring_festival", 200, "sf-2026", members=["m1"])
        assert first.granted == 1
        # the same batch again for the whole g1 subtree: m1 already has it, m3 gets it, and the
        # cap (200) is not counted twice for m1
        again = _grant(mall, "g1", "spring_festival", 200, "sf-2026")
        assert (again.granted, again.already, again.targets) == (1, 1, 2)
        third = _grant(mall, "g1", "spring_festival", 200, "sf-2026")
        assert (third.granted, third.already) == (0, 2)
        assert svc.balance(s, _mid(mall, "m1"), TODAY) == 200
        assert svc.balance(s, _mid(mall, "m3"), TODAY) == 200


def test_group_and_listed_members(mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        _rules(mall)
        group = create_group(s, "model_worker", "劳动模范")
        add_members(s, group, [_mid(mall, "m3"), _mid(mall, "m2")])
        result = _grant(mall, "d1", "spring_festival", 100, "grp", group_ids=[group.id])
        assert result.granted == 1  # m3 only: m2 is in the group but not in d1
        assert svc.balance(s, _mid(mall, "m3"), TODAY) == 100
        with pytest.raises(svc.PointsError) as err:
            _grant(mall, "d1", "birthday", 50, "bd", members=["m1", "m2"])
        assert "李娜" in err.value.message and "不是朝阳区总工会的在册会员" in err.value.message
        assert svc.balance(s, _mid(mall, "m1"), TODAY) == 0


def test_set_rule_validation_names_fields(mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        with pytest.raises(svc.RuleError) as err:
            svc.set_rule(s, _org(mall, "city"), "spring_festival", "abc", 0, 100, 99)
        assert set(err.value.errors) == {"per_grant", "per_member_occasion", "valid_months"}
        assert "单次发放上限" in err.value.errors["per_grant"]
        with pytest.raises(svc.RuleError) as err:
            svc.set_rule(s, _org(mall, "city"), "spring_festival", 300, 200, 1000)
        assert set(err.value.errors) == {"per_grant"}
        with pytest.raises(svc.RuleError) as err:
            svc.set_rule(s, _org(mall, "city"), "lantern", 10, 10, 10)
        assert set(err.value.errors) == {"occasion"}
        rule = svc.set_rule(s, _org(mall, "city"), "spring_festival", "200", "200", "1000")
        again = svc.set_rule(s, _org(mall, "city"), "spring_festival", 100, 200, 1000, 6)
        assert again.id == rule.id and again.per_grant == 100 and again.valid_months == 6


def test_spend_short_is_refused_and_idempotent(mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        _rules(mall)
        m1 = _mid(mall, "m1")
        _grant(mall, "g1", "spring_festival", 200, "sf", members=["m1"])
        with pytest.raises(svc.PointsError) as err:
            svc.spend(s, m1, 201, batch_key="c-1", today=TODAY)
        assert "可用 200" in err.value.message
        entry = svc.spend(s, m1, 120, batch_key="c-1", today=TODAY)
        assert entry.points == -120
        assert svc.spend(s, m1, 120, batch_key="c-1", today=TODAY).id == entry.id
        with pytest.raises(svc.PointsError):
            svc.spend(s, m1, 10, batch_key="c-1", today=TODAY)  # the key belongs to 120
        assert svc.balance(s, m1, TODAY) == 80
        with pytest.raises(svc.PointsError):
            svc.spend(s, m1, 81, batch_key="c-2", today=TODAY)
        with pytest.raises(svc.PointsError):
            svc.spend(s, m1, 0, batch_key="c-3", today=TODAY)


def test_expired_points_are_not_spendable_before_the_job(mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        _rules(mall)
        m1 = _mid(mall, "m1")
        _grant(mall, "g1", "mid_autumn", 100, "old", members=["m1"])  # until 2026-09-10
        svc.spend(s, m1, 30, batch_key="s-1", today=TODAY)
        _grant(mall, "g1", "spring_festival", 200, "new", members=["m1"],
                today=date(2026, 6, 1))  # until 2027-06-01
        assert svc.balance(s, m1, date(2026, 9, 10)) == 270
        after = date(2026, 9, 11)
        assert svc.balance(s, m1, after) == 200  # the old lot's 70 are gone already
        assert _ledger_sum(m1) == 270  # ... though the nightly job has not run yet
        with pytest.raises(svc.PointsError):
            svc.spend(s, m1, 201, batch_key="s-2", today=after)
        # spending expires the member's due lots first, then uses the new lot only
        svc.spend(s, m1, 50, batch_key="s-3", today=after)
        assert _entries(m1)[-2:] == [("expire", -70), ("spend", -50)]
        assert svc.balance(s, m1, after) == 150 == _ledger_sum(m1)
        assert svc.expire_due(s, after) == 0  # nothing left to expire


def test_expire_due_is_set_based_and_idempotent(mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        _rules(mall)
        m1, m3 = _mid(mall, "m1"), _mid(mall, "m3")
        _grant(mall, "g1", "mid_autumn", 100, "ma")  # m1 and m3, until 2026-09-10
        svc.spend(s, m1, 40, batch_key="s-1", today=TODAY)
        svc.spend(s, m3, 100, batch_key="s-2", today=TODAY)
        assert svc.expire_due(s, date(2026, 9, 10)) == 0  # valid through that day
        assert svc.expire_due(s, date(2026, 9, 11)) == 1  # m3 spent everything: nothing left
        assert _entries(m1)[-1] == ("expire", -60)
        assert _ledger_sum(m1) == 0 == svc.balance(s, m1, date(2026, 9, 11))
        assert _ledger_sum(m3) == 0
        assert svc.expire_due(s, date(2026, 9, 12)) == 0


def test_fifo_uses_the_oldest_lot_first(mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        _rules(mall)
        m1 = _mid(mall, "m1")
        _grant(mall, "g1", "spring_festival", 100, "a", members=["m1"])  # until 2027-03-10
        _grant(mall, "g1", "mid_autumn", 100, "b", members=["m1"],
                today=date(2026, 4, 1))  # until 2026-10-01
        svc.spend(s, m1, 150, batch_key="s", today=date(2026, 4, 2))
        left = {lot.occasion: lot.remainder for lot in svc.lots(s, m1, date(2026, 4, 2))}
        assert left == {"spring_festival": 0, "mid_autumn": 50}
        assert svc.expire_due(s, date(2026, 10, 2)) == 1
        assert svc.balance(s, m1, date(2026, 10, 2)) == 0 == _ledger_sum(m1)
        soon = svc.expiring(s, m1, date(2026, 9, 15))
        assert [(lot.occasion, lot.remainder) for lot in soon] == []


def test_expiring_lists_soon_expiring_remainders(mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        _rules(mall)
        m1 = _mid(mall, "m1")
        _grant(mall, "g1", "mid_autumn", 100, "b", members=["m1"])  # until 2026-09-10
        _grant(mall, "g1", "spring_festival", 100, "a", members=["m1"])  # until 2027-03-10
        svc.spend(s, m1, 30, batch_key="s", today=TODAY)
        soon = svc.expiring(s, m1, date(2026, 8, 20), days=30)
        assert [(lot.occasion, lot.remainder) for lot in soon] == [("mid_autumn", 70)]


def test_refund_gives_back_once_with_the_spent_points_expiry(mall: Mall) -> None:
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        _rules(mall)
        m1 = _mid(mall, "m1")
        _grant(mall, "g1", "mid_autumn", 100, "b", members=["m1"])  # until 2026-09-10
        spent = svc.spend(s, m1, 80, batch_key="s", today=TODAY)
        back = svc.refund(s, spent, batch_key="r", today=TODAY)
        assert back.points == 80 and back.expires_on == date(2026, 9, 10)
        assert back.grant_id == spent.id
        assert svc.refund(s, spent, batch_key="r", today=TODAY).id == back.id
        with pytest.raises(svc.PointsError) as err:
            svc.refund(s, spent, batch_key="r-2", today=TODAY)
        assert "已经退还" in err.value.message
        assert svc.balance(s, m1, TODAY) == 100
        # the refunded points expire with the points they came from
        assert svc.balance(s, m1, date(2026, 9, 11)) == 0
        assert svc.expire_due(s, date(2026, 9, 11)) == 2  # the rest of the grant and the refund
        assert _ledger_sum(m1) == 0
        with pytest.raises(svc.PointsError):
            svc.refund(s, back, batch_key="r-3", today=TODAY)  # only spends are refunded


def test_balance_is_never_a_stored_number(mall: Mall) -> None:
    """Many operations in a row: the computed balance always equals the ledger's sum once
    expiry has run, and never goes below zero."""
    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        _rules(mall)
        m1 = _mid(mall, "m1")
        day = TODAY
        for i in range(6):
            day = day + timedelta(days=40)
            _grant(mall, "g1", ("spring_festival", "mid_autumn", "birthday")[i % 3], 50, f"g{i}",
                   members=["m1"], today=day)
            have = svc.balance(s, m1, day)
            if have >= 70:
                svc.spend(s, m1, 70, batch_key=f"s{i}", today=day)
            svc.expire_due(s, day)
            assert svc.balance(s, m1, day) == _ledger_sum(m1) >= 0
