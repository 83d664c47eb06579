"""Edge cases of automatic adjudication, each asserting exact amounts and explanation lines."""

import json
import random
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from unionhub_mutualaid.adjudication import (
    EMPTY_LEDGER,
    ClaimInput,
    Coverage,
    Decision,
    LedgerState,
    MemberFacts,
    Reason,
    Status,
    adjudicate,
    continuous_since,
)
from unionhub_mutualaid.rules import (
    Cause,
    DeductiblePer,
    PlanRules,
    Sex,
    StayRules,
    WaitingRules,
    demo_rules,
)
from unionhub_mutualaid.stays import Stay

D = Decimal
R = demo_rules(2026)
MALE = MemberFacts(Sex.MALE, date(1980, 5, 5))
FEMALE = MemberFacts(Sex.FEMALE, date(1985, 6, 15))
CONTINUOUS = date(2025, 1, 1)  # enrolled since last year: waiting periods are over


def cover(
    program: str,
    *,
    rules: dict[str, PlanRules] = R,
    shares: int = 1,
    start: date | None = None,
    first: date | None = CONTINUOUS,
    paid: bool = True,
    tier: str | None = None,
) -> Coverage:
    plan = rules[program]
    start = start or plan.term.start
    return Coverage(
        "m1",
        program,
        plan.plan_year,
        shares,
        start,
        plan.term.end,
        first_enrolled=first if first is None or first <= start else None,
        paid=paid,
        tier=tier,
    )


def stay(a: str, b: str) -> Stay:
    return Stay(date.fromisoformat(a), date.fromisoformat(b))


def claim(program: str, event: str | None = None, **kw: Any) -> ClaimInput:
    event_date = date.fromisoformat(event) if event else None
    first = event_date or min(s.admitted for s in kw["stays"])
    kw.setdefault("submitted_on", first + timedelta(days=40))
    return ClaimInput(program, event_date=event_date, **kw)


def decide(
    c: ClaimInput,
    *,
    coverage: Coverage | None = None,
    member: MemberFacts = MALE,
    ledger: LedgerState = EMPTY_LEDGER,
    rules: PlanRules | None = None,
) -> Decision:
    rules = rules or R[c.program]
    return adjudicate(rules, coverage or cover(c.program), member, c, ledger)


def medical(event: str = "2026-03-01", oop: str = "12345.60", **kw: Any) -> ClaimInput:
    return claim("ZYYL", event, out_of_pocket=oop, **kw)


# -- coverage period, payment, benefit ----------------------------------------------------------


def test_approved_reimbursement_explains_every_step() -> None:
    d = decide(medical(total_amount="30000"))
    assert (d.status, d.amount, d.reasons) == (Status.APPROVED, D("5672.80"), ())
    assert d.explanation == (
        "住院医疗互助保障（ZYYL）2026 年度 · 住院医疗费用：保障期 2026-01-01 至 2026-12-31，1 份",
        "出险日期 2026-03-01 在保障期内",
        "等待期 30 天（连续参保自 2025-01-01 起），已过等待期",
        "申请日期 2026-04-10 在申报期限（截至 2027-03-01）内",
        "可报销金额 = (自付 12,345.60 − 起付线 1,000.00) × 50% = 5,672.80 元",
        "本年度已赔付 0.00 元，年度封顶 20,000.00 元，本次最多 20,000.00 元",
        "核定赔付金额 5,672.80 元",
    )
    assert d.delta.paid == D("5672.80")
    assert d.delta.annual_cap == D("20000.00")
    assert d.benefit == "medical"


def test_event_before_cover_start() -> None:
    d = decide(medical("2025-12-31"))
    assert (d.status, d.amount, d.reasons) == (Status.REJECTED, D("0.00"), (Reason.BEFORE_COVER,))
    assert "出险日期 2025-12-31 早于保障开始日 2026-01-01" in d.explanation
    assert d.explanation[-1] == "核定赔付金额 0.00 元，不予赔付（出险日期早于保障开始）"
    assert d.delta.is_empty


def test_event_after_cover_end() -> None:
    d = decide(medical("2027-01-01"))
    assert d.reasons == (Reason.AFTER_COVER,)
    assert "出险日期 2027-01-01 晚于保障结束日 2026-12-31" in d.explanation


def test_first_and_last_day_of_cover_are_covered() -> None:
    assert decide(medical("2026-01-01")).amount == D("5672.80")
    assert decide(medical("2026-12-31")).amount == D("5672.80")


def test_unpaid_voluntary_cover_does_not_pay_but_dues_funded_needs_no_payment() -> None:
    d = decide(medical(), coverage=cover("ZYYL", paid=False))
    assert d.reasons == (Reason.NOT_PAID,)
    assert "本期保费尚未缴纳，保障未生效" in d.explanation
    ecbx = claim("ECBX", "2026-03-01", out_of_pocket="3000")
    assert decide(ecbx, coverage=cover("ECBX", paid=False)).amount == D("1000.00")


