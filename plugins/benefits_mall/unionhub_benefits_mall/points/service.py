"""Welfare points (福利积分): a ledger, never a mutable balance.

Entries (:class:`~..models.BenefitsMallPointsEntry`) are append-only:

* ``grant`` (+): a union gives a member points for an occasion; it expires on ``expires_on``;
* ``spend`` (−): the member pays with points (a coupon's ``points_price``);
* ``refund`` (+): a spend given back (``grant_id`` names the spend it refunds);
* ``expire`` (−): the unspent remainder of one positive entry after its expiry date
  (``grant_id`` names that entry).

**Which points a spend uses.** Every positive entry (grant or refund) is a *lot*. Spends use
lots oldest first (FIFO, in entry-id order). A lot's *capacity* is its points minus what has
expired of it; with ``S`` the member's total spent and ``before`` the capacity of the lots older
than it, a lot has used ``min(max(S − before, 0), capacity)`` and its *remainder* is the rest.
This allocation is stable — later entries never change what older lots used — because of one
rule: **before a spend, the member's lots past their expiry are expired first** (the spend
holds the member's lock while it does so). Hence a spend can never draw on an expired lot,
and a lot that expired had, at that moment, used exactly what it will always have used.

**Balance.** ``balance(member, today)`` is the sum of the remainders of the lots not past
``expires_on`` (valid through that day). After the nightly ``expire_due`` has run this equals
``SUM(points)`` of the member's entries; before it has run, a lot past its date is already
left out, so points past their expiry are never spendable. Expiry is a set-based
``INSERT … SELECT`` over the same window-function query, idempotent by the ``expire:<lot>``
batch key.

**Caps.** A grant is checked against the rule (:class:`~..models.BenefitsMallPointsRule`) of the
nearest org up the tree from the granting org for that occasion: at most ``per_grant`` points in
this grant; per member and year, at most ``per_member_occasion`` for this occasion and
``per_member_year`` over all occasions — counted over every grant made by the rule's org and
the orgs below it (so a district that picks a different target org cannot grant twice past the
cap). A grant is all or nothing: when any member would exceed a cap, nobody gets anything and
the error names the members and the reason. It is idempotent per member by ``batch_key``.

**Concurrency.** Grants, spends and expiry lock the affected member rows first (``SELECT … FOR
UPDATE`` in id order on PostgreSQL; on SQLite a write takes the database's single writer lock),
then read totals and write in the same transaction: two grants cannot both fit under one cap
and two spends cannot both use one balance.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from unionhub.audit import service as audit
from unionhub.db import UTCDateTime, utcnow
from unionhub.groups.service import in_any_group
from unionhub.i18n import _
from unionhub.identity.models import Account, Member, MemberStatus
from unionhub.orgs.models import Org

from ..models import BenefitsMallPointsEntry, BenefitsMallPointsRule, PointsKind

E = BenefitsMallPointsEntry
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")

#: The occasions a union grants points for (code → name), in the order forms list them.
OCCASIONS: dict[str, str] = {
    "spring_festival": "春节",
    "dragon_boat": "端午",
    "mid_autumn": "中秋",
    "national_day": "国庆",
    "womens_day": "妇女节",
    "labour_day": "劳动节",
    "birthday": "生日",
    "other": "其他",
}
KIND_LABELS: dict[str, str] = {"grant": "发放", "spend": "使用", "expire": "过期",
                               "refund": "退还"}
#: Rows per INSERT … SELECT of a grant (one progress report each).
GRANT_CHUNK = 2000
#: Members whose lots one statement of ``expire_due`` handles.
EXPIRE_CHUNK = 1000
#: How many offending members a refused grant names.
REPORT_LIMIT = 10
MAX_POINTS = 1_000_000
MAX_VALID_MONTHS = 60
#: The note on expiry entries (data, shown through ``_()`` on pages).
EXPIRY_NOTE = "积分到期"


class PointsError(Exception):
    """A refused points operation; ``message`` is for people, ``problems`` lists the members
    who made a grant fail (member id, name, reason)."""

    def __init__(self, message: str, problems: Sequence[CapProblem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)


class RuleError(ValueError):
    """Invalid rule input: ``errors`` maps a field name to a message naming the field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class CapProblem:
    member_id: int
    name: str
    reason: str


