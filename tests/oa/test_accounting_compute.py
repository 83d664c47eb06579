"""Automatic accounting: the snapshot checked against sums made here from the raw coverage rows
and fee statements (Decimal), the roll-up (units = districts = city, a unit directly under the
city standing at the district level as （市直属）), the Excel workbook's totals to the fen,
and an empty snapshot without mutual aid."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.helpers import add_member
from tests.oa.conftest import OA
from unionhub.web.formatting import SHANGHAI

YEAR = 2026
ZERO = Decimal("0.00")
KEYS = ("headcount", "shares", "due", "billed", "received")


@dataclass
class Seeded:
    """Org keys of the extra orgs (besides the world's) the seed made."""

    orgs: dict[str, Any] = field(default_factory=dict)


def _plan(s: Any, program: str, year: int) -> Any:
    from unionhub_mutualaid import plans

    plan = plans.current(s, program, year)
    assert plan is not None
    return plan


def _cover(s: Any, member_id: int, unit: Any, program: str, year: int, shares: int,
           fee: str) -> None:
    from unionhub_mutualaid.models import MutualaidCoverage

    plan = _plan(s, program, year)
    s.add(MutualaidCoverage(member_id=member_id, plan_id=plan.id, program=program,
                            plan_year=year, unit_org_id=unit.id, shares=shares,
                            start=plan.term_start, end=plan.term_end, fee=Decimal(fee),
                            status="active"))


def seed(oa: OA, *, direct: bool = True) -> Seeded:
    """Coverage of four (five with ``direct``) units in two districts and an industry union,
    with fee statements out of date, owing, overpaid and settled. Commits."""
    from unionhub import db
    from unionhub.orgs.models import OrgLevel
    from unionhub.orgs.service import create_org
    from unionhub_mutualaid.enrollment import service
    from unionhub_mutualaid.models import MutualaidFeeStatement

    s = db.session()
    o = dict(oa.world.orgs)
    out = Seeded()
    o["ind"] = create_org(s, code="I1", name="北京市金融工会", level=OrgLevel.INDUSTRY,
                          parent=o["city"])
    s.flush()
    o["gi"] = create_org(s, code="I1G", name="工商银行北京分行工会",
                         level=OrgLevel.GRASSROOTS, parent=o["ind"])
    if direct:
        o["direct"] = create_org(s, code="CG", name="市总机关工会", level=OrgLevel.GRASSROOTS,
                                 parent=o["city"])
    s.commit()
    out.orgs = o
    people = oa.world.people
    members: dict[str, list[int]] = {
        "g1": [people["m1"].member_id, people["m3"].member_id],
        "g2": [people["m2"].member_id]}
    for key, n in (("g1", 5), ("g2", 4), ("gi", 6), ("direct", 3)):
        if key in o:
            members.setdefault(key, []).extend(
                add_member(o[key], f"{key}会员{i}", password=None).member_id for i in range(n))
    fees = ["45.50", "91.00", "136.50", "45.49", "0.01", "12.35", "45.50"]
    for u, (key, ids) in enumerate(members.items()):
        for i, mid in enumerate(ids):
            _cover(s, mid, o[key], "ZYYL", YEAR, i % 3 + 1, fees[(i + u) % len(fees)])
            if i % 2 == 0:
                _cover(s, mid, o[key], "YWSH", YEAR, 1, ["26.00", "50.00", "74.00"][i % 3])
            if i == 0:
                _cover(s, mid, o[key], "ZYYL", YEAR - 1, 1, "40.00")  # another year
    s.flush()
    for key in members:
        for program in ("ZYYL", "YWSH"):
            service.refresh_statement(s, o[key], _plan(s, program, YEAR))

    def statement(key: str, program: str) -> MutualaidFeeStatement:
        return s.scalar(select(MutualaidFeeStatement).where(
            MutualaidFeeStatement.unit_org_id == o[key].id,
            MutualaidFeeStatement.program == program, MutualaidFeeStatement.plan_year == YEAR))

    for key in members:  # everyone paid what was billed …
        for program in ("ZYYL", "YWSH"):
            st = statement(key, program)
            st.amount_paid, st.status = st.amount_due, "paid"
    # … except: g2 paid part of ZYYL (owing), gi paid 0.01 too much for YWSH (overpaid)
    statement("g2", "ZYYL").amount_paid -= Decimal("20.03")
    statement("gi", "YWSH").amount_paid += Decimal("0.01")
    # g1 enrolled one more member after its statement: billed and paid less than due
    late = add_member(o["g1"], "后参保", password=None).member_id
    _cover(s, late, o["g1"], "ZYYL", YEAR, 2, "91.00")
    # b1 has a statement of its own without coverage rows (billed, nothing paid)
    s.add(MutualaidFeeStatement(unit_org_id=o["b1"].id, plan_id=_plan(s, "NGTJ", YEAR).id,
                                program="NGTJ", plan_year=YEAR, amount_due=Decimal("30.00"),
                                amount_paid=ZERO))
    s.commit()
    return out


def expected_units(year: int = YEAR) -> dict[tuple[int, str], dict[str, Any]]:
    """Independent per unit and program figures from the raw rows (voluntary and dues)."""
    from unionhub import db
    from unionhub.identity.models import Member
    from unionhub_mutualaid.models import MutualaidCoverage, MutualaidFeeStatement, MutualaidPlan

    s = db.session()
    out: dict[tuple[int, str], dict[str, Any]] = defaultdict(
        lambda: {"members": set(), "shares": 0, "due": ZERO, "billed": ZERO, "received": ZERO})
    for c in s.scalars(select(MutualaidCoverage).where(MutualaidCoverage.plan_year == year)):
        e = out[(c.unit_org_id, c.program)]
        e["members"].add(c.member_id)
        e["shares"] += c.shares
        e["due"] += c.fee
    for st in s.scalars(select(MutualaidFeeStatement).where(
            MutualaidFeeStatement.plan_year == year)):
        e = out[(st.unit_org_id, st.program)]
        e["billed"] += st.amount_due
        e["received"] += st.amount_paid
    dues = {p.program: (p.term_start, p.term_end) for p in s.scalars(select(MutualaidPlan).where(
        MutualaidPlan.plan_year == year, MutualaidPlan.funding == "dues",
        MutualaidPlan.status == "active"))}
    for m in s.scalars(select(Member)):
        for program, (start, end) in dues.items():
            # a member with a card at some time during the plan's term
            first = datetime(start.year, start.month, start.day, tzinfo=SHANGHAI)
            member = (m.joined_on is None or m.joined_on <= end) and (
                m.left_on >= start if m.left_on is not None else m.status == "active")
            if member and any(c.status == "active" or (
                    c.status_changed_at is not None and c.status_changed_at >= first)
                    for c in m.cards):
                out[(m.org_id, program)]["members"].add(m.id)
    return {k: {"headcount": len(v["members"]), "shares": v["shares"], "due": v["due"],
                "billed": v["billed"], "received": v["received"]} for k, v in out.items()}


def rolled(units: dict[tuple[int, str], dict[str, Any]]
           ) -> dict[tuple[str, int, str], dict[str, Any]]:
    """The expected rows per (level, org, item), rolled up here from the units."""
    from unionhub import db
    from unionhub.orgs.models import Org

    orgs = {o.id: o for o in db.session().scalars(select(Org))}
    out: dict[tuple[str, int, str], dict[str, Any]] = {}

    def add(key: tuple[str, int, str], fig: dict[str, Any]) -> None:
        cur = out.setdefault(key, {k: 0 if k in ("headcount", "shares") else ZERO
                                   for k in KEYS})
        for k in KEYS:
            cur[k] += fig[k]

    for (unit, item), fig in units.items():
        org = orgs[unit]
        chain = [orgs[int(i)] for i in org.path.strip("/").split("/")]
        add(("unit", unit, item), fig)
        # the depth-1 org: a district or industry union, or a unit directly under the city
        add(("district", chain[1].id if len(chain) > 1 else chain[0].id, item), fig)
        add(("city", chain[0].id, item), fig)
    return out


def stored(snapshot_id: int) -> dict[tuple[str, int, str], dict[str, Any]]:
    from unionhub import db
    from unionhub_oa.accounting.models import OaAccountingRow

    rows = db.session().scalars(select(OaAccountingRow).where(
        OaAccountingRow.snapshot_id == snapshot_id))
    out = {}
    for r in rows:
        key = (r.level, r.org_id, r.item)
        assert key not in out, key
        out[key] = {k: getattr(r, k) for k in KEYS}
    return out


def direct_flags(snapshot_id: int) -> set[int]:
    """The orgs of the rows marked direct (only ever at the district level)."""
    from unionhub import db
    from unionhub_oa.accounting.models import OaAccountingRow

    rows = db.session().execute(select(OaAccountingRow.org_id, OaAccountingRow.level).where(
        OaAccountingRow.snapshot_id == snapshot_id, OaAccountingRow.direct.is_(True))).all()
    assert {level for _org, level in rows} <= {"district"}
    return {org for org, _level in rows}


def level_sums(rows: dict[tuple[str, int, str], dict[str, Any]], level: str,
               orgs: set[int] | None = None) -> dict[str, Any]:
    sums: dict[str, Any] = {k: 0 if k in ("headcount", "shares") else ZERO for k in KEYS}
    for (lv, org, _item), fig in rows.items():
        if lv == level and (orgs is None or org in orgs):
            for k in KEYS:
                sums[k] += fig[k]
    return sums


def compute_now(by: str | None = None, oa: OA | None = None) -> int:
    from unionhub import db
    from unionhub_oa.accounting.compute import compute

    s = db.session()
    snap = compute(s, YEAR, by_id=oa.world.officers[by] if oa and by else None)
    s.commit()
    return snap.id


def test_snapshot_matches_independent_sums_and_rolls_up(oa_ma: OA) -> None:
    from unionhub import db
    from unionhub.audit.models import AuditLog
    from unionhub_oa.accounting.models import OaAccountingSnapshot

    with oa_ma.app.app_context():
        o = seed(oa_ma).orgs
        units = expected_units()
        snapshot_id = compute_now("city", oa_ma)
        got = stored(snapshot_id)
        want = rolled(units)
        assert got == want
        # the data is what the seed meant it to be
        assert got[("unit", o["g1"].id, "ZYYL")]["billed"] == (
            got[("unit", o["g1"].id, "ZYYL")]["due"] - Decimal("91.00"))
        assert got[("unit", o["b1"].id, "NGTJ")] == {
            "headcount": 0, "shares": 0, "due": ZERO, "billed": Decimal("30.00"),
            "received": ZERO}
        assert got[("unit", o["b1"].id, "ECBX")]["headcount"] == 1  # m3's own org
        # directly under the city: its own row at the district level, marked direct
        assert got[("district", o["direct"].id, "ZYYL")] == got[("unit", o["direct"].id, "ZYYL")]
        assert ("district", o["ind"].id, "ZYYL") in got  # industry unions roll up too
        assert direct_flags(snapshot_id) == {o["direct"].id}

        # consistency: every level adds up to the city, to the fen
        city = level_sums(got, "city")
        assert city == level_sums(got, "unit") == level_sums(got, "district")
        for d in ("d1", "d2", "ind"):
            under = {oid for (_lv, oid, _i) in got
                     if oid in {x.id for x in o.values() if x.path.startswith(o[d].path)}}
            assert level_sums(got, "district", {o[d].id}) == level_sums(got, "unit", under)

        snap = db.session().get(OaAccountingSnapshot, snapshot_id)
        assert snap.plan_year == YEAR and snap.run_id is None
        assert snap.created_by == oa_ma.world.officers["city"]
        assert snap.totals == {
            "headcount": city["headcount"], "shares": city["shares"],
            "due": f"{city['due']:.2f}", "billed": f"{city['billed']:.2f}",
            "received": f"{city['received']:.2f}",
            "difference": f"{city['due'] - city['received']:.2f}"}
        assert Decimal(snap.totals["difference"]) == Decimal("91.00") + Decimal("20.03") \
            - Decimal("0.01")
        assert db.session().scalar(select(AuditLog.details).where(
            AuditLog.action == "oa.accounting.compute"))["rows"] == len(got)


def test_snapshot_is_a_copy_and_keeps_run_id(oa_ma: OA) -> None:
    """Later changes do not alter a snapshot; a new computation sees them."""
    from unionhub import db
    from unionhub_mutualaid.models import MutualaidCoverage
    from unionhub_oa.accounting.compute import compute

    with oa_ma.app.app_context():
        seed(oa_ma, direct=False)
        s = db.session()
        first = compute(s, YEAR, run_id=7)
        s.commit()
        before = stored(first.id)
        row = s.scalar(select(MutualaidCoverage).where(MutualaidCoverage.plan_year == YEAR)
                       .order_by(MutualaidCoverage.id))
        row.fee += Decimal("0.01")
        s.commit()
        assert stored(first.id) == before and first.run_id == 7
        second = compute_now()
        assert Decimal(db.session().get(type(first), second).totals["due"]) == (
            Decimal(first.totals["due"]) + Decimal("0.01"))
        assert stored(second) == rolled(expected_units())


def _sheet_rows(ws: Any) -> tuple[list[Any], list[list[Any]], list[Any]]:
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return rows[0], rows[1:-1], rows[-1]


def _money(value: Any) -> Decimal:
    """A money cell read back (openpyxl gives int or float) as exact 元."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


@pytest.mark.parametrize("direct", [False, True])
def test_excel_workbook_levels_add_up_to_the_fen(oa_ma: OA, direct: bool) -> None:
    """Every level sheet totals the city's figures — also with a unit directly under the
    city, which the district sheet lists as its own row, labelled （市直属）."""
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_oa.accounting.excel import MONEY_FORMAT, workbook
    from unionhub_oa.accounting.models import OaAccountingSnapshot

    with oa_ma.app.app_context(), oa_ma.app.test_request_context():
        seed(oa_ma, direct=direct)
        snapshot_id = compute_now()
        s = db.session()
        snap = s.get(OaAccountingSnapshot, snapshot_id)
        city_officer = s.get(Account, oa_ma.world.officers["city"])
        wb = load_workbook(io.BytesIO(workbook(s, snap, city_officer)))
        assert wb.sheetnames == ["市总", "区县与产业工会", "基层单位", "对账"]
        totals = snap.totals
        for name in ("市总", "区县与产业工会", "基层单位"):
            ws = wb[name]
            header, body, last = _sheet_rows(ws)
            assert header == ["单位代码", "单位名称", "项目", "参保人数", "份数", "应缴金额（元）",
                              "开票金额（元）", "实缴金额（元）", "差额（元）"]
            assert ws.freeze_panes == "A2" and ws["A1"].font.b
            assert ws["F2"].number_format == MONEY_FORMAT
            assert ws.column_dimensions["B"].width >= 20
            assert last[0] == "合计"
            assert isinstance(last[5], int | float)  # numbers, not text
            assert (last[3], last[4]) == (totals["headcount"], totals["shares"])
            assert [_money(v) for v in last[5:9]] == [
                Decimal(totals[k]) for k in ("due", "billed", "received", "difference")]
            # the totals row is the sum of the sheet's rows, to the fen
            assert sum((_money(r[5]) for r in body), ZERO) == _money(last[5])
            assert all(_money(r[8]) == _money(r[5]) - _money(r[7]) for r in body)
        _h, districts, _t = _sheet_rows(wb["区县与产业工会"])
        names = {r[0]: r[1] for r in districts}
        assert names.get("CG") == ("市总机关工会（市直属）" if direct else None)
        assert names["D1"] == "朝阳区总工会" and names["I1"] == "北京市金融工会"
        # the unit sheet has one row per unit and program, named by code
        _h, units, _t = _sheet_rows(wb["基层单位"])
        assert len(units) == sum(1 for k in stored(snapshot_id) if k[0] == "unit")
        assert {r[0] for r in units} >= {"G1", "G2", "B1", "I1G"}
        # reconciliation: g1 ZYYL billed and received short by 91.00, g2 ZYYL owing 20.03,
        # gi YWSH overpaid 0.01, b1 NGTJ billed 30.00 without anything due
        recon = {(r[0], r[2]): r for r in wb["对账"].iter_rows(min_row=2, values_only=True)}
        assert wb["对账"].freeze_panes == "A2"
        assert set(recon) == {("G1", "住院医疗互助保障"), ("G2", "住院医疗互助保障"),
                              ("I1G", "意外伤害互助保障"), ("B1", "女工特殊疾病互助保障")}
        g1 = recon[("G1", "住院医疗互助保障")]
        assert (_money(g1[6]), _money(g1[7])) == (Decimal("-91.00"), Decimal("91.00"))
        assert "欠缴" in g1[8] and "开票金额与应缴金额不符" in g1[8]
        assert _money(recon[("G2", "住院医疗互助保障")][7]) == Decimal("20.03")
        assert recon[("I1G", "意外伤害互助保障")][8] == "多缴"
        assert _money(recon[("I1G", "意外伤害互助保障")][7]) == Decimal("-0.01")


def test_without_mutual_aid_the_snapshot_is_empty(oa: OA) -> None:
    from unionhub import db
    from unionhub_oa.accounting.models import OaAccountingRow, OaAccountingSnapshot

    with oa.app.app_context():
        snapshot_id = compute_now()
        s = db.session()
        snap = s.get(OaAccountingSnapshot, snapshot_id)
        assert snap.totals == {"headcount": 0, "shares": 0, "due": "0.00", "billed": "0.00",
                               "received": "0.00", "difference": "0.00"}
        assert s.scalar(select(OaAccountingRow.id).where(
            OaAccountingRow.snapshot_id == snapshot_id)) is None


def test_no_lines_for_a_year_without_data(oa_ma: OA) -> None:
    """A year with no plans at all gives an empty snapshot (dues lines need a dues plan)."""
    from unionhub import db
    from unionhub_oa.accounting.compute import compute

    with oa_ma.app.app_context():
        s = db.session()
        snap = compute(s, 2031)
        s.commit()
        assert snap.totals["headcount"] == 0 and stored(snap.id) == {}