def test_unknown_benefit_and_mismatched_inputs() -> None:
    d = decide(claim("YWSH", "2026-03-01", benefit="dental", cause=Cause.ACCIDENT))
    assert d.reasons == (Reason.UNKNOWN_BENEFIT,)
    assert "本项目没有「dental」保障责任" in d.explanation
    with pytest.raises(ValueError, match="program: claim ZYYL, coverage ZYJT"):
        adjudicate(R["ZYYL"], cover("ZYJT"), MALE, medical())
    with pytest.raises(ValueError, match="plan_year: coverage 2027 does not match rules 2026"):
        adjudicate(R["ZYYL"], cover("ZYYL", rules=demo_rules(2027)), MALE, medical())


def test_several_failures_are_all_reported() -> None:
    d = decide(
        medical("2025-12-31", submitted_on=date(2027, 6, 1)),
        member=replace(MALE, membership_active=False),
    )
    assert d.reasons == (Reason.BEFORE_COVER, Reason.LATE_CLAIM, Reason.NOT_A_MEMBER)
    assert "2025-12-31 会籍不在会，本项目仅保障在会会员" in d.explanation


# -- waiting period, reduced band, renewal grace ------------------------------------------------


def test_illness_in_waiting_period() -> None:
    new_member = cover("ZYYL", first=None)
    d = decide(medical("2026-01-30"), coverage=new_member)
    assert d.reasons == (Reason.WAITING_PERIOD,)
    assert (
        "等待期 30 天（连续参保自 2026-01-01 起，至 2026-01-30 止），出险日期 2026-01-30 在等待期内"
        in d.explanation
    )
    assert decide(medical("2026-01-31"), coverage=new_member).amount == D("5672.80")


def test_accident_has_no_waiting_period() -> None:
    d = decide(medical("2026-01-02", cause=Cause.ACCIDENT), coverage=cover("ZYYL", first=None))
    assert (d.status, d.amount) == (Status.APPROVED, D("5672.80"))
    assert "意外事故不设等待期" in d.explanation


def test_ywsh_has_no_waiting_period_at_all() -> None:
    c = claim("YWSH", "2026-01-01", benefit="death", cause=Cause.ACCIDENT)
    d = decide(c, coverage=cover("YWSH", first=None, tier="50"))
    assert (d.status, d.amount) == (Status.APPROVED, D("40000.00"))
    assert not any("等待期" in line for line in d.explanation)
    assert "意外身故保障金 40,000.00 元（档次 50）" in d.explanation


def ngtj(event: str, *dx: str, **kw: Any) -> ClaimInput:
    return claim("NGTJ", event, diagnoses=dx or ("C50.9",), **kw)


@pytest.mark.parametrize(
    ("event", "status", "amount", "reasons"),
    [
        ("2026-03-01", Status.REJECTED, "0.00", (Reason.WAITING_PERIOD,)),  # day 59
        ("2026-03-02", Status.PARTIAL, "7500.00", (Reason.REDUCED_BAND,)),  # day 60
        ("2026-06-29", Status.PARTIAL, "7500.00", (Reason.REDUCED_BAND,)),  # day 179
        ("2026-06-30", Status.APPROVED, "15000.00", ()),  # day 180
    ],
)
def test_waiting_period_then_reduced_band(
    event: str, status: Status, amount: str, reasons: tuple[Reason, ...]
) -> None:
    d = decide(ngtj(event), coverage=cover("NGTJ", first=None), member=FEMALE)
    assert (d.status, d.amount, d.reasons) == (status, D(amount), reasons)
    if status is Status.PARTIAL:
        assert (
            "连续参保自 2026-01-01 起 180 天内（至 2026-06-29 止）出险，按 50% 减额给付"
            in d.explanation
        )
        assert "减额给付：15,000.00 × 50% = 7,500.00 元" in d.explanation


def test_renewal_within_grace_keeps_continuity() -> None:
    periods = [(date(2025, 1, 1), date(2025, 12, 31)), (date(2026, 1, 31), date(2026, 12, 31))]
    since = continuous_since(periods, grace_days=30)  # 30 uncovered days: within grace
    assert since == date(2025, 1, 1)
    coverage = cover("ZYYL", start=date(2026, 1, 31), first=since)
    d = decide(medical("2026-02-05"), coverage=coverage)
    assert d.amount == D("5672.80")
    assert "等待期 30 天（连续参保自 2025-01-01 起），已过等待期" in d.explanation
    gap_event = decide(medical("2026-01-20"), coverage=coverage)
    assert gap_event.reasons == (Reason.BEFORE_COVER,)  # continuity does not cover the gap


def test_renewal_outside_grace_restarts_waiting_period() -> None:
    periods = [(date(2025, 1, 1), date(2025, 12, 31)), (date(2026, 2, 1), date(2026, 12, 31))]
    since = continuous_since(periods, grace_days=30)  # 31 uncovered days
    assert since == date(2026, 2, 1)
    coverage = cover("ZYYL", start=date(2026, 2, 1), first=since)
    d = decide(medical("2026-02-05"), coverage=coverage)
    assert d.reasons == (Reason.WAITING_PERIOD,)
    assert "等待期 30 天（连续参保自 2026-02-01 起，至 2026-03-02 止）" in d.explanation[2]