@dataclass
class GrantPlan:
    """What a grant would do (the preview), computed the same way the grant checks it."""

    rule: BenefitsMallPointsRule | None
    rule_org: Org | None
    targets: int = 0
    already: int = 0
    over_cap: int = 0
    problems: list[CapProblem] = field(default_factory=list)
    not_eligible: list[CapProblem] = field(default_factory=list)
    error: str | None = None

    @property
    def fresh(self) -> int:
        return self.targets - self.already


@dataclass(frozen=True)
class GrantResult:
    granted: int
    already: int
    targets: int
    expires_on: date


@dataclass(frozen=True)
class Lot:
    """A positive entry with what is left of it (see the module docstring)."""

    id: int
    kind: str
    points: int
    remainder: int
    expires_on: date | None
    occasion: str | None



# -- dates ------------------------------------------------------------------------------------


def beijing_today() -> date:
    return datetime.now(CHINA).date()


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def occasion_name(code: str | None) -> str:
    return OCCASIONS.get(code or "", code or "")


# -- locking ----------------------------------------------------------------------------------


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def lock_members(session: Session, member_ids: Select[Any] | Sequence[int]) -> None:
    """Serialise ledger writers for these members until the transaction ends.

    PostgreSQL: ``SELECT … FOR NO KEY UPDATE`` on the member rows in id order (two lockers of
    overlapping sets never deadlock). Not ``FOR UPDATE``: that mode also conflicts with the
    key-share locks every insert of a row referencing the member takes (a coupon, a quota row),
    so two claims of one member — each having inserted, each then locking — would deadlock, and
    a long grant would block every claim of its members. SQLite has one writer at a time: a
    no-op write takes that lock, after which this transaction's reads see every committed
    entry and no other writer can commit until it ends.
    """
    ids = member_ids if isinstance(member_ids, Select) else sorted(set(member_ids))
    if _dialect(session) == "postgresql":
        if isinstance(ids, Select) or ids:
            session.execute(select(Member.id).where(Member.id.in_(ids))
                            .order_by(Member.id).with_for_update(key_share=True))
        return
    first = session.scalar(select(func.min(Member.id)).where(Member.id.in_(ids)))
    if first is not None:
        session.execute(update(Member).where(Member.id == first)
                        .values(status=Member.status, updated_at=Member.updated_at)
                        .execution_options(synchronize_session=False))


# -- lots and balance -------------------------------------------------------------------------


def lots_query(member_filter: Callable[[Any], ColumnElement[bool]]) -> Any:
    """Every lot of the members that ``member_filter(member_id column)`` selects, with its
    capacity and remainder (one query: a window sum over the member's lots in id order)."""
    expired = (select(E.grant_id.label("lot_id"), func.sum(E.points).label("expired"))
               .where(E.kind == PointsKind.EXPIRE, member_filter(E.member_id))
               .group_by(E.grant_id).subquery("expired"))
    spent = (select(E.member_id.label("member_id"), (-func.sum(E.points)).label("spent"))
             .where(E.kind == PointsKind.SPEND, member_filter(E.member_id))
             .group_by(E.member_id).subquery("spent"))
    cap = (E.points + func.coalesce(expired.c.expired, 0)).label("cap")
    caps = (select(E.id, E.member_id, E.kind, E.points, E.occasion, E.year, E.org_id,
                   E.org_path, E.expires_on, cap,
                   func.coalesce(spent.c.spent, 0).label("spent"),
                   expired.c.lot_id.is_not(None).label("has_expired"))
            .select_from(E)
            .outerjoin(expired, expired.c.lot_id == E.id)
            .outerjoin(spent, spent.c.member_id == E.member_id)
            .where(E.kind.in_((PointsKind.GRANT, PointsKind.REFUND)),
                   member_filter(E.member_id))
            .subquery("caps"))
    before = (func.sum(caps.c.cap).over(partition_by=caps.c.member_id, order_by=caps.c.id)
              - caps.c.cap)
    ordered = select(caps, before.label("before")).subquery("ordered")
    room = ordered.c.spent - ordered.c.before
    used = case((room <= 0, 0), (room >= ordered.c.cap, ordered.c.cap), else_=room)
    return select(ordered, (ordered.c.cap - used).label("remainder")).subquery("lots")


