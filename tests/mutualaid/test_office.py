"""互助统计: figures scoped in SQL to the viewer's subtree, exact on a hand-made data set;
the dashboard page (SVG charts, org selector), the clerk's unit page and the officer widget."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from tests.helpers import login
from tests.mutualaid.conftest import MA

TODAY = date(2026, 11, 30)
D = Decimal


def _seed(ma: MA) -> None:
    """Coverage, fee statements, claims and payouts in g1/b1 (under d1) and g2 (under d2)."""
    from unionhub import db
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.models import (
        MutualaidClaim,
        MutualaidCoverage,
        MutualaidFeeStatement,
        MutualaidPayout,
    )

    s = db.session()
    w = ma.world
    org = {k: w.orgs[k] for k in ("g1", "g2", "b1")}
    path = {k: s.merge(o).path for k, o in org.items()}
    mid = {k: w.people[k].member_id for k in ("m1", "m2", "m3")}
    plan = {(p, y): plans.current(s, p, y).id for p in ("ZYYL", "ZYJT") for y in (2025, 2026)}

    def cover(m: str, unit: str, program: str, shares: int, fee: str, status: str) -> None:
        s.add(MutualaidCoverage(member_id=mid[m], plan_id=plan[(program, 2026)], program=program,
                                plan_year=2026, unit_org_id=org[unit].id, shares=shares,
                                start=date(2026, 1, 1), end=date(2026, 12, 31), fee=D(fee),
                                status=status))

    cover("m1", "g1", "ZYYL", 2, "100.00", "active")
    cover("m3", "b1", "ZYYL", 1, "50.00", "pending_payment")
    cover("m1", "g1", "ZYJT", 1, "30.50", "active")
    cover("m2", "g2", "ZYYL", 3, "150.00", "active")
    for unit, program, due, paid in (("g1", "ZYYL", "100.00", "100.00"),
                                     ("b1", "ZYYL", "50.00", "0.00"),
                                     ("g1", "ZYJT", "30.50", "30.50"),
                                     ("g2", "ZYYL", "150.00", "150.00")):
        s.add(MutualaidFeeStatement(unit_org_id=org[unit].id, plan_id=plan[(program, 2026)],
                                    program=program, plan_year=2026, amount_due=D(due),
                                    amount_paid=D(paid)))

    claims: list[tuple[str, str, str, date, str, str | None, date | None, date | None]] = [
        # number, member, unit, submitted, status, amount, due_on, paid_on
        ("C1", "m1", "g1", date(2026, 3, 5), "paid", "1000.00", date(2026, 3, 20),
         date(2026, 3, 18)),
        ("C2", "m3", "b1", date(2026, 3, 10), "paid", "500.50", date(2026, 3, 24),
         date(2026, 3, 30)),
        ("C3", "m1", "g1", date(2026, 5, 2), "approved", "200.00", date(2026, 5, 16), None),
        ("C4", "m3", "b1", date(2026, 11, 20), "submitted", None, date(2026, 12, 4), None),
        ("C5", "m1", "g1", date(2026, 6, 1), "rejected", None, date(2026, 6, 10), None),
        ("C6", "m1", "g1", date(2025, 12, 15), "paid", "300.00", date(2026, 1, 6),
         date(2026, 1, 5)),
        ("C7", "m1", "g1", date(2025, 11, 15), "submitted", None, date(2025, 11, 29), None),
        ("C8", "m2", "g2", date(2026, 3, 7), "paid", "9999.00", date(2026, 3, 20),
         date(2026, 4, 30)),
        ("C9", "m2", "g2", date(2026, 1, 1), "submitted", None, date(2026, 1, 15), None),
    ]
    for number, m, unit, submitted, status, amount, due, paid_on in claims:
        year = submitted.year
        s.add(MutualaidClaim(number=number, member_id=mid[m], org_path=path[unit],
                             plan_id=plan[("ZYYL", year)], program="ZYYL", plan_year=year,
                             event_date=submitted, submitted_on=submitted, status=status,
                             amount=D(amount) if amount else None, due_on=due, paid_on=paid_on))
    payouts: list[tuple[int, str, str, str, str, date | None, bool | None]] = [
        (1, "m1", "g1", "1000.00", "paid", date(2026, 3, 18), True),
        (2, "m3", "b1", "500.50", "paid", date(2026, 3, 30), False),
        (3, "m1", "g1", "300.00", "paid", date(2026, 1, 5), True),
        (4, "m1", "g1", "200.00", "pending", None, None),
        (5, "m3", "b1", "80.00", "payee_needed", None, None),
        (6, "m1", "g1", "70.00", "paid", date(2025, 12, 20), True),  # last year: not counted
        (7, "m2", "g2", "9999.00", "paid", date(2026, 4, 30), True),
        (8, "m2", "g2", "10.00", "batched", None, None),
    ]
    for source_id, m, unit, amount, status, paid_on, first in payouts:
        s.add(MutualaidPayout(member_id=mid[m], org_path=path[unit], source="claim",
                              source_id=source_id, program="ZYYL", amount=D(amount),
                              summary="互助金-住院医疗", status=status, paid_on=paid_on,
                              paid_first_batch=first))
    s.commit()


@pytest.fixture
def seeded(ma: MA) -> MA:
    with ma.app.app_context():
        _seed(ma)
    return ma


def _figures(ma: MA, officer: str, org_key: str | None = None) -> Any:
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_mutualaid.office import stats

    s = db.session()
    account = s.get(Account, ma.world.officers[officer])
    org = s.merge(ma.world.orgs[org_key]) if org_key else None
    return stats.dashboard(s, stats.Scope(account, org), 2026, TODAY)


def test_district_officer_sees_only_own_subtree(seeded: MA) -> None:
    with seeded.app.test_request_context():
        d = _figures(seeded, "chaoyang")
        by_program = {p.program: p for p in d.programs}
        zyyl, zyjt = by_program["ZYYL"], by_program["ZYJT"]
        assert (zyyl.headcount, zyyl.active, zyyl.shares) == (2, 1, 3)
        assert (zyyl.fees_due, zyyl.fees_paid) == (D("150.00"), D("100.00"))
        assert (zyjt.headcount, zyjt.shares, zyjt.fees_due, zyjt.fees_paid) == (
            1, 1, D("30.50"), D("30.50"))
        assert isinstance(zyyl.fees_due, Decimal)
        assert [(u.name, u.headcount) for u in d.units] == [("电控工会", 2), ("京东方分会", 1)]

        c = d.claims
        assert c.months[0] == (2025, 12) and c.months[-1] == (2026, 11) and len(c.months) == 12
        assert c.count((2025, 12), "paid") == 1 and c.amount((2025, 12)) == D("300.00")
        assert c.count((2026, 3), "paid") == 2 and c.amount((2026, 3)) == D("1500.50")
        assert c.count((2026, 5), "approved") == 1 and c.amount((2026, 5)) == D("200.00")
        assert c.count((2026, 6), "rejected") == 1 and c.amount((2026, 6)) == D("0.00")
        assert c.count((2026, 11), "submitted") == 1
        assert c.total == 6  # C7 (Nov 2025) is outside the window; g2's C8/C9 out of scope

        payouts = {p.status: (p.count, p.amount) for p in d.payouts}
        assert payouts == {"pending": (1, D("200.00")), "batched": (0, D("0.00")),
                           "payee_needed": (1, D("80.00")), "paid": (3, D("1800.50"))}
        assert (d.sla.paid, d.sla.on_time, d.sla.overdue) == (3, 2, 2)
        assert d.sla.fraction == Fraction(2, 3) and d.sla.percent == D("66.7")
        assert (d.direct.first_batch, d.direct.paid) == (2, 3)
        assert d.direct.fraction == Fraction(2, 3)
        assert d.waiting_review == 2  # C4, C7


def test_city_officer_sees_everything(seeded: MA) -> None:
    with seeded.app.test_request_context():
        d = _figures(seeded, "city")
        zyyl = {p.program: p for p in d.programs}["ZYYL"]
        assert (zyyl.headcount, zyyl.shares, zyyl.fees_due, zyyl.fees_paid) == (
            3, 6, D("300.00"), D("250.00"))
        assert d.claims.count((2026, 3), "paid") == 3
        assert d.claims.amount((2026, 3)) == D("11499.50")
        payouts = {p.status: (p.count, p.amount) for p in d.payouts}
        assert payouts["paid"] == (4, D("11799.50")) and payouts["batched"] == (1, D("10.00"))
        assert d.sla.fraction == Fraction(2, 4) and d.sla.overdue == 3
        assert d.direct.fraction == Fraction(3, 4) and d.direct.percent == D("75.0")
        assert d.waiting_review == 3
        # Narrowed to one org inside the scope: b1 only (m3).
        b1 = _figures(seeded, "city", "b1")
        assert [(p.program, p.headcount) for p in b1.programs] == [("ZYYL", 1)]
        assert b1.direct.fraction == Fraction(0, 1) and b1.direct.paid == 1
        assert {p.status: p.count for p in b1.payouts}["payee_needed"] == 1


def test_haidian_sees_nothing_of_d1(seeded: MA) -> None:
    with seeded.app.test_request_context():
        d = _figures(seeded, "haidian")
        assert [(p.program, p.headcount) for p in d.programs] == [("ZYYL", 1)]
        assert d.claims.count((2026, 3)) == 1 and d.claims.amount((2026, 3)) == D("9999.00")
        assert d.direct.fraction == Fraction(1, 1)


def test_dashboard_page_scoped_with_svg(seeded: MA) -> None:
    client = seeded.app.test_client()
    login(client, "chaoyang")
    r = client.get("/mutualaid/office?year=2026")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<svg" in html and "<title" in html and 'viewBox="' in html
    assert "1800.50" in html  # d1's paid payouts
    assert "9999" not in html and "11799.50" not in html and "软件园工会" not in html
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]

    client = seeded.app.test_client()
    login(client, "city")
    html = client.get("/mutualaid/office?year=2026").get_data(as_text=True)
    assert "11799.50" in html and "软件园工会" in html


def test_org_selector_limited_to_scope(seeded: MA) -> None:
    client = seeded.app.test_client()
    login(client, "chaoyang")
    g2, b1 = seeded.world.org_id("g2"), seeded.world.org_id("b1")
    assert client.get(f"/mutualaid/office?org_id={g2}").status_code == 404
    assert client.get("/mutualaid/office?org_id=x").status_code == 404
    html = client.get("/mutualaid/office").get_data(as_text=True)
    assert f'value="{b1}"' in html and f'value="{g2}"' not in html
    html = client.get(f"/mutualaid/office?year=2026&org_id={b1}").get_data(as_text=True)
    assert "500.50" in html and "1800.50" not in html
    # An unknown year falls back to the current one with a message, never a crash.
    assert client.get("/mutualaid/office?year=1800").status_code == 200


def test_member_is_refused(seeded: MA) -> None:
    client = seeded.app.test_client()
    login(client, seeded.world.people["m1"].card_number)
    assert client.get("/mutualaid/office").status_code == 403
    assert client.get("/mutualaid/office/unit").status_code == 403


def test_clerk_unit_home(seeded: MA) -> None:
    client = seeded.app.test_client()
    login(client, "clerk")
    r = client.get("/mutualaid/office/unit?year=2026")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "电控工会" in html and "1800.50" in html and "9999" not in html
    assert "<svg" in html


def test_widget_on_officer_board(seeded: MA) -> None:
    client = seeded.app.test_client()
    login(client, "chaoyang")
    html = client.get("/office/").get_data(as_text=True)
    widget = html.split("互助保障概况", 1)[1].split("</section>", 1)[0]
    assert "待审核理赔" in widget and "京卡直赔率" in widget
    assert 'href="/mutualaid/office"' in widget
    client = seeded.app.test_client()
    login(client, seeded.world.people["m1"].card_number)
    assert "互助保障概况" not in client.get("/office/").get_data(as_text=True)


def test_widget_numbers(seeded: MA) -> None:
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_mutualaid.office import stats

    with seeded.app.test_request_context():
        s = db.session()
        account = s.get(Account, seeded.world.officers["chaoyang"])
        h = stats.headline(s, stats.Scope(account), TODAY)
        assert (h.waiting_review, h.overdue) == (2, 2)
        assert h.direct_pay.fraction == Fraction(2, 3)


def test_charts_are_accessible_svg() -> None:
    from flask import Flask
    from flask_babel import Babel

    from unionhub.web import charts

    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        bars = [charts.Bar("甲", 3), charts.Bar("乙", 1)]
        svg = str(charts.bars("k", "标题<", "说明", bars))
        assert svg.startswith("<svg") and '<title id="k-t">标题&lt;</title>' in svg
        assert 'width="100%"' in svg and 'aria-labelledby="k-t k-d"' in svg
        assert "暂无数据" in str(charts.bars("e", "t", "d", []))
        g = str(charts.gauge("g", "t", "d", D("66.7"), "率"))
        assert 'stroke-dasharray="66.7 33.3"' in g and "66.7%" in g
        cols = str(charts.columns("c", "t", "d", ["1月", "2月"],
                                  [charts.Series("a", [1, 0]), charts.Series("b", [2, 0])],
                                  stacked=True))
        assert cols.count("<rect") == 4  # two segments + two legend keys