def test_continuous_since_handles_order_overlap_and_chains() -> None:
    periods = [
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2023, 1, 1), date(2023, 12, 31)),
        (date(2024, 6, 1), date(2024, 12, 31)),  # 152 uncovered days: chain restarts
        (date(2024, 12, 1), date(2025, 12, 31)),  # overlapping renewal
    ]
    assert continuous_since(periods, grace_days=30) == date(2024, 6, 1)
    assert continuous_since(periods, grace_days=0) == date(2024, 6, 1)
    with pytest.raises(ValueError, match="periods"):
        continuous_since([], grace_days=30)


# -- deadline and eligibility -------------------------------------------------------------------


def test_claim_deadline_counts_from_discharge() -> None:
    stays = (stay("2026-03-01", "2026-03-10"),)
    on_time = claim("ZYYL", out_of_pocket="3000", stays=stays, submitted_on=date(2027, 3, 10))
    assert decide(on_time).amount == D("1000.00")
    late = replace(on_time, submitted_on=date(2027, 3, 11))
    d = decide(late)
    assert d.reasons == (Reason.LATE_CLAIM,)
    assert (
        "申报期限为事故结束（出院）后 365 天（截至 2027-03-10）；申请日期 2027-03-11 已超过期限"
        in d.explanation
    )


def test_programme_without_deadline_accepts_late_submissions() -> None:
    c = claim("ECBX", "2026-03-01", out_of_pocket="3000", submitted_on=date(2030, 1, 1))
    assert decide(c).amount == D("1000.00")


def test_ngtj_claimed_by_a_man_is_rejected() -> None:
    d = decide(ngtj("2026-08-01"), member=MALE)
    assert d.reasons == (Reason.SEX,)
    assert "本项目仅限女性会员" in d.explanation


def test_age_at_event() -> None:
    born = MemberFacts(Sex.MALE, date(1965, 7, 1))
    c = claim("YWSH", "2026-06-30", benefit="death", cause=Cause.ACCIDENT)
    coverage = cover("YWSH", tier="50")
    assert decide(c, member=born, coverage=coverage).amount == D("40000.00")
    d = decide(replace(c, event_date=date(2026, 7, 1)), member=born, coverage=coverage)
    assert d.reasons == (Reason.AGE,)
    assert "被保障人于 2026-07-01 为 61 周岁，不在 16–60 周岁范围内" in d.explanation


def test_age_at_enrollment_uses_cover_start() -> None:
    turns_61_in_march = MemberFacts(Sex.MALE, date(1965, 3, 1))
    d = decide(claim("ZDJB", "2026-05-01", diagnoses=("C34.9",)), member=turns_61_in_march)
    assert d.amount == D("10000.00")  # 60 on 2026-01-01, the first day of cover
    older = MemberFacts(Sex.MALE, date(1965, 1, 1))
    d = decide(claim("ZDJB", "2026-05-01", diagnoses=("C34.9",)), member=older)
    assert d.reasons == (Reason.AGE,)
    assert "被保障人于 2026-01-01 为 61 周岁，不在 16–60 周岁范围内" in d.explanation


def test_leap_day_birthday() -> None:
    leapling = MemberFacts(Sex.MALE, date(2012, 2, 29))
    coverage = cover("YWSH", rules=demo_rules(2028), tier="26")
    c = claim("YWSH", "2028-02-28", benefit="death", cause=Cause.ACCIDENT)
    rules = demo_rules(2028)["YWSH"]
    assert decide(c, member=leapling, coverage=coverage, rules=rules).reasons == (Reason.AGE,)
    on_birthday = replace(c, event_date=date(2028, 2, 29))
    d = decide(on_birthday, member=leapling, coverage=coverage, rules=rules)
    assert d.amount == D("20000.00")


def test_membership_and_jingka_requirements() -> None:
    ecbx = claim("ECBX", "2026-03-01", out_of_pocket="3000")
    d = decide(ecbx, member=replace(MALE, has_active_jingka=False))
    assert d.reasons == (Reason.NO_JINGKA,)
    assert "本项目仅保障持有有效京卡的会员" in d.explanation
    d = decide(ecbx, member=replace(MALE, membership_active=False))
    assert d.reasons == (Reason.NOT_A_MEMBER,)


def test_child_programme_checks_the_child() -> None:
    base = claim("ZNYW", "2026-07-01", cause=Cause.ACCIDENT, out_of_pocket="1100")
    d = decide(replace(base, child_birth_date=date(2010, 1, 1)), coverage=cover("ZNYW", shares=2))
    assert d.amount == D("800.00")  # (1,100 − 100) × 80%
    d = decide(replace(base, child_birth_date=date(2008, 7, 1)))
    assert d.reasons == (Reason.AGE,)
    assert "子女于 2026-07-01 为 18 周岁，不在 0–17 周岁范围内" in d.explanation
    d = decide(base)
    assert d.reasons == (Reason.MISSING_DATA,)
    assert "缺少子女出生日期，无法核对年龄" in d.explanation