def live_clause(lots: Any, today: date) -> ColumnElement[bool]:
    return or_(lots.c.expires_on.is_(None), lots.c.expires_on >= today)


def balance(session: Session, member_id: int, today: date | None = None) -> int:
    """Points the member can spend today: the remainders of their unexpired lots."""
    today = today or beijing_today()
    lots = lots_query(lambda col: col == member_id)
    return int(session.scalar(select(func.coalesce(func.sum(lots.c.remainder), 0))
                              .where(live_clause(lots, today))) or 0)


def lots(session: Session, member_id: int, today: date | None = None, *,
         live_only: bool = True) -> list[Lot]:
    """The member's lots with what is left of each (unexpired ones by default), soonest
    expiry first."""
    today = today or beijing_today()
    t = lots_query(lambda col: col == member_id)
    stmt = select(t.c.id, t.c.kind, t.c.points, t.c.remainder, t.c.expires_on, t.c.occasion)
    if live_only:
        stmt = stmt.where(live_clause(t, today))
    stmt = stmt.order_by(t.c.expires_on.is_(None), t.c.expires_on, t.c.id)
    return [Lot(r.id, r.kind, int(r.points), int(r.remainder), r.expires_on, r.occasion)
            for r in session.execute(stmt)]


def expiring(session: Session, member_id: int, today: date | None = None,
             days: int = 30) -> list[Lot]:
    """Lots with points left that expire within ``days`` days."""
    today = today or beijing_today()
    horizon = today + timedelta(days=days)
    return [lot for lot in lots(session, member_id, today)
            if lot.remainder > 0 and lot.expires_on is not None and lot.expires_on <= horizon]


# -- expiry -----------------------------------------------------------------------------------


def _due_members(today: date) -> Select[Any]:
    """Members with a lot past its date that has not been expired yet."""
    expired = aliased(E)
    return (select(E.member_id).where(
        E.kind.in_((PointsKind.GRANT, PointsKind.REFUND)), E.expires_on < today,
        ~exists().where(expired.kind == PointsKind.EXPIRE, expired.grant_id == E.id))
        .distinct())


def _insert_expiry(session: Session, member_filter: Callable[[Any], ColumnElement[bool]],
                   today: date) -> int:
    """One ``INSERT … SELECT``: an ``expire`` entry for every due lot with points left."""
    from unionhub.notify.service import dialect_insert

    t = lots_query(member_filter)
    now = utcnow()
    rows = (select(t.c.member_id, literal(PointsKind.EXPIRE, String()),
                   (-t.c.remainder).label("points"), t.c.occasion,
                   literal(today.year, Integer()), t.c.org_id,
                   t.c.org_path, t.c.id,
                   (literal("expire:", String()) + cast(t.c.id, String)).label("key"),
                   literal(EXPIRY_NOTE, String()), literal(now, UTCDateTime()))
            .where(t.c.expires_on < today, t.c.remainder > 0, t.c.has_expired.is_(False)))
    stmt = dialect_insert(session, E.__table__).from_select(
        ["member_id", "kind", "points", "occasion", "year", "org_id", "org_path", "grant_id",
         "batch_key", "note", "created_at"], rows).on_conflict_do_nothing()
    return _inserted(session, stmt)


def _inserted(session: Session, stmt: Any) -> int:
    """Run an ``INSERT … SELECT`` and count its rows (by RETURNING: psycopg reports no row
    count for it)."""
    return len(session.execute(stmt.returning(E.__table__.c.id)).all())


