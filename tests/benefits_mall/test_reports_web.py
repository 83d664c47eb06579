"""Report pages, downloads and API: the merchant manager's report and statements (another
merchant's are a 404), the operators' settlement pages, CSV/Excel files whose totals add up
to the fen, the officers' dashboard and widget, and the demo seeder."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from tests.benefits_mall.conftest import Mall
from tests.benefits_mall.test_reports import (  # noqa: F401  (_clock: the autouse clock)
    Seeder,
    _clock,
    _dashboard_data,
    _march,
    bj,
)
from tests.helpers import PASSWORD, login, post_form
from unionhub import db

D = Decimal
REPORTS = "/benefits_mall/merchant/reports"
ADMIN = "/benefits_mall/admin/settlements"


def _client(mall: Mall, username: str) -> Any:
    client = mall.app.test_client()
    assert login(client, username).status_code == 302
    return client


def _statement(mall: Mall) -> tuple[int, list[Any]]:
    """March's draft statement of 康健体检中心 built from :func:`_march`'s events."""
    from unionhub_benefits_mall.reports import service

    with mall.app.app_context():
        sd = Seeder(mall)
        events = _march(sd, mall)
        sd.s.commit()
        st = service.build_statement(sd.s, mall.merchant_id, date(2026, 3, 1),
                                     date(2026, 3, 31), None)
        sd.s.commit()
        return st.id, events


def _other_manager(mall: Mall) -> None:
    from unionhub.identity.admin import create_account
    from unionhub_benefits_mall.models import BenefitsMallStaff

    with mall.app.app_context():
        s = db.session()
        acc = create_account(s, "other_manager", "other_manager", PASSWORD)
        s.add(BenefitsMallStaff(merchant_id=mall.other_merchant_id, account_id=acc.id,
                                role="manager"))
        s.commit()


def _status(mall: Mall, settlement_id: int) -> str:
    from unionhub_benefits_mall.models import BenefitsMallSettlement

    with mall.app.app_context():
        st = db.session().get(BenefitsMallSettlement, settlement_id)
        assert st is not None
        return st.status


def test_merchant_report_page(mall: Mall) -> None:
    with mall.app.app_context():
        sd = Seeder(mall)
        a = mall.store_ids[0]
        c, _ = sd.redeem(mall.coupon_offer_id, bj(2026, 4, 10, 23, 30), a)
        sd.event(c, "undone", bj(2026, 4, 10, 23, 40), a)
        sd.redeem(mall.coupon_offer_id, bj(2026, 4, 11, 9), a, member="m2")
        sd.s.commit()
    manager = _client(mall, "shop_manager")
    html = manager.get(REPORTS).get_data(as_text=True)
    assert "核销报表" in html and "康健体检中心" in html
    assert "2026-04-10" in html and "2026-04-11" in html and "朝阳店" in html
    assert "职工体检套餐 8 折券" in html and "50.00" in html
    html = manager.get(f"{REPORTS}?start=2026-04-11&end=2026-04-11").get_data(as_text=True)
    assert "2026-04-11" in html and "2026-04-10" not in html
    html = manager.get(f"{REPORTS}?start=2026-13-01").get_data(as_text=True)
    assert "开始日期：请按 YYYY-MM-DD 填写日期" in html  # and the default range is shown
    html = manager.get(f"{REPORTS}?start=2026-04-12&end=2026-04-01").get_data(as_text=True)
    assert "开始日期不能晚于结束日期" in html

    assert _client(mall, "shop_clerk").get(REPORTS).status_code == 403
    assert _client(mall, "haidian").get(REPORTS).status_code == 403
    assert mall.app.test_client().get(REPORTS).status_code == 302  # to the login page


def test_merchant_confirms_only_its_own_statement(mall: Mall) -> None:
    st_id, _ = _statement(mall)
    _other_manager(mall)
    other = _client(mall, "other_manager")
    url = f"/benefits_mall/merchant/settlements/{st_id}"
    assert other.get(url).status_code == 404
    assert other.get(f"{url}/statement.csv").status_code == 404
    r = post_form(other, f"{url}/confirm", {}, form_url=REPORTS)
    assert r.status_code == 404 and _status(mall, st_id) == "draft"
    assert _client(mall, "shop_clerk").get(url).status_code == 403

    manager = _client(mall, "shop_manager")
    html = manager.get(REPORTS).get_data(as_text=True)
    assert f'/benefits_mall/merchant/settlements/{st_id}"' in html and "待商户确认" in html
    html = manager.get(url).get_data(as_text=True)
    assert "确认结算单" in html and "标记为已付款" not in html
    r = post_form(manager, f"{url}/confirm", {}, form_url=url)
    assert r.status_code == 302 and _status(mall, st_id) == "confirmed"
    html = manager.get(url).get_data(as_text=True)
    assert "已确认结算单" in html and "商户已确认" in html
    r = post_form(manager, f"{url}/confirm", {}, form_url=REPORTS)
    assert "只有待确认的结算单可以确认" in manager.get(url).get_data(as_text=True)

    # A merchant manager cannot mark it paid: that is the operators' page.
    paid = f"{ADMIN}/{st_id}/paid"
    assert post_form(manager, paid, {}, form_url=REPORTS).status_code == 403
    assert _status(mall, st_id) == "confirmed"


def test_operator_builds_lists_and_marks_paid(mall: Mall) -> None:
    with mall.app.app_context():
        sd = Seeder(mall)
        sd.redeem(mall.coupon_offer_id, bj(2026, 3, 3), mall.store_ids[0])
        sd.s.commit()
    op = _client(mall, "operator")
    html = op.get(ADMIN).get_data(as_text=True)
    assert "生成结算单" in html and 'value="2026-03"' in html  # last month by default
    r = post_form(op, ADMIN, {"merchant_id": "", "month": "2026/3"})
    assert "结算月份：请按 YYYY-MM 填写" in op.get(ADMIN).get_data(as_text=True)
    r = post_form(op, ADMIN, {"merchant_id": "999999", "month": "2026-03"})
    assert "商户：没有该商户" in op.get(ADMIN).get_data(as_text=True)
    r = post_form(op, ADMIN, {"merchant_id": "", "month": "2026-04"})
    assert "尚未结束" in op.get(ADMIN).get_data(as_text=True)
    r = post_form(op, ADMIN, {"merchant_id": str(mall.merchant_id), "month": "2026-03"})
    assert r.status_code == 302
    html = op.get(ADMIN).get_data(as_text=True)
    assert "已生成康健体检中心的结算单" in html and "2026-03-01 – 2026-03-31" in html
    post_form(op, ADMIN, {"merchant_id": str(mall.merchant_id), "month": "2026-03"})
    assert "该期间已生成结算单" in op.get(ADMIN).get_data(as_text=True)

    from unionhub_benefits_mall.models import BenefitsMallSettlement

    with mall.app.app_context():
        st_id = db.session().scalar(select(BenefitsMallSettlement.id))
    detail = f"{ADMIN}/{st_id}"
    html = op.get(detail).get_data(as_text=True)
    assert "等待商户确认后才能标记付款" in html and "已生成" in html  # history
    post_form(op, f"{detail}/paid", {}, form_url=detail)
    assert _status(mall, st_id) == "draft"
    assert "只有商户已确认的结算单可以标记为已付款" in op.get(detail).get_data(as_text=True)

    manager = _client(mall, "shop_manager")
    mdetail = f"/benefits_mall/merchant/settlements/{st_id}"
    post_form(manager, f"{mdetail}/confirm", {}, form_url=mdetail)
    html = op.get(f"{ADMIN}?status=confirmed").get_data(as_text=True)
    assert f'{ADMIN}/{st_id}"' in html
    r = post_form(op, f"{detail}/paid", {"next": "https://evil.example/"}, form_url=ADMIN)
    assert r.status_code == 302 and r.headers["Location"].endswith(detail)
    assert _status(mall, st_id) == "paid"
    assert f'{ADMIN}/{st_id}"' not in op.get(f"{ADMIN}?status=confirmed").get_data(as_text=True)

    for who in ("haidian", "shop_manager"):
        assert _client(mall, who).get(ADMIN).status_code == 403


def _csv_totals(data: bytes) -> tuple[list[list[str]], dict[str, str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    head = rows.index(["序号", "时间", "类型", "券号", "券码尾号", "优惠", "门店", "金额（元）"])
    lines = []
    for row in rows[head + 1:]:
        if not row:
            break
        lines.append(row)
    totals = {row[0]: row[1] for row in rows[head + len(lines) + 2:] if row}
    return lines, totals


def test_csv_and_excel_totals_add_up(mall: Mall) -> None:
    from openpyxl import load_workbook

    st_id, events = _statement(mall)
    march = [e for e in events if e.at.astimezone(bj(2026, 1, 1).tzinfo).month == 3]
    expected = sum((e.amount for e in march), D("0.00"))
    manager = _client(mall, "shop_manager")
    r = manager.get(f"/benefits_mall/merchant/settlements/{st_id}/statement.csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    lines, totals = _csv_totals(r.data)
    assert len(lines) == len(march)
    assert sum((D(row[7]) for row in lines), D("0.00")) == D(totals["结算金额（元）"]) == expected
    assert int(totals["核销笔数"]) == sum(row[2] == "核销" for row in lines)
    assert int(totals["撤销笔数"]) == sum(row[2] == "撤销核销" for row in lines)
    assert all(row[1].startswith("2026-03-") for row in lines)  # Beijing times

    r = _client(mall, "operator").get(f"{ADMIN}/{st_id}/statement.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).active
    values = [list(row) for row in ws.iter_rows(values_only=True)]
    head = next(i for i, row in enumerate(values) if row[0] == "序号")
    assert ws.cell(head + 1, 1).font.bold and ws.cell(head + 2, 8).number_format == "#,##0.00"
    body = []
    for row in values[head + 1:]:
        if row[0] is None:
            break
        body.append(row)
    total_row = next(row for row in values if row[0] == "结算金额（元）")
    line_sum = sum((D(str(row[7])).quantize(D("0.01")) for row in body), D("0.00"))
    assert len(body) == len(march)
    assert line_sum == D(str(total_row[7])).quantize(D("0.01")) == expected
    assert values[0][0] == "福利云商商户结算单"
    assert _client(mall, "operator").get(f"{ADMIN}/{st_id}/statement.pdf").status_code == 404

    from unionhub_benefits_mall.reports import service

    with mall.app.app_context():
        actions = [h.action for h in service.statement_history(db.session(), st_id)]
        assert actions.count("benefits_mall.settlement.export") == 2


def test_dashboard_page_widget_and_scope(mall: Mall) -> None:
    with mall.app.app_context():
        _dashboard_data(Seeder(mall), mall)
    w = mall.world
    haidian = _client(mall, "haidian")
    html = haidian.get("/benefits_mall/admin/dashboard").get_data(as_text=True)
    assert "福利统计" in html and '<svg class="chart"' in html and "软件园工会" in html
    assert "悦行旅游" in html and "康健体检中心" not in html
    assert "50.0%" in html
    assert "https://" not in html.split("<main")[1]  # nothing fetched from elsewhere
    assert haidian.get(f"/benefits_mall/admin/dashboard?org_id={w.org_id('d1')}"
                       ).status_code == 404
    assert haidian.get("/benefits_mall/admin/dashboard?org_id=99999999999999999"
                       ).status_code == 404
    html = haidian.get(f"/benefits_mall/admin/dashboard?org_id={w.org_id('g2')}"
                       ).get_data(as_text=True)
    assert "软件园工会" in html

    home = haidian.get("/office/").get_data(as_text=True)
    assert "福利云商概况" in home and "本月领券" in home
    city = _client(mall, "city").get("/benefits_mall/admin/dashboard").get_data(as_text=True)
    assert "朝阳区总工会" in city and "康健体检中心" in city

    member = mall.app.test_client()
    login(member, w.people["m1"].card_number)
    assert member.get("/benefits_mall/admin/dashboard").status_code == 403
    assert _client(mall, "shop_manager").get("/benefits_mall/admin/dashboard"
                                             ).status_code == 403


def _bearer(mall: Mall, identifier: str) -> dict[str, str]:
    r = mall.app.test_client().post("/api/v1/auth/token", json={
        "identifier": identifier, "password": PASSWORD, "device": "test"})
    assert r.status_code == 201, r.get_json()
    return {"Authorization": f"Bearer {r.get_json()['token']}"}


def test_api(mall: Mall) -> None:
    with mall.app.app_context():
        sd = Seeder(mall)
        c, _ = sd.redeem(mall.coupon_offer_id, bj(2026, 4, 10, 23, 30), mall.store_ids[1])
        sd.event(c, "undone", bj(2026, 4, 10, 23, 40))
        sd.redeem(mall.coupon_offer_id, bj(2026, 4, 11, 0, 10), mall.store_ids[1], member="m2")
        sd.s.commit()
    client = mall.app.test_client()
    headers = _bearer(mall, "shop_manager")
    r = client.get("/api/v1/benefits_mall/merchant/report?start=2026-04-01&end=2026-04-15",
                   headers=headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["total"] == {"redeemed": 2, "undone": 1, "net": 1, "amount": "50.00"}
    days = {(x["day"], x["store_name"]): (x["net"], x["amount"]) for x in body["by_store_day"]}
    assert days == {("2026-04-10", "海淀店"): (0, "0.00"), ("2026-04-11", "海淀店"): (1, "50.00")}
    r = client.get("/api/v1/benefits_mall/merchant/report?start=x", headers=headers)
    assert r.status_code == 400 and "start" in r.get_json()["error"]["fields"]
    r = client.get("/api/v1/benefits_mall/merchant/report",
                   headers=_bearer(mall, "shop_clerk"))
    assert r.status_code == 403

    r = client.get("/api/v1/benefits_mall/dashboard", headers=_bearer(mall, "haidian"))
    assert r.status_code == 200
    body = r.get_json()
    assert (body["claims"], body["redemptions"], body["amount"]) == (1, 1, "50.00")
    assert len(body["days"]) == 30 and body["redemption_rate"] == "100.0%"
    r = client.get(f"/api/v1/benefits_mall/dashboard?org_id={mall.world.org_id('d1')}",
                   headers=_bearer(mall, "haidian"))
    assert r.status_code == 404
    r = client.get("/api/v1/benefits_mall/dashboard", headers=headers)
    assert r.status_code == 403


def test_demo_builds_last_months_statement(mall: Mall) -> None:
    from unionhub.identity.models import Account
    from unionhub_benefits_mall.models import BenefitsMallSettlement
    from unionhub_benefits_mall.reports.demo import seed

    with mall.app.app_context():
        s = db.session()
        admin = s.get(Account, mall.world.officers["admin"])
        ctx = SimpleNamespace(officers={"admin": admin}, lines=[])
        seed(s, ctx)  # no redemptions last month: nothing
        assert s.scalar(select(BenefitsMallSettlement.id)) is None and ctx.lines == []
        sd = Seeder(mall)
        sd.redeem(mall.coupon_offer_id, bj(2026, 3, 31, 23, 30), mall.store_ids[0])
        sd.redeem(mall.coupon_offer_id, bj(2026, 4, 1, 9), mall.store_ids[0])  # this month
        seed(s, ctx)
        s.commit()
        st = s.scalar(select(BenefitsMallSettlement))
        assert st is not None and (st.period_start, st.period_end) == (date(2026, 3, 1),
                                                                        date(2026, 3, 31))
        assert (st.redemptions, st.amount, st.created_by) == (1, D("50.00"), admin.id)
        assert ctx.lines == ["福利云商结算单: 1 张（2026-03）"]


def test_exports_keep_merchant_text_as_text() -> None:
    """A store or offer named like a formula stays text in both exports (CSV: a leading
    apostrophe; Excel: a string cell, not a formula)."""
    from openpyxl import load_workbook

    from unionhub_benefits_mall.reports import export

    evil = '=HYPERLINK("http://evil.example","点此核对")'
    sheet = export.Sheet("结算单", [("商户", "@SUM(1)")],
                         [(1, "2026-03-01 10:00", "核销", 7, "ABCD", "-1+1", evil, D("5.00"))],
                         [("结算金额（元）", D("5.00"))])
    rows = list(csv.reader(io.StringIO(export.to_csv(sheet).decode("utf-8-sig"))))
    flat = [cell for row in rows for cell in row]
    assert "'" + evil in flat and "'-1+1" in flat and "'@SUM(1)" in flat and evil not in flat
    ws = load_workbook(io.BytesIO(export.to_xlsx(sheet))).active
    cells = [c for row in ws.iter_rows() for c in row if c.value in (evil, "-1+1", "@SUM(1)")]
    assert len(cells) == 3 and all(c.data_type == "s" for c in cells)
