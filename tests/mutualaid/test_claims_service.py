"""Claims service: fast claims from settlement data, numbering, the working-day clock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from tests.mutualaid.conftest import MA


def cover(ma: MA, person: str, program: str = "ZYYL", year: int = 2026,
          unit: str = "g1") -> int:
    """A paid coverage row (as the enrollment feature would create it)."""
    from unionhub import db
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.models import MutualaidCoverage

    s = db.session()
    plan = plans.current(s, program, year)
    assert plan is not None
    row = MutualaidCoverage(member_id=ma.world.people[person].member_id, plan_id=plan.id,
                            program=program, plan_year=year, unit_org_id=ma.world.org_id(unit),
                            shares=1, tier="50" if program == "YWSH" else None,
                            start=date(year, 1, 1), end=date(year, 12, 31),
                            first_enrolled=date(year - 1, 1, 1), status="active",
                            fee=Decimal("60.00"))
    s.add(row)
    s.commit()
    return row.id


def _fast(ma: MA, serial: str, person: str = "m1") -> object:
    from unionhub import db
    from unionhub.identity.models import Member
    from unionhub_mutualaid.claims.service import create_fast_claim

    s = db.session()
    member = s.get(Member, ma.world.people[person].member_id)
    return create_fast_claim(
        s, member=member, program="ZYYL", benefit=None, serial=serial,
        stays=[(date(2026, 3, 1), date(2026, 3, 8))], hospital="北京协和医院",
        total=Decimal("20000.00"), out_of_pocket=Decimal("8000.00"), diagnoses=["K35.8"],
        submitted_on=date(2026, 3, 20))


def test_fast_claim_is_idempotent_per_serial(ma: MA) -> None:
    from unionhub import db
    from unionhub.workdays.service import add_working_days
    from unionhub_mutualaid.claims.models import MutualaidClaimEvent
    from unionhub_mutualaid.models import MutualaidClaim

    with ma.app.app_context():
        cover(ma, "m1")
        s = db.session()
        first = _fast(ma, "S-0001")
        s.commit()
        assert first is not None
        again = _fast(ma, "S-0001")
        s.commit()
        assert again is not None and again.id == first.id  # type: ignore[attr-defined]
        assert s.scalar(select(func.count()).select_from(MutualaidClaim)) == 1
        claim = s.get(MutualaidClaim, first.id)  # type: ignore[attr-defined]
        assert claim.source == "settlement" and claim.settlement_serial == "S-0001"
        assert claim.number == f"LP20260320{claim.id:06d}"
        assert claim.complete_on == date(2026, 3, 20)
        assert claim.due_on == add_working_days(date(2026, 3, 20), 10)
        assert claim.org_path == ma.world.orgs["g1"].path
        assert claim.decision["explanation"][-1].startswith("核定赔付金额")
        assert s.scalar(select(func.count()).select_from(MutualaidClaimEvent)) == 1
        second = _fast(ma, "S-0002")
        assert second is not None and second.number != claim.number  # type: ignore[attr-defined]


def test_fast_claim_needs_coverage(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid.models import MutualaidClaim

    with ma.app.app_context():
        assert _fast(ma, "S-0009", person="m2") is None
        assert db.session().scalar(select(func.count()).select_from(MutualaidClaim)) == 0


def test_zero_amount_approval_becomes_rejection_with_engine_reason(ma: MA) -> None:
    from unionhub import db
    from unionhub.identity.models import Member
    from unionhub_mutualaid.claims import service
    from unionhub_mutualaid.models import MutualaidPayout

    with ma.app.app_context():
        cover(ma, "m1")
        s = db.session()
        member = s.get(Member, ma.world.people["m1"].member_id)
        data = service.parse_claim(s, {
            "program": "ZYYL", "event_date": "2026-03-01", "admitted_1": "2026-03-01",
            "discharged_1": "2026-03-03", "total_amount": "900", "out_of_pocket": "800"},
            today=date(2026, 3, 10))
        claim = service.submit(s, member, data, actor=None, today=date(2026, 3, 10))
        assert service.approve(s, claim, None) == "rejected"
        s.commit()
        assert claim.amount == 0 and claim.reason_code
        assert service.reason_text(claim)
        assert s.scalar(select(func.count()).select_from(MutualaidPayout)) == 0
        assert [e.action for e in service.events(s, claim)] == ["submitted", "rejected"]


def test_demo_creates_claims_in_several_states(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid.claims.demo import seed
    from unionhub_mutualaid.models import MutualaidClaim

    with ma.app.app_context():
        for person in ("m1", "m2", "m3"):
            cover(ma, person, "ZYYL")
            cover(ma, person, "ZYJT")
        s = db.session()
        seed(s, object())
        s.commit()
        statuses = list(s.scalars(select(MutualaidClaim.status)))
        assert len(statuses) == 6
        assert {"approved", "returned", "rejected", "submitted"} <= set(statuses)