def expire_member(session: Session, member_id: int, today: date) -> int:
    """Expire one member's due lots (the caller holds the member's lock)."""
    return _insert_expiry(session, lambda col: col == member_id, today)


def expire_due(session: Session, today: date | None = None, *,
               progress: Callable[[int, int], None] | None = None) -> int:
    """Write ``expire`` entries for the unspent remainder of every lot past its date, in
    chunks of members (each locked first); returns how many lots expired. Re-running the
    same day adds nothing (the ``expire:<lot>`` batch key is unique per member)."""
    today = today or beijing_today()
    ids = list(session.scalars(_due_members(today).order_by(E.member_id)))
    count = 0
    for i in range(0, len(ids), EXPIRE_CHUNK):
        chunk = ids[i:i + EXPIRE_CHUNK]
        lock_members(session, chunk)
        count += _insert_expiry(session, lambda col, c=chunk: col.in_(c), today)
        if progress is not None:
            progress(min(i + EXPIRE_CHUNK, len(ids)), len(ids))
    return count


# -- spend and refund -------------------------------------------------------------------------


def _existing(session: Session, member_id: int, batch_key: str) -> BenefitsMallPointsEntry | None:
    return session.scalar(select(E).where(E.member_id == member_id, E.batch_key == batch_key))


def _member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise PointsError(_("没有这名会员"))
    return member


def spend(session: Session, member_id: int, points: int, *, batch_key: str,
          coupon_id: int | None = None, note: str = "", account_id: int | None = None,
          today: date | None = None) -> BenefitsMallPointsEntry:
    """Spend ``points`` of the member's balance; raises :class:`PointsError` when it is short.

    Safe under concurrency (the member's lock is held from the balance read to the insert)
    and idempotent: a retry with the same ``batch_key`` returns the first entry.
    """
    today = today or beijing_today()
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise PointsError(_("使用的积分必须是正整数"))
    if not batch_key:
        raise PointsError(_("缺少批次号"))
    member = _member(session, member_id)
    lock_members(session, [member_id])
    existing = _existing(session, member_id, batch_key)
    if existing is not None:
        if existing.kind != PointsKind.SPEND or -existing.points != points:
            raise PointsError(_("批次号 %(key)s 已用于其他积分记录", key=batch_key))
        return existing
    expire_member(session, member_id, today)
    available = balance(session, member_id, today)
    if available < points:
        raise PointsError(_("积分不足：需要 %(need)s 积分，可用 %(have)s 积分",
                            need=points, have=available))
    entry = E(member_id=member_id, kind=PointsKind.SPEND, points=-points, year=today.year,
              org_id=member.org_id, org_path=member.org.path, coupon_id=coupon_id,
              batch_key=batch_key, note=note[:200], created_by=account_id)
    session.add(entry)
    session.flush()
    return entry


def _refund_expiry(session: Session, spend_entry: BenefitsMallPointsEntry) -> date | None:
    """The latest expiry among the lots the spend used (``None`` when one never expires), so
    that a refund never gives back points that live longer than the ones spent."""
    member_id = spend_entry.member_id
    spent_before = -int(session.scalar(select(func.coalesce(func.sum(E.points), 0)).where(
        E.member_id == member_id, E.kind == PointsKind.SPEND, E.id < spend_entry.id)) or 0)
    start, end = spent_before, spent_before - spend_entry.points
    t = lots_query(lambda col: col == member_id)
    cursor = 0
    latest: date | None = None
    found = False
    for row in session.execute(select(t.c.id, t.c.cap, t.c.expires_on)
                               .where(t.c.id < spend_entry.id).order_by(t.c.id)):
        lo, hi = cursor, cursor + int(row.cap)
        cursor = hi
        if hi <= start or lo >= end or hi == lo:
            continue
        if row.expires_on is None:
            return None
        latest = row.expires_on if latest is None else max(latest, row.expires_on)
        found = True
    return latest if found else None


