"""Collective enrollment (参保) by a unit, its fee statements (缴费通知单) and their payment.

A unit's agent clerk enrolls members of the unit's org subtree in one voluntary program and
plan year. :func:`assess` judges a batch (eligibility, unit membership, same shares across the
unit, no double enrollment — also through another unit after a job change); :func:`enroll`
writes the accepted members as ``pending_payment`` coverage when the unit's participation
ratio is reached, and recomputes the unit's fee statement. :func:`record_payment` records the
unit's payment of the exact amount due and activates that cover with one conditional UPDATE:
cover starts only when paid.

The online page and the import (:mod:`.importer`) share :func:`assess`, so both give the same
answers for the same members.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unionhub.audit import service as audit
from unionhub.db import utcnow
from unionhub.identity.models import CardStatus, JingkaCard, Member, MemberStatus
from unionhub.orgs.models import Org

from .. import plans
from ..adjudication import MemberFacts, check_enrollment, continuous_since
from ..models import (
    CoverageStatus,
    FeeStatus,
    MutualaidCoverage,
    MutualaidFeeStatement,
    MutualaidPlan,
    money_sum,
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
    """What :func:`assess` decided for each entry."""

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


def _facts(session: Session, members: Sequence[Member]) -> dict[int, MemberFacts]:
    """:func:`decide.member_facts` for many members with one query for their cards."""
    ids = [m.id for m in members]
    with_card: set[int] = set()
    for part in range(0, len(ids), 900):
        with_card.update(session.scalars(select(JingkaCard.member_id).where(
            JingkaCard.member_id.in_(ids[part:part + 900]),
            JingkaCard.status == CardStatus.ACTIVE)))
    return {m.id: MemberFacts(sex=m.sex, birth_date=m.birth_date,  # type: ignore[arg-type]
                              membership_active=m.status == MemberStatus.ACTIVE,
                              has_active_jingka=m.id in with_card) for m in members}


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


def check_dues(plan: MutualaidPlan) -> None:
    if plans.is_dues_funded(plan):
        raise EnrollmentError(f"{plans.rules_of(plan).display_name}由工会会费保障，"
                              "持卡会员自动享有，无需参保")


# -- assessment ---------------------------------------------------------------------------------


def assess(session: Session, unit: Org, plan: MutualaidPlan,
           entries: Sequence[Entry]) -> Assessment:
    """Judge every entry of a batch for ``unit`` and ``plan`` (nothing is written)."""
    check_dues(plan)
    rules = plans.rules_of(plan)
    out = Assessment()
    members = [e.member for e in entries]
    facts = _facts(session, members)
    ids = sorted({m.id for m in members})
    existing = {row[0]: row for row in _in_chunks(session, lambda part: select(
        MutualaidCoverage.member_id, MutualaidCoverage.unit_org_id, Org.name,
        MutualaidCoverage.shares, MutualaidCoverage.tier)
        .join(Org, Org.id == MutualaidCoverage.unit_org_id)
        .where(MutualaidCoverage.member_id.in_(part), MutualaidCoverage.program == plan.program,
               MutualaidCoverage.plan_year == plan.plan_year), ids)}
    history: dict[int, list[tuple[date, date]]] = {}
    for member_id, start, end in _in_chunks(session, lambda part: select(
            MutualaidCoverage.member_id, MutualaidCoverage.start, MutualaidCoverage.end)
            .where(MutualaidCoverage.member_id.in_(part),
                   MutualaidCoverage.program == plan.program,
                   MutualaidCoverage.plan_year < plan.plan_year), ids):
        history.setdefault(member_id, []).append((start, end))
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
        check = check_enrollment(rules, facts[m.id], entry.shares, shares_here if same else None,
                                 tier=tier, on=rules.term.start)
        if not check.ok:
            column = "份数" if all(r.value.startswith("shares") for r in check.reasons) else (
                "档次" if all(r.value == "unknown_tier" for r in check.reasons) else "姓名")
            reject(column, "；".join(check.messages))
            continue
        if same and shares_here is None:
            shares_here = entry.shares
        periods = [*history.get(m.id, ()), (rules.term.start, rules.term.end)]
        since = continuous_since(periods, rules.renewal_grace_days)
        days = rules.waiting.days
        waiting = since + timedelta(days=days - 1) if days > 0 else None
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
           import_id: int | None = None) -> EnrollResult:
    """Enroll ``entries`` — :class:`Entry` or ``(member, shares, tier)`` — of ``unit_org``.

    Rejected members are reported with reasons; the accepted ones become ``pending_payment``
    coverage. Raises :class:`EnrollmentError` (nothing written) for a dues-funded program, an
    actor without the unit in scope, or a participation ratio the batch leaves unmet.
    """
    batch = [e if isinstance(e, Entry) else Entry(*e) for e in entries]
    _require_scope(session, actor, unit_org, ENROLL_PERMISSION)
    rules = plans.rules_of(plan)
    result = assess(session, unit_org, plan, batch)
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
                 "tier": a.tier, "start": rules.term.start, "end": rules.term.end,
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
                        eligible, statement_id)


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


def record_payment(session: Session, statement_id: int, amount: Decimal, paid_on: date,
                   reference: str, actor: Any = None) -> MutualaidFeeStatement:
    """Record the unit's payment of exactly the amount outstanding; its pending cover of the
    program and year becomes active. Raises :class:`PaymentError` (nothing written)."""
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
    if paid_on > date.today():
        raise PaymentError(f"缴费日期 {paid_on} 晚于今天")
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
    activated = session.execute(
        update(MutualaidCoverage)
        .where(MutualaidCoverage.unit_org_id == st.unit_org_id,
               MutualaidCoverage.program == st.program,
               MutualaidCoverage.plan_year == st.plan_year,
               MutualaidCoverage.status == CoverageStatus.PENDING_PAYMENT)
        .values(status=CoverageStatus.ACTIVE.value)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    unit = session.get(Org, st.unit_org_id)
    audit.record("mutualaid.fees.pay", target_type="mutualaid_fee_statement", target_id=st.id,
                 org_path=unit.path if unit else None, actor=actor, session=session,
                 details={"program": st.program, "plan_year": st.plan_year,
                          "amount": str(amount), "paid_on": paid_on.isoformat(),
                          "reference": reference, "activated": activated})
    _expire(session, MutualaidFeeStatement, MutualaidCoverage)
    return st
