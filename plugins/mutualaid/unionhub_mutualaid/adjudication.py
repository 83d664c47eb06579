"""Automatic adjudication (自动理赔核算): frozen facts in, an explained :class:`Decision` out.

The engine is pure: it reads :class:`PlanRules`, the member's :class:`Coverage` and
:class:`MemberFacts`, the :class:`ClaimInput` and the member's running totals
(:class:`LedgerState`), and never changes any of them. What the decision would add to the ledger
comes back as a :class:`LedgerDelta`; the caller applies it atomically —
``UPDATE … SET paid = paid + :amount WHERE version = :base_version`` (or
``WHERE paid + :amount <= :annual_cap``) and re-adjudicates when no row matched — so that two
approvals at the same moment never both consume the same remaining cap.

Order of the calculation, and where rounding happens:

1. checks (each failing check adds a reason and a line; any failure rejects): benefit exists,
   coverage paid, cover not ended by an earlier payout, event inside cover, waiting period, claim
   deadline, membership / Jingka / sex / age, cause covered by the benefit, tier, required data;
2. the benefit (see :mod:`.rules`): reimbursement, daily allowance, lump sum, fixed sum, disability;
3. the reduced-benefit band (× ratio);
4. caps, tightest first as they come: per event, the remaining out-of-pocket of the bill
   (reimbursements), the item's annual cap (cap group), the plan's annual cap, the lifetime cap;
5. one rounding to the fen, ROUND_HALF_UP, at the very end. Intermediate values stay exact
   (``(12,345.61 − 1,000) × 50% = 5,672.805``, shown with all digits), so a chain of steps never
   accumulates rounding error; caps are whole fen, so rounding after them can never exceed a cap.

A decision with amount 0 is ``rejected`` even when the claim itself was valid (below the
deductible, cap used up); its delta may still carry deductible consumed by the bill. Apply the
delta whenever ``not delta.is_empty``, whatever the status.

Hospital days: see :mod:`.stays`. Stays already paid this plan year are passed in
``LedgerState.stays``, so a transfer billed by two hospitals and claimed twice is still one stay
(deductible days once) and a stay claimed twice pays no new days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from unionhub.money import ZERO, fmt, fmt_exact, fmt_ratio, non_negative_money, quantize

from .catalogue import CatalogueMatch
from .rules import (
    AgeBasis,
    Amount,
    BenefitItem,
    BenefitKind,
    Cause,
    DeductiblePer,
    Funding,
    Insured,
    PlanRules,
    Sex,
)
from .stays import Episode, Stay, merge_stays, payable_days


class Status(StrEnum):
    APPROVED = "approved"
    PARTIAL = "partially_approved"
    REJECTED = "rejected"


class Reason(StrEnum):
    # the claim (or enrollment) is refused
    UNKNOWN_BENEFIT = "unknown_benefit"
    NOT_ENROLLED = "not_enrolled"
    NOT_PAID = "not_paid"
    COVER_ENDED = "cover_ended"
    BEFORE_COVER = "before_cover"
    AFTER_COVER = "after_cover"
    WAITING_PERIOD = "waiting_period"
    LATE_CLAIM = "late_claim"
    NOT_A_MEMBER = "not_a_member"
    NO_JINGKA = "no_jingka"
    AGE = "age"
    SEX = "sex"
    CAUSE_NOT_COVERED = "cause_not_covered"
    UNKNOWN_TIER = "unknown_tier"
    MISSING_DATA = "missing_data"
    DISEASE_NOT_LISTED = "disease_not_listed"
    DISEASE_ALREADY_PAID = "disease_already_paid"
    ALREADY_REIMBURSED = "already_reimbursed"
    BELOW_DEDUCTIBLE = "below_deductible"
    NO_PAYABLE_DAYS = "no_payable_days"
    SHARES_OUT_OF_RANGE = "shares_out_of_range"
    SHARES_DIFFER_IN_UNIT = "shares_differ_in_unit"
    # the amount is reduced (a decision of 0 after these is rejected with the same reason)
    REDUCED_BAND = "reduced_band"
    PER_EVENT_CAP = "per_event_cap"
    OTHER_PAYMENTS = "other_payments"
    GROUP_CAP = "group_cap"
    ANNUAL_CAP = "annual_cap"
    LIFETIME_CAP = "lifetime_cap"
    DAY_CAP = "day_cap"


REASON_LABELS: Mapping[Reason, str] = {
    Reason.UNKNOWN_BENEFIT: "无此保障责任",
    Reason.NOT_ENROLLED: "未参加该项目",
    Reason.NOT_PAID: "保费未缴纳",
    Reason.COVER_ENDED: "保障已终止",
    Reason.BEFORE_COVER: "出险日期早于保障开始",
    Reason.AFTER_COVER: "出险日期晚于保障结束",
    Reason.WAITING_PERIOD: "等待期内出险",
    Reason.LATE_CLAIM: "超过申报期限",
    Reason.NOT_A_MEMBER: "会籍不在会",
    Reason.NO_JINGKA: "未持有有效京卡",
    Reason.AGE: "年龄不符合",
    Reason.SEX: "性别不符合",
    Reason.CAUSE_NOT_COVERED: "出险原因不在保障范围",
    Reason.UNKNOWN_TIER: "保障档次无效",
    Reason.MISSING_DATA: "材料信息不全",
    Reason.DISEASE_NOT_LISTED: "疾病不在病种目录内",
    Reason.DISEASE_ALREADY_PAID: "该疾病已给付",
    Reason.ALREADY_REIMBURSED: "该票据已足额报销",
    Reason.BELOW_DEDUCTIBLE: "未超过起付线",
    Reason.NO_PAYABLE_DAYS: "无可给付住院天数",
    Reason.SHARES_OUT_OF_RANGE: "份数超出范围",
    Reason.SHARES_DIFFER_IN_UNIT: "与本单位参保份数不一致",
    Reason.REDUCED_BAND: "减额给付期内",
    Reason.PER_EVENT_CAP: "达到单次封顶",
    Reason.OTHER_PAYMENTS: "受票据自付金额限制",
    Reason.GROUP_CAP: "达到责任年度限额",
    Reason.ANNUAL_CAP: "达到年度封顶",
    Reason.LIFETIME_CAP: "达到终身限额",
    Reason.DAY_CAP: "达到年度津贴天数上限",
}


# -- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Coverage:
    """One member's cover in one program and plan year.

    ``first_enrolled`` is where *continuous* cover began (see :func:`continuous_since`); the
    waiting period and the reduced band count from it. ``None`` means this coverage's ``start``.
    ``paid`` matters only for voluntary programs. ``tier`` is the fee tier paid for (YWSH): it
    belongs to the coverage, not to the claim, so nobody can claim a higher tier than they paid.
    """

    member_id: str
    program: str
    plan_year: int
    shares: int
    start: date
    end: date
    first_enrolled: date | None = None
    paid: bool = True
    tier: str | None = None

    def __post_init__(self) -> None:
        if self.shares < 1:
            raise ValueError(f"shares: must be >= 1, got {self.shares}")
        if self.end < self.start:
            raise ValueError(f"end: {self.end} is before start {self.start}")
        if self.first_enrolled is not None and self.first_enrolled > self.start:
            raise ValueError(f"first_enrolled: {self.first_enrolled} is after start {self.start}")

    @property
    def continuous_since(self) -> date:
        return self.first_enrolled or self.start


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What the engine needs to know about the member, as of the event date."""

    sex: Sex
    birth_date: date
    membership_active: bool = True
    has_active_jingka: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.sex, Sex):
            object.__setattr__(self, "sex", Sex(self.sex))


