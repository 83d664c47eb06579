"""Reports built from the coupon event log: merchant reports, settlement statements and the
officers' dashboard figures.

Everything is aggregated in SQL; amounts are summed with :func:`unionhub.money.money_sum`
(whole fen in the database, ``Decimal`` 元 here). A "day" is an Asia/Shanghai calendar day
while events are stored in UTC: ranges are turned into UTC bounds in Python (so the
``(merchant_id, kind, at)`` index serves them) and rows are grouped by :class:`local_day`,
compiled per dialect (SQLite ``date(at, '+8 hours')``, PostgreSQL ``at AT TIME ZONE
'Asia/Shanghai'``; China has kept UTC+8 without daylight saving since 1991).

Net redemptions are ``redeemed`` events minus ``undone`` events; the amount is the sum of
both (an undo carries the negative subsidy). This module reads coupons and events and never
changes them; settlement statements are the only rows it writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import CompileError, IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from unionhub.access.models import RoleGrant
from unionhub.access.service import roles_with, scope_filter
from unionhub.audit import service as audit
from unionhub.i18n import _
from unionhub.money import ZERO, money_sum, quantize
from unionhub.orgs.models import Org

from ..models import (
    BenefitsMallCategory,
    BenefitsMallCoupon,
    BenefitsMallCouponEvent,
    BenefitsMallMerchant,
    BenefitsMallOffer,
    BenefitsMallSettlement,
    BenefitsMallSettlementLine,
    BenefitsMallStore,
    CouponEventKind,
    CouponState,
    SettlementStatus,
)

CHINA = ZoneInfo("Asia/Shanghai")



PERMISSION = "benefits_mall.reports.view"
MANAGE_PERMISSION = "benefits_mall.settlement.manage"
SETTLED_KINDS = (CouponEventKind.REDEEMED.value, CouponEventKind.UNDONE.value)
#: The longest date range a report accepts (one year and a day, for leap years).
MAX_RANGE_DAYS = 366
DASHBOARD_DAYS = 30
TOP_MERCHANTS = 10

STATUS_LABELS: dict[str, str] = {
    SettlementStatus.DRAFT: "待商户确认",
    SettlementStatus.CONFIRMED: "商户已确认",
    SettlementStatus.PAID: "已付款",
}
KIND_LABELS: dict[str, str] = {
    CouponEventKind.REDEEMED: "核销",
    CouponEventKind.UNDONE: "撤销核销",
}

#: Audit actions on a statement, as shown in its history.
HISTORY_LABELS: dict[str, str] = {
    "benefits_mall.settlement.build": "已生成",
    "benefits_mall.settlement.confirm": "商户已确认",
    "benefits_mall.settlement.paid": "已标记付款",
    "benefits_mall.settlement.export": "下载结算单",
}

E = BenefitsMallCouponEvent


# --- local days ---------------------------------------------------------------------------


class local_day(FunctionElement[date]):
    """The Asia/Shanghai calendar date of a UTC timestamp column, as a SQL expression."""

    type = Date()
    inherit_cache = True
    name = "local_day"


@compiles(local_day)
def _local_day_default(element: local_day, compiler: Any, **kw: Any) -> str:
    raise CompileError(f"local_day is not implemented for {compiler.dialect.name}")


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: Any, **kw: Any) -> str:
    # UTCDateTime stores "YYYY-MM-DD HH:MM:SS.ffffff" in UTC on SQLite.
    return f"date({compiler.process(element.clauses, **kw)}, '+8 hours')"


@compiles(local_day, "postgresql")
def _local_day_pg(element: local_day, compiler: Any, **kw: Any) -> str:
    return (f"CAST(({compiler.process(element.clauses, **kw)}) "
            f"AT TIME ZONE 'Asia/Shanghai' AS DATE)")


def beijing_today() -> date:
    return datetime.now(CHINA).date()


def day_start(day: date) -> datetime:
    """Midnight of ``day`` in Beijing, as a UTC timestamp."""
    return datetime.combine(day, time.min, CHINA).astimezone(UTC)


def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """``[start 00:00, end + 1 day 00:00)`` Beijing time, in UTC."""
    return day_start(start), day_start(end + timedelta(days=1))


def month_bounds(month: date) -> tuple[date, date]:
    """The first and last day of the month containing ``month``."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def previous_month(today: date) -> tuple[date, date]:
    return month_bounds(today.replace(day=1) - timedelta(days=1))