def test_cause_tier_and_missing_data() -> None:
    d = decide(claim("FGSZH", "2026-03-01", benefit="death"))
    assert d.reasons == (Reason.CAUSE_NOT_COVERED,)
    assert "「非因工意外身故」仅保障意外事故" in d.explanation
    d = decide(
        claim("YWSH", "2026-03-01", benefit="death", cause=Cause.ACCIDENT),
        coverage=cover("YWSH", tier="60"),
    )
    assert d.reasons == (Reason.UNKNOWN_TIER,)
    assert "保障档次 60 无效，可选档次：26、50、74、100" in d.explanation
    d = decide(claim("ZYYL", "2026-03-01"))
    assert (d.reasons, d.explanation[-2]) == ((Reason.MISSING_DATA,), "缺少自付金额")
    d = decide(
        claim("YWSH", "2026-03-01", benefit="disability", cause=Cause.ACCIDENT),
        coverage=cover("YWSH", tier="50"),
    )
    assert (d.reasons, d.explanation[-2]) == ((Reason.MISSING_DATA,), "缺少伤残等级")


# -- amounts and rounding -----------------------------------------------------------------------


def test_deductible_larger_than_out_of_pocket_pays_nothing() -> None:
    d = decide(medical(oop="800"))
    assert (d.status, d.amount, d.reasons) == (
        Status.REJECTED,
        D("0.00"),
        (Reason.BELOW_DEDUCTIBLE,),
    )
    assert "自付 800.00 元未超过起付线 1,000.00 元，无可报销金额" in d.explanation
    assert d.delta.is_empty
    assert decide(medical(oop="1000")).reasons == (Reason.BELOW_DEDUCTIBLE,)
    assert decide(medical(oop="1000.01")).amount == D("0.01")  # 0.005 rounds half up


def test_ratio_result_is_rounded_half_up_once() -> None:
    d = decide(medical(oop="12345.61"))
    assert d.amount == D("5672.81")
    assert "可报销金额 = (自付 12,345.61 − 起付线 1,000.00) × 50% = 5,672.805 元" in d.explanation
    assert d.explanation[-1] == "核定赔付金额 5,672.81 元（按分四舍五入）"


def test_rounding_happens_at_the_end_not_per_step() -> None:
    plan = R["ZYYL"]
    rules = replace(
        plan,
        waiting=WaitingRules(days=0, reduced_band_days=100, reduced_ratio=D("0.5")),
        benefits=(replace(plan.benefits[0], deductible=D("0.00"), ratio=D("0.55")),),
    )
    d = decide(medical("2026-01-11", oop="10.01"), rules=rules, coverage=cover("ZYYL", first=None))
    # exact: 10.01 × 55% × 50% = 2.75275 → 2.75; rounding each step would give 5.51 × 50% → 2.76
    assert d.amount == D("2.75")
    assert "可报销金额 = 自付 10.01 × 55% = 5.5055 元" in d.explanation
    assert "减额给付：5.5055 × 50% = 2.75275 元" in d.explanation


def test_half_fen_rounds_up_not_to_even() -> None:
    ledger = LedgerState(deductible_used=D("1000.00"))  # this year's deductible already met
    d = decide(claim("ECBX", "2026-03-01", out_of_pocket="2.25"), ledger=ledger)
    assert d.amount == D("1.13")  # 1.125: banker's rounding would give 1.12
    assert "可报销金额 = 自付一 2.25 × 50% = 1.125 元" in d.explanation


# -- caps ---------------------------------------------------------------------------------------


def test_per_event_cap() -> None:
    d = decide(medical(oop="30000"))
    assert (d.status, d.amount, d.reasons) == (
        Status.PARTIAL,
        D("10000.00"),
        (Reason.PER_EVENT_CAP,),
    )
    assert "单次封顶 10,000.00 元，本次按封顶计 10,000.00 元" in d.explanation
    assert d.explanation[-1] == "核定赔付金额 10,000.00 元，部分赔付"


def test_annual_cap_across_claims() -> None:
    ledger = EMPTY_LEDGER
    amounts = []
    for oop in ("19000", "19000", "11000", "5000"):
        d = decide(medical(oop=oop), ledger=ledger)
        amounts.append((d.status, d.amount))
        if not d.delta.is_empty:
            ledger = ledger.apply(d.delta)
    assert amounts == [
        (Status.APPROVED, D("9000.00")),
        (Status.APPROVED, D("9000.00")),
        (Status.PARTIAL, D("2000.00")),
        (Status.REJECTED, D("0.00")),
    ]
    assert (ledger.paid_this_year, ledger.paid_lifetime, ledger.version) == (
        D("20000.00"),
        D("20000.00"),
        3,
    )
    d = decide(medical(oop="5000"), ledger=ledger)
    assert d.reasons == (Reason.ANNUAL_CAP,)
    assert "本年度已赔付 20,000.00 元，年度封顶 20,000.00 元，本次最多 0.00 元" in d.explanation
    assert d.explanation[-1] == "核定赔付金额 0.00 元，不予赔付（达到年度封顶）"


