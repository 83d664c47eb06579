"""Reading a snapshot for one officer: everything limited in SQL to the rows whose org path
lies in the officer's subtree (``oa.accounting.view``).

A district officer therefore sees the district row of their own union and the unit rows under
it, never the city row (the city total is not theirs to see); their totals are the sums of the
rows they see. The reconciliation lists unit rows whose fee statement bills another amount
than is due (the statement is out of date), whose received amount falls short of the amount
due (owing) or exceeds it (overpaid).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from unionhub.access.service import scope_filter
from unionhub.money import money_sum
from unionhub.orgs.models import Org

from ..web import ACCOUNTING
from .compute import Figures
from .models import DIRECT_LABEL, LEVELS, ROOT_LABEL, Level, OaAccountingRow, OaAccountingSnapshot

R = OaAccountingRow

#: reconciliation problems, in the order they are listed
PROBLEM_LABELS = {"billed": "开票金额与应缴金额不符", "owing": "欠缴", "overpaid": "多缴"}


def direct_label(direct: bool, org_path: str) -> str:
    """（市直属） for a district-level row of a unit directly under the city, （市总本级）
    for the city's own lines there; empty for a district or industry union (the source
    text: translate it where it is shown)."""
    if not direct:
        return ""
    return ROOT_LABEL if org_path.strip("/").count("/") == 0 else DIRECT_LABEL


@dataclass(frozen=True)
class Row:
    """One row as shown: the org's code and name with the stored figures."""

    org_id: int
    code: str
    name: str
    level: str
    item: str
    item_label: str
    headcount: int
    shares: int
    due: Decimal
    billed: Decimal
    received: Decimal
    direct: bool = False
    org_path: str = ""

    @property
    def direct_label(self) -> str:
        return direct_label(self.direct, self.org_path)

    @property
    def difference(self) -> Decimal:
        return self.due - self.received

    @property
    def billed_off(self) -> Decimal:
        return self.billed - self.due

    @property
    def problems(self) -> list[str]:
        out = []
        if self.billed != self.due:
            out.append("billed")
        if self.received < self.due:
            out.append("owing")
        elif self.received > self.due:
            out.append("overpaid")
        return out


def scope(account: Any) -> ColumnElement[bool]:
    return scope_filter(account, ACCOUNTING, R.org_path)


def _where(snapshot_id: int, account: Any, level: str | None = None,
           item: str | None = None) -> list[ColumnElement[bool]]:
    cond = [R.snapshot_id == snapshot_id, scope(account)]
    if level:
        cond.append(R.level == level)
    if item:
        cond.append(R.item == item)
    return cond


def _sums() -> tuple[Any, ...]:
    return (func.coalesce(func.sum(R.headcount), 0), func.coalesce(func.sum(R.shares), 0),
            money_sum(R.due), money_sum(R.billed), money_sum(R.received))


def _figures(row: Sequence[Any], label: str = "") -> Figures:
    heads, shares, due, billed, received = row
    return Figures(label, int(heads), int(shares), due, billed, received)


def visible_levels(s: Session, snapshot_id: int, account: Any) -> list[str]:
    """The levels with rows the officer may see, top down."""
    found = set(s.scalars(select(R.level).where(*_where(snapshot_id, account)).distinct()))
    return [lv.value for lv in LEVELS if lv.value in found]


def items(s: Session, snapshot_id: int, account: Any) -> list[tuple[str, str]]:
    """``(item, label)`` of the snapshot's rows the officer sees, by item code."""
    rows = s.execute(select(R.item, func.min(R.item_label))
                     .where(*_where(snapshot_id, account)).group_by(R.item).order_by(R.item))
    return [(item, label) for item, label in rows]


def _row_columns() -> tuple[Any, ...]:
    """The columns of a :class:`Row`, in its order."""
    return (R.org_id, Org.code, Org.name, R.level, R.item, R.item_label, R.headcount,
            R.shares, R.due, R.billed, R.received, R.direct, R.org_path)


def rows_stmt(snapshot_id: int, account: Any, level: str, item: str | None = None) -> Any:
    return (select(*_row_columns())
            .join(Org, Org.id == R.org_id)
            .where(*_where(snapshot_id, account, level, item))
            .order_by(R.org_path, R.item))


