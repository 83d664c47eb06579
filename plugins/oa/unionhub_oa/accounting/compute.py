"""Computing a snapshot: the plugins' lines per unit (``unionhub_accounting_lines``), rolled
up the org hierarchy with exact ``Decimal`` sums, written in bulk.

Roll-up rule: a unit's line counts for the unit itself (level ``unit``), for the org at depth
1 above it — the district or industry union, or that union itself when it has lines of its
own — (level ``district``) and for the root, the city federation (level ``city``). A unit
with no district or industry union above it (a grassroots union directly under the city, a
branch of one, or the city's own lines) counts at the district level under the depth-1 org
itself (the root for the city's own lines), its row marked ``direct`` and shown as
（市直属）: so each level adds up to the city's totals, to the fen. Units are kept as the
plugins give them (a branch with lines of its own stays a unit of its own). Lines of several
plugins for the same unit and item are added together.

The reconciliation (:func:`problems`) compares, per unit row, the fees due with what the fee
statement bills and what was received.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from unionhub import exchange
from unionhub.audit import service as audit
from unionhub.identity.models import Account
from unionhub.money import ZERO
from unionhub.orgs.models import Org, OrgLevel

from .models import Level, OaAccountingRow, OaAccountingSnapshot

CHUNK = 900
ROLL_UP_LEVELS = (OrgLevel.DISTRICT.value, OrgLevel.INDUSTRY.value)


@dataclass
class Figures:
    """Sums of one org and item (or of anything: :meth:`add` is exact)."""

    item_label: str = ""
    headcount: int = 0
    shares: int = 0
    due: Decimal = ZERO
    billed: Decimal = ZERO
    received: Decimal = ZERO

    def add(self, other: Any) -> None:
        self.headcount += other.headcount
        self.shares += other.shares
        self.due += other.due
        self.billed += other.billed
        self.received += other.received

    @property
    def difference(self) -> Decimal:
        return self.due - self.received

    def as_totals(self) -> dict[str, Any]:
        return {"headcount": self.headcount, "shares": self.shares, "due": f"{self.due:.2f}",
                "billed": f"{self.billed:.2f}", "received": f"{self.received:.2f}",
                "difference": f"{self.difference:.2f}"}


@dataclass
class Rollup:
    """The rows of one snapshot before they are written: ``(level, org_id, item)`` → sums."""

    rows: dict[tuple[str, int, str], Figures] = field(default_factory=dict)
    paths: dict[int, str] = field(default_factory=dict)
    #: orgs standing at the district level without being a district or industry union
    direct: set[int] = field(default_factory=set)

    def add(self, level: str, org_id: int, item: str, line: Any) -> None:
        fig = self.rows.get((level, org_id, item))
        if fig is None:
            fig = self.rows[(level, org_id, item)] = Figures(line.item_label)
        fig.add(line)

    def totals(self) -> Figures:
        out = Figures()
        for (level, _org, _item), fig in self.rows.items():
            if level == Level.CITY:
                out.add(fig)
        return out


def _orgs(session: Session, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """``id → (path, level)`` for ``ids``, read in chunks."""
    wanted = sorted(set(ids))
    out: dict[int, tuple[str, str]] = {}
    for part in range(0, len(wanted), CHUNK):
        for oid, path, level in session.execute(
                select(Org.id, Org.path, Org.level).where(Org.id.in_(wanted[part:part + CHUNK]))):
            out[oid] = (path, level)
    return out


def roll_up(session: Session, lines: Iterable[Any]) -> Rollup:
    """Sum ``lines`` (``AccountingLine``s) per unit and item and up the hierarchy."""
    units: dict[tuple[int, str], Figures] = {}
    for line in lines:
        key = (line.unit_org_id, line.item)
        if key not in units:
            units[key] = Figures(line.item_label)
        units[key].add(line)
    out = Rollup()
    orgs = _orgs(session, (unit for unit, _item in units))
    ancestors: dict[int, list[int]] = {
        oid: [int(p) for p in path.strip("/").split("/") if p] for oid, (path, _) in orgs.items()}
    tops = _orgs(session, {ids[i] for ids in ancestors.values() for i in range(min(2, len(ids)))})
    out.paths = {oid: path for oid, (path, _level) in {**orgs, **tops}.items()}
    for (unit, item), fig in units.items():
        ids = ancestors.get(unit)
        if not ids:
            raise ValueError(f"unit {unit} of item {item} is not an org")
        out.add(Level.UNIT, unit, item, fig)
        top = ids[1] if len(ids) >= 2 else ids[0]
        out.add(Level.DISTRICT, top, item, fig)
        if tops[top][1] not in ROLL_UP_LEVELS:
            out.direct.add(top)
        out.add(Level.CITY, ids[0], item, fig)
    return out


def compute(session: Session, plan_year: int, *, run_id: int | None = None,
            by_id: int | None = None) -> OaAccountingSnapshot:
    """Compute and store the accounting of ``plan_year`` (writes, does not commit)."""
    lines = [sourced.line for sourced in exchange.accounting_lines(plan_year)]
    rollup = roll_up(session, lines)
    snapshot = OaAccountingSnapshot(plan_year=plan_year, run_id=run_id, created_by=by_id,
                                    totals=rollup.totals().as_totals())
    session.add(snapshot)
    session.flush()
    rows = [{"snapshot_id": snapshot.id, "org_id": org_id, "org_path": rollup.paths[org_id],
             "level": level.value if isinstance(level, Level) else level, "item": item,
             "item_label": fig.item_label[:100], "headcount": fig.headcount,
             "shares": fig.shares, "due": fig.due, "billed": fig.billed,
             "received": fig.received,
             "direct": level == Level.DISTRICT and org_id in rollup.direct}
            for (level, org_id, item), fig in rollup.rows.items()]
    if rows:
        session.execute(insert(OaAccountingRow), rows)
    actor = session.get(Account, by_id) if by_id is not None else None
    audit.record("oa.accounting.compute", target_type="oa_accounting_snapshot",
                 target_id=snapshot.id, actor=actor, session=session,
                 details={"plan_year": plan_year, "run_id": run_id, "rows": len(rows),
                          **snapshot.totals})
    return snapshot


__all__ = ["Figures", "Rollup", "compute", "roll_up"]