def percent(numerator: int, denominator: int) -> Decimal | None:
    """A percentage with one decimal (half up), or None when there is nothing to divide."""
    if denominator <= 0:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)


def _net() -> ColumnElement[int]:
    """+1 for a redemption, -1 for an undo (for ``SUM``)."""
    return case((E.kind == CouponEventKind.REDEEMED, 1), else_=-1)


def _count(kind: str, col: Any) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((col == kind, 1), else_=0)), 0)


# --- merchant report ----------------------------------------------------------------------


class ReportError(ValueError):
    """A report request that cannot be answered (bad date range …); the message names it."""


#: Dates outside these years are refused (they are typing mistakes, and the UTC conversion
#: of year 1 or 9999 would overflow).
YEARS = (2000, 2099)


def check_range(start: date, end: date) -> None:
    for d in (start, end):
        if not YEARS[0] <= d.year <= YEARS[1]:
            raise ReportError(_("日期 %(day)s 超出可查询的范围（%(low)s–%(high)s年）",
                                day=d.isoformat(), low=YEARS[0], high=YEARS[1]))
    if start > end:
        raise ReportError(_("开始日期不能晚于结束日期"))
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ReportError(_("日期范围最长为 %(n)s 天", n=MAX_RANGE_DAYS))


@dataclass(frozen=True)
class Figures:
    """Redemptions and undos of one group; ``net`` and ``amount`` are after netting."""

    redeemed: int
    undone: int
    amount: Decimal

    @property
    def net(self) -> int:
        return self.redeemed - self.undone


@dataclass(frozen=True)
class StoreDay(Figures):
    day: date = date.min
    store_id: int | None = None
    store_name: str = ""


@dataclass(frozen=True)
class OfferFigures(Figures):
    offer_id: int = 0
    title: str = ""


@dataclass
class MerchantReport:
    merchant_id: int
    start: date
    end: date
    total: Figures
    by_store_day: list[StoreDay] = field(default_factory=list)
    by_offer: list[OfferFigures] = field(default_factory=list)


def _merchant_events(merchant_id: int, start: date, end: date) -> Any:
    """Per event of the merchant in the range: local day, store, offer, kind, amount.

    An undo without a store of its own is counted at the store of the redemption it undoes
    (the latest redemption of that coupon before it), so netting by store stays right.
    """
    lo, hi = utc_bounds(start, end)
    prior = aliased(BenefitsMallCouponEvent)
    redeemed_at = (select(prior.store_id)
                   .where(prior.coupon_id == E.coupon_id,
                          prior.kind == CouponEventKind.REDEEMED, prior.id < E.id)
                   .order_by(prior.id.desc()).limit(1)
                   .correlate(E).scalar_subquery())
    return (select(E.id, local_day(E.at).label("day"),
                   func.coalesce(E.store_id, redeemed_at).label("store_id"),
                   E.offer_id, E.kind, E.amount)
            .where(E.merchant_id == merchant_id, E.kind.in_(SETTLED_KINDS),
                   E.at >= lo, E.at < hi)
            .subquery("ev"))