def as_rows(result: Any) -> list[Row]:
    return [Row(*r) for r in result]


def level_rows(s: Session, snapshot_id: int, account: Any, level: str,
               item: str | None = None) -> list[Row]:
    return as_rows(s.execute(rows_stmt(snapshot_id, account, level, item)))


def total(s: Session, snapshot_id: int, account: Any, level: str,
          item: str | None = None) -> Figures:
    """Exact sums of the visible rows of ``level`` (the city total for the city's officers)."""
    return _figures(s.execute(select(*_sums()).where(
        *_where(snapshot_id, account, level, item))).one())


def per_item(s: Session, snapshot_id: int, account: Any, level: str) -> list[Figures]:
    """Visible rows of ``level`` summed per item (``item_label`` holds the label)."""
    rows = s.execute(select(R.item, func.min(R.item_label), *_sums())
                     .where(*_where(snapshot_id, account, level))
                     .group_by(R.item).order_by(R.item))
    return [_figures(r[2:], f"{r[1]}") for r in rows]


def per_org(s: Session, snapshot_id: int, account: Any, level: str,
            item: str | None = None) -> list[tuple[str, Figures]]:
    """Visible rows of ``level`` summed per org over the items (for the chart); a direct
    row's name carries its label (see :attr:`Row.direct_label`), translated."""
    from unionhub.i18n import _

    rows = s.execute(select(Org.name, R.direct, R.org_path, *_sums())
                     .join(Org, Org.id == R.org_id)
                     .where(*_where(snapshot_id, account, level, item))
                     .group_by(R.org_id, R.org_path, Org.name, R.direct).order_by(R.org_path))
    out = []
    for name, direct, path, *r in rows:
        label = direct_label(bool(direct), str(path))
        out.append((f"{name}{_(label)}" if label else name, _figures(r)))
    return out


def _problem() -> ColumnElement[bool]:
    return or_(R.billed != R.due, R.received != R.due)


def problems_stmt(snapshot_id: int, account: Any) -> Any:
    return (select(*_row_columns())
            .join(Org, Org.id == R.org_id)
            .where(*_where(snapshot_id, account, Level.UNIT.value), _problem())
            .order_by(R.org_path, R.item))


def problem_counts(s: Session, snapshot_id: int, account: Any) -> dict[str, int]:
    """How many visible unit rows have each problem, and how many rows in all."""
    where = and_(*_where(snapshot_id, account, Level.UNIT.value))
    row = s.execute(select(
        func.count(R.id).filter(_problem()),
        func.count(R.id).filter(R.billed != R.due),
        func.count(R.id).filter(R.received < R.due),
        func.count(R.id).filter(R.received > R.due),
        money_sum(case((R.received < R.due, R.due - R.received), else_=0)),
        money_sum(case((R.received > R.due, R.received - R.due), else_=0)),
    ).where(where)).one()
    return {"rows": row[0], "billed": row[1], "owing": row[2], "overpaid": row[3],
            "owing_amount": row[4], "overpaid_amount": row[5]}


def snapshot_totals(s: Session, account: Any, snapshot_ids: Sequence[int]
                    ) -> dict[int, Figures]:
    """Each snapshot's visible unit rows summed: the officer's own subtree's totals (the city
    totals for the city's officers)."""
    if not snapshot_ids:
        return {}
    rows = s.execute(select(R.snapshot_id, *_sums())
                     .where(R.snapshot_id.in_(list(snapshot_ids)), R.level == Level.UNIT,
                            scope(account))
                     .group_by(R.snapshot_id))
    return {sid: _figures(r) for sid, *r in rows}


def get_snapshot(s: Session, snapshot_id: int) -> OaAccountingSnapshot | None:
    return s.get(OaAccountingSnapshot, snapshot_id)


__all__ = ["PROBLEM_LABELS", "Row", "as_rows", "direct_label", "get_snapshot", "items",
           "level_rows", "per_item", "per_org", "problem_counts", "problems_stmt", "rows_stmt",
           "scope", "snapshot_totals", "total", "visible_levels"]