def test_brief_example_of_remaining_annual_cap() -> None:
    d = decide(medical(), ledger=LedgerState(paid_this_year=D("18000")))
    assert (d.status, d.amount, d.reasons) == (Status.PARTIAL, D("2000.00"), (Reason.ANNUAL_CAP,))
    assert "本年度已赔付 18,000.00 元，年度封顶 20,000.00 元，本次最多 2,000.00 元" in d.explanation


def test_lifetime_cap_spans_plan_years() -> None:
    ledger = LedgerState(paid_lifetime=D("200000.00"), deductible_used=D("1000.00"))
    d = decide(claim("ECBX", "2026-03-01", out_of_pocket="10000"), ledger=ledger)
    assert (d.status, d.amount, d.reasons) == (Status.PARTIAL, D("653.00"), (Reason.LIFETIME_CAP,))
    assert "累计已赔付 200,000.00 元，终身限额 200,653.00 元，本次最多 653.00 元" in d.explanation
    assert d.delta.lifetime_cap == D("200653.00")
    next_year = demo_rules(2027)
    d = decide(
        claim("ECBX", "2027-03-01", out_of_pocket="10000"),
        rules=next_year["ECBX"],
        coverage=cover("ECBX", rules=next_year),
        ledger=LedgerState(paid_lifetime=D("200653.00")),
    )
    assert (d.status, d.reasons) == (Status.REJECTED, (Reason.LIFETIME_CAP,))


def test_death_after_disability_is_limited_by_the_shared_sum() -> None:
    coverage = cover("YWSH", tier="50")
    injury = claim(
        "YWSH", "2026-03-01", benefit="disability", cause=Cause.ACCIDENT, disability_grade=5
    )
    d = decide(injury, coverage=coverage)
    assert d.amount == D("24000.00")
    assert (
        "伤残保障金额 40,000.00 元（档次 50）；伤残等级 5 级给付 60%：40,000.00 × 60% = "
        "24,000.00 元" in d.explanation
    )
    ledger = EMPTY_LEDGER.apply(d.delta)
    assert ledger.group_paid_this_year == {"death_disability": D("24000.00")}
    death = claim("YWSH", "2026-05-01", benefit="death", cause=Cause.ACCIDENT)
    d = decide(death, coverage=coverage, ledger=ledger)
    assert (d.status, d.amount, d.reasons) == (Status.PARTIAL, D("16000.00"), (Reason.GROUP_CAP,))
    assert (
        "「意外身故、意外伤残」本年度已赔付 24,000.00 元，年度限额 40,000.00 元，本次最多 "
        "16,000.00 元" in d.explanation
    )
    assert d.delta.group_cap == D("40000.00")


# -- hospital stays and allowances --------------------------------------------------------------


def allowance(*stays: Stay, **kw: Any) -> ClaimInput:
    return claim("ZYJT", stays=stays, **kw)


def test_transfer_between_hospitals_is_one_stay() -> None:
    d = decide(allowance(stay("2026-03-01", "2026-03-10"), stay("2026-03-10", "2026-03-15")))
    assert d.amount == D("220.00")  # (14 − 3) days × 20.00; two stays would give (6 + 2) days
    assert d.explanation[4:8] == (
        "住院 2026-03-01 至 2026-03-15，共 14 天（2 段住院重叠或转院相接，合并为一次住院）",
        "每次住院免赔 3 天，可给付 11 天",
        "年度津贴天数上限 180 天，本年度已给付 0 天，本次最多 180 天",
        "每日津贴 20.00 元/份 × 1 份 = 20.00 元；津贴 = 11 天 × 20.00 元 = 220.00 元",
    )
    assert d.delta.allowance_days == 11


def test_overlapping_stays_are_not_counted_twice() -> None:
    d = decide(allowance(stay("2026-03-01", "2026-03-10"), stay("2026-03-08", "2026-03-12")))
    assert d.amount == D("160.00")  # 11 − 3 = 8 days


def test_transfer_claimed_in_two_claims_bears_the_deductible_days_once() -> None:
    first = decide(allowance(stay("2026-03-01", "2026-03-10")))
    assert first.amount == D("120.00")  # 9 − 3 = 6 days
    ledger = EMPTY_LEDGER.apply(first.delta)
    second = decide(allowance(stay("2026-03-10", "2026-03-15")), ledger=ledger)
    assert second.amount == D("100.00")  # merged 14 − 3 = 11 days, 6 already paid
    assert "其中 6 天已在此前理赔中给付，本次新增 5 天" in second.explanation
    ledger = ledger.apply(second.delta)
    assert ledger.allowance_days_used == 11


def test_same_stay_claimed_twice_pays_no_new_days() -> None:
    first = decide(allowance(stay("2026-03-01", "2026-03-10")))
    d = decide(allowance(stay("2026-03-01", "2026-03-10")), ledger=EMPTY_LEDGER.apply(first.delta))
    assert (d.status, d.reasons) == (Status.REJECTED, (Reason.NO_PAYABLE_DAYS,))
    assert "其中 6 天已在此前理赔中给付，本次新增 0 天" in d.explanation