def refund(session: Session, spend_entry: BenefitsMallPointsEntry, *, batch_key: str,
           note: str = "", account_id: int | None = None,
           today: date | None = None) -> BenefitsMallPointsEntry:
    """Give a spend back in full, once (a second refund of the same spend is refused; a retry
    with the same ``batch_key`` returns the first refund). The refunded points keep the
    expiry of the points that were spent (see :func:`_refund_expiry`)."""
    today = today or beijing_today()
    if spend_entry.kind != PointsKind.SPEND:
        raise PointsError(_("只能退还积分使用记录"))
    member_id = spend_entry.member_id
    member = _member(session, member_id)
    lock_members(session, [member_id])
    existing = _existing(session, member_id, batch_key)
    if existing is not None:
        if existing.kind != PointsKind.REFUND or existing.grant_id != spend_entry.id:
            raise PointsError(_("批次号 %(key)s 已用于其他积分记录", key=batch_key))
        return existing
    if session.scalar(select(exists().where(E.kind == PointsKind.REFUND,
                                            E.grant_id == spend_entry.id))):
        raise PointsError(_("这笔积分已经退还过"))
    entry = E(member_id=member_id, kind=PointsKind.REFUND, points=-spend_entry.points,
              year=today.year, org_id=member.org_id, org_path=member.org.path,
              expires_on=_refund_expiry(session, spend_entry), grant_id=spend_entry.id,
              coupon_id=spend_entry.coupon_id, batch_key=batch_key, note=note[:200],
              created_by=account_id)
    session.add(entry)
    session.flush()
    return entry


# -- rules ------------------------------------------------------------------------------------


def rule_for(session: Session, org: Org, occasion: str
             ) -> tuple[BenefitsMallPointsRule, Org] | None:
    """The rule of the nearest org up the tree from ``org`` (itself included), with its org."""
    row = session.execute(
        select(BenefitsMallPointsRule, Org).join(Org, Org.id == BenefitsMallPointsRule.org_id)
        .where(BenefitsMallPointsRule.occasion == occasion,
               BenefitsMallPointsRule.org_id.in_(org.ancestor_ids))
        .order_by(Org.depth.desc()).limit(1)).first()
    return None if row is None else (row[0], row[1])


RULE_FIELDS = {"per_grant": "单次发放上限", "per_member_occasion": "每人每年该节日上限",
               "per_member_year": "每人每年总上限", "valid_months": "有效期（月）"}


def _positive(raw: Any, key: str, errors: dict[str, str], high: int = MAX_POINTS) -> int:
    label = _(RULE_FIELDS[key])
    text = str(raw).strip() if raw is not None else ""
    if not text.isdigit():
        errors[key] = _("%(field)s：请填写正整数", field=label)
        return 0
    value = int(text)
    if not 1 <= value <= high:
        errors[key] = _("%(field)s：应在 1 到 %(high)s 之间", field=label, high=high)
    return value


def set_rule(session: Session, org: Org, occasion: str, per_grant: int | str,
             per_member_occasion: int | str, per_member_year: int | str,
             valid_months: int | str = 12, *, actor: Any = None) -> BenefitsMallPointsRule:
    """Create or update ``org``'s rule for ``occasion``; raises :class:`RuleError` naming each
    bad field (nothing is stored then)."""
    errors: dict[str, str] = {}
    if occasion not in OCCASIONS:
        errors["occasion"] = _("节日：请从列表中选择")
    pg = _positive(per_grant, "per_grant", errors)
    pmo = _positive(per_member_occasion, "per_member_occasion", errors)
    pmy = _positive(per_member_year, "per_member_year", errors)
    months = _positive(valid_months, "valid_months", errors, MAX_VALID_MONTHS)
    if not errors and pg > pmo:
        errors["per_grant"] = _("单次发放上限不能大于每人每年该节日上限")
    if not errors and pmo > pmy:
        errors["per_member_occasion"] = _("每人每年该节日上限不能大于每人每年总上限")
    if errors:
        raise RuleError(errors)
    rule = session.scalar(select(BenefitsMallPointsRule).where(
        BenefitsMallPointsRule.org_id == org.id, BenefitsMallPointsRule.occasion == occasion))
    if rule is None:
        rule = BenefitsMallPointsRule(org_id=org.id, occasion=occasion)
        session.add(rule)
    rule.per_grant, rule.per_member_occasion, rule.per_member_year = pg, pmo, pmy
    rule.valid_months = months
    session.flush()
    audit.record("benefits_mall.points.rule", target_type="org", target_id=org.id,
                 org_path=org.path, actor=actor, session=session,
                 details={"occasion": occasion, "per_grant": pg, "per_member_occasion": pmo,
                          "per_member_year": pmy, "valid_months": months})
    return rule


