"""Aggregate figures for the officers' mutual-aid dashboard.

Every figure is one grouped SQL query, restricted in SQL to the viewer's org subtree
(:func:`unionhub.access.service.scope_filter` on ``mutualaid.stats.view``) and optionally to one
org inside it. Money sums are typed :class:`~unionhub_mutualaid.models.Fen` in SQL (see
:func:`fen_sum`), so they come back as ``Decimal`` 元 on SQLite and PostgreSQL alike.

Periods: enrollment is by plan year; claims per month cover the twelve months ending with the
current month (or with December of a past plan year); paid claims, paid payouts and the
direct-pay rate count what was paid in the calendar year of the plan year; open work (payouts
not yet paid, overdue claims) is shown as it stands today, whatever its year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    extract,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session

from unionhub.access.service import scope_filter
from unionhub.money import money_sum, quantize
from unionhub.orgs.models import Org

from ..models import (
    ClaimStatus,
    CoverageStatus,
    MutualaidClaim,
    MutualaidCoverage,
    MutualaidFeeStatement,
    MutualaidPayout,
    PayoutStatus,
)
from ..rules import PROGRAM_CODES, PROGRAM_NAMES

PERMISSION = "mutualaid.stats.view"
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")

#: Claim statuses in chart order, with their labels (wrapped in ``_()`` when shown).
CLAIM_STATUSES: tuple[tuple[str, str], ...] = (
    (ClaimStatus.SUBMITTED, "待审核"),
    (ClaimStatus.RETURNED, "退回补充材料"),
    (ClaimStatus.APPROVED, "已核准待发放"),
    (ClaimStatus.PAID, "已到账"),
    (ClaimStatus.REJECTED, "不予赔付"),
)
PAYOUT_STATUSES: tuple[tuple[str, str], ...] = (
    (PayoutStatus.PENDING, "待批次"),
    (PayoutStatus.BATCHED, "已提交银行"),
    (PayoutStatus.PAYEE_NEEDED, "待补收款信息"),
    (PayoutStatus.PAID, "已到账"),
)


def beijing_today() -> date:
    """Today in Beijing (a claim due "today" is not overdue before midnight there)."""
    return datetime.now(CHINA).date()


@dataclass(frozen=True)
class Scope:
    """Whose figures: the viewer's permission subtree, optionally narrowed to ``org``."""

    account: Any
    org: Org | None = None

    def where(self, path_col: ColumnElement[str]) -> ColumnElement[bool]:
        clause = scope_filter(self.account, PERMISSION, path_col)
        if self.org is not None:
            # Materialized paths are "/1/5/23/": digits and slashes, no LIKE wildcards.
            clause = and_(clause, path_col.like(self.org.path + "%"))
        return clause


fen_sum = money_sum  # every money SUM is typed Fen: Decimal 元 on SQLite and PostgreSQL


def _yuan(value: Decimal | None) -> Decimal:
    """A :func:`fen_sum` result (already 元) to the fen; missing groups are 0."""
    return quantize(Decimal(value or 0))


def _year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def percent(numerator: int, denominator: int) -> Decimal | None:
    """``numerator / denominator`` as a percentage with one decimal (half up), or None."""
    if denominator == 0:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- (a) enrollment -----------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramEnrollment:
    program: str
    name: str
    headcount: int
    active: int  # covered now (voluntary programs: the unit has paid)
    shares: int
    fees_due: Decimal  # sum of the members' fees
    fees_paid: Decimal  # recorded on the units' fee statements


def enrollment_by_program(session: Session, scope: Scope, year: int) -> list[ProgramEnrollment]:
    """Headcount, shares and fees per program for plan year ``year``.

    Two grouped queries (coverage rows; fee statements), merged by program code.
    """
    cov = session.execute(
        select(MutualaidCoverage.program, func.count(),
               func.coalesce(func.sum(case(
                   (MutualaidCoverage.status == CoverageStatus.ACTIVE, 1), else_=0)), 0),
               func.coalesce(func.sum(MutualaidCoverage.shares), 0),
               fen_sum(MutualaidCoverage.fee))
        .join(Org, Org.id == MutualaidCoverage.unit_org_id)
        .where(MutualaidCoverage.plan_year == year, scope.where(Org.path))
        .group_by(MutualaidCoverage.program)).all()
    paid = dict(session.execute(
        select(MutualaidFeeStatement.program,
               fen_sum(MutualaidFeeStatement.amount_paid))
        .join(Org, Org.id == MutualaidFeeStatement.unit_org_id)
        .where(MutualaidFeeStatement.plan_year == year, scope.where(Org.path))
        .group_by(MutualaidFeeStatement.program)).all())
    order = {code: i for i, code in enumerate(PROGRAM_CODES)}
    rows = [ProgramEnrollment(program, PROGRAM_NAMES.get(program, program), int(n), int(active),
                              int(shares), _yuan(fee), _yuan(paid.get(program)))
            for program, n, active, shares, fee in cov]
    return sorted(rows, key=lambda r: order.get(r.program, 99))