@dataclass(frozen=True, slots=True)
class ClaimInput:
    """One claim for one benefit of one program.

    Without ``event_date`` the event is the first admission of ``stays`` (:attr:`first_day`).
    Amounts accept ``Decimal``, ``int`` or text and are rounded to the fen; floats are refused.
    ``out_of_pocket`` is what the benefit reimburses from (自付一 for medical programs, the
    assessed loss for property); ``already_reimbursed`` is what other programs already paid on
    the *same bill*.
    """

    program: str
    submitted_on: date
    event_date: date | None = None
    benefit: str | None = None
    cause: Cause = Cause.ILLNESS
    event_end: date | None = None
    stays: tuple[Stay, ...] = ()
    total_amount: Decimal | None = None
    out_of_pocket: Decimal | None = None
    already_reimbursed: Decimal = ZERO
    diagnoses: tuple[str, ...] = ()
    disability_grade: int | None = None
    child_birth_date: date | None = None
    claim_id: str | None = None

    def __post_init__(self) -> None:
        setter = object.__setattr__
        if not isinstance(self.cause, Cause):
            setter(self, "cause", Cause(self.cause))
        setter(self, "stays", tuple(self.stays))
        setter(self, "diagnoses", tuple(self.diagnoses))
        for name in ("total_amount", "out_of_pocket", "already_reimbursed"):
            value = getattr(self, name)
            if value is not None:
                setter(self, name, non_negative_money(value, field=name))
        if self.event_date is None and not self.stays:
            raise ValueError("event_date: required when no stays are given")
        if self.event_end is not None and self.event_end < self.first_day:
            raise ValueError(f"event_end: {self.event_end} is before the event")
        if self.submitted_on < self.first_day:
            raise ValueError(f"submitted_on: {self.submitted_on} is before the event")
        if self.out_of_pocket is not None:
            if self.total_amount is not None and self.out_of_pocket > self.total_amount:
                raise ValueError("out_of_pocket: exceeds total_amount")
            if self.already_reimbursed > self.out_of_pocket:
                raise ValueError("already_reimbursed: exceeds out_of_pocket")
        if self.disability_grade is not None and not 1 <= self.disability_grade <= 10:
            raise ValueError(f"disability_grade: must be 1–10, got {self.disability_grade}")

    @property
    def first_day(self) -> date:
        """The event date: ``event_date``, else the first admission."""
        if self.event_date is not None:
            return self.event_date
        return min(stay.admitted for stay in self.stays)

    @property
    def last_day(self) -> date:
        """When the event ended (the claim deadline counts from here): the last discharge or
        ``event_end``, whichever is later, else the event date."""
        end = self.event_end or self.first_day
        for stay in self.stays:
            if stay.discharged > end:
                end = stay.discharged
        return end