def delete_rule(session: Session, rule: BenefitsMallPointsRule, *, actor: Any = None) -> None:
    org = session.get(Org, rule.org_id)
    audit.record("benefits_mall.points.rule_deleted", target_type="org", target_id=rule.org_id,
                 org_path=org.path if org else None, actor=actor, session=session,
                 details={"occasion": rule.occasion})
    session.delete(rule)
    session.flush()


# -- grants -----------------------------------------------------------------------------------


def targets(org: Org, member_ids: Iterable[int] | None = None,
            group_ids: Sequence[int] = ()) -> Select[Any]:
    """Active members in ``org``'s subtree (restricted to ``member_ids`` and to members of
    any of ``group_ids`` when given), as a select of member ids."""
    stmt = (select(Member.id).join(Org, Org.id == Member.org_id)
            .where(Org.path.like(org.path + "%"), Member.status == MemberStatus.ACTIVE))
    if member_ids is not None:
        stmt = stmt.where(Member.id.in_(sorted({int(i) for i in member_ids})))
    if group_ids:
        stmt = stmt.where(in_any_group(Member.id, group_ids))
    return stmt


def _has_key(batch_key: str) -> Callable[[Any], ColumnElement[bool]]:
    def clause(member_col: Any) -> ColumnElement[bool]:
        return exists().where(E.member_id == member_col, E.batch_key == batch_key)

    return clause


def _over_cap(rule: BenefitsMallPointsRule, rule_org: Org, occasion: str, points: int,
              year: int, fresh: Select[Any]) -> Select[Any]:
    """Members of ``fresh`` who would pass a per-member cap with ``points`` more."""
    g = aliased(E)
    totals = (select(g.member_id.label("member_id"),
                     func.sum(case((g.occasion == occasion, g.points), else_=0)).label("occ"),
                     func.sum(g.points).label("yr"))
              .where(g.kind == PointsKind.GRANT, g.year == year,
                     g.org_path.like(rule_org.path + "%"), g.member_id.in_(fresh))
              .group_by(g.member_id).subquery("totals"))
    occ = func.coalesce(totals.c.occ, 0)
    yr = func.coalesce(totals.c.yr, 0)
    return (select(Member.id, Member.name, occ.label("occ"), yr.label("yr"))
            .outerjoin(totals, totals.c.member_id == Member.id)
            .where(Member.id.in_(fresh),
                   or_(occ + points > rule.per_member_occasion,
                       yr + points > rule.per_member_year)))