@dataclass(frozen=True)
class UnitEnrollment:
    org_id: int
    name: str
    headcount: int
    shares: int
    fees_due: Decimal


def enrollment_by_unit(session: Session, scope: Scope, year: int,
                       limit: int = 10) -> list[UnitEnrollment]:
    """The units with the most enrolled members in plan year ``year`` (all programs)."""
    rows = session.execute(
        select(Org.id, Org.name, func.count(),
               func.coalesce(func.sum(MutualaidCoverage.shares), 0),
               fen_sum(MutualaidCoverage.fee))
        .join(Org, Org.id == MutualaidCoverage.unit_org_id)
        .where(MutualaidCoverage.plan_year == year, scope.where(Org.path))
        .group_by(Org.id, Org.name)
        .order_by(func.count().desc(), Org.name, Org.id)
        .limit(limit)).all()
    return [UnitEnrollment(int(i), name, int(n), int(sh), _yuan(fee))
            for i, name, n, sh, fee in rows]


# --- (b) claims per month -----------------------------------------------------------------


def month_window(year: int, today: date) -> list[tuple[int, int]]:
    """Twelve (year, month) pairs ending with this month, or with December of a past year."""
    end = (today.year, today.month) if year >= today.year else (year, 12)
    y, m = end
    months = []
    for _ in range(12):
        months.append((y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return months[::-1]


@dataclass
class MonthlyClaims:
    months: list[tuple[int, int]]
    counts: dict[tuple[int, int], dict[str, int]] = field(default_factory=dict)
    approved: dict[tuple[int, int], Decimal] = field(default_factory=dict)

    def count(self, month: tuple[int, int], status: str | None = None) -> int:
        by = self.counts.get(month, {})
        return by.get(status, 0) if status else sum(by.values())

    def amount(self, month: tuple[int, int]) -> Decimal:
        return self.approved.get(month, Decimal("0.00"))

    @property
    def total(self) -> int:
        return sum(self.count(m) for m in self.months)


def claims_by_month(session: Session, scope: Scope, year: int, today: date) -> MonthlyClaims:
    """Claims submitted per month and status, and the approved amount per month.

    The approved amount sums ``amount`` of approved and paid claims (the amount is fixed at
    approval) by the month the claim was submitted.
    """
    months = month_window(year, today)
    first = date(*months[0], 1)
    ly, lm = months[-1]
    after = date(ly + (lm == 12), lm % 12 + 1, 1)
    y = extract("year", MutualaidClaim.submitted_on)
    m = extract("month", MutualaidClaim.submitted_on)
    approved_amount = case(
        (MutualaidClaim.status.in_((ClaimStatus.APPROVED, ClaimStatus.PAID)),
         MutualaidClaim.amount), else_=None)
    rows = session.execute(
        select(y, m, MutualaidClaim.status, func.count(),
               fen_sum(approved_amount))
        .where(MutualaidClaim.submitted_on >= first, MutualaidClaim.submitted_on < after,
               MutualaidClaim.status != ClaimStatus.DECIDING, scope.where(MutualaidClaim.org_path))
        .group_by(y, m, MutualaidClaim.status)).all()
    result = MonthlyClaims(months)
    for ry, rm, status, n, amount in rows:  # at most 12 months × 5 statuses aggregate rows
        key = (int(ry), int(rm))
        result.counts.setdefault(key, {})[status] = int(n)
        result.approved[key] = result.approved.get(key, Decimal("0.00")) + _yuan(amount)
    return result


# --- (c) payouts --------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusFigure:
    status: str
    label: str
    count: int
    amount: Decimal


def payout_status(session: Session, scope: Scope, year: int) -> list[StatusFigure]:
    """Payouts by status: every payout not yet paid, and those paid in ``year``."""
    start, end = _year_bounds(year)
    rows = {status: (n, amount) for status, n, amount in session.execute(
        select(MutualaidPayout.status, func.count(),
               fen_sum(MutualaidPayout.amount))
        .where(scope.where(MutualaidPayout.org_path),
               or_(MutualaidPayout.status != PayoutStatus.PAID,
                   MutualaidPayout.paid_on.between(start, end)))
        .group_by(MutualaidPayout.status))}
    return [StatusFigure(code, label, int(rows.get(code, (0, 0))[0]),
                         _yuan(rows.get(code, (0, 0))[1]))
            for code, label in PAYOUT_STATUSES]


# --- (d) service level --------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceLevel:
    paid: int  # claims paid in the year that had a due date
    on_time: int  # … of which paid on or before it
    overdue: int  # open claims past their due date today

    @property
    def fraction(self) -> Fraction | None:
        return Fraction(self.on_time, self.paid) if self.paid else None

    @property
    def percent(self) -> Decimal | None:
        return percent(self.on_time, self.paid)


def service_level(session: Session, scope: Scope, year: int, today: date) -> ServiceLevel:
    """Share of the claims paid in ``year`` that were paid by ``due_on`` (claims without a due
    date — materials never marked complete — are left out), and the open claims overdue today
    (any status but paid or rejected, ``due_on`` before today)."""
    start, end = _year_bounds(year)
    paid_in_year = and_(MutualaidClaim.status == ClaimStatus.PAID,
                        MutualaidClaim.paid_on.between(start, end),
                        MutualaidClaim.due_on.is_not(None))
    overdue = and_(MutualaidClaim.status.not_in((ClaimStatus.PAID, ClaimStatus.REJECTED)),
                   MutualaidClaim.due_on < today)
    row = session.execute(
        select(func.coalesce(func.sum(case((paid_in_year, 1), else_=0)), 0),
               func.coalesce(func.sum(case(
                   (and_(paid_in_year, MutualaidClaim.paid_on <= MutualaidClaim.due_on), 1),
                   else_=0)), 0),
               func.coalesce(func.sum(case((overdue, 1), else_=0)), 0))
        .where(scope.where(MutualaidClaim.org_path), or_(paid_in_year, overdue))).one()
    return ServiceLevel(int(row[0]), int(row[1]), int(row[2]))


# --- (e) direct pay -----------------------------------------------------------------------


@dataclass(frozen=True)
class DirectPay:
    first_batch: int  # paid in the first batch sent (no return, no payee correction)
    paid: int

    @property
    def fraction(self) -> Fraction | None:
        return Fraction(self.first_batch, self.paid) if self.paid else None

    @property
    def percent(self) -> Decimal | None:
        return percent(self.first_batch, self.paid)


def direct_pay(session: Session, scope: Scope, year: int) -> DirectPay:
    """Payouts paid in ``year`` with ``paid_first_batch`` ÷ all payouts paid in ``year``."""
    start, end = _year_bounds(year)
    row = session.execute(
        select(func.count(),
               func.coalesce(func.sum(case((MutualaidPayout.paid_first_batch.is_(True), 1),
                                           else_=0)), 0))
        .where(scope.where(MutualaidPayout.org_path),
               MutualaidPayout.status == PayoutStatus.PAID,
               MutualaidPayout.paid_on.between(start, end))).one()
    return DirectPay(int(row[1]), int(row[0]))


# --- the widget ---------------------------------------------------------------------------


def waiting_review(session: Session, scope: Scope) -> int:
    """Claims submitted and waiting for the centre's review."""
    return int(session.scalar(
        select(func.count()).select_from(MutualaidClaim)
        .where(MutualaidClaim.status == ClaimStatus.SUBMITTED,
               scope.where(MutualaidClaim.org_path))) or 0)


@dataclass(frozen=True)
class Headline:
    waiting_review: int
    overdue: int
    direct_pay: DirectPay


def headline(session: Session, scope: Scope, today: date) -> Headline:
    """The officer board's three numbers (direct-pay rate of the current year)."""
    return Headline(waiting_review(session, scope),
                    service_level(session, scope, today.year, today).overdue,
                    direct_pay(session, scope, today.year))


@dataclass(frozen=True)
class Dashboard:
    year: int
    today: date
    programs: list[ProgramEnrollment]
    units: list[UnitEnrollment]
    claims: MonthlyClaims
    payouts: list[StatusFigure]
    sla: ServiceLevel
    direct: DirectPay
    waiting_review: int


def dashboard(session: Session, scope: Scope, year: int, today: date) -> Dashboard:
    return Dashboard(year, today, enrollment_by_program(session, scope, year),
                     enrollment_by_unit(session, scope, year),
                     claims_by_month(session, scope, year, today),
                     payout_status(session, scope, year),
                     service_level(session, scope, year, today),
                     direct_pay(session, scope, year), waiting_review(session, scope))