def merchant_report(session: Session, merchant_id: int, start: date, end: date
                    ) -> MerchantReport:
    """Net redemptions of one merchant by store and day, and by offer, for ``start``–``end``
    (Beijing dates, both included)."""
    check_range(start, end)
    ev = _merchant_events(merchant_id, start, end)
    figures = (_count(CouponEventKind.REDEEMED, ev.c.kind),
               _count(CouponEventKind.UNDONE, ev.c.kind), money_sum(ev.c.amount))
    red, und, amount = session.execute(select(*figures)).one()
    report = MerchantReport(merchant_id, start, end, Figures(int(red), int(und), amount))
    rows = session.execute(
        select(ev.c.day, ev.c.store_id, BenefitsMallStore.name, *figures)
        .outerjoin(BenefitsMallStore, BenefitsMallStore.id == ev.c.store_id)
        .group_by(ev.c.day, ev.c.store_id, BenefitsMallStore.name)
        .order_by(ev.c.day.desc(), BenefitsMallStore.name, ev.c.store_id))
    report.by_store_day = [
        StoreDay(int(r), int(u), a, day=d, store_id=sid, store_name=name or "")
        for d, sid, name, r, u, a in rows]
    rows = session.execute(
        select(ev.c.offer_id, BenefitsMallOffer.title, *figures)
        .join(BenefitsMallOffer, BenefitsMallOffer.id == ev.c.offer_id)
        .group_by(ev.c.offer_id, BenefitsMallOffer.title)
        .order_by(func.sum(case((ev.c.kind == CouponEventKind.REDEEMED, 1), else_=-1)).desc(),
                  ev.c.offer_id))
    report.by_offer = [OfferFigures(int(r), int(u), a, offer_id=oid, title=title)
                       for oid, title, r, u, a in rows]
    return report


# --- settlement statements ----------------------------------------------------------------


class SettlementError(ValueError):
    """A statement cannot be built or change status; the message says why (Chinese UI text)."""


def _unsettled(merchant_id: int, start: date, end: date) -> ColumnElement[bool]:
    """Redeemed/undone events of the merchant in the period that are in no statement."""
    lo, hi = utc_bounds(start, end)
    return and_(E.merchant_id == merchant_id, E.kind.in_(SETTLED_KINDS),
                E.at >= lo, E.at < hi,
                ~exists().where(BenefitsMallSettlementLine.event_id == E.id))


def overlapping(session: Session, merchant_id: int, start: date, end: date
                ) -> BenefitsMallSettlement | None:
    """An existing statement of the merchant whose period overlaps ``start``–``end``."""
    return session.scalar(
        select(BenefitsMallSettlement)
        .where(BenefitsMallSettlement.merchant_id == merchant_id,
               BenefitsMallSettlement.period_start <= end,
               BenefitsMallSettlement.period_end >= start)
        .order_by(BenefitsMallSettlement.period_start).limit(1))


def _check_period_years(start: date, end: date) -> None:
    if not (YEARS[0] <= start.year <= YEARS[1] and YEARS[0] <= end.year <= YEARS[1]):
        raise SettlementError(_("结算期间超出范围（%(low)s–%(high)s年）",
                                low=YEARS[0], high=YEARS[1]))