def plan(session: Session, *, org: Org, occasion: str, points: int, year: int,
         member_ids: Iterable[int] | None = None, group_ids: Sequence[int] = (),
         batch_key: str | None = None) -> GrantPlan:
    """Check a grant without writing anything: the rule, how many members it reaches, how
    many already have it (same ``batch_key``) and who would pass a cap."""
    if occasion not in OCCASIONS:
        return GrantPlan(None, None, error=_("请选择发放节日"))
    found = rule_for(session, org, occasion)
    if found is None:
        return GrantPlan(None, None, error=_(
            "%(org)s 及上级工会没有设置“%(occasion)s”的积分规则，不能发放",
            org=org.name, occasion=_(occasion_name(occasion))))
    rule, rule_org = found
    result = GrantPlan(rule, rule_org)
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        result.error = _("发放积分必须是正整数")
        return result
    if points > rule.per_grant:
        result.error = _("每人 %(points)s 积分超过%(org)s规定的“%(occasion)s”单次发放上限 "
                         "%(cap)s 积分", points=points, org=rule_org.name,
                         occasion=_(occasion_name(occasion)), cap=rule.per_grant)
        return result
    ids = None if member_ids is None else sorted({int(i) for i in member_ids})
    target = targets(org, ids, group_ids)
    if ids is not None:
        eligible = set(session.scalars(target))
        missing = [i for i in ids if i not in eligible]
        if missing:
            names = dict(session.execute(select(Member.id, Member.name)
                                         .where(Member.id.in_(missing))).all())
            result.not_eligible = [CapProblem(i, names.get(i, str(i)), _(
                "不是%(org)s的在册会员", org=org.name)) for i in missing]
            result.error = _("%(n)s 名会员不是%(org)s的在册会员，本次未发放：%(list)s",
                             n=len(missing), org=org.name,
                             list=_list(result.not_eligible))
            return result
    result.targets = int(session.scalar(select(func.count()).select_from(
        target.subquery())) or 0)
    if result.targets == 0:
        result.error = _("没有符合条件的在册会员")
        return result
    fresh = target
    if batch_key:
        result.already = int(session.scalar(select(func.count()).select_from(
            target.where(_has_key(batch_key)(Member.id)).subquery())) or 0)
        fresh = target.where(~_has_key(batch_key)(Member.id))
    over = _over_cap(rule, rule_org, occasion, points, year, fresh)
    result.over_cap = int(session.scalar(select(func.count()).select_from(
        over.subquery())) or 0)
    if result.over_cap:
        occ_name = _(occasion_name(occasion))
        for row in session.execute(over.order_by(Member.id).limit(REPORT_LIMIT)):
            if int(row.occ) + points > rule.per_member_occasion:
                reason = _("%(year)s年“%(occasion)s”已获 %(got)s 积分，上限 %(cap)s",
                           year=year, occasion=occ_name, got=int(row.occ),
                           cap=rule.per_member_occasion)
            else:
                reason = _("%(year)s年已获 %(got)s 积分，全年上限 %(cap)s", year=year,
                           got=int(row.yr), cap=rule.per_member_year)
            result.problems.append(CapProblem(int(row.id), row.name, reason))
        result.error = _("%(n)s 名会员再发放 %(points)s 积分将超过上限，本次未向任何人发放："
                         "%(list)s", n=result.over_cap, points=points,
                         list=_list(result.problems))
    return result


def _list(problems: Sequence[CapProblem]) -> str:
    return "；".join(f"{p.name}（{p.reason}）" for p in problems)


def grant(session: Session, *, org: Org, member_ids: Iterable[int] | None, occasion: str,
          points: int, year: int, account_id: int | None, batch_key: str, note: str = "",
          group_ids: Sequence[int] = (), today: date | None = None,
          progress: Callable[[int, int], None] | None = None) -> GrantResult:
    """Grant ``points`` to the active members of ``org``'s subtree (``member_ids`` None: all
    of them; ``group_ids``: only members of those groups), all or nothing.

    Raises :class:`PointsError` (nothing written) when no rule applies, the grant passes the
    per-grant cap, a listed member is not eligible, or any member would pass a per-member cap
    (the message names them). Members who already have ``batch_key`` are skipped, so a re-run
    grant adds nothing. Rows are written by ``INSERT … SELECT`` in chunks of member ids."""
    today = today or beijing_today()
    if not batch_key or len(batch_key) > 80:
        raise PointsError(_("批次号不能为空，且不超过 80 个字符"))
    ids = None if member_ids is None else sorted({int(i) for i in member_ids})
    target = targets(org, ids, group_ids)
    lock_members(session, target)
    checked = plan(session, org=org, occasion=occasion, points=points, year=year,
                   member_ids=ids, group_ids=group_ids, batch_key=batch_key)
    if checked.error:
        raise PointsError(checked.error, checked.problems or checked.not_eligible)
    assert checked.rule is not None
    expires_on = add_months(today, checked.rule.valid_months)
    fresh_ids = list(session.scalars(target.where(~_has_key(batch_key)(Member.id))
                                     .order_by(Member.id)))
    granted = _insert_grants(session, org=org, fresh_ids=fresh_ids, occasion=occasion,
                             points=points, year=year, expires_on=expires_on,
                             account_id=account_id, batch_key=batch_key, note=note,
                             progress=progress)
    if granted:
        _notify_grant(session, org, occasion, points, expires_on, batch_key)
    actor = session.get(Account, account_id) if account_id else None
    audit.record("benefits_mall.points.grant", target_type="org", target_id=org.id,
                 org_path=org.path, actor=actor, session=session,
                 details={"occasion": occasion, "points": points, "year": year,
                          "members": granted, "batch_key": batch_key,
                          "group_ids": list(group_ids)})
    return GrantResult(granted, checked.already, checked.targets, expires_on)