@dataclass(frozen=True, slots=True)
class LedgerDelta:
    """What a decision adds to the member's ledger (program, plan year; lifetime for ``paid``).

    The limits repeat the caps the decision respected, so that the caller's conditional update
    can check them without the rules; ``base_version`` is the ledger version decided against.
    """

    paid: Decimal = ZERO
    cap_group: str | None = None
    allowance_days: int = 0
    deductible_used: Decimal = ZERO
    stays: tuple[Stay, ...] = ()
    disease: str | None = None
    ends_cover: bool = False
    base_version: int = 0
    annual_cap: Decimal | None = None
    lifetime_cap: Decimal | None = None
    group_cap: Decimal | None = None
    annual_day_cap: int | None = None

    @property
    def is_empty(self) -> bool:
        return not (
            self.paid
            or self.allowance_days
            or self.deductible_used
            or self.stays
            or self.disease
            or self.ends_cover
        )


@dataclass(frozen=True, slots=True)
class LedgerState:
    """Running totals of one member in one program and plan year (``paid_lifetime``: all years)."""

    paid_this_year: Decimal = ZERO
    paid_lifetime: Decimal = ZERO
    group_paid_this_year: Mapping[str, Decimal] = field(default_factory=dict)
    allowance_days_used: int = 0
    deductible_used: Decimal = ZERO
    stays: tuple[Stay, ...] = ()
    diseases_paid: frozenset[str] = frozenset()
    cover_ended: bool = False
    version: int = 0

    def apply(self, delta: LedgerDelta) -> LedgerState:
        """A new state with ``delta`` added (for tests, simulations and batch jobs in memory)."""
        if delta.base_version != self.version:
            raise ValueError(
                f"delta was decided against ledger version {delta.base_version}, "
                f"ledger is at {self.version}"
            )
        groups = dict(self.group_paid_this_year)
        if delta.paid and delta.cap_group is not None:
            groups[delta.cap_group] = groups.get(delta.cap_group, ZERO) + delta.paid
        return LedgerState(
            paid_this_year=self.paid_this_year + delta.paid,
            paid_lifetime=self.paid_lifetime + delta.paid,
            group_paid_this_year=groups,
            allowance_days_used=self.allowance_days_used + delta.allowance_days,
            deductible_used=self.deductible_used + delta.deductible_used,
            stays=self.stays + delta.stays,
            diseases_paid=(
                self.diseases_paid | {delta.disease} if delta.disease else self.diseases_paid
            ),
            cover_ended=self.cover_ended or delta.ends_cover,
            version=self.version + 1,
        )


EMPTY_LEDGER = LedgerState()