def test_stay_within_deductible_days() -> None:
    d = decide(allowance(stay("2026-03-01", "2026-03-04")))
    assert d.reasons == (Reason.NO_PAYABLE_DAYS,)
    assert "每次住院免赔 3 天，可给付 0 天" in d.explanation


def test_same_day_stay_counts_one_day_by_default() -> None:
    plan = R["ZYJT"]
    no_deductible = replace(plan, benefits=(replace(plan.benefits[0], deductible_days=0),))
    c = allowance(stay("2026-03-01", "2026-03-01"))
    d = decide(c, rules=no_deductible)
    assert d.amount == D("20.00")
    assert "住院 2026-03-01 至 2026-03-01，共 1 天（当日入出院计 1 天）" in d.explanation
    zero_day = replace(no_deductible, stays=StayRules(same_day_days=0))
    assert decide(c, rules=zero_day).reasons == (Reason.NO_PAYABLE_DAYS,)


def test_annual_day_cap() -> None:
    c = allowance(stay("2026-03-01", "2026-03-15"))
    d = decide(c, ledger=LedgerState(allowance_days_used=175))
    assert (d.status, d.amount, d.reasons) == (Status.PARTIAL, D("100.00"), (Reason.DAY_CAP,))
    assert "年度津贴天数上限 180 天，本年度已给付 175 天，本次最多 5 天" in d.explanation
    assert (d.delta.allowance_days, d.delta.annual_day_cap) == (5, 180)
    d = decide(c, ledger=LedgerState(allowance_days_used=180))
    assert (d.status, d.reasons) == (Status.REJECTED, (Reason.DAY_CAP,))


def test_allowance_scales_with_shares() -> None:
    d = decide(allowance(stay("2026-03-01", "2026-03-15")), coverage=cover("ZYJT", shares=2))
    assert d.amount == D("440.00")


# -- leap years ---------------------------------------------------------------------------------


def test_leap_day_events_and_366_day_plan_year() -> None:
    r28 = demo_rules(2028)
    coverage = cover("ZYYL", rules=r28)
    for event in ("2028-02-29", "2028-12-31"):
        d = decide(medical(event), rules=r28["ZYYL"], coverage=coverage)
        assert d.amount == D("5672.80"), event
    leap_stay = allowance(stay("2028-02-27", "2028-03-02"))
    d = decide(leap_stay, rules=r28["ZYJT"], coverage=cover("ZYJT", rules=r28))
    assert d.amount == D("20.00")  # 4 days (29 February included) − 3
    r27 = demo_rules(2027)
    common = allowance(stay("2027-02-27", "2027-03-02"))
    d = decide(common, rules=r27["ZYJT"], coverage=cover("ZYJT", rules=r27))
    assert d.reasons == (Reason.NO_PAYABLE_DAYS,)


def test_waiting_period_across_29_february() -> None:
    r28 = demo_rules(2028)
    coverage = cover("ZYYL", rules=r28, start=date(2028, 2, 1), first=None)
    d = decide(medical("2028-03-01"), rules=r28["ZYYL"], coverage=coverage)
    assert d.reasons == (Reason.WAITING_PERIOD,)
    assert "至 2028-03-01 止" in d.explanation[2]
    assert decide(medical("2028-03-02"), rules=r28["ZYYL"], coverage=coverage).amount > 0


# -- lump sums: ZDJB and NGTJ -------------------------------------------------------------------


def test_critical_illness_lump_sum_ends_cover() -> None:
    coverage = cover("ZDJB", shares=4)
    d = decide(claim("ZDJB", "2027-05-01", diagnoses=("J18.9", "c34.9")), coverage=coverage)
    assert (d.status, d.amount) == (Status.APPROVED, D("40000.00"))
    assert "诊断 c34.9 属于病种目录（2026.1 版）「恶性肿瘤」" in d.explanation
    assert "重大疾病保障金 10,000.00 元/份 × 4 份 = 40,000.00 元" in d.explanation
    assert d.explanation[-1] == "本次给付后，该项目保障终止"
    assert (d.delta.ends_cover, d.delta.disease) == (True, "malignant_tumour")
    ledger = EMPTY_LEDGER.apply(d.delta)
    assert ledger.cover_ended
    second = decide(claim("ZDJB", "2027-09-01", diagnoses=("I21.0",)), ledger=ledger)
    assert (second.status, second.reasons) == (Status.REJECTED, (Reason.COVER_ENDED,))
    assert "此前已给付保障金，按规则该项目保障已终止" in second.explanation


def test_disease_not_in_catalogue() -> None:
    for dx in ("J18.9", "C44.3"):  # pneumonia; skin cancer excluded from 恶性肿瘤
        d = decide(claim("ZDJB", "2026-05-01", diagnoses=(dx,)))
        assert d.reasons == (Reason.DISEASE_NOT_LISTED,), dx
        assert f"诊断 {dx} 不在病种目录（2026.1 版）内" in d.explanation
    d = decide(claim("ZDJB", "2026-05-01"))
    assert d.reasons == (Reason.MISSING_DATA,)