def _notify_grant(session: Session, org: Org, occasion: str, points: int, expires_on: date,
                  batch_key: str) -> None:
    """Tell the members of the batch (a select, so thousands cost a few statements; members
    told by an earlier run of the same batch are not told twice)."""
    from unionhub.notify import service as notify

    members = select(E.member_id).where(E.batch_key == batch_key, E.kind == PointsKind.GRANT,
                                        E.org_id == org.id)
    notify.send(session, "benefits_mall.points_granted", members,
                {"org": org.name[:20], "occasion": occasion_name(occasion),
                 "points": points, "expires_on": expires_on.isoformat()},
                f"points:{org.id}:{batch_key}"[:100])


def _insert_grants(session: Session, *, org: Org, fresh_ids: list[int], occasion: str,
                   points: int, year: int, expires_on: date, account_id: int | None,
                   batch_key: str, note: str,
                   progress: Callable[[int, int], None] | None) -> int:
    from unionhub.notify.service import dialect_insert

    now = utcnow()
    total = len(fresh_ids)
    granted = 0
    for i in range(0, total, GRANT_CHUNK):
        chunk = fresh_ids[i:i + GRANT_CHUNK]
        rows = (select(Member.id, literal(PointsKind.GRANT, String()),
                       literal(points, Integer()), literal(occasion, String()),
                       literal(year, Integer()), literal(org.id, Integer()),
                       literal(org.path, String()), literal(expires_on),
                       literal(batch_key, String()), literal(note[:200], String()),
                       literal(account_id, Integer()) if account_id else null(),
                       literal(now, UTCDateTime()))
                .where(Member.id.in_(chunk), ~_has_key(batch_key)(Member.id)))
        stmt = dialect_insert(session, E.__table__).from_select(
            ["member_id", "kind", "points", "occasion", "year", "org_id", "org_path",
             "expires_on", "batch_key", "note", "created_by", "created_at"],
            rows).on_conflict_do_nothing()
        granted += _inserted(session, stmt)
        if progress is not None:
            progress(min(i + GRANT_CHUNK, total), total)
    return granted


# -- reading ----------------------------------------------------------------------------------


def entries(member_id: int) -> Select[Any]:
    """The member's entries, newest first (for paging)."""
    return select(E).where(E.member_id == member_id).order_by(E.id.desc())


def grant_batches(scope: ColumnElement[bool], limit: int = 20) -> Select[Any]:
    """Recent grants as batches (org, occasion, year, batch key: members and points)."""
    return (select(E.batch_key, E.org_id, Org.name.label("org_name"), E.occasion, E.year,
                   func.count().label("members"), func.sum(E.points).label("points"),
                   func.min(E.created_at).label("at"), func.max(E.expires_on).label("expires"))
            .join(Org, Org.id == E.org_id)
            .where(E.kind == PointsKind.GRANT, scope)
            .group_by(E.batch_key, E.org_id, Org.name, E.occasion, E.year)
            .order_by(func.min(E.id).desc()).limit(limit))
