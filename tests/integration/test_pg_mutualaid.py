"""Races on the mutual-aid ledger, on a real PostgreSQL: two approvals at the same moment never
both consume the same remaining cap, and a claim approved twice at once is paid once."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.integration.test_pg_identity import race
from tests.mutualaid.conftest import MA
from unionhub import db

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_late_2026")]


def _claims(ma: MA, out_of_pocket: list[str]) -> list[int]:
    """ZYYL 2026 claims of m1 (per-event cap 10,000, annual cap 20,000, deductible 1,000, 50%)."""
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.models import MutualaidClaim, MutualaidCoverage

    with ma.app.app_context():
        s = db.session()
        plan = plans.current(s, "ZYYL", 2026)
        assert plan is not None
        m1 = ma.world.people["m1"].member_id
        cov = MutualaidCoverage(member_id=m1, plan_id=plan.id, program="ZYYL", plan_year=2026,
                                unit_org_id=ma.world.org_id("g1"), shares=1,
                                start=date(2026, 1, 1), end=date(2026, 12, 31),
                                first_enrolled=date(2025, 1, 1), status="active",
                                fee=Decimal("60.00"))
        s.add(cov)
        s.flush()
        ids = []
        for i, oop in enumerate(out_of_pocket):
            claim = MutualaidClaim(
                number=f"R-{i}", member_id=m1, org_path="/", plan_id=plan.id, program="ZYYL",
                plan_year=2026, coverage_id=cov.id, event_date=date(2026, 3, 1 + i * 7),
                stays=[[f"2026-03-{1 + i * 7:02d}", f"2026-03-{5 + i * 7:02d}"]],
                total_amount=Decimal("30000.00"), out_of_pocket=Decimal(oop),
                submitted_on=date(2026, 4, 1))
            s.add(claim)
            s.flush()
            ids.append(claim.id)
        s.commit()
        return ids


def test_two_approvals_at_once_share_the_remaining_annual_cap(pg_database_url, ma: MA):
    from unionhub_mutualaid import decide
    from unionhub_mutualaid.models import MutualaidClaim, MutualaidLedger, MutualaidPayout

    first, a, b = _claims(ma, ["25000.00", "25000.00", "25000.00"])
    with ma.app.app_context():
        s = db.session()
        decide.approve(s, s.get(MutualaidClaim, first))  # 10,000 paid: 10,000 of the cap left
        s.commit()
    ids = iter([a, b])
    lock = threading.Lock()

    def approve() -> None:
        with lock:
            claim_id = next(ids)
        s = db.session()
        decide.approve(s, s.get(MutualaidClaim, claim_id))

    assert race(ma.app, approve) == [None, None]
    with ma.app.app_context():
        s = db.session()
        ledger = s.scalar(select(MutualaidLedger))
        assert ledger is not None and ledger.paid == Decimal("20000.00")
        assert ledger.version == 2  # the refused claim books nothing (its delta is empty)
        amounts = sorted(s.scalar(select(MutualaidClaim.amount).where(MutualaidClaim.id == i))
                         for i in (a, b))
        assert amounts == [Decimal("0.00"), Decimal("10000.00")]
        statuses = sorted(s.scalars(select(MutualaidClaim.status)
                                    .where(MutualaidClaim.id.in_((a, b)))))
        assert statuses == ["approved", "rejected"]
        paid = s.scalar(select(func.sum(MutualaidPayout.amount)))
        assert paid == Decimal("20000.00")  # 10,000 + 10,000, never 30,000


def test_one_claim_approved_twice_at_once_is_owed_once(pg_database_url, ma: MA):
    from unionhub_mutualaid import decide
    from unionhub_mutualaid.models import MutualaidClaim, MutualaidLedger, MutualaidPayout

    (claim_id,) = _claims(ma, ["5000.00"])

    def approve() -> None:
        s = db.session()
        decide.approve(s, s.get(MutualaidClaim, claim_id))

    results = race(ma.app, approve)
    assert sum(r is None for r in results) == 1, results
    assert isinstance(next(r for r in results if r is not None), decide.ClaimConflict)
    with ma.app.app_context():
        s = db.session()
        assert s.scalar(select(func.count()).select_from(MutualaidPayout)) == 1
        assert s.scalar(select(MutualaidLedger.version)) == 1
