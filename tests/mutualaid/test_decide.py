"""Decisions against the database: explanation kept, ledger booked once, payout owed once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.mutualaid.conftest import MA


def _enrolled_claim(ma: MA, oop: str = "12345.61", number: str = "C-1") -> int:
    from unionhub import db
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.models import MutualaidClaim, MutualaidCoverage

    s = db.session()
    plan = plans.current(s, "ZYYL", 2026)
    assert plan is not None
    m1 = ma.world.people["m1"].member_id
    cov = s.scalar(select(MutualaidCoverage).where(MutualaidCoverage.member_id == m1,
                                                   MutualaidCoverage.program == "ZYYL"))
    if cov is None:
        cov = MutualaidCoverage(member_id=m1, plan_id=plan.id, program="ZYYL", plan_year=2026,
                                unit_org_id=ma.world.org_id("g1"), shares=1,
                                start=date(2026, 1, 1), end=date(2026, 12, 31),
                                first_enrolled=date(2025, 1, 1), status="active",
                                fee=Decimal("60.00"))
        s.add(cov)
        s.flush()
    claim = MutualaidClaim(number=number, member_id=m1, org_path="/", plan_id=plan.id,
                           program="ZYYL", plan_year=2026, coverage_id=cov.id,
                           event_date=date(2026, 3, 1), stays=[["2026-03-01", "2026-03-08"]],
                           total_amount=Decimal("20000.00"), out_of_pocket=Decimal(oop),
                           submitted_on=date(2026, 3, 20))
    s.add(claim)
    s.commit()
    return claim.id


def test_approve_books_ledger_and_owes_one_payout(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid import decide
    from unionhub_mutualaid.models import MutualaidClaim, MutualaidLedger, MutualaidPayout

    with ma.app.app_context():
        s = db.session()
        claim = s.get(MutualaidClaim, _enrolled_claim(ma))
        d = decide.evaluate(s, claim)
        assert d.amount > 0 and claim.decision["explanation"][-1].startswith("核定赔付金额")
        assert s.scalar(select(func.count()).select_from(MutualaidLedger)) == 0
        decision = decide.approve(s, claim)
        s.commit()
        assert claim.status == "approved" and claim.amount == decision.amount == d.amount
        ledger = s.scalar(select(MutualaidLedger))
        assert ledger.version == 1 and ledger.paid == decision.amount
        payout = s.scalar(select(MutualaidPayout))
        assert (payout.source, payout.source_id, payout.amount) == ("claim", claim.id,
                                                                     decision.amount)
        assert payout.summary == "互助金-住院医疗"
        with pytest.raises(decide.ClaimConflict):
            decide.approve(s, claim)
        s.rollback()
        assert s.scalar(select(func.count()).select_from(MutualaidPayout)) == 1
        assert s.scalar(select(MutualaidLedger.version)) == 1


def test_stale_ledger_version_is_retried_not_double_counted(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid import decide
    from unionhub_mutualaid.models import MutualaidClaim, MutualaidLedger

    with ma.app.app_context():
        s = db.session()
        first = s.get(MutualaidClaim, _enrolled_claim(ma, number="C-1"))
        second = s.get(MutualaidClaim, _enrolled_claim(ma, number="C-2"))
        # both decided against the empty ledger (what two reviewers would see at once)
        a, b = decide.evaluate(s, first), decide.evaluate(s, second)
        assert a.delta.base_version == b.delta.base_version == 0
        decide.approve(s, first)
        second_decision = decide.approve(s, second)
        s.commit()
        ledger = s.scalar(select(MutualaidLedger))
        assert ledger.version == 2
        assert ledger.paid == first.amount + second.amount
        # the second decision was re-made against the booked first one
        assert second_decision.delta.base_version == 1


def test_member_not_enrolled_is_rejected_with_reason(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid import decide, plans
    from unionhub_mutualaid.models import MutualaidClaim

    with ma.app.app_context():
        s = db.session()
        plan = plans.current(s, "ZDJB", 2026)
        claim = MutualaidClaim(number="C-9", member_id=ma.world.people["m2"].member_id,
                               org_path="/", plan_id=plan.id, program="ZDJB", plan_year=2026,
                               event_date=date(2026, 5, 1), diagnoses=["C50.9"],
                               submitted_on=date(2026, 5, 5))
        s.add(claim)
        s.flush()
        d = decide.approve(s, claim)
        assert claim.status == "rejected" and claim.reason_code == "not_enrolled"
        assert d.amount == 0 and "未参加该项目" in d.explanation[-1]


def test_evaluate_many_decides_like_evaluate(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid import decide
    from unionhub_mutualaid.models import MutualaidClaim

    with ma.app.app_context():
        s = db.session()
        ids = [_enrolled_claim(ma, oop, f"C-{i}")
               for i, oop in enumerate(["500.00", "12345.61", "19000.00"])]
        decide.approve(s, s.get(MutualaidClaim, ids[1]))  # books 5,672.81 in the ledger
        s.commit()
        claims = [s.get(MutualaidClaim, i) for i in (ids[0], ids[2])]
        batch = decide.evaluate_many(s, claims)
        one_by_one = [decide.evaluate(s, c) for c in claims]
        assert [d.to_dict() for d in batch] == [d.to_dict() for d in one_by_one]
        assert [d.amount for d in batch] == [Decimal("0.00"), Decimal("9000.00")]
        s.commit()
        s.expire_all()
        assert s.get(MutualaidClaim, ids[2]).decision["amount"] == "9000.00"