def test_ngtj_amount_depends_on_the_disease_and_pays_each_disease_once() -> None:
    coverage = cover("NGTJ", shares=2)
    d = decide(ngtj("2026-08-01", "D05.1"), coverage=coverage, member=FEMALE)
    assert d.amount == D("10000.00")
    assert "女工特殊疾病保障金 5,000.00 元/份 × 2 份 = 10,000.00 元" in d.explanation
    d = decide(ngtj("2026-08-01", "D05.1", "C50.9"), coverage=coverage, member=FEMALE)
    assert (d.amount, d.delta.disease) == (D("30000.00"), "breast_cancer")
    ledger = EMPTY_LEDGER.apply(d.delta)
    again = decide(ngtj("2026-10-01", "C50.4"), coverage=coverage, member=FEMALE, ledger=ledger)
    assert again.reasons == (Reason.DISEASE_ALREADY_PAID,)
    assert "「乳腺癌」此前已给付，同一疾病只给付一次" in again.explanation
    other = decide(ngtj("2026-10-01", "C53.0"), coverage=coverage, member=FEMALE, ledger=ledger)
    assert other.amount == D("30000.00")
    assert not other.delta.ends_cover


# -- FGSZH, ECBX, the same bill across programs -------------------------------------------------


def property_loss(oop: str, event: str = "2026-03-01") -> ClaimInput:
    return claim("FGSZH", event, benefit="property", cause=Cause.ACCIDENT, out_of_pocket=oop)


def test_fgszh_property_loss_is_capped() -> None:
    d = decide(property_loss("25000"))
    assert (d.status, d.amount, d.reasons) == (
        Status.PARTIAL,
        D("10000.00"),
        (Reason.PER_EVENT_CAP,),
    )
    assert "可报销金额 = 财产损失 25,000.00 × 100% = 25,000.00 元" in d.explanation
    ledger = EMPTY_LEDGER.apply(d.delta)
    d = decide(property_loss("3000", "2026-06-01"), ledger=ledger)
    assert (d.status, d.reasons) == (Status.REJECTED, (Reason.GROUP_CAP,))
    assert (
        "「家庭财产损失（火灾）」本年度已赔付 10,000.00 元，年度限额 10,000.00 元，本次最多 0.00 元"
        in d.explanation
    )


def test_fgszh_fixed_sums() -> None:
    d = decide(claim("FGSZH", "2026-03-01", benefit="death", cause=Cause.ACCIDENT))
    assert d.amount == D("10000.00")
    d = decide(
        claim("FGSZH", "2026-03-01", benefit="disability", cause=Cause.ACCIDENT, disability_grade=9)
    )
    assert d.amount == D("2000.00")


def test_ecbx_yearly_deductible_is_consumed_across_claims() -> None:
    d = decide(claim("ECBX", "2026-02-01", out_of_pocket="600"))
    assert (d.status, d.reasons) == (Status.REJECTED, (Reason.BELOW_DEDUCTIBLE,))
    assert "年度起付线 1,000.00 元，本年度此前已扣除 0.00 元，本次扣除 600.00 元" in d.explanation
    assert "自付一 600.00 元全部计入年度起付线，无可报销金额" in d.explanation
    assert not d.delta.is_empty and d.delta.deductible_used == D("600.00")
    ledger = EMPTY_LEDGER.apply(d.delta)
    d = decide(claim("ECBX", "2026-05-01", out_of_pocket="1000"), ledger=ledger)
    assert d.amount == D("300.00")
    assert "可报销金额 = (自付一 1,000.00 − 起付线 400.00) × 50% = 300.00 元" in d.explanation
    assert ledger.apply(d.delta).deductible_used == D("1000.00")


def test_same_bill_in_two_programmes_is_reimbursed_net_of_the_first() -> None:
    first = decide(medical(oop="10000"))
    assert first.amount == D("4500.00")
    second = decide(
        claim("ECBX", "2026-03-01", out_of_pocket="10000", already_reimbursed=first.amount)
    )
    assert second.amount == D("2250.00")  # (5,500 − 1,000) × 50%
    assert "自付一 10,000.00 元，同一票据其他项目已报销 4,500.00 元，剩余 5,500.00 元" in (
        second.explanation
    )


def gross_ecbx() -> PlanRules:
    plan = R["ECBX"]
    item = replace(
        plan.benefits[0],
        deductible=D("0.00"),
        deductible_per=DeductiblePer.EVENT,
        ratio=D("1"),
        net_of_other_payments=False,
    )
    return replace(plan, benefits=(item,))


