"""互助核算 pages: computing (city officers only, a bad year refused), the snapshot per level
with totals, chart and reconciliation, the Excel download — all limited to the officer's
subtree: a district officer sees their district and its units, never the city total."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.helpers import login, post_form
from tests.oa.conftest import OA
from tests.oa.test_accounting_compute import YEAR, compute_now, seed, stored

LIST = "/oa/accounting"


def _fmt(value: Any) -> str:
    return f"{Decimal(value):,.2f}"


def _sums(rows: dict[tuple[str, int, str], dict[str, Any]], level: str,
          orgs: set[int]) -> dict[str, Any]:
    out: dict[str, Any] = {"headcount": 0, "due": Decimal("0.00"),
                           "received": Decimal("0.00")}
    for (lv, org, _item), fig in rows.items():
        if lv == level and org in orgs:
            for k in out:
                out[k] += fig[k]
    return out


def _snapshots() -> int:
    from unionhub import db
    from unionhub_oa.accounting.models import OaAccountingSnapshot

    return db.session().scalar(select(func.count(OaAccountingSnapshot.id))) or 0


def _orgs_in(row_ids: str, html: str) -> set[str]:
    table = html.split(f'id="{row_ids}"', 1)[1].split("</table>", 1)[0]
    return set(re.findall(r'data-org="(\d+)"', table))


def test_city_officer_computes_and_reads_every_level(oa_ma: OA) -> None:
    with oa_ma.app.app_context():
        o = seed(oa_ma).orgs
    c = oa_ma.app.test_client()
    login(c, "city")
    page = c.get(LIST).get_data(as_text=True)
    assert 'id="compute-form"' in page and 'id="no-snapshots"' in page
    r = post_form(c, LIST, {"plan_year": str(YEAR)})
    assert r.status_code == 302
    snapshot_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with oa_ma.app.app_context():
        rows = stored(snapshot_id)
        from unionhub import db
        from unionhub_oa.accounting.models import OaAccountingSnapshot

        totals = db.session().get(OaAccountingSnapshot, snapshot_id).totals
    html = c.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-level="city"' in html and 'data-level="district"' in html
    stats = html.split('id="totals"', 1)[1].split('id="levels"', 1)[0]
    assert _fmt(totals["due"]) in stats and _fmt(totals["received"]) in stats
    assert _orgs_in("rows", html) == {str(o["city"].id)}  # the city level by default
    foot = html.split('id="rows-total"', 1)[1].split("</tr>", 1)[0]
    assert _fmt(totals["due"]) in foot and _fmt(totals["difference"]) in foot
    assert '<svg class="chart"' in html.split('id="chart-unions"', 1)[1]
    for name in ("朝阳区总工会", "海淀区总工会", "北京市金融工会"):
        assert name in html.split('id="chart-unions"', 1)[1].split("</section>", 1)[0]
    recon = html.split('id="problems"', 1)[1].split("</table>", 1)[0]
    assert f'data-org="{o["g2"].id}" data-item="ZYYL" data-problems="owing"' in recon
    assert f'data-org="{o["g1"].id}" data-item="ZYYL" data-problems="billed owing"' in recon
    assert "20.03" in recon

    # the district level: one row per union and program, and the unit directly under the
    # city as its own row, labelled; the totals row = all of them = the city's totals
    html = c.get(f"{LIST}/{snapshot_id}?level=district").get_data(as_text=True)
    assert _orgs_in("rows", html) == {str(o[k].id) for k in ("d1", "d2", "ind", "direct")}
    district = _sums(rows, "district", {o[k].id for k in ("d1", "d2", "ind", "direct")})
    foot = html.split('id="rows-total"', 1)[1].split("</tr>", 1)[0]
    assert _fmt(district["due"]) in foot and _fmt(totals["due"]) in foot
    assert _fmt(totals["received"]) in foot and _fmt(totals["difference"]) in foot
    table = html.split('id="rows"', 1)[1].split("</table>", 1)[0]
    direct_row = table.split(f'data-org="{o["direct"].id}"', 1)[1].split("</tr>", 1)[0]
    assert "市总机关工会" in direct_row and 'data-direct="1">（市直属）' in direct_row
    assert table.count('data-direct="1"') == table.count(f'data-org="{o["direct"].id}"')
    assert "市总机关工会（市直属）" in html.split('id="chart-unions"', 1)[1]
    # one program only
    html = c.get(f"{LIST}/{snapshot_id}?level=unit&item=YWSH").get_data(as_text=True)
    assert set(re.findall(r'data-item="(\w+)"', html.split('id="rows"', 1)[1]
                          .split("</table>", 1)[0])) == {"YWSH"}
    # bad parameters: said, and the defaults shown
    html = c.get(f"{LIST}/{snapshot_id}?level=galaxy&item=NOPE").get_data(as_text=True)
    assert "层级“galaxy”不存在" in html and "项目“NOPE”不在本次核算中" in html
    assert c.get(f"{LIST}/999999").status_code == 404
    assert c.get(f"{LIST}/999999.xlsx").status_code == 404
    # the list shows the snapshot with the city totals
    listing = c.get(LIST).get_data(as_text=True)
    assert f'data-snapshot="{snapshot_id}"' in listing and _fmt(totals["due"]) in listing


def test_bad_year_is_refused_and_nothing_computed(oa_ma: OA) -> None:
    c = oa_ma.app.test_client()
    login(c, "city")
    for bad, message in (("", "核算年度：不能为空"),
                         ("20x6", "核算年度：应为 2000 至 2100 之间的年份，收到“20x6”"),
                         ("1999", "收到“1999”"), ("²", "收到“²”"), ("２０２６", "收到“２０２６”"),
                         ("9" * 30, "核算年度：应为 2000 至 2100 之间的年份")):
        r = post_form(c, LIST, {"plan_year": bad})
        assert r.status_code == 422
        html = r.get_data(as_text=True)
        assert message in html and 'id="error-plan_year"' in html
    with oa_ma.app.app_context():
        assert _snapshots() == 0


def test_district_officer_sees_only_their_district(oa_ma: OA) -> None:
    with oa_ma.app.app_context():
        o = seed(oa_ma).orgs
        snapshot_id = compute_now()
        rows = stored(snapshot_id)
    d1_units = {o[k].id for k in ("g1", "b1")}
    mine = _sums(rows, "unit", d1_units)
    assert mine == _sums(rows, "district", {o["d1"].id})
    c = oa_ma.app.test_client()
    login(c, "chaoyang")
    # no computing for a district officer
    assert 'id="compute-form"' not in c.get(LIST).get_data(as_text=True)
    assert post_form(c, LIST, {"plan_year": str(YEAR)}, form_url=f"{LIST}/{snapshot_id}"
                     ).status_code == 403
    listing = c.get(LIST).get_data(as_text=True)
    assert _fmt(mine["due"]) in listing
    html = c.get(f"{LIST}/{snapshot_id}").get_data(as_text=True)
    assert 'data-level="city"' not in html  # no city level offered
    assert _orgs_in("rows", html) == {str(o["d1"].id)}
    foot = html.split('id="rows-total"', 1)[1].split("</tr>", 1)[0]
    assert _fmt(mine["due"]) in foot
    city_due = _sums(rows, "city", {o["city"].id})["due"]
    assert _fmt(city_due) not in html
    assert "海淀区总工会" not in html and "北京市金融工会" not in html
    units = c.get(f"{LIST}/{snapshot_id}?level=unit").get_data(as_text=True)
    assert _orgs_in("rows", units) == {str(i) for i in d1_units}
    assert str(o["g2"].id) not in _orgs_in("problems", units)
    # asking for the city level shows nothing
    city = c.get(f"{LIST}/{snapshot_id}?level=city").get_data(as_text=True)
    assert _orgs_in("rows", city) == set() and "该层级在管辖范围内暂无数据" in city

    r = c.get(f"{LIST}/{snapshot_id}.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["区县与产业工会", "基层单位", "对账"]
    for name in ("区县与产业工会", "基层单位"):
        last = list(wb[name].iter_rows(values_only=True))[-1]
        assert last[0] == "合计" and last[3] == mine["headcount"]
        assert Decimal(str(last[5])).quantize(Decimal("0.01")) == mine["due"]
        assert Decimal(str(last[7])).quantize(Decimal("0.01")) == mine["received"]
    codes = {r[0] for r in wb["基层单位"].iter_rows(min_row=2, values_only=True)}
    assert codes == {"G1", "B1", "合计"}
    assert {r[0] for r in wb["对账"].iter_rows(min_row=2, values_only=True)} == {"G1", "B1"}


def test_grassroots_officer_sees_own_units_and_members_nothing(oa_ma: OA) -> None:
    with oa_ma.app.app_context():
        o = seed(oa_ma).orgs
        snapshot_id = compute_now()
    c = oa_ma.app.test_client()
    login(c, "g1officer")
    html = c.get(f"{LIST}/{snapshot_id}").get_data(as_text=True)
    assert _orgs_in("rows", html) == {str(o["g1"].id), str(o["b1"].id)}
    assert 'data-level="district"' not in html
    member = oa_ma.app.test_client()
    login(member, oa_ma.world.people["m1"].mobile)
    for url in (LIST, f"{LIST}/{snapshot_id}", f"{LIST}/{snapshot_id}.xlsx"):
        assert member.get(url).status_code == 403
    anonymous = oa_ma.app.test_client()
    assert anonymous.get(f"{LIST}/{snapshot_id}.xlsx").status_code in (302, 401)


def test_without_mutual_aid_the_page_says_no_data(oa: OA) -> None:
    c = oa.app.test_client()
    login(c, "city")
    r = post_form(c, LIST, {"plan_year": "2026"})
    assert r.status_code == 302
    html = c.get(r.headers["Location"]).get_data(as_text=True)
    assert 'id="no-data"' in html and "暂无核算数据" in html
    listing = c.get(LIST).get_data(as_text=True)
    assert "管辖范围内暂无数据" in listing
    wb = load_workbook(io.BytesIO(c.get(r.headers["Location"] + ".xlsx").data))
    assert wb.sheetnames == ["区县与产业工会", "基层单位", "对账"]
    assert list(wb["基层单位"].iter_rows(values_only=True))[-1][:6] == (
        "合计", None, None, 0, 0, 0)