@dataclass(frozen=True, slots=True)
class Decision:
    status: Status
    amount: Decimal
    reasons: tuple[Reason, ...]
    explanation: tuple[str, ...]
    delta: LedgerDelta
    program: str
    benefit: str | None
    rules_version: int

    @property
    def reason_labels(self) -> tuple[str, ...]:
        return tuple(REASON_LABELS[reason] for reason in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (amounts as strings) for the claim row and the API."""
        d = self.delta
        return {
            "status": self.status.value,
            "amount": str(self.amount),
            "reasons": [reason.value for reason in self.reasons],
            "explanation": list(self.explanation),
            "program": self.program,
            "benefit": self.benefit,
            "rules_version": self.rules_version,
            "delta": {
                "paid": str(d.paid),
                "cap_group": d.cap_group,
                "allowance_days": d.allowance_days,
                "deductible_used": str(d.deductible_used),
                "stays": [[s.admitted.isoformat(), s.discharged.isoformat()] for s in d.stays],
                "disease": d.disease,
                "ends_cover": d.ends_cover,
                "base_version": d.base_version,
            },
        }


@dataclass(frozen=True, slots=True)
class EnrollmentCheck:
    ok: bool
    reasons: tuple[Reason, ...]
    messages: tuple[str, ...]
    fee: Decimal | None  # the member's fee for the period when ``ok``


# -- helpers ------------------------------------------------------------------------------------


def age_on(birth_date: date, on: date) -> int:
    """Full years (周岁) on ``on``. Someone born on 29 February turns a year older on 1 March
    in common years (the birthday has not come yet on 28 February)."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def continuous_since(periods: Iterable[tuple[date, date]], grace_days: int) -> date:
    """Start of the continuous cover that includes the latest period.

    ``periods`` are the member's (start, end) coverages of one program, in any order. A renewal
    whose start leaves at most ``grace_days`` uncovered days after the previous end keeps cover
    continuous (no new waiting period); events *during* the gap are still not covered.
    """
    ordered = sorted(periods)
    if not ordered:
        raise ValueError("periods: at least one coverage period is required")
    since, last_end = ordered[0]
    for start, end in ordered[1:]:
        uncovered = (start - last_end).days - 1
        if uncovered > grace_days:
            since = start
        if end > last_end:
            last_end = end
    return since


def _eligibility(
    rules: PlanRules,
    member: MemberFacts,
    day: date,
    age_day: date,
    insured_birth: date | None,
    *,
    check_age: bool,
) -> list[tuple[Reason, str]]:
    """Membership, Jingka and sex as of ``day``; age on ``age_day``."""
    elig = rules.eligibility
    problems: list[tuple[Reason, str]] = []
    if elig.membership_required and not member.membership_active:
        problems.append((Reason.NOT_A_MEMBER, f"{day} 会籍不在会，本项目仅保障在会会员"))
    if elig.jingka_required and not member.has_active_jingka:
        problems.append((Reason.NO_JINGKA, "本项目仅保障持有有效京卡的会员"))
    if elig.sexes and member.sex not in elig.sexes:
        allowed = "女性" if elig.sexes == {Sex.FEMALE} else "男性"
        problems.append((Reason.SEX, f"本项目仅限{allowed}会员"))
    if check_age and (elig.min_age is not None or elig.max_age is not None):
        who = "子女" if elig.insured is Insured.CHILD else "被保障人"
        if insured_birth is None:
            problems.append((Reason.MISSING_DATA, f"缺少{who}出生日期，无法核对年龄"))
        else:
            age = age_on(insured_birth, age_day)
            low = elig.min_age if elig.min_age is not None else 0
            high = elig.max_age if elig.max_age is not None else 150
            if not low <= age <= high:
                problems.append(
                    (Reason.AGE, f"{who}于 {age_day} 为 {age} 周岁，不在 {low}–{high} 周岁范围内")
                )
    return problems


def check_enrollment(
    rules: PlanRules,
    member: MemberFacts,
    shares: int,
    unit_shares: int | None = None,
    *,
    tier: str | None = None,
    on: date | None = None,
) -> EnrollmentCheck:
    """Can ``member`` be enrolled with ``shares`` (and ``tier``) for this plan period?

    ``unit_shares`` is the number of shares the rest of the member's unit holds (``None`` for
    the first member of the unit); ``on`` is the day cover would start (default: the term start).
    Age rules of a child program (ZNYW) are checked at claim time, against the child.
    """
    on = on or rules.term.start
    problems: list[tuple[Reason, str]] = []
    limits = rules.shares
    if not limits.min_shares <= shares <= limits.max_shares:
        problems.append(
            (
                Reason.SHARES_OUT_OF_RANGE,
                f"份数 {shares} 不在 {limits.min_shares}–{limits.max_shares} 份范围内",
            )
        )
    if limits.same_per_unit and unit_shares is not None and shares != unit_shares:
        problems.append(
            (
                Reason.SHARES_DIFFER_IN_UNIT,
                f"同一单位须参保相同份数：本单位为 {unit_shares} 份，本人为 {shares} 份",
            )
        )
    if rules.tiers and tier not in rules.tiers:
        problems.append((Reason.UNKNOWN_TIER, _tier_message(rules, tier)))
    child = rules.eligibility.insured is Insured.CHILD
    problems += _eligibility(rules, member, on, on, member.birth_date, check_age=not child)
    ok = not problems
    return EnrollmentCheck(
        ok=ok,
        reasons=tuple(reason for reason, _ in problems),
        messages=tuple(message for _, message in problems),
        fee=rules.fee(shares, tier) if ok else None,
    )


def _tier_message(rules: PlanRules, tier: str | None) -> str:
    tiers = "、".join(sorted(rules.tiers, key=lambda t: (len(t), t)))
    if tier is None:
        return f"未填写保障档次，可选档次：{tiers}"
    return f"保障档次 {tier} 无效，可选档次：{tiers}"


# -- the engine ---------------------------------------------------------------------------------

_PER_SHARE = Amount(per_share=True)


class _Work:
    """Mutable scratch state of one adjudication (kept off the frozen inputs)."""

    __slots__ = ("days", "deductible_used", "disease", "lines", "reasons", "stays")

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.reasons: list[Reason] = []
        self.deductible_used = ZERO
        self.stays: tuple[Stay, ...] = ()
        self.days = 0
        self.disease: str | None = None


def adjudicate(
    rules: PlanRules,
    coverage: Coverage,
    member: MemberFacts,
    claim: ClaimInput,
    ledger: LedgerState = EMPTY_LEDGER,
) -> Decision:
    """Decide ``claim`` under ``rules``; see the module docstring for the order of steps.

    Raises ``ValueError`` only for inputs that do not belong together (another program or plan
    year); every business outcome is a :class:`Decision`.
    """
    if claim.program != rules.program or coverage.program != rules.program:
        raise ValueError(
            f"program: claim {claim.program}, coverage {coverage.program}, rules {rules.program}"
        )
    if coverage.plan_year != rules.plan_year:
        raise ValueError(
            f"plan_year: coverage {coverage.plan_year} does not match rules {rules.plan_year}"
        )
    item = rules.benefit(claim.benefit)
    event = claim.first_day
    header = (
        f"{rules.display_name}（{rules.program}）{rules.plan_year} 年度"
        f"{'' if item is None else ' · ' + item.name}：保障期 {coverage.start} 至 "
        f"{coverage.end}，{coverage.shares} 份"
    )
    work = _Work([header])
    lines, reasons = work.lines, work.reasons
    if item is None:
        reasons.append(Reason.UNKNOWN_BENEFIT)
        lines.append(f"本项目没有「{claim.benefit}」保障责任")
        return _finish(rules, claim, None, ledger, work, ZERO, None)

    _check_cover(rules, coverage, event, ledger, work)
    _check_waiting(rules, coverage, claim.cause, event, work)
    _check_deadline(rules, claim, work)
    elig = rules.eligibility
    child = elig.insured is Insured.CHILD
    age_day = event if elig.age_basis is AgeBasis.EVENT else coverage.start
    birth = claim.child_birth_date if child else member.birth_date
    for reason, message in _eligibility(rules, member, event, age_day, birth, check_age=True):
        reasons.append(reason)
        lines.append(message)
    _check_item(rules, coverage, claim, item, work)
    if any(reason is not Reason.REDUCED_BAND for reason in work.reasons):
        return _finish(rules, claim, item, ledger, work, ZERO, None)

    entitlement = _BENEFITS[item.kind](rules, coverage, claim, ledger, item, work)
    if entitlement is None:
        return _finish(rules, claim, item, ledger, work, ZERO, None)
    return _caps(rules, coverage, claim, ledger, item, work, entitlement)


def _check_cover(
    rules: PlanRules, coverage: Coverage, event: date, ledger: LedgerState, work: _Work
) -> None:
    if rules.funding.kind is Funding.VOLUNTARY and not coverage.paid:
        work.reasons.append(Reason.NOT_PAID)
        work.lines.append("本期保费尚未缴纳，保障未生效")
    if ledger.cover_ended:
        work.reasons.append(Reason.COVER_ENDED)
        work.lines.append("此前已给付保障金，按规则该项目保障已终止")
    if event < coverage.start:
        work.reasons.append(Reason.BEFORE_COVER)
        work.lines.append(f"出险日期 {event} 早于保障开始日 {coverage.start}")
    elif event > coverage.end:
        work.reasons.append(Reason.AFTER_COVER)
        work.lines.append(f"出险日期 {event} 晚于保障结束日 {coverage.end}")
    else:
        work.lines.append(f"出险日期 {event} 在保障期内")


def _check_waiting(
    rules: PlanRules, coverage: Coverage, cause: Cause, event: date, work: _Work
) -> None:
    waiting = rules.waiting
    if not (waiting.days or waiting.reduced_band_days):
        return
    if cause is Cause.ACCIDENT and not waiting.applies_to_accidents:
        work.lines.append("意外事故不设等待期")
        return
    since = coverage.continuous_since
    day = (event - since).days
    if day < 0 or not coverage.start <= event <= coverage.end:
        return  # outside cover: rejected by _check_cover
    if day < waiting.days:
        last = since + timedelta(days=waiting.days - 1)
        work.reasons.append(Reason.WAITING_PERIOD)
        work.lines.append(
            f"等待期 {waiting.days} 天（连续参保自 {since} 起，至 {last} 止），"
            f"出险日期 {event} 在等待期内"
        )
    elif day < waiting.reduced_band_days:
        last = since + timedelta(days=waiting.reduced_band_days - 1)
        work.reasons.append(Reason.REDUCED_BAND)
        work.lines.append(
            f"连续参保自 {since} 起 {waiting.reduced_band_days} 天内（至 {last} 止）出险，"
            f"按 {fmt_ratio(waiting.reduced_ratio)} 减额给付"
        )
    elif waiting.days:
        work.lines.append(f"等待期 {waiting.days} 天（连续参保自 {since} 起），已过等待期")


def _check_deadline(rules: PlanRules, claim: ClaimInput, work: _Work) -> None:
    days = rules.claim_deadline_days
    if days is None:
        return
    last = claim.last_day + timedelta(days=days)
    if claim.submitted_on > last:
        work.reasons.append(Reason.LATE_CLAIM)
        work.lines.append(
            f"申报期限为事故结束（出院）后 {days} 天（截至 {last}）；申请日期 "
            f"{claim.submitted_on} 已超过期限"
        )
    else:
        work.lines.append(f"申请日期 {claim.submitted_on} 在申报期限（截至 {last}）内")


def _check_item(
    rules: PlanRules, coverage: Coverage, claim: ClaimInput, item: BenefitItem, work: _Work
) -> None:
    reasons, lines = work.reasons, work.lines
    if claim.cause not in item.causes:
        reasons.append(Reason.CAUSE_NOT_COVERED)
        cause = "意外事故" if Cause.ACCIDENT in item.causes else "疾病"
        lines.append(f"「{item.name}」仅保障{cause}")
    if rules.tiers and coverage.tier not in rules.tiers:
        reasons.append(Reason.UNKNOWN_TIER)
        lines.append(_tier_message(rules, coverage.tier))
    kind = item.kind
    if kind is BenefitKind.REIMBURSE and claim.out_of_pocket is None:
        reasons.append(Reason.MISSING_DATA)
        lines.append(f"缺少{item.basis_label}金额")
    elif kind is BenefitKind.DAILY and not claim.stays:
        reasons.append(Reason.MISSING_DATA)
        lines.append("缺少住院（入院、出院）日期")
    elif kind is BenefitKind.LUMP_SUM and not claim.diagnoses:
        reasons.append(Reason.MISSING_DATA)
        lines.append("缺少诊断编码（ICD-10）")
    elif kind is BenefitKind.DISABILITY and claim.disability_grade not in item.grade_ratios:
        reasons.append(Reason.MISSING_DATA)
        if claim.disability_grade is None:
            lines.append("缺少伤残等级")
        else:
            lines.append(f"伤残等级 {claim.disability_grade} 级不在给付表内")


# -- benefits: each returns the exact entitlement, or None after adding a rejection --------------


def _reimburse(
    rules: PlanRules,
    coverage: Coverage,
    claim: ClaimInput,
    ledger: LedgerState,
    item: BenefitItem,
    work: _Work,
) -> Decimal | None:
    oop = claim.out_of_pocket
    assert oop is not None
    other = claim.already_reimbursed
    label = item.basis_label
    lines = work.lines
    if other:
        remaining = oop - other
        lines.append(
            f"{label} {fmt(oop)} 元，同一票据其他项目已报销 {fmt(other)} 元，"
            f"剩余 {fmt(remaining)} 元"
        )
        if not remaining:
            work.reasons.append(Reason.ALREADY_REIMBURSED)
            lines.append("该票据已按自付金额足额报销，不再重复报销")
            return None
    basis = oop - other if item.net_of_other_payments else oop
    if item.deductible_per is DeductiblePer.YEAR:
        left = item.deductible - ledger.deductible_used
        left = left if left > 0 else ZERO
        deductible = min(left, basis)
        work.deductible_used = deductible
        lines.append(
            f"年度起付线 {fmt(item.deductible)} 元，本年度此前已扣除 "
            f"{fmt(ledger.deductible_used)} 元，本次扣除 {fmt(deductible)} 元"
        )
    else:
        deductible = min(item.deductible, basis)
    if basis <= deductible:
        work.reasons.append(Reason.BELOW_DEDUCTIBLE)
        if item.deductible_per is DeductiblePer.YEAR:
            lines.append(f"{label} {fmt(basis)} 元全部计入年度起付线，无可报销金额")
        else:
            lines.append(
                f"{label} {fmt(basis)} 元未超过起付线 {fmt(item.deductible)} 元，无可报销金额"
            )
        return None
    amount = (basis - deductible) * item.ratio
    if deductible:
        lines.append(
            f"可报销金额 = ({label} {fmt(basis)} − 起付线 {fmt(deductible)}) × "
            f"{fmt_ratio(item.ratio)} = {fmt_exact(amount)} 元"
        )
    else:
        lines.append(
            f"可报销金额 = {label} {fmt(basis)} × {fmt_ratio(item.ratio)} = {fmt_exact(amount)} 元"
        )
    return amount


def _describe_episode(episode: Episode, same_day_days: int) -> str:
    days = episode.days(same_day_days)
    text = f"住院 {episode.admitted} 至 {episode.discharged}，共 {days} 天"
    if episode.admitted == episode.discharged:
        text += "（当日入出院计 1 天）" if same_day_days else "（当日入出院计 0 天）"
    if len(episode.segments) > 1:
        text += f"（{len(episode.segments)} 段住院重叠或转院相接，合并为一次住院）"
    return text


def _daily(
    rules: PlanRules,
    coverage: Coverage,
    claim: ClaimInput,
    ledger: LedgerState,
    item: BenefitItem,
    work: _Work,
) -> Decimal | None:
    stay_rules = rules.stays
    gap, same_day = stay_rules.merge_gap_days, stay_rules.same_day_days
    options = {
        "same_day_days": same_day,
        "deductible_days": item.deductible_days,
        "max_days_per_stay": item.max_days_per_stay,
    }
    lines = work.lines
    new = set(claim.stays)
    episodes = merge_stays(ledger.stays + claim.stays, gap)
    touched = [ep for ep in episodes if any(seg in new for seg in ep.segments)]
    earlier = [
        seg
        for seg in ledger.stays
        if any(ep.admitted <= seg.admitted and seg.discharged <= ep.discharged for ep in touched)
    ]
    for episode in touched:
        lines.append(_describe_episode(episode, same_day))
    total_days = payable_days(touched, **options)
    paid_before = payable_days(merge_stays(earlier, gap), **options) if earlier else 0
    days = total_days - paid_before
    if days < 0:
        days = 0
    parts = []
    if item.deductible_days:
        parts.append(f"每次住院免赔 {item.deductible_days} 天")
    if item.max_days_per_stay is not None:
        parts.append(f"每次最多 {item.max_days_per_stay} 天")
    parts.append(f"可给付 {total_days} 天")
    lines.append("，".join(parts))
    if earlier:
        lines.append(f"其中 {paid_before} 天已在此前理赔中给付，本次新增 {days} 天")
    if not days:
        work.reasons.append(Reason.NO_PAYABLE_DAYS)
        lines.append("无可给付的住院天数")
        return None
    work.stays = claim.stays
    cap = item.annual_day_cap
    if cap is not None:
        left = max(cap - ledger.allowance_days_used, 0)
        lines.append(
            f"年度津贴天数上限 {cap} 天，本年度已给付 {ledger.allowance_days_used} 天，"
            f"本次最多 {left} 天"
        )
        if days > left:
            days = left
            work.reasons.append(Reason.DAY_CAP)
            if not days:
                return None
    work.days = days
    assert item.amount is not None
    daily = item.amount.resolve(coverage.shares, coverage.tier)
    amount = daily * days
    lines.append(
        f"每日津贴 {item.amount.describe(coverage.shares, coverage.tier)}；"
        f"津贴 = {days} 天 × {fmt(daily)} 元 = {fmt_exact(amount)} 元"
    )
    return amount


def _lump_sum(
    rules: PlanRules,
    coverage: Coverage,
    claim: ClaimInput,
    ledger: LedgerState,
    item: BenefitItem,
    work: _Work,
) -> Decimal | None:
    catalogue = rules.catalogue
    assert catalogue is not None
    lines = work.lines
    matches = catalogue.match(claim.diagnoses)
    if not matches:
        work.reasons.append(Reason.DISEASE_NOT_LISTED)
        lines.append(f"诊断 {'、'.join(claim.diagnoses)} 不在病种目录（{catalogue.version} 版）内")
        return None
    fresh = [m for m in matches if m.entry.code not in ledger.diseases_paid]
    if not fresh:
        names = "、".join(m.entry.name for m in matches)
        work.reasons.append(Reason.DISEASE_ALREADY_PAID)
        lines.append(f"「{names}」此前已给付，同一疾病只给付一次")
        return None
    rule = item.amount or _PER_SHARE

    def per_share(match: CatalogueMatch) -> Decimal:
        return (
            match.entry.amount if match.entry.amount is not None else rule.resolve(1, coverage.tier)
        )

    best = max(fresh, key=per_share)
    lines.append(
        f"诊断 {best.diagnosis} 属于病种目录（{catalogue.version} 版）「{best.entry.name}」"
    )
    work.disease = best.entry.code
    amount = rule.resolve(coverage.shares, coverage.tier, best.entry.amount)
    lines.append(f"{item.name} {rule.describe(coverage.shares, coverage.tier, best.entry.amount)}")
    return amount


def _fixed(
    rules: PlanRules,
    coverage: Coverage,
    claim: ClaimInput,
    ledger: LedgerState,
    item: BenefitItem,
    work: _Work,
) -> Decimal | None:
    assert item.amount is not None
    work.lines.append(f"{item.name}保障金 {item.amount.describe(coverage.shares, coverage.tier)}")
    return item.amount.resolve(coverage.shares, coverage.tier)


def _disability(
    rules: PlanRules,
    coverage: Coverage,
    claim: ClaimInput,
    ledger: LedgerState,
    item: BenefitItem,
    work: _Work,
) -> Decimal | None:
    assert item.amount is not None and claim.disability_grade is not None
    ratio = item.grade_ratios[claim.disability_grade]
    full = item.amount.resolve(coverage.shares, coverage.tier)
    amount = full * ratio
    work.lines.append(
        f"伤残保障金额 {item.amount.describe(coverage.shares, coverage.tier)}；伤残等级 "
        f"{claim.disability_grade} 级给付 {fmt_ratio(ratio)}：{fmt(full)} × {fmt_ratio(ratio)} "
        f"= {fmt_exact(amount)} 元"
    )
    return amount


_BENEFITS = {
    BenefitKind.REIMBURSE: _reimburse,
    BenefitKind.DAILY: _daily,
    BenefitKind.LUMP_SUM: _lump_sum,
    BenefitKind.FIXED: _fixed,
    BenefitKind.DISABILITY: _disability,
}


def _resolve(amount: Amount | None, coverage: Coverage) -> Decimal | None:
    return None if amount is None else amount.resolve(coverage.shares, coverage.tier)


def _caps(
    rules: PlanRules,
    coverage: Coverage,
    claim: ClaimInput,
    ledger: LedgerState,
    item: BenefitItem,
    work: _Work,
    amount: Decimal,
) -> Decision:
    lines, reasons = work.lines, work.reasons
    if Reason.REDUCED_BAND in reasons:
        ratio = rules.waiting.reduced_ratio
        reduced = amount * ratio
        lines.append(
            f"减额给付：{fmt_exact(amount)} × {fmt_ratio(ratio)} = {fmt_exact(reduced)} 元"
        )
        amount = reduced

    per_event = _resolve(item.per_event_cap, coverage)
    if per_event is not None and amount > per_event:
        amount = per_event
        reasons.append(Reason.PER_EVENT_CAP)
        lines.append(f"单次封顶 {fmt(per_event)} 元，本次按封顶计 {fmt(per_event)} 元")

    if item.kind is BenefitKind.REIMBURSE:
        assert claim.out_of_pocket is not None
        bill_left = claim.out_of_pocket - claim.already_reimbursed
        if amount > bill_left:
            amount = bill_left
            reasons.append(Reason.OTHER_PAYMENTS)
            lines.append(
                f"同一票据各项目合计不超过{item.basis_label} {fmt(claim.out_of_pocket)} 元，"
                f"本次最多 {fmt(bill_left)} 元"
            )

    group_cap = _resolve(item.annual_cap, coverage)
    if group_cap is not None:
        paid = ledger.group_paid_this_year.get(item.group, ZERO)
        amount = _cap_step(
            amount,
            group_cap,
            paid,
            Reason.GROUP_CAP,
            work,
            f"「{_group_name(rules, item)}」本年度已赔付 {fmt(paid)} 元，"
            f"年度限额 {fmt(group_cap)} 元",
        )
    annual_cap = _resolve(rules.annual_cap, coverage)
    if annual_cap is not None:
        paid = ledger.paid_this_year
        amount = _cap_step(
            amount,
            annual_cap,
            paid,
            Reason.ANNUAL_CAP,
            work,
            f"本年度已赔付 {fmt(paid)} 元，年度封顶 {fmt(annual_cap)} 元",
        )
    lifetime_cap = _resolve(rules.lifetime_cap, coverage)
    if lifetime_cap is not None:
        paid = ledger.paid_lifetime
        amount = _cap_step(
            amount,
            lifetime_cap,
            paid,
            Reason.LIFETIME_CAP,
            work,
            f"累计已赔付 {fmt(paid)} 元，终身限额 {fmt(lifetime_cap)} 元",
        )
    limits = (annual_cap, lifetime_cap, group_cap)
    return _finish(rules, claim, item, ledger, work, amount, limits)


def _cap_step(
    amount: Decimal, cap: Decimal, paid: Decimal, reason: Reason, work: _Work, text: str
) -> Decimal:
    left = cap - paid
    if left < 0:
        left = ZERO
    work.lines.append(f"{text}，本次最多 {fmt(left)} 元")
    if amount > left:
        work.reasons.append(reason)
        return left
    return amount


def _group_name(rules: PlanRules, item: BenefitItem) -> str:
    if item.cap_group is None:
        return item.name
    return "、".join(other.name for other in rules.benefits if other.group == item.group)


def _finish(
    rules: PlanRules,
    claim: ClaimInput,
    item: BenefitItem | None,
    ledger: LedgerState,
    work: _Work,
    amount: Decimal,
    limits: tuple[Decimal | None, Decimal | None, Decimal | None] | None,
) -> Decision:
    final = quantize(amount)
    lines = work.lines
    if final > 0:
        ends_cover = rules.ends_cover_on_payout
        status = Status.PARTIAL if work.reasons else Status.APPROVED
        rounding = "（按分四舍五入）" if final != amount else ""
        lines.append(
            f"核定赔付金额 {fmt(final)} 元{rounding}"
            f"{'，部分赔付' if status is Status.PARTIAL else ''}"
        )
        if ends_cover:
            lines.append("本次给付后，该项目保障终止")
        annual, lifetime, group = limits or (None, None, None)
        assert item is not None
        delta = LedgerDelta(
            paid=final,
            cap_group=item.group,
            allowance_days=work.days,
            deductible_used=work.deductible_used,
            stays=work.stays,
            disease=work.disease,
            ends_cover=ends_cover,
            base_version=ledger.version,
            annual_cap=annual,
            lifetime_cap=lifetime,
            group_cap=group,
            annual_day_cap=item.annual_day_cap,
        )
    else:
        status = Status.REJECTED
        final = ZERO
        if not work.reasons:
            work.reasons.append(Reason.BELOW_DEDUCTIBLE)
        labels = "；".join(REASON_LABELS[reason] for reason in work.reasons)
        lines.append(f"核定赔付金额 0.00 元，不予赔付（{labels}）")
        delta = LedgerDelta(deductible_used=work.deductible_used, base_version=ledger.version)
    return Decision(
        status=status,
        amount=final,
        reasons=tuple(work.reasons),
        explanation=tuple(lines),
        delta=delta,
        program=rules.program,
        benefit=None if item is None else item.code,
        rules_version=rules.version,
    )