def test_gross_basis_is_still_limited_to_what_the_bill_left() -> None:
    c = claim("ECBX", "2026-03-01", out_of_pocket="10000", already_reimbursed="7000")
    d = decide(c, rules=gross_ecbx())
    assert (d.status, d.amount, d.reasons) == (
        Status.PARTIAL,
        D("3000.00"),
        (Reason.OTHER_PAYMENTS,),
    )
    assert "同一票据各项目合计不超过自付一 10,000.00 元，本次最多 3,000.00 元" in d.explanation
    d = decide(replace(c, already_reimbursed=D("10000")), rules=gross_ecbx())
    assert d.reasons == (Reason.ALREADY_REIMBURSED,)
    assert "该票据已按自付金额足额报销，不再重复报销" in d.explanation


@pytest.mark.parametrize("second_rules", ["demo", "gross"])
def test_same_bill_never_pays_more_than_its_out_of_pocket(second_rules: str) -> None:
    rng = random.Random(4)
    rules = R["ECBX"] if second_rules == "demo" else gross_ecbx()
    for _ in range(300):
        oop = D(rng.randrange(0, 5_000_000)) / 100
        first = decide(medical(oop=str(oop)))
        second = decide(
            claim("ECBX", "2026-03-01", out_of_pocket=oop, already_reimbursed=first.amount),
            rules=rules,
            ledger=LedgerState(deductible_used=D("1000")),
        )
        assert first.amount + second.amount <= oop
        if second_rules == "gross" and oop:
            assert first.amount + second.amount == oop


# -- inputs, outputs, ledger --------------------------------------------------------------------


def test_claim_input_validation() -> None:
    def make(**kw: Any) -> ClaimInput:
        return ClaimInput("ZYYL", date(2026, 4, 1), date(2026, 3, 1), **kw)

    with pytest.raises(TypeError, match="out_of_pocket: float"):
        make(out_of_pocket=12.5)
    with pytest.raises(ValueError, match="already_reimbursed: exceeds out_of_pocket"):
        make(out_of_pocket="5", already_reimbursed="6")
    with pytest.raises(ValueError, match="out_of_pocket: exceeds total_amount"):
        make(total_amount="5", out_of_pocket="6")
    with pytest.raises(ValueError, match="already_reimbursed: must not be negative"):
        make(out_of_pocket="5", already_reimbursed="-1")
    with pytest.raises(ValueError, match="event_end: 2026-02-01 is before the event"):
        make(event_end=date(2026, 2, 1))
    with pytest.raises(ValueError, match="disability_grade: must be 1–10"):
        make(disability_grade=11)
    with pytest.raises(ValueError, match="submitted_on: 2026-02-01 is before the event"):
        ClaimInput("ZYYL", date(2026, 2, 1), date(2026, 3, 1))
    with pytest.raises(ValueError, match="event_date: required"):
        ClaimInput("ZYYL", date(2026, 2, 1))
    assert make(out_of_pocket=100).out_of_pocket == D("100.00")


def test_claim_input_derives_dates_from_stays() -> None:
    c = allowance(stay("2026-03-10", "2026-03-15"), stay("2026-03-01", "2026-03-10"))
    assert (c.first_day, c.last_day) == (date(2026, 3, 1), date(2026, 3, 15))
    assert replace(c, stays=(stay("2026-04-02", "2026-04-02"),)).first_day == date(2026, 4, 2)
    assert replace(c, event_end=date(2026, 3, 20)).last_day == date(2026, 3, 20)
    assert c.out_of_pocket is None and c.already_reimbursed == D("0.00")


def test_coverage_validation() -> None:
    with pytest.raises(ValueError, match="first_enrolled: 2026-02-01 is after start"):
        Coverage("m", "ZYYL", 2026, 1, date(2026, 1, 1), date(2026, 12, 31), date(2026, 2, 1))
    with pytest.raises(ValueError, match="shares: must be >= 1"):
        Coverage("m", "ZYYL", 2026, 0, date(2026, 1, 1), date(2026, 12, 31))


def test_decision_to_dict_is_json_ready() -> None:
    d = decide(allowance(stay("2026-03-01", "2026-03-10")))
    data = json.loads(json.dumps(d.to_dict(), ensure_ascii=False))
    assert data["status"] == "approved"
    assert data["amount"] == "120.00"
    assert data["delta"]["stays"] == [["2026-03-01", "2026-03-10"]]
    assert data["delta"]["allowance_days"] == 6
    assert data["explanation"][-1] == "核定赔付金额 120.00 元"
    rejected = decide(medical("2025-12-31"))
    assert rejected.reason_labels == ("出险日期早于保障开始",)


def test_ledger_refuses_a_stale_delta() -> None:
    d = decide(medical())
    ledger = EMPTY_LEDGER.apply(d.delta)
    assert ledger.version == 1
    with pytest.raises(ValueError, match="decided against ledger version 0, ledger is at 1"):
        ledger.apply(d.delta)


def test_engine_never_mutates_inputs() -> None:
    ledger = LedgerState(paid_this_year=D("100.00"), group_paid_this_year={"medical": D("100")})
    c = medical()
    before = (ledger.paid_this_year, dict(ledger.group_paid_this_year), c)
    d = decide(c, ledger=ledger)
    ledger.apply(d.delta)
    assert (ledger.paid_this_year, dict(ledger.group_paid_this_year), c) == before
