"""积分发放与使用: points granted, spent, expired and refunded in a year, and the balance still
outstanding, by union — every figure one grouped SQL query, limited in SQL to the viewer's
scope.

Rows are the unions directly under the chosen org (plus a row for the chosen org's own
members); an entry counts for the union the *member* belongs to, so a union sees everything
its members received, whoever granted it. A second table lists what the chosen org's members
received by the *granting* union and occasion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from unionhub.identity.models import Member
from unionhub.orgs.models import Org

from ..models import BenefitsMallPointsEntry, PointsKind
from .service import live_clause, lots_query

E = BenefitsMallPointsEntry
Scope = Callable[[Any], ColumnElement[bool]]
MAX_ROWS = 60


@dataclass
class Row:
    org_id: int
    name: str
    own: bool = False  # the chosen org's own members (not those of the unions under it)
    granted: int = 0
    members: int = 0
    spent: int = 0
    expired: int = 0
    refunded: int = 0
    outstanding: int = 0


@dataclass
class GrantRow:
    org_id: int
    name: str
    occasion: str | None
    batches: int
    members: int
    points: int


@dataclass
class Report:
    org: Org
    year: int
    rows: list[Row] = field(default_factory=list)
    grants: list[GrantRow] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(int(getattr(r, attr)) for r in self.rows)


def report(session: Session, scope: Scope, org: Org, year: int, today: date) -> Report:
    """The report for ``org`` (already checked to be in scope) and ``year``."""
    result = Report(org, year)
    children = list(session.scalars(select(Org).where(Org.parent_id == org.id, scope(Org.path))
                                    .order_by(Org.path).limit(MAX_ROWS)))
    result.rows = [Row(org.id, org.name, own=True)] + [Row(c.id, c.name) for c in children]
    mo = aliased(Org)
    conds: list[tuple[int, ColumnElement[bool]]] = [(org.id, mo.id == org.id)]
    conds += [(c.id, mo.path.like(c.path + "%")) for c in children]
    by_id = {r.org_id: r for r in result.rows}

    # flows in the year, by the member's union
    key = case(*[(cond, gid) for gid, cond in conds]).label("gid")

    def kind_sum(kind: str, sign: int = 1) -> Any:
        return func.coalesce(func.sum(case((E.kind == kind, E.points * sign), else_=0)), 0)

    members = func.count(func.distinct(case((E.kind == PointsKind.GRANT, E.member_id))))
    flows = (select(key, kind_sum(PointsKind.GRANT), members, kind_sum(PointsKind.SPEND, -1),
                    kind_sum(PointsKind.EXPIRE, -1), kind_sum(PointsKind.REFUND))
             .select_from(E).join(Member, Member.id == E.member_id)
             .join(mo, mo.id == Member.org_id)
             .where(E.year == year, or_(*[c for _g, c in conds]))
             .group_by(key))
    for gid, granted, count, spent, expired, refunded in session.execute(flows):
        row = by_id[int(gid)]
        row.granted, row.members, row.spent = int(granted), int(count), int(spent)
        row.expired, row.refunded = int(expired), int(refunded)

    # what the members can still spend today (lots past their date left out)
    in_subtree = (select(Member.id).join(Org, Org.id == Member.org_id)
                  .where(Org.path.like(org.path + "%")))
    lots = lots_query(lambda col: col.in_(in_subtree))
    outstanding = (select(key, func.coalesce(func.sum(lots.c.remainder), 0))
                   .select_from(lots).join(Member, Member.id == lots.c.member_id)
                   .join(mo, mo.id == Member.org_id)
                   .where(live_clause(lots, today), or_(*[c for _g, c in conds]))
                   .group_by(key))
    for gid, amount in session.execute(outstanding):
        by_id[int(gid)].outstanding = int(amount)

    # grants the members received in the year, by the granting union
    go = aliased(Org)
    grants = (select(E.org_id, go.name, E.occasion,
                     func.count(func.distinct(E.batch_key)), func.count(),
                     func.sum(E.points))
              .join(go, go.id == E.org_id)
              .where(E.kind == PointsKind.GRANT, E.year == year,
                     E.member_id.in_(in_subtree))
              .group_by(E.org_id, go.name, E.occasion)
              .order_by(func.sum(E.points).desc(), E.org_id).limit(MAX_ROWS))
    result.grants = [GrantRow(int(oid), name, occ, int(b), int(n), int(p))
                     for oid, name, occ, b, n, p in session.execute(grants)]
    result.rows = [r for r in result.rows if not r.own or any(
        (r.granted, r.spent, r.expired, r.refunded, r.outstanding))]
    return result