def build_statement(session: Session, merchant_id: int, period_start: date, period_end: date,
                    account_id: int | None, *, today: date | None = None
                    ) -> BenefitsMallSettlement:
    """Create the merchant's draft statement for a closed period: one line per redeemed or
    undone event in the period that is in no statement yet.

    Every event is in at most one statement: the line's primary key is the event id, so a
    second build racing this one fails on the key (or, for the same period, on the unique
    ``(merchant_id, period_start)``) and is reported as :class:`SettlementError`; the work
    happens in a savepoint, so the caller's session stays usable. Builds of one merchant are
    serialised on PostgreSQL by locking its row (``FOR NO KEY UPDATE``: redemptions, which
    only reference the row, are not blocked).
    """
    today = today or beijing_today()
    _check_period_years(period_start, period_end)
    if period_start > period_end:
        raise SettlementError(_("结算期间的开始日期不能晚于结束日期"))
    if period_end >= today:
        raise SettlementError(_("结算期间尚未结束：截止日期须早于今天（%(today)s）",
                                today=today.isoformat()))
    merchant = session.scalar(select(BenefitsMallMerchant)
                              .where(BenefitsMallMerchant.id == merchant_id)
                              .with_for_update(key_share=True))
    if merchant is None:
        raise SettlementError(_("没有该商户"))
    clash = overlapping(session, merchant_id, period_start, period_end)
    if clash is not None:
        if (clash.period_start, clash.period_end) == (period_start, period_end):
            raise SettlementError(_("该期间已生成结算单"))
        raise SettlementError(_("该期间与已有结算单（%(start)s 至 %(end)s）重叠",
                                start=clash.period_start.isoformat(),
                                end=clash.period_end.isoformat()))
    pending = session.scalar(select(func.count()).select_from(E)
                             .where(_unsettled(merchant_id, period_start, period_end)))
    if not pending:
        raise SettlementError(_("该商户在此期间没有待结算的核销记录"))
    try:
        with session.begin_nested():
            st = BenefitsMallSettlement(merchant_id=merchant_id, period_start=period_start,
                                        period_end=period_end, status=SettlementStatus.DRAFT,
                                        created_by=account_id)
            session.add(st)
            session.flush()
            session.execute(
                insert(BenefitsMallSettlementLine).from_select(
                    ["settlement_id", "event_id", "amount"],
                    select(literal(st.id), E.id, E.amount)
                    .where(_unsettled(merchant_id, period_start, period_end))))
            red, und, amount = session.execute(
                select(_count(CouponEventKind.REDEEMED, E.kind),
                       _count(CouponEventKind.UNDONE, E.kind),
                       money_sum(BenefitsMallSettlementLine.amount))
                .select_from(BenefitsMallSettlementLine)
                .join(E, E.id == BenefitsMallSettlementLine.event_id)
                .where(BenefitsMallSettlementLine.settlement_id == st.id)).one()
            st.redemptions, st.undone, st.amount = int(red), int(und), amount
            session.flush()
    except IntegrityError:
        raise SettlementError(_("该期间已生成结算单")) from None
    audit.record("benefits_mall.settlement.build", target_type="benefits_mall_settlement",
                 target_id=st.id, session=session,
                 details={"merchant_id": merchant_id, "period_start": period_start.isoformat(),
                          "period_end": period_end.isoformat(), "redemptions": st.redemptions,
                          "undone": st.undone, "amount": str(st.amount),
                          "account_id": account_id})
    return st


def merchants_to_settle(session: Session, start: date, end: date) -> list[BenefitsMallMerchant]:
    """Merchants with redeemed/undone events in the period that are in no statement yet."""
    lo, hi = utc_bounds(start, end)
    has_events = (select(E.merchant_id)
                  .where(E.kind.in_(SETTLED_KINDS), E.at >= lo, E.at < hi,
                         ~exists().where(BenefitsMallSettlementLine.event_id == E.id))
                  .distinct())
    return list(session.scalars(select(BenefitsMallMerchant)
                                .where(BenefitsMallMerchant.id.in_(has_events))
                                .order_by(BenefitsMallMerchant.name)))


@dataclass(frozen=True)
class BuildOutcome:
    merchant: BenefitsMallMerchant
    settlement: BenefitsMallSettlement | None
    error: str | None


def build_month(session: Session, month: date, account_id: int | None, *,
                merchant_id: int | None = None, today: date | None = None
                ) -> list[BuildOutcome]:
    """Build the statement of ``month`` for one merchant, or for every merchant with events
    to settle in it; a refusal for one merchant does not stop the others."""
    start, end = month_bounds(month)
    today = today or beijing_today()
    _check_period_years(start, end)
    if end >= today:
        raise SettlementError(_("%(month)s 尚未结束，只能为已结束的月份生成结算单",
                                month=f"{start:%Y-%m}"))
    if merchant_id is not None:
        merchant = session.get(BenefitsMallMerchant, merchant_id)
        if merchant is None:
            raise SettlementError(_("没有该商户"))
        merchants = [merchant]
    else:
        merchants = merchants_to_settle(session, start, end)
    out = []
    for merchant in merchants:
        try:
            st = build_statement(session, merchant.id, start, end, account_id, today=today)
        except SettlementError as exc:
            out.append(BuildOutcome(merchant, None, str(exc)))
        else:
            out.append(BuildOutcome(merchant, st, None))
    return out


