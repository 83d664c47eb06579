"""二次报销 quarterly batches: deductible and ratio, lifetime cap, re-runs owe only the
difference, payee verification, eligibility."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.helpers import login, post_form
from tests.mutualaid.conftest import MA
from tests.mutualaid.test_settlement import imported, rec, write
from unionhub import db

_n = iter(range(1, 10**6))


def settle(ma: MA, key: str, amount: str, day: date, serial: str | None = None) -> str:
    """Store one settlement record of member ``key`` directly (the importer is tested apart)."""
    from unionhub_mutualaid.models import MutualaidSettlement
    from unionhub_mutualaid.settlement.models import settled_quarter

    serial = serial or f"E-{next(_n)}"
    s = db.session()
    person = ma.world.people[key]
    oop = Decimal(amount)
    s.add(MutualaidSettlement(
        serial=serial, member_id=person.member_id, id_hash="h" * 32, name=person.name,
        visit_type="outpatient", hospital="北京协和医院", settled_on=day,
        quarter=settled_quarter(day), total=oop * 2, pooled=oop, self_pay_1=oop))
    s.commit()
    return serial


def run(quarter: str) -> Any:
    from unionhub_mutualaid.settlement import ecbx

    s = db.session()
    batch = ecbx.run_quarter(s, quarter)
    s.commit()
    return batch


def lines(member_id: int) -> list[tuple[str, Decimal, Decimal, Decimal, Decimal]]:
    from unionhub_mutualaid.settlement.models import MutualaidEcbxLine as L

    return [tuple(r) for r in db.session().execute(
        select(L.quarter, L.basis, L.deductible_used, L.entitled, L.amount)
        .where(L.member_id == member_id).order_by(L.id))]


def owed(member_id: int) -> Decimal:
    from unionhub_mutualaid.models import MutualaidPayout

    return sum((p.amount for p in db.session().scalars(select(MutualaidPayout).where(
        MutualaidPayout.member_id == member_id, MutualaidPayout.source == "ecbx"))),
        Decimal("0.00"))


def test_deductible_per_year_and_ratio(ma: MA) -> None:
    from unionhub_mutualaid.models import MutualaidPayout

    m1, m2 = (ma.world.people[k].member_id for k in ("m1", "m2"))
    with ma.app.app_context():
        settle(ma, "m1", "1000.00", date(2026, 1, 10))
        settle(ma, "m1", "2000.01", date(2026, 3, 31))
        settle(ma, "m2", "800.00", date(2026, 2, 1))
        settle(ma, "m2", "700.00", date(2026, 4, 1))  # Q2
        batch = run("2026Q1")
        assert batch.members == 2 and batch.lines == 2 and batch.paid_lines == 1
        # (3,000.01 − 1,000) × 50% = 1,000.005 → 1,000.01 (ROUND_HALF_UP, once, at the end)
        assert lines(m1) == [("2026Q1", Decimal("3000.01"), Decimal("1000.00"),
                              Decimal("1000.01"), Decimal("1000.01"))]
        assert lines(m2) == [("2026Q1", Decimal("800.00"), Decimal("800.00"), Decimal("0.00"),
                              Decimal("0.00"))]
        payout = db.session().scalar(select(MutualaidPayout).where(
            MutualaidPayout.member_id == m1))
        assert payout.amount == Decimal("1000.01") and payout.status == "pending"
        assert payout.summary == "互助金-二次报销" and payout.program == "ECBX"
        assert batch.total == Decimal("1000.01") and batch.verification_rate == Decimal("100.0")
        # Q2: the year's deductible has 200 left for m2: (700 − 200) × 50% = 250
        run("2026Q2")
        assert lines(m2)[-1] == ("2026Q2", Decimal("700.00"), Decimal("200.00"),
                                 Decimal("250.00"), Decimal("250.00"))
        assert owed(m2) == Decimal("250.00")


def test_rerun_without_new_data_creates_nothing(ma: MA) -> None:
    from unionhub_mutualaid.models import MutualaidPayout
    from unionhub_mutualaid.settlement.models import MutualaidEcbxBatch

    with ma.app.app_context():
        settle(ma, "m1", "5000.00", date(2026, 2, 1))
        assert run("2026Q1") is not None
        assert run("2026Q1") is None
        s = db.session()
        assert s.scalar(select(func.count()).select_from(MutualaidEcbxBatch)) == 1
        assert s.scalar(select(func.count()).select_from(MutualaidPayout)) == 1


def test_correction_then_rerun_owes_only_the_difference(ma: MA, tmp_path: Path) -> None:
    m1 = ma.world.people["m1"].member_id
    idn = ma.world.people["m1"].id_number
    imported(ma, write(tmp_path / "a.csv", [
        rec(idn, "Q-1", 医疗费总额="5000", 统筹支付="2000", 个人自付一="3000")]))
    with ma.app.app_context():
        run("2026Q1")
        assert owed(m1) == Decimal("1000.00")
    # the correction raises 自付一 to 4,000: entitlement 1,500, of which 1,000 already owed
    imported(ma, write(tmp_path / "b.csv", [
        rec(idn, "Q-1", 结算日期="2026-03-01", 医疗费总额="5000", 统筹支付="1000",
            个人自付一="4000")]))
    with ma.app.app_context():
        batch = run("2026Q1")
        assert batch.run_no == 2 and batch.lines == 1 and batch.total == Decimal("500.00")
        assert [r[-2:] for r in lines(m1)] == [(Decimal("1000.00"), Decimal("1000.00")),
                                              (Decimal("1500.00"), Decimal("500.00"))]
        assert owed(m1) == Decimal("1500.00")
        assert run("2026Q1") is None
    # a correction downwards: the new entitlement is recorded, nothing owed, nothing clawed back
    imported(ma, write(tmp_path / "c.csv", [
        rec(idn, "Q-1", 结算日期="2026-03-05", 医疗费总额="5000", 统筹支付="3000",
            个人自付一="2000")]))
    with ma.app.app_context():
        batch = run("2026Q1")
        assert lines(m1)[-1][-2:] == (Decimal("500.00"), Decimal("0.00"))
        assert batch.paid_lines == 0 and owed(m1) == Decimal("1500.00")
        # back up to 4,000 again: entitled 1,500 is what was already owed: nothing more
        imported(ma, write(tmp_path / "d.csv", [
            rec(idn, "Q-1", 结算日期="2026-03-09", 医疗费总额="5000", 统筹支付="1000",
                个人自付一="4000")]))
    with ma.app.app_context():
        run("2026Q1")
        assert owed(m1) == Decimal("1500.00")


def test_lifetime_cap_holds_across_quarters_and_years(ma: MA) -> None:
    m1 = ma.world.people["m1"].member_id
    with ma.app.app_context():
        settle(ma, "m1", "300000.00", date(2025, 11, 2))
        run("2025Q4")
        assert owed(m1) == Decimal("149500.00")
        settle(ma, "m1", "200000.00", date(2026, 1, 5))
        run("2026Q1")  # (200,000 − 1,000) × 50% = 99,500, but only 51,153 left of 200,653
        assert lines(m1)[-1][-2:] == (Decimal("51153.00"), Decimal("51153.00"))
        settle(ma, "m1", "9000.00", date(2026, 4, 5))
        run("2026Q2")
        assert lines(m1)[-1][-2:] == (Decimal("0.00"), Decimal("0.00"))
        assert owed(m1) == Decimal("200653.00")


def test_lost_card_waits_for_payee_and_members_who_left_are_not_eligible(ma: MA) -> None:
    from unionhub.identity import service as identity
    from unionhub.identity.models import Member
    from unionhub_mutualaid.models import MutualaidPayout

    m1, m2, m3 = (ma.world.people[k].member_id for k in ("m1", "m2", "m3"))
    with ma.app.app_context():
        s = db.session()
        identity.report_lost(s, s.get(Member, m2).cards[0])
        s.get(Member, m3).status = "left"
        s.commit()
        for key in ("m1", "m2", "m3"):
            settle(ma, key, "3000.00", date(2026, 5, 5))
        batch = run("2026Q2")
        assert (batch.members, batch.ineligible, batch.lines) == (3, 1, 2)
        assert (batch.verified_ok, batch.verified_failed) == (1, 1)
        assert batch.verification_rate == Decimal("50.0")
        assert lines(m3) == []
        p2 = s.scalar(select(MutualaidPayout).where(MutualaidPayout.member_id == m2))
        assert p2.status == "payee_needed" and "京卡" in p2.failure
        assert p2.amount == Decimal("1000.00")
        p1 = s.scalar(select(MutualaidPayout).where(MutualaidPayout.member_id == m1))
        assert p1.status == "pending"


def test_unknown_quarter_or_plan_is_refused(ma: MA) -> None:
    from unionhub_mutualaid.settlement.ecbx import EcbxError, run_quarter

    with ma.app.app_context():
        for quarter in ("2026Q5", "26Q1", "2024Q1"):
            with pytest.raises(EcbxError):
                run_quarter(db.session(), quarter)


def test_job_from_the_page_and_batch_detail(ma: MA) -> None:
    from unionhub.jobs.models import Job
    from unionhub.jobs.service import run_job

    with ma.app.app_context():
        settle(ma, "m1", "3000.00", date(2026, 2, 2))
        settle(ma, "m2", "3000.00", date(2026, 2, 3))
    client = ma.app.test_client()
    login(client, "reviewer")
    resp = post_form(client, "/mutualaid/ecbx", {"quarter": "2026Q1"})
    assert resp.status_code == 302
    with ma.app.app_context():
        job = db.session().scalar(select(Job).where(Job.kind == "mutualaid.ecbx_quarter"))
        assert job.params == {"quarter": "2026Q1"}
        job_id = job.id
    assert run_job(ma.app, job_id) == "succeeded"
    html = client.get("/mutualaid/ecbx").get_data(as_text=True)
    assert "2026Q1" in html and "100.0%" in html
    with ma.app.app_context():
        from unionhub_mutualaid.settlement.models import MutualaidEcbxBatch

        batch_id = db.session().scalar(select(MutualaidEcbxBatch.id))
    detail = client.get(f"/mutualaid/ecbx/{batch_id}").get_data(as_text=True)
    assert "张伟" in detail and "李娜" in detail and "1000.00" in detail
    assert ma.world.people["m1"].id_number not in detail
    # a grassroots officer with the permission would see only their union's lines; the
    # district officer has no ECBX permission at all
    other = ma.app.test_client()
    login(other, "chaoyang")
    assert other.get(f"/mutualaid/ecbx/{batch_id}").status_code == 403


def test_demo_seeds_records_claims_and_one_quarter(ma: MA) -> None:
    import random

    from unionhub.demo import DemoContext
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.models import MutualaidSettlement
    from unionhub_mutualaid.settlement import FEATURE
    from unionhub_mutualaid.settlement.models import MutualaidEcbxBatch

    with ma.app.app_context():
        s = db.session()
        plans.seed(s, (date.today().year,))
        ctx = DemoContext(rng=random.Random(3), orgs={}, officers={},
                          member_ids=[p.member_id for p in ma.world.people.values()])
        assert FEATURE.demo is not None
        FEATURE.demo(s, ctx)
        s.commit()
        S = MutualaidSettlement
        assert s.scalar(select(func.count()).select_from(S).where(S.member_id.is_(None))) == 6
        assert s.scalar(select(func.max(S.revision))) == 2
        batch = s.scalar(select(MutualaidEcbxBatch))
        assert batch is not None and batch.quarter == f"{date.today().year}Q1"
        assert ctx.lines and "医保结算数据" in ctx.lines[-1]


def test_correction_into_a_later_quarter_or_year_is_not_paid_twice(
        ma: MA, tmp_path: Path) -> None:
    m1, m2 = (ma.world.people[k].member_id for k in ("m1", "m2"))
    idn1, idn2 = (ma.world.people[k].id_number for k in ("m1", "m2"))
    imported(ma, write(tmp_path / "a.csv", [
        rec(idn1, "L-1", 结算日期="2026-03-20", 医疗费总额="5000", 统筹支付="2000",
            个人自付一="3000"),
        rec(idn2, "L-2", 结算日期="2025-12-20", 医疗费总额="5000", 统筹支付="2000",
            个人自付一="3000")]))
    with ma.app.app_context():
        run("2026Q1")
        run("2025Q4")
        assert owed(m1) == owed(m2) == Decimal("1000.00")
    # corrections settled in the next quarter / year: the records stay in 2026Q1 / 2025Q4
    imported(ma, write(tmp_path / "b.csv", [
        rec(idn1, "L-1", 结算日期="2026-04-05", 医疗费总额="5000", 统筹支付="1000",
            个人自付一="4000"),
        rec(idn2, "L-2", 结算日期="2026-01-10", 医疗费总额="5000", 统筹支付="1000",
            个人自付一="4000")]))
    with ma.app.app_context():
        assert run("2026Q2") is None
        assert owed(m1) == Decimal("1000.00")
        batch = run("2026Q1")  # m1: entitled 1,500, 1,000 owed before: 500 (m2 has nothing)
        assert batch is not None and batch.lines == 1 and batch.total == Decimal("500.00")
        assert owed(m1) == Decimal("1500.00") and owed(m2) == Decimal("1000.00")
        batch = run("2025Q4")
        assert batch is not None and batch.total == Decimal("500.00")
        assert owed(m2) == Decimal("1500.00")
        assert run("2026Q1") is None and run("2025Q4") is None


def _fast_claim(ma: MA, key: str, program: str, serial: str, status: str,
                amount: str | None) -> None:
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.models import MutualaidClaim

    s = db.session()
    plan = plans.current(s, program, 2026)
    assert plan is not None
    s.add(MutualaidClaim(
        number=f"F{next(_n)}", member_id=ma.world.people[key].member_id, org_path="/",
        plan_id=plan.id, program=program, plan_year=2026, benefit="medical",
        event_date=date(2026, 1, 5), submitted_on=date(2026, 1, 20), source="settlement",
        settlement_serial=f"{program}:{serial}", status=status,
        amount=None if amount is None else Decimal(amount)))
    s.commit()


def test_fast_claims_on_the_same_records_are_deducted(ma: MA) -> None:
    m1, m2 = (ma.world.people[k].member_id for k in ("m1", "m2"))
    with ma.app.app_context():
        a = settle(ma, "m1", "3000.00", date(2026, 1, 10))
        b = settle(ma, "m1", "2000.00", date(2026, 2, 10))
        c = settle(ma, "m2", "1000.00", date(2026, 3, 10))
        _fast_claim(ma, "m1", "ZYYL", a, "approved", "1000.00")  # deducted
        _fast_claim(ma, "m1", "ZYJT", a, "approved", "500.00")  # an allowance: another bill
        _fast_claim(ma, "m1", "ZYYL", b, "submitted", None)  # not decided yet
        _fast_claim(ma, "m2", "ZYYL", c, "paid", "1200.00")  # more than the record: capped
        batch = run("2026Q1")
        # m1: (5,000 − 1,000 already reimbursed − 1,000 deductible) × 50% = 1,500 (not 2,000)
        assert lines(m1) == [("2026Q1", Decimal("5000.00"), Decimal("1000.00"),
                              Decimal("1500.00"), Decimal("1500.00"))]
        # m2: the bill is fully reimbursed by the fast claim: nothing more
        assert lines(m2)[-1][-2:] == (Decimal("0.00"), Decimal("0.00")) and owed(m2) == 0
        assert batch.total == Decimal("1500.00")
        # the pending claim is approved afterwards: the next run's entitlement is lower,
        # nothing more is owed and nothing is clawed back
        from unionhub_mutualaid.models import MutualaidClaim

        s = db.session()
        claim = s.scalar(select(MutualaidClaim).where(
            MutualaidClaim.settlement_serial == f"ZYYL:{b}"))
        claim.status, claim.amount = "approved", Decimal("500.00")
        s.commit()
        run("2026Q1")
        assert lines(m1)[-1][-2:] == (Decimal("1250.00"), Decimal("0.00"))
        assert owed(m1) == Decimal("1500.00")


def test_run_writes_its_batch_before_reading_and_a_rival_run_fails_cleanly(
        ma: MA, monkeypatch: pytest.MonkeyPatch) -> None:
    from unionhub_mutualaid.settlement import ecbx
    from unionhub_mutualaid.settlement.models import MutualaidEcbxBatch

    with ma.app.app_context():
        settle(ma, "m1", "3000.00", date(2026, 2, 2))
        s = db.session()
        real_priors = ecbx._priors
        seen: list[int | None] = []

        def priors(session: Any, quarter: str, *args: Any) -> Any:
            # the run's batch row is already in the database when the priors are read
            seen.append(session.scalar(select(MutualaidEcbxBatch.run_no).where(
                MutualaidEcbxBatch.quarter == quarter)))
            return real_priors(session, quarter, *args)

        monkeypatch.setattr(ecbx, "_priors", priors)
        assert run("2026Q1").run_no == 1 and seen == [1]
        assert run("2026Q1") is None and seen == [1, 1]  # the empty run's row is gone again
        assert s.scalar(select(func.count()).select_from(MutualaidEcbxBatch)) == 1
        settle(ma, "m1", "1000.00", date(2026, 3, 3))

        # a rival run commits run 2 between this run's max(run_no) and its insert
        real_scalar = s.scalar

        def scalar(stmt: Any, *args: Any, **kwargs: Any) -> Any:
            value = real_scalar(stmt, *args, **kwargs)
            if "max(mutualaid_ecbx_batch.run_no)" in str(stmt):
                with db.get_db().engine.begin() as c:
                    c.execute(MutualaidEcbxBatch.__table__.insert().values(
                        quarter="2026Q1", plan_year=2026, plan_id=s.scalar(
                            select(MutualaidEcbxBatch.plan_id)), run_no=value + 1,
                        members=0, ineligible=0, unchanged=0, lines=0, paid_lines=0,
                        total=0, verified_ok=0, verified_failed=0))
            return value

        monkeypatch.setattr(s, "scalar", scalar)
        with pytest.raises(ecbx.EcbxError, match="另一次计算进行中"):
            ecbx.run_quarter(s, "2026Q1")
        s.rollback()
        assert owed(ma.world.people["m1"].member_id) == Decimal("1000.00")
