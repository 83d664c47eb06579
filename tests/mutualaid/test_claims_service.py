"""Claims service: fast claims from settlement data, numbering, the working-day clock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
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


def _fast_with(ma: MA, serial: str, *, total: str, oop: str, diagnoses: list[str],
               discharged: date = date(2026, 3, 8)) -> object:
    from unionhub import db
    from unionhub.identity.models import Member
    from unionhub_mutualaid.claims.service import create_fast_claim

    s = db.session()
    member = s.get(Member, ma.world.people["m1"].member_id)
    return create_fast_claim(
        s, member=member, program="ZYYL", benefit=None, serial=serial,
        stays=[(date(2026, 3, 1), discharged)], hospital="北京协和医院",
        total=Decimal(total), out_of_pocket=Decimal(oop), diagnoses=diagnoses,
        submitted_on=date(2026, 3, 20))


def test_fast_claim_correction_updates_open_claim_only(ma: MA) -> None:
    from unionhub import db
    from unionhub.audit.models import AuditLog
    from unionhub_mutualaid.claims import service
    from unionhub_mutualaid.models import MutualaidClaim

    with ma.app.app_context():
        cover(ma, "m1")
        s = db.session()
        first = _fast_with(ma, "S-0100", total="20000.00", oop="8000.00", diagnoses=["K35.8"])
        s.commit()
        assert isinstance(first, MutualaidClaim)
        before = first.decision["amount"]
        # the same record again: nothing changes, no history
        again = _fast_with(ma, "S-0100", total="20000.00", oop="8000.00", diagnoses=["K35.8"])
        assert again is first and len(service.events(s, first)) == 1
        # a correction while the claim is under review: updated, recorded, re-evaluated
        fixed = _fast_with(ma, "S-0100", total="30000.00", oop="12000.00",
                           diagnoses=["K35.8", "K65.0"], discharged=date(2026, 3, 10))
        s.commit()
        assert fixed is not None and fixed.id == first.id  # type: ignore[attr-defined]
        claim = s.get(MutualaidClaim, first.id)
        assert claim.total_amount == Decimal("30000.00")
        assert claim.out_of_pocket == Decimal("12000.00")
        assert claim.diagnoses == ["K35.8", "K65.0"]
        assert claim.stays == [["2026-03-01", "2026-03-10"]]
        assert claim.event_end == date(2026, 3, 10)
        assert claim.decision["amount"] != before
        actions = [e.action for e in service.events(s, claim)]
        assert actions == ["submitted", "corrected"]
        assert service.ACTION_LABELS["corrected"] == "医保结算数据更正"
        assert "mutualaid.claim.correct" in set(s.scalars(select(AuditLog.action)))
        assert s.scalar(select(func.count()).select_from(MutualaidClaim)) == 1
        # returned claims are corrected too
        service.return_for_materials(s, claim, None, "请补充发票")
        _fast_with(ma, "S-0100", total="31000.00", oop="12000.00",
                   diagnoses=["K35.8", "K65.0"], discharged=date(2026, 3, 10))
        s.commit()
        assert s.get(MutualaidClaim, claim.id).total_amount == Decimal("31000.00")
        assert s.get(MutualaidClaim, claim.id).status == "returned"
        # once approved the claim is left as it is
        service.resubmit(s, claim, None, today=date(2026, 3, 25))
        assert service.approve(s, claim, None) == "approved"
        s.commit()
        amount, n_events = claim.amount, len(service.events(s, claim))
        late = _fast_with(ma, "S-0100", total="50000.00", oop="40000.00", diagnoses=["K35.8"])
        s.commit()
        assert late is not None and late.id == claim.id  # type: ignore[attr-defined]
        claim = s.get(MutualaidClaim, claim.id)
        assert claim.total_amount == Decimal("31000.00") and claim.amount == amount
        assert claim.status == "approved" and len(service.events(s, claim)) == n_events


def _zyyl(**extra: str) -> dict[str, str]:
    return {"program": "ZYYL", "event_date": "2026-03-01", "admitted_1": "2026-03-01",
            "discharged_1": "2026-03-03", "total_amount": "900", "out_of_pocket": "800",
            **extra}


def test_bad_amounts_are_field_errors(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid.claims import service

    with ma.app.app_context():
        s = db.session()
        for bad in ("Infinity", "-Infinity", "NaN", "sNaN", "1e30", "1E+400", "abc", "-1"):
            with pytest.raises(service.ClaimError) as exc:
                service.parse_claim(s, _zyyl(total_amount=bad), today=date(2026, 3, 10))
            assert "医疗费总额应为不小于 0 的金额" in exc.value.errors["total_amount"], bad
        for big in ("1e17", "100000000.01", "100,000,001"):
            with pytest.raises(service.ClaimError) as exc:
                service.parse_claim(s, _zyyl(out_of_pocket=big, total_amount="1e18"),
                                    today=date(2026, 3, 10))
            assert exc.value.errors["out_of_pocket"] == "个人自付金额不能超过 100,000,000 元"
            assert "不能超过" in exc.value.errors["total_amount"]
        ok = service.parse_claim(s, _zyyl(total_amount="100,000,000", out_of_pocket="1e3"),
                                 today=date(2026, 3, 10))
        assert ok.total_amount == Decimal("100000000.00")
        assert ok.out_of_pocket == Decimal("1000.00")


def test_bad_integers_are_field_errors(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid.claims import service

    with ma.app.app_context():
        s = db.session()
        for bad in ("²", "１", "٣", "3.0", "0", "11", "99999999999999999999", "-1", "三"):
            with pytest.raises(service.ClaimError) as exc:
                service.parse_claim(s, _zyyl(disability_grade=bad), today=date(2026, 3, 10))
            assert exc.value.errors == {"disability_grade": "伤残等级应为 1 到 10 级"}, bad
        data = service.parse_claim(s, _zyyl(disability_grade="3"), today=date(2026, 3, 10))
        assert data.disability_grade == 3


def test_redact_diagnoses() -> None:
    from unionhub_mutualaid.claims import service
    from unionhub_mutualaid.models import MutualaidClaim

    claim = MutualaidClaim(diagnoses=["C50.9"], diagnosis_text="乳腺恶性肿瘤")
    hidden = "诊断（已隐藏）"
    assert service.redact_diagnoses("诊断 C50.9 属于病种目录（2026 版）「恶性肿瘤」",
                                    claim) == hidden
    assert service.redact_diagnoses("「恶性肿瘤」此前已给付，同一疾病只给付一次", claim) == hidden
    assert service.redact_diagnoses("复查：乳腺恶性肿瘤", claim) == hidden
    assert service.redact_diagnoses("按份数给付 1 份", claim) == "按份数给付 1 份"
    assert service.redact_diagnoses(None, claim) is None


def test_demo_claim_event_falls_inside_a_renewed_cover():
    """A member enrolled years ago has a waiting period long past: the demo's claim event
    must still fall within this year's cover (it fell before it, and no claim was seeded)."""
    from unionhub_mutualaid.claims.demo import _raw
    from unionhub_mutualaid.models import MutualaidCoverage

    cov = MutualaidCoverage(program="ZYYL", start=date(2026, 1, 1), end=date(2026, 12, 31),
                            waiting_until=date(2025, 1, 30))
    raw = _raw("ZYYL", cov, date(2026, 12, 3))
    assert raw is not None
    assert date(2026, 1, 1) <= date.fromisoformat(raw["event_date"]) <= date(2026, 12, 31)
