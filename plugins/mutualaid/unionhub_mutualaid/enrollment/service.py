"""Collective enrollment (参保) by a unit, its fee statements (缴费通知单) and their payment.

A unit's agent clerk enrolls members of the unit's org subtree in one voluntary program and
plan year. :func:`assess` judges a batch (eligibility, unit membership, same shares across the
unit, no double enrollment — also through another unit after a job change); :func:`enroll`
writes the accepted members as ``pending_payment`` coverage when the unit's participation
ratio is reached, and recomputes the unit's fee statement. :func:`record_payment` records the
unit's payment of the exact amount due and activates that cover: cover starts only when paid.

When cover starts (:func:`cover_start`): on the plan's unified start date for a unit that
enrolls before it, otherwise on the enrollment date — never earlier, so nobody buys cover for
an event that already happened — and, once paid, no earlier than the payment date. Continuous
cover (no new waiting period) counts only earlier years that were paid (``active``).

The online page and the import (:mod:`.importer`) share :func:`assess`, so both give the same
answers for the same members.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unionhub.audit import service as audit
from unionhub.db import utcnow
from unionhub.identity.models import Member, MemberStatus
from unionhub.money import money_sum
from unionhub.orgs.models import Org

from .. import decide, plans
from ..adjudication import check_enrollment, continuous_since
from ..models import (
    CoverageStatus,
    FeeStatus,
    MutualaidCoverage,
    MutualaidFeeStatement,
    MutualaidPlan,
)
from ..payables import insert_ignore
from ..rules import PlanRules

ENROLL_PERMISSION = "mutualaid.enroll"
FEES_PERMISSION = "mutualaid.fees.manage"


class EnrollmentError(ValueError):
    """A batch refused as a whole (message for the user); nothing was written."""


class PaymentError(ValueError):
    """A payment that cannot be recorded (message for the user); nothing was written."""


@dataclass(frozen=True)
class Entry:
    """One member to enroll: shares, and the fee tier for tiered programs (YWSH)."""

    member: Member
    shares: int
    tier: str | None = None


@dataclass(frozen=True)
class Rejection:
    index: int  # position in the entries
    member_id: int
    name: str
    column: str  # the import column the reason is about
    reason: str


@dataclass(frozen=True)
class Accepted:
    index: int
    member_id: int
    shares: int
    tier: str | None
    fee: Decimal
    first_enrolled: date
    waiting_until: date | None


@dataclass
class Assessment:
    """What :func:`assess` decided for each entry; ``start`` is the day the new cover would
    start (before payment)."""

    start: date
    accepted: list[Accepted] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)  # indexes already enrolled here alike
    rejected: list[Rejection] = field(default_factory=list)


@dataclass
class EnrollResult:
    accepted: list[Accepted]
    rejected: list[Rejection]
    unchanged: int
    headcount: int  # the unit's enrolled headcount after the batch
    eligible: int  # the unit subtree's active (eligible) members
    statement_id: int | None
    start: date  # the day the new cover starts if paid by then (see :func:`cover_start`)


# -- helpers -------------------------------------------------------------------------------------


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def eligible_members_filter(rules: PlanRules, unit: Org) -> list[Any]:
    """SQL conditions for the active members of ``unit``'s subtree whom ``rules`` admit by
    sex and age (the denominator of the participation ratio: the female-only program is
    measured against the unit's women)."""
    conds: list[Any] = [Member.org_id == Org.id, Org.path.like(unit.path + "%"),
                        Member.status == MemberStatus.ACTIVE]
    elig = rules.eligibility
    if elig.sexes:
        conds.append(Member.sex.in_(sorted(s.value for s in elig.sexes)))
    on = rules.term.start
    if elig.insured.value == "member":
        if elig.min_age is not None:
            conds.append(Member.birth_date <= _years_before(on, elig.min_age))
        if elig.max_age is not None:
            conds.append(Member.birth_date > _years_before(on, elig.max_age + 1))
    return conds


def eligible_count(session: Session, rules: PlanRules, unit: Org) -> int:
    return session.scalar(select(func.count(Member.id)).select_from(Member).join(
        Org, Member.org_id == Org.id).where(*eligible_members_filter(rules, unit))) or 0


def unit_headcount(session: Session, unit: Org, plan: MutualaidPlan) -> int:
    return session.scalar(select(func.count(MutualaidCoverage.id)).where(
        MutualaidCoverage.unit_org_id == unit.id, MutualaidCoverage.program == plan.program,
        MutualaidCoverage.plan_year == plan.plan_year)) or 0


def ratio_problem(rules: PlanRules, headcount: int, eligible: int) -> str | None:
    """The refusal message when the unit's participation stays below the plan's ratio."""
    ratio = rules.funding.min_participation_ratio
    if ratio is None or eligible == 0:
        return None
    if Decimal(headcount) >= ratio * eligible:
        return None
    need = int(-(-(ratio * eligible) // 1))
    return (f"参保比例不足：本单位符合条件的在会会员 {eligible} 人，参保 {headcount} 人，"
            f"未达到 {ratio * 100:.0f}%（至少 {need} 人），整批未办理")


def _in_chunks(session: Session, stmt_for: Any, ids: Sequence[int]) -> list[Any]:
    rows: list[Any] = []
    for part in range(0, len(ids), 900):
        rows.extend(session.execute(stmt_for(ids[part:part + 900])).all())
    return rows


def unit_shares(session: Session, unit: Org, plan: MutualaidPlan) -> int | None:
    """The shares the unit already holds in this program and year (None: nobody yet)."""
    return session.scalar(select(MutualaidCoverage.shares).where(
        MutualaidCoverage.unit_org_id == unit.id, MutualaidCoverage.program == plan.program,
        MutualaidCoverage.plan_year == plan.plan_year).limit(1))


def today() -> date:
    """The enrollment date of online enrollment and imports, and the latest payment date
    (one place, so tests can pin the calendar)."""
    return date.today()


def cover_start(rules: PlanRules, enrolled_on: date) -> date:
    """The day cover enrolled on ``enrolled_on`` starts (before payment moves it later): the
    plan's unified start date when enrolled before it, otherwise the enrollment date.
    Raises :class:`EnrollmentError` when the plan's term has already ended."""
    if enrolled_on > rules.term.end:
        raise EnrollmentError(f"{rules.plan_year} 年度{rules.display_name}的保障期已于 "
                              f"{rules.term.end} 结束，不能再参保")
    return max(rules.term.start, enrolled_on)


def continuity(rules: PlanRules, history: Sequence[tuple[date, date]], start: date,
               end: date) -> tuple[date, date | None]:
    """(first_enrolled, waiting_until) of cover from ``start`` to ``end`` after the member's
    earlier *paid* periods ``history`` of the same program."""
    since = continuous_since([*history, (start, end)], rules.renewal_grace_days)
    days = rules.waiting.days
    return since, (since + timedelta(days=days - 1) if days > 0 else None)


def paid_history(session: Session, program: str, plan_year: int,
                 member_ids: Sequence[int]) -> dict[int, list[tuple[date, date]]]:
    """Each member's earlier cover periods of ``program`` that were paid: a year left
    ``pending_payment`` never covered anything, so it cannot make later cover continuous."""
    history: dict[int, list[tuple[date, date]]] = {}
    for member_id, start, end in _in_chunks(session, lambda part: select(
            MutualaidCoverage.member_id, MutualaidCoverage.start, MutualaidCoverage.end)
            .where(MutualaidCoverage.member_id.in_(part),
                   MutualaidCoverage.program == program,
                   MutualaidCoverage.plan_year < plan_year,
                   MutualaidCoverage.status == CoverageStatus.ACTIVE), sorted(set(member_ids))):
        history.setdefault(member_id, []).append((start, end))
    return history


def check_dues(plan: MutualaidPlan) -> None:
    if plans.is_dues_funded(plan):
        raise EnrollmentError(f"{plans.rules_of(plan).display_name}由工会会费保障，"
                              "持卡会员自动享有，无需参保")


# -- assessment ---------------------------------------------------------------------------------


def assess(session: Session, unit: Org, plan: MutualaidPlan, entries: Sequence[Entry],
           on: date | None = None) -> Assessment:
    """Judge every entry of a batch for ``unit`` and ``plan`` enrolled on ``on`` (default
    today); nothing is written. Raises :class:`EnrollmentError` for a dues-funded program or
    a plan whose term has ended."""
    check_dues(plan)
    rules = plans.rules_of(plan)
    start = cover_start(rules, on or today())
    out = Assessment(start)
    members = [e.member for e in entries]
    facts = decide.facts_of(session, members)
    ids = sorted({m.id for m in members})
    existing = {row[0]: row for row in _in_chunks(session, lambda part: select(
        MutualaidCoverage.member_id, MutualaidCoverage.unit_org_id, Org.name,
        MutualaidCoverage.shares, MutualaidCoverage.tier)
        .join(Org, Org.id == MutualaidCoverage.unit_org_id)
        .where(MutualaidCoverage.member_id.in_(part), MutualaidCoverage.program == plan.program,
               MutualaidCoverage.plan_year == plan.plan_year), ids)}
    # Cover of another plan year of the program that overlaps this one (ZDJB runs three
    # years): enrolling again would insure the same event twice.
    overlapping = {row[0]: row for row in _in_chunks(session, lambda part: select(
        MutualaidCoverage.member_id, MutualaidCoverage.plan_year, MutualaidCoverage.end)
        .where(MutualaidCoverage.member_id.in_(part), MutualaidCoverage.program == plan.program,
               MutualaidCoverage.plan_year != plan.plan_year,
               MutualaidCoverage.start <= rules.term.end, MutualaidCoverage.end >= start), ids)}
    history = paid_history(session, plan.program, plan.plan_year, ids)
    same = rules.shares.same_per_unit
    shares_here = unit_shares(session, unit, plan) if same else None
    seen: dict[int, int] = {}
    for index, entry in enumerate(entries):
        m = entry.member
        tier = entry.tier if rules.tiers else None

        def reject(column: str, reason: str, m: Member = m, index: int = index) -> None:
            out.rejected.append(Rejection(index, m.id, m.name, column, reason))

        if m.id in seen:
            reject("姓名", f"与第 {seen[m.id] + 1} 条重复")
            continue
        seen[m.id] = index
        if not (m.org.path.startswith(unit.path)):
            reject("姓名", f"不属于本单位（{unit.name}）")
            continue
        have = existing.get(m.id)
        if have is not None:
            _mid, unit_id, unit_name, shares, have_tier = have
            if unit_id != unit.id:
                reject("姓名", f"已在「{unit_name}」参保 {plan.plan_year} 年度{rules.display_name}"
                       "，不能重复参保")
            elif shares == entry.shares and have_tier == tier:
                out.unchanged.append(index)
            else:
                reject("份数", f"已在本单位参保 {shares} 份，不能重复参保")
            continue
        overlap = overlapping.get(m.id)
        if overlap is not None:
            reject("项目代码", f"已有 {overlap[1]} 年度{rules.display_name}，保障至 {overlap[2]}"
                   "，保障期重叠，不能重复参保")
            continue
        check = check_enrollment(rules, facts[m.id], entry.shares, shares_here if same else None,
                                 tier=tier, on=start)
        if not check.ok:
            column = "份数" if all(r.value.startswith("shares") for r in check.reasons) else (
                "档次" if all(r.value == "unknown_tier" for r in check.reasons) else "姓名")
            reject(column, "；".join(check.messages))
            continue
        if same and shares_here is None:
            shares_here = entry.shares
        since, waiting = continuity(rules, history.get(m.id, ()), start, rules.term.end)
        assert check.fee is not None
        out.accepted.append(Accepted(index, m.id, entry.shares, tier, check.fee, since, waiting))
    return out


# -- enrollment ---------------------------------------------------------------------------------


def _require_scope(session: Session, actor: Any, unit: Org, permission: str) -> None:
    from unionhub.access.service import scope_filter

    if actor is None:  # the system itself (demo seeding, jobs)
        return
    ok = session.scalar(select(Org.id).where(Org.id == unit.id,
                                             scope_filter(actor, permission, Org.path)))
    if ok is None:
        raise EnrollmentError(f"无权为「{unit.name}」办理参保")


def enroll(session: Session, unit_org: Org, plan: MutualaidPlan, entries: Iterable[Any],
           actor: Any = None, source: str = "online", *,
           import_id: int | None = None, on: date | None = None) -> EnrollResult:
    """Enroll ``entries`` — :class:`Entry` or ``(member, shares, tier)`` — of ``unit_org`` on
    ``on`` (the enrollment date, default today; the demo seeds earlier years with it).

    Rejected members are reported with reasons; the accepted ones become ``pending_payment``
    coverage starting on :func:`cover_start`. Raises :class:`EnrollmentError` (nothing
    written) for a dues-funded program, a plan whose term has ended, an actor without the
    unit in scope, or a participation ratio the batch leaves unmet.
    """
    batch = [e if isinstance(e, Entry) else Entry(*e) for e in entries]
    _require_scope(session, actor, unit_org, ENROLL_PERMISSION)
    rules = plans.rules_of(plan)
    result = assess(session, unit_org, plan, batch, on)
    before = unit_headcount(session, unit_org, plan)
    headcount = before + len(result.accepted)
    eligible = eligible_count(session, rules, unit_org)
    if result.accepted:
        problem = ratio_problem(rules, headcount, eligible)
        if problem:
            raise EnrollmentError(problem)
    statement_id = None
    if result.accepted:
        now = utcnow()
        rows = [{"member_id": a.member_id, "plan_id": plan.id, "program": plan.program,
                 "plan_year": plan.plan_year, "unit_org_id": unit_org.id, "shares": a.shares,
                 "tier": a.tier, "start": result.start, "end": rules.term.end,
                 "first_enrolled": a.first_enrolled, "waiting_until": a.waiting_until,
                 "fee": a.fee, "status": CoverageStatus.PENDING_PAYMENT.value, "source": source,
                 "import_id": import_id, "enrolled_by": getattr(actor, "id", None),
                 "created_at": now} for a in result.accepted]
        try:
            with session.begin_nested():
                session.execute(insert(MutualaidCoverage), rows)
        except IntegrityError:
            raise EnrollmentError("其中有会员刚刚已在其他单位参保，请刷新后重试") from None
        statement_id = refresh_statement(session, unit_org, plan)
        audit.record("mutualaid.enroll", target_type="org", target_id=unit_org.id,
                     org_path=unit_org.path, actor=actor, session=session,
                     details={"program": plan.program, "plan_year": plan.plan_year,
                              "source": source, "import_id": import_id,
                              "accepted": len(result.accepted),
                              "rejected": len(result.rejected),
                              "unchanged": len(result.unchanged),
                              "fee": str(sum((a.fee for a in result.accepted), Decimal("0.00")))})
    return EnrollResult(result.accepted, result.rejected, len(result.unchanged), headcount,
                        eligible, statement_id, result.start)


# -- fee statements -----------------------------------------------------------------------------


def _expire(session: Session, *classes: type) -> None:
    """Expire loaded rows of ``classes`` after Core UPDATEs (not every object: members
    loaded by the caller stay loaded)."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, classes):
            session.expire(obj)


def refresh_statement(session: Session, unit: Org, plan: MutualaidPlan) -> int:
    """Recompute the unit's statement for the program and year from its coverage rows (and
    attach them). A paid statement that gained unpaid members opens again for the rest."""
    insert_ignore(session, MutualaidFeeStatement.__table__, {
        "unit_org_id": unit.id, "plan_id": plan.id, "program": plan.program,
        "plan_year": plan.plan_year, "headcount": 0, "shares": 0, "amount_due": 0,
        "amount_paid": 0, "status": FeeStatus.OPEN.value, "updated_at": utcnow()})
    st = MutualaidFeeStatement.__table__
    statement_id = session.scalar(select(st.c.id).where(
        st.c.unit_org_id == unit.id, st.c.program == plan.program,
        st.c.plan_year == plan.plan_year))
    assert statement_id is not None
    cov = MutualaidCoverage.__table__
    mine = and_(cov.c.unit_org_id == unit.id, cov.c.program == plan.program,
                cov.c.plan_year == plan.plan_year)
    heads, shares, due = session.execute(select(
        func.count(cov.c.id), func.coalesce(func.sum(cov.c.shares), 0),
        money_sum(cov.c.fee)).where(mine)).one()
    pending = session.scalar(select(func.count(cov.c.id)).where(
        mine, cov.c.status == CoverageStatus.PENDING_PAYMENT)) or 0
    session.execute(update(cov).where(mine, cov.c.fee_statement_id.is_(None))
                    .values(fee_statement_id=statement_id))
    values: dict[str, Any] = {"headcount": heads, "shares": shares,
                              "amount_due": due, "updated_at": utcnow()}
    if pending:
        values["status"] = FeeStatus.OPEN.value
    session.execute(update(MutualaidFeeStatement).where(MutualaidFeeStatement.id == statement_id)
                    .values(**values).execution_options(synchronize_session=False))
    _expire(session, MutualaidFeeStatement, MutualaidCoverage)
    return statement_id


def outstanding(statement: MutualaidFeeStatement) -> Decimal:
    return statement.amount_due - statement.amount_paid


def scoped_statement(session: Session, actor: Any, statement_id: int) -> MutualaidFeeStatement:
    """The statement when ``actor`` may record fees for its unit (checked in SQL)."""
    from unionhub.access.service import scope_filter

    stmt = select(MutualaidFeeStatement).where(MutualaidFeeStatement.id == statement_id)
    if actor is not None:
        stmt = stmt.join(Org, Org.id == MutualaidFeeStatement.unit_org_id).where(
            scope_filter(actor, FEES_PERMISSION, Org.path))
    st = session.scalar(stmt)
    if st is None:
        raise PaymentError("缴费通知单不存在或不在您的管辖范围内")
    return st


@dataclass(frozen=True)
class _Activation:
    """New values of one pending coverage row that a payment activates."""

    id: int
    start: date
    first_enrolled: date
    waiting_until: date | None
    changed: bool


def _activations(session: Session, st: MutualaidFeeStatement,
                 paid_on: date) -> list[_Activation]:
    """The unit's pending cover of the statement's program and year, as it is once paid on
    ``paid_on``: it starts no earlier than the payment, and continuous cover and the waiting
    period are recomputed from that real start and the member's paid earlier years. New cover
    whose start moved gets first_enrolled = the new start and its waiting period from there; a
    renewal stays continuous (keeps first_enrolled) unless the later start leaves more than
    the grace days after last year's cover; a prior year paid since enrollment now counts.
    Raises :class:`PaymentError` when the payment leaves no cover at all."""
    c = MutualaidCoverage
    rows = session.execute(select(c.id, c.member_id, c.plan_id, c.start, c.end,
                                  c.first_enrolled, c.waiting_until).where(
        c.unit_org_id == st.unit_org_id, c.program == st.program, c.plan_year == st.plan_year,
        c.status == CoverageStatus.PENDING_PAYMENT).order_by(c.id)).all()
    history = paid_history(session, st.program, st.plan_year, [r.member_id for r in rows])
    rules_by_plan: dict[int, PlanRules] = {}
    out: list[_Activation] = []
    for r in rows:
        if r.plan_id not in rules_by_plan:
            plan = session.get(MutualaidPlan, r.plan_id)
            assert plan is not None
            rules_by_plan[r.plan_id] = plans.rules_of(plan)
        rules = rules_by_plan[r.plan_id]
        start = max(r.start, paid_on)
        if start > r.end:
            raise PaymentError(f"缴费日期 {paid_on} 晚于保障期结束日 {r.end}，"
                               "缴费后已无保障期间，未登记")
        first, waiting = continuity(rules, history.get(r.member_id, ()), start, r.end)
        changed = (start, first, waiting) != (r.start, r.first_enrolled, r.waiting_until)
        out.append(_Activation(r.id, start, first, waiting, changed))
    return out


def record_payment(session: Session, statement_id: int, amount: Decimal, paid_on: date,
                   reference: str, actor: Any = None) -> MutualaidFeeStatement:
    """Record the unit's payment of exactly the amount outstanding; its pending cover of the
    program and year becomes active, starting no earlier than ``paid_on`` (see
    :func:`_activations`). Raises :class:`PaymentError`; the caller rolls back, nothing
    stays written."""
    if isinstance(amount, float) or not isinstance(amount, Decimal):
        raise PaymentError("缴费金额须为精确金额")
    reference = (reference or "").strip()
    if not reference:
        raise PaymentError("缴费凭证号：不能为空")
    if len(reference) > 64:
        raise PaymentError("缴费凭证号：超过 64 个字符")
    st = scoped_statement(session, actor, statement_id)
    due, paid_before = st.amount_due, st.amount_paid
    owed = due - paid_before
    if st.status == FeeStatus.PAID or owed <= 0:
        raise PaymentError(f"该单位 {st.plan_year} 年度 {st.program} 无待缴费用")
    if amount != owed:
        raise PaymentError(f"缴费金额 {amount:.2f} 元与应缴金额 {owed:.2f} 元不符，未登记")
    if paid_on > today():
        raise PaymentError(f"缴费日期 {paid_on} 晚于今天")
    todo = _activations(session, st, paid_on)
    done = session.execute(
        update(MutualaidFeeStatement)
        .where(MutualaidFeeStatement.id == st.id, MutualaidFeeStatement.status == FeeStatus.OPEN,
               MutualaidFeeStatement.amount_due == due,
               MutualaidFeeStatement.amount_paid == paid_before)
        .values(status=FeeStatus.PAID.value, amount_paid=paid_before + amount, paid_on=paid_on,
                payment_ref=reference, recorded_by=getattr(actor, "id", None),
                updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if done != 1:
        raise PaymentError("该缴费通知单刚刚已被他人处理或金额已变动，请刷新后重试")
    # Only the rows read above (a member enrolled meanwhile reopens the statement, unpaid).
    ids = [a.id for a in todo]
    activated = 0
    for part in range(0, len(ids), 900):
        activated += session.execute(
            update(MutualaidCoverage)
            .where(MutualaidCoverage.id.in_(ids[part:part + 900]),
                   MutualaidCoverage.status == CoverageStatus.PENDING_PAYMENT)
            .values(status=CoverageStatus.ACTIVE.value)
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if activated != len(ids):
        raise PaymentError("该单位的参保名单刚刚已被他人处理，请刷新后重试")
    moved = [{"b_id": a.id, "b_start": a.start, "b_first": a.first_enrolled,
              "b_wait": a.waiting_until} for a in todo if a.changed]
    if moved:
        cov = MutualaidCoverage.__table__
        session.execute(update(cov).where(cov.c.id == bindparam("b_id")).values(
            start=bindparam("b_start"), first_enrolled=bindparam("b_first"),
            waiting_until=bindparam("b_wait")), moved)
    unit = session.get(Org, st.unit_org_id)
    audit.record("mutualaid.fees.pay", target_type="mutualaid_fee_statement", target_id=st.id,
                 org_path=unit.path if unit else None, actor=actor, session=session,
                 details={"program": st.program, "plan_year": st.plan_year,
                          "amount": str(amount), "paid_on": paid_on.isoformat(),
                          "reference": reference, "activated": activated,
                          "cover_start": min((a.start for a in todo), default=paid_on)
                          .isoformat(), "start_moved": len(moved)})
    _expire(session, MutualaidFeeStatement, MutualaidCoverage)
    return st