def _transition(session: Session, settlement_id: int, source: str, target: str,
                extra: ColumnElement[bool] | None, refusal: str) -> BenefitsMallSettlement:
    where = [BenefitsMallSettlement.id == settlement_id,
             BenefitsMallSettlement.status == source]
    if extra is not None:
        where.append(extra)
    result = session.execute(update(BenefitsMallSettlement).where(*where)
                             .values(status=target).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise SettlementError(refusal)
    st = session.get(BenefitsMallSettlement, settlement_id)
    assert st is not None
    session.refresh(st)
    return st


def confirm(session: Session, settlement_id: int, *, merchant_id: int,
            account_id: int | None) -> BenefitsMallSettlement:
    """The merchant's manager agrees the figures of a draft (only their own merchant's)."""
    st = _transition(session, settlement_id, SettlementStatus.DRAFT, SettlementStatus.CONFIRMED,
                     BenefitsMallSettlement.merchant_id == merchant_id,
                     _("只有待确认的结算单可以确认"))
    audit.record("benefits_mall.settlement.confirm", target_type="benefits_mall_settlement",
                 target_id=st.id, session=session,
                 details={"merchant_id": merchant_id, "amount": str(st.amount),
                          "account_id": account_id})
    return st


def mark_paid(session: Session, settlement_id: int, *, account_id: int | None
              ) -> BenefitsMallSettlement:
    """An operator records that a confirmed statement has been paid."""
    st = _transition(session, settlement_id, SettlementStatus.CONFIRMED, SettlementStatus.PAID,
                     None, _("只有商户已确认的结算单可以标记为已付款"))
    audit.record("benefits_mall.settlement.paid", target_type="benefits_mall_settlement",
                 target_id=st.id, session=session,
                 details={"merchant_id": st.merchant_id, "amount": str(st.amount),
                          "account_id": account_id})
    return st


@dataclass(frozen=True)
class StatementLine:
    event_id: int
    at: datetime
    kind: str
    coupon_id: int
    coupon_code: str
    offer_title: str
    store_name: str
    amount: Decimal

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def code_tail(self) -> str:
        """The coupon code's last four characters (enough to find it, not to reuse it)."""
        return "…" + self.coupon_code[-4:] if self.coupon_code else ""


def statement_lines_stmt(settlement_id: int) -> Any:
    """The statement's lines with their event, coupon, offer and store, in time order."""
    return (select(BenefitsMallSettlementLine.event_id, E.at, E.kind, E.coupon_id,
                   BenefitsMallCoupon.code, BenefitsMallOffer.title, BenefitsMallStore.name,
                   BenefitsMallSettlementLine.amount)
            .join(E, E.id == BenefitsMallSettlementLine.event_id)
            .join(BenefitsMallCoupon, BenefitsMallCoupon.id == E.coupon_id)
            .join(BenefitsMallOffer, BenefitsMallOffer.id == E.offer_id)
            .outerjoin(BenefitsMallStore, BenefitsMallStore.id == E.store_id)
            .where(BenefitsMallSettlementLine.settlement_id == settlement_id)
            .order_by(E.at, E.id))


def to_line(row: Any) -> StatementLine:
    event_id, at, kind, coupon_id, code, title, store, amount = row
    return StatementLine(event_id, at, kind, coupon_id, code or "", title, store or "", amount)


def statement_lines(session: Session, settlement_id: int) -> list[StatementLine]:
    return [to_line(r) for r in session.execute(statement_lines_stmt(settlement_id))]


def check_totals(session: Session, st: BenefitsMallSettlement) -> None:
    """The lines, counted and summed in SQL, must equal the statement's totals."""
    red, und, amount = session.execute(
        select(_count(CouponEventKind.REDEEMED, E.kind), _count(CouponEventKind.UNDONE, E.kind),
               money_sum(BenefitsMallSettlementLine.amount))
        .select_from(BenefitsMallSettlementLine)
        .join(E, E.id == BenefitsMallSettlementLine.event_id)
        .where(BenefitsMallSettlementLine.settlement_id == st.id)).one()
    if (int(red), int(und), amount) != (st.redemptions, st.undone, st.amount):
        raise SettlementError(_("结算单 %(id)s 的明细合计与结算单总数不一致", id=st.id))


def statement_history(session: Session, settlement_id: int) -> list[Any]:
    """The statement's audit entries (built, confirmed, paid, downloaded), oldest first."""
    from unionhub.audit.models import AuditLog

    return list(session.scalars(
        select(AuditLog).where(AuditLog.target_type == "benefits_mall_settlement",
                               AuditLog.target_id == str(settlement_id))
        .order_by(AuditLog.at, AuditLog.id)))


# --- officers' dashboard ------------------------------------------------------------------

C = BenefitsMallCoupon


@dataclass(frozen=True)
class Scope:
    """Whose coupons: the viewer's subtree for :data:`PERMISSION`, optionally one org in it."""

    account: Any
    org: Org | None = None

    def where(self, path_col: Any) -> ColumnElement[bool]:
        clause = scope_filter(self.account, PERMISSION, path_col)
        if self.org is not None:
            # Materialized paths ("/1/5/23/") hold digits and slashes only: no LIKE wildcards.
            clause = and_(clause, path_col.like(self.org.path + "%"))
        return clause


def _activity(scope: Scope, start: date, end: date) -> Any:
    """One row per claim (claims=1) and per redemption event (redemptions=±1, amount) in the
    scope and the period, as a derived table to group in different ways."""
    lo, hi = utc_bounds(start, end)
    claims = (select(C.merchant_id, C.offer_id, C.org_path,
                     literal_column("1").label("claims"),
                     literal_column("0").label("redemptions"),
                     literal_column("0").label("amount"))
              .where(scope.where(C.org_path), C.claimed_at >= lo, C.claimed_at < hi))
    events = (select(E.merchant_id, E.offer_id, C.org_path,
                     literal_column("0").label("claims"), _net().label("redemptions"),
                     E.amount.label("amount"))
              .join(C, C.id == E.coupon_id)
              .where(scope.where(C.org_path), E.kind.in_(SETTLED_KINDS),
                     E.at >= lo, E.at < hi))
    return union_all(claims, events).subquery("activity")


@dataclass(frozen=True)
class Headline:
    start: date
    end: date
    claims: int
    redemptions: int  # net of undos
    amount: Decimal  # net subsidy
    redeemed_of_claimed: int  # coupons claimed in the period that are redeemed now

    @property
    def rate(self) -> Decimal | None:
        return percent(self.redeemed_of_claimed, self.claims)


def headline(session: Session, scope: Scope, start: date, end: date) -> Headline:
    lo, hi = utc_bounds(start, end)
    claims, redeemed = session.execute(
        select(func.count(), _count(CouponState.REDEEMED, C.state))
        .where(scope.where(C.org_path), C.claimed_at >= lo, C.claimed_at < hi)).one()
    net, amount = session.execute(
        select(func.coalesce(func.sum(_net()), 0), money_sum(E.amount))
        .join(C, C.id == E.coupon_id)
        .where(scope.where(C.org_path), E.kind.in_(SETTLED_KINDS),
               E.at >= lo, E.at < hi)).one()
    return Headline(start, end, int(claims), int(net), amount, int(redeemed))


@dataclass(frozen=True)
class Day:
    day: date
    claims: int
    redemptions: int


@dataclass(frozen=True)
class Group:
    key: Any
    name: str
    claims: int
    redemptions: int
    amount: Decimal = ZERO


@dataclass
class Dashboard:
    headline: Headline
    days: list[Day]
    categories: list[Group]
    merchants: list[Group]
    base: Org | None
    orgs: list[Group]


def per_day(session: Session, scope: Scope, start: date, end: date) -> list[Day]:
    """Claims and net redemptions per Beijing day, every day of the range (zeros included)."""
    lo, hi = utc_bounds(start, end)
    day = local_day(C.claimed_at)
    claims = dict(session.execute(
        select(day, func.count()).where(scope.where(C.org_path), C.claimed_at >= lo,
                                        C.claimed_at < hi).group_by(day)).all())
    eday = local_day(E.at)
    redemptions = dict(session.execute(
        select(eday, func.sum(_net())).join(C, C.id == E.coupon_id)
        .where(scope.where(C.org_path), E.kind.in_(SETTLED_KINDS), E.at >= lo, E.at < hi)
        .group_by(eday)).all())
    out = []
    d = start
    while d <= end:
        out.append(Day(d, int(claims.get(d, 0)), int(redemptions.get(d, 0))))
        d += timedelta(days=1)
    return out


def _grouped(session: Session, act: Any, key: Any, name: Any, *joins: tuple[Any, Any],
             where: Any = None, limit: int | None = None) -> list[Group]:
    stmt = select(key, name, func.sum(act.c.claims), func.sum(act.c.redemptions),
                  money_sum(act.c.amount)).select_from(act)
    for target, onclause in joins:
        stmt = stmt.join(target, onclause)
    if where is not None:
        stmt = stmt.where(where)
    stmt = (stmt.group_by(key, name)
            .order_by(func.sum(act.c.redemptions).desc(), func.sum(act.c.claims).desc(), name))
    if limit:
        stmt = stmt.limit(limit)
    return [Group(k, n, int(c or 0), int(r or 0), quantize(a))
            for k, n, c, r, a in session.execute(stmt)]


def base_org(session: Session, account: Any) -> Org | None:
    """The highest org where ``account`` holds :data:`PERMISSION` (its children are listed)."""
    return session.scalar(
        select(Org).join(RoleGrant, RoleGrant.org_id == Org.id)
        .where(RoleGrant.account_id == account.id,
               RoleGrant.role.in_(roles_with(PERMISSION, session)))
        .order_by(Org.depth, Org.id).limit(1))


def dashboard(session: Session, scope: Scope, today: date, days: int = DASHBOARD_DAYS
              ) -> Dashboard:
    """Everything on the officers' dashboard for the ``days`` days ending ``today``."""
    start, end = today - timedelta(days=days - 1), today
    act = _activity(scope, start, end)
    categories = _grouped(
        session, act, BenefitsMallCategory.code, BenefitsMallCategory.name,
        (BenefitsMallOffer, BenefitsMallOffer.id == act.c.offer_id),
        (BenefitsMallCategory, BenefitsMallCategory.code == BenefitsMallOffer.category_code))
    merchants = _grouped(
        session, act, BenefitsMallMerchant.id, BenefitsMallMerchant.name,
        (BenefitsMallMerchant, BenefitsMallMerchant.id == act.c.merchant_id),
        limit=TOP_MERCHANTS)
    base = scope.org or base_org(session, scope.account)
    orgs: list[Group] = []
    if base is not None:
        child = aliased(Org)
        orgs = _grouped(session, act, child.id, child.name,
                        (child, act.c.org_path.like(child.path.concat("%"))),
                        where=child.parent_id == base.id)
        own_claims, own_net, own_amount = session.execute(
            select(func.coalesce(func.sum(act.c.claims), 0),
                   func.coalesce(func.sum(act.c.redemptions), 0), money_sum(act.c.amount))
            .where(act.c.org_path == base.path)).one()
        if own_claims or own_net:
            orgs.append(Group(base.id, _("%(name)s（本级）", name=base.name), int(own_claims),
                              int(own_net), quantize(own_amount)))
    return Dashboard(headline(session, scope, start, end), per_day(session, scope, start, end),
                     categories, merchants, base, orgs)


def org_choices(session: Session, account: Any, depth: int = 2, limit: int = 300) -> list[Org]:
    """Orgs in the viewer's scope down to ``depth`` levels below its highest org."""
    inner = aliased(Org)
    top = (select(func.min(inner.depth))
           .where(scope_filter(account, PERMISSION, inner.path)).scalar_subquery())
    return list(session.scalars(
        select(Org).where(scope_filter(account, PERMISSION, Org.path),
                          Org.depth <= top + depth)
        .order_by(Org.path).limit(limit)))


def in_scope(session: Session, account: Any, org_id: int) -> Org | None:
    """The org, if it lies in the viewer's scope (ids beyond any real one are None)."""
    if not 0 < org_id < 2**31:
        return None
    return session.scalar(select(Org).where(Org.id == org_id,
                                            scope_filter(account, PERMISSION, Org.path)))


def this_month(today: date) -> tuple[date, date]:
    return today.replace(day=1), today

