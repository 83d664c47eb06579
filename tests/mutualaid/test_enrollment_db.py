"""Enrollment against the database: checks per member, the unit's ratio and shares, fee
statements and payment, renewal, clerk scope, the 参保名单 import and the web pages."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.helpers import PASSWORD, add_member, login, post_form
from tests.mutualaid.conftest import MA


def _ctx(ma: MA) -> tuple[Any, dict[str, Any]]:
    from unionhub import db
    from unionhub.identity.models import Member

    s = db.session()
    people = {k: s.get(Member, p.member_id) for k, p in ma.world.people.items()}
    return s, people


def _plan(s: Any, program: str, year: int) -> Any:
    from unionhub_mutualaid import plans

    plan = plans.current(s, program, year)
    assert plan is not None
    return plan


def _coverage(s: Any) -> list[Any]:
    from unionhub_mutualaid.models import MutualaidCoverage

    return list(s.scalars(select(MutualaidCoverage).order_by(MutualaidCoverage.id)))


def test_double_enrollment_refused_also_through_another_unit(ma: MA) -> None:
    from sqlalchemy.exc import IntegrityError

    from unionhub_mutualaid.enrollment import service
    from unionhub_mutualaid.models import MutualaidCoverage

    with ma.app.app_context():
        s, p = _ctx(ma)
        g1, g2 = ma.world.orgs["g1"], ma.world.orgs["g2"]
        plan = _plan(s, "ZYYL", 2026)
        r = service.enroll(s, g1, plan, [(p["m1"], 1, None), (p["m3"], 1, None),
                                         (p["m1"], 1, None)], None)
        s.commit()
        assert [a.member_id for a in r.accepted] == [p["m1"].id, p["m3"].id]
        assert r.rejected[0].reason == "与第 1 条重复"
        again = service.enroll(s, g1, plan, [(p["m1"], 1, None)], None)
        assert (again.accepted, again.unchanged) == ([], 1)  # same unit, same shares: no-op
        # m1 changes job to g2: enrolling there is refused, naming the first unit
        p["m1"].org_id = g2.id
        s.commit()
        s.expire_all()
        moved = service.enroll(s, g2, plan, [(s.get(type(p["m1"]), p["m1"].id), 1, None)],
                               None)
        assert moved.accepted == []
        assert moved.rejected[0].reason == ("已在「电控工会」参保 2026 年度住院医疗互助保障，"
                                            "不能重复参保")
        # the unique constraint is the last line of defence
        with pytest.raises(IntegrityError), s.begin_nested():
            s.add(MutualaidCoverage(member_id=p["m1"].id, plan_id=plan.id, program="ZYYL",
                                    plan_year=2026, unit_org_id=g2.id,
                                    start=date(2026, 1, 1), end=date(2026, 12, 31)))
            s.flush()
        assert len(_coverage(s)) == 2


def test_ngtj_refuses_men_and_dues_programs_cannot_be_enrolled(ma: MA) -> None:
    from unionhub_mutualaid.enrollment import service

    with ma.app.app_context():
        s, p = _ctx(ma)
        p["m1"].sex, p["m3"].sex = "M", "F"
        s.commit()
        g1 = ma.world.orgs["g1"]
        r = service.enroll(s, g1, _plan(s, "NGTJ", 2026), [(p["m1"], 1, None),
                                                          (p["m3"], 1, None)], None)
        assert [x.reason for x in r.rejected] == ["本项目仅限女性会员"]
        assert [a.member_id for a in r.accepted] == [p["m3"].id]
        assert (r.headcount, r.eligible) == (1, 1)  # the ratio counts the unit's women
        with pytest.raises(service.EnrollmentError, match="会费保障"):
            service.enroll(s, g1, _plan(s, "ECBX", 2026), [(p["m1"], 1, None)], None)


def test_same_shares_across_the_unit(ma: MA) -> None:
    from unionhub_mutualaid.enrollment import service
    from unionhub_mutualaid.models import MutualaidFeeStatement

    with ma.app.app_context():
        s, p = _ctx(ma)
        g1 = ma.world.orgs["g1"]
        plan = _plan(s, "ZDJB", 2026)
        r = service.enroll(s, g1, plan, [(p["m1"], 2, None), (p["m3"], 2, None)], None)
        s.commit()
        assert len(r.accepted) == 2 and r.accepted[0].fee == Decimal("180.00")
        b1 = s.get(type(ma.world.orgs["b1"]), ma.world.org_id("b1"))  # this session's Org
        newcomer = add_member(b1, "赵敏")
        m4 = s.get(type(p["m1"]), newcomer.member_id)
        r2 = service.enroll(s, g1, plan, [(m4, 3, None)], None)
        assert r2.accepted == []
        assert r2.rejected[0].reason == "同一单位须参保相同份数：本单位为 2 份，本人为 3 份"
        r3 = service.enroll(s, g1, plan, [(m4, 2, None)], None)
        s.commit()
        assert len(r3.accepted) == 1
        st = s.get(MutualaidFeeStatement, r3.statement_id)
        assert (st.headcount, st.shares, st.amount_due) == (3, 6, Decimal("540.00"))


def test_participation_ratio_refuses_the_whole_batch(ma: MA) -> None:
    from unionhub_mutualaid.enrollment import service

    with ma.app.app_context():
        s, p = _ctx(ma)
        with pytest.raises(service.EnrollmentError) as exc:
            service.enroll(s, ma.world.orgs["g1"], _plan(s, "ZYYL", 2026),
                           [(p["m1"], 1, None)], None)
        assert "在会会员 2 人，参保 1 人" in str(exc.value) and "80%" in str(exc.value)
        s.rollback()
        assert _coverage(s) == []


def test_clerk_scope(ma: MA) -> None:
    from unionhub.identity.models import Account
    from unionhub_mutualaid.enrollment import service

    with ma.app.app_context():
        s, p = _ctx(ma)
        clerk = s.get(Account, ma.world.officers["clerk"])
        plan = _plan(s, "ZYYL", 2026)
        with pytest.raises(service.EnrollmentError, match="无权"):
            service.enroll(s, ma.world.orgs["g2"], plan, [(p["m2"], 1, None)], clerk)
        r = service.enroll(s, ma.world.orgs["g1"], plan,
                           [(p["m2"], 1, None), (p["m1"], 1, None), (p["m3"], 1, None)], clerk)
        s.commit()
        assert [x.reason for x in r.rejected] == ["不属于本单位（电控工会）"]
        assert {a.member_id for a in r.accepted} == {p["m1"].id, p["m3"].id}  # m3: branch b1
        assert all(c.enrolled_by == clerk.id for c in _coverage(s))
    client = ma.app.test_client()
    login(client, "clerk")
    assert client.get(f"/mutualaid/enroll?unit={ma.world.org_id('g2')}").status_code == 404
    page = client.get(f"/mutualaid/enroll?unit={ma.world.org_id('g1')}").get_data(as_text=True)
    assert "张伟" in page and "王芳" in page and "李娜" not in page


def test_renewal_in_grace_keeps_first_enrolled_gap_restarts_waiting(ma: MA) -> None:
    from unionhub_mutualaid.enrollment import service

    with ma.app.app_context():
        s, p = _ctx(ma)
        g1 = ma.world.orgs["g1"]
        entries = [(p["m1"], 1, None), (p["m3"], 1, None)]
        service.enroll(s, g1, _plan(s, "ZYYL", 2025), entries, None)
        s.commit()
        old = {c.member_id: c for c in _coverage(s)}
        assert old[p["m1"].id].waiting_until == date(2025, 1, 30)
        old[p["m3"].id].end = date(2025, 10, 31)  # m3's cover ended early: a 61-day gap
        s.commit()
        r = service.enroll(s, g1, _plan(s, "ZYYL", 2026), entries, None)
        s.commit()
        got = {a.member_id: (a.first_enrolled, a.waiting_until) for a in r.accepted}
        assert got[p["m1"].id] == (date(2025, 1, 1), date(2025, 1, 30))  # no new waiting
        assert got[p["m3"].id] == (date(2026, 1, 1), date(2026, 1, 30))  # restarted


def test_web_enroll_pay_and_member_sees_cover(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid.models import MutualaidFeeStatement

    with ma.app.app_context():
        s, p = _ctx(ma)
        plan_id = _plan(s, "ZYYL", 2026).id
        ids = [p["m1"].id, p["m3"].id]
    g1 = ma.world.org_id("g1")
    clerk = ma.app.test_client()
    login(clerk, "clerk")
    url = f"/mutualaid/enroll/new?unit={g1}&plan={plan_id}"
    form = clerk.get(url).get_data(as_text=True)
    assert "张伟" in form and "王芳" in form and "李娜" not in form
    res = post_form(clerk, url, {"unit": g1, "plan": plan_id, "member_id": ids, "shares": "1"})
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and "参保结果" in html and "待缴费" in html
    with ma.app.app_context():
        s = db.session()
        st = s.scalar(select(MutualaidFeeStatement))
        assert (st.headcount, st.amount_due, st.status) == (2, Decimal("120.00"), "open")
        assert {c.status for c in _coverage(s)} == {"pending_payment"}
        st_id = st.id
    assert clerk.get(f"/mutualaid/fees/{st_id}").status_code == 403  # clerk: no fees.manage
    officer = ma.app.test_client()
    login(officer, "reviewer")
    furl = f"/mutualaid/fees/{st_id}"
    assert "电控工会" in officer.get("/mutualaid/fees").get_data(as_text=True)
    bad = post_form(officer, furl, {"amount": "100", "paid_on": "2026-01-05",
                                    "reference": "BANK-1"}).get_data(as_text=True)
    assert "缴费金额 100.00 元与应缴金额 120.00 元不符" in bad
    with ma.app.app_context():
        s = db.session()
        assert s.get(MutualaidFeeStatement, st_id).status == "open"
        assert {c.status for c in _coverage(s)} == {"pending_payment"}
    ok = post_form(officer, furl, {"amount": "120.00", "paid_on": "2026-01-05",
                                   "reference": "BANK-1"}, follow_redirects=True)
    assert "已缴费" in ok.get_data(as_text=True)
    with ma.app.app_context():
        s = db.session()
        st = s.get(MutualaidFeeStatement, st_id)
        assert (st.status, st.amount_paid, st.payment_ref) == ("paid", Decimal("120.00"),
                                                                "BANK-1")
        assert {c.status for c in _coverage(s)} == {"active"}
        from unionhub.audit.models import AuditLog

        actions = set(s.scalars(select(AuditLog.action)))
        assert {"mutualaid.enroll", "mutualaid.fees.pay"} <= actions
    member = ma.app.test_client()
    login(member, ma.world.people["m1"].card_number, PASSWORD)
    mine = member.get("/mutualaid/").get_data(as_text=True)
    assert "住院医疗互助保障" in mine and "电控工会" in mine


# -- import ---------------------------------------------------------------------------------------

HEADER = ["身份证号", "京卡卡号", "姓名", "项目代码", "份数", "档次", "备注"]


def _rows(ma: MA) -> list[list[str]]:
    w = ma.world.people
    return [
        [w["m1"].id_number, "", "张伟", "ZYYL", "1", "", ""],  # line 2: ok
        ["", w["m3"].card_number, "王芳", "zyyl", "1", "", ""],  # line 3: ok, by card
        [w["m2"].id_number, "", "李娜", "ZYYL", "1", "", ""],  # line 4: not in unit
        [w["m1"].id_number, "", "张三", "YWSH", "1", "50", ""],  # line 5: wrong name
        ["", "", "王五", "ZYYL", "1", "", ""],  # line 6: no number
        [w["m1"].id_number, "", "张伟", "ABCD", "1", "", ""],  # line 7: unknown program
        [w["m1"].id_number, "", "张伟", "ECBX", "1", "", ""],  # line 8: dues program
        [w["m1"].id_number, "", "张伟", "YWSH", "1", "60", ""],  # line 9: bad tier
        ["110105199005170000", "", "某人", "ZYYL", "1", "", ""],  # line 10: bad check digit
        [w["m3"].id_number, "", "王芳", "YWSH", "1", "50", ""],  # line 11: ok
    ]


def _write(ma: MA, tmp: Path, kind: str) -> Path:
    rows = [HEADER, *_rows(ma)]
    if kind == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        for row in rows:
            # numbers as text cells, shares as a number cell (what Excel users send)
            ws.append([int(v) if i == 4 and v.isdigit() else v for i, v in enumerate(row)])
        path = tmp / "参保名单.xlsx"
        wb.save(path)
        return path
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path = tmp / "参保名单.csv"
    path.write_bytes(buf.getvalue().encode("utf-8-sig" if kind == "bom" else "gbk"))
    return path


def _import(ma: MA, path: Path) -> tuple[Any, dict[str, int]]:
    from unionhub import db
    from unionhub.imports import engine
    from unionhub.imports.models import ImportBatch

    s = db.session()
    batch = engine.create_batch(s, ma.app, "mutualaid.enrollment", path, path.name,
                                ma.world.officers["clerk"],
                                params={"unit_org_id": ma.world.org_id("g1"), "plan_year": 2026})
    s.commit()
    engine.stage(ma.app, batch.id, lambda *a, **k: None)
    s.expire_all()
    staged = s.get(ImportBatch, batch.id)
    preview = dict(staged.preview)
    errors = [tuple(e) for e in staged.sample_errors]
    applied = engine.apply(ma.app, batch.id, lambda *a, **k: None)
    s.expire_all()
    return (preview, errors), applied


@pytest.mark.parametrize("kind", ["bom", "gbk", "xlsx"])
def test_import_enrollment_list(ma: MA, tmp_path: Path, kind: str) -> None:
    from unionhub_mutualaid.models import MutualaidFeeStatement

    with ma.app.app_context():
        s, p = _ctx(ma)
        path = _write(ma, tmp_path, kind)
        (preview, errors), applied = _import(ma, path)
        cols = {(line, col) for line, col, _r in errors}
        assert cols == {(4, "姓名"), (5, "姓名"), (6, "身份证号"), (7, "项目代码"),
                        (8, "项目代码"), (9, "档次"), (10, "身份证号")}, errors
        reasons = {line: r for line, _c, r in errors}
        assert reasons[4] == "不属于本单位（电控工会）"
        assert reasons[5] == "与会员登记的姓名不符"
        assert preview["new"] == 3 and preview["unchanged"] == 0 and preview["rejected"] == 7
        assert applied["created"] == 3
        cov = _coverage(s)
        assert {(c.member_id, c.program, c.tier, c.source) for c in cov} == {
            (p["m1"].id, "ZYYL", None, "import"), (p["m3"].id, "ZYYL", None, "import"),
            (p["m3"].id, "YWSH", "50", "import")}
        dues = {st.program: st.amount_due for st in s.scalars(select(MutualaidFeeStatement))}
        assert dues == {"ZYYL": Decimal("120.00"), "YWSH": Decimal("50.00")}
        # the same file again changes nothing
        (preview2, _errors2), applied2 = _import(ma, path)
        assert (preview2["new"], preview2["unchanged"]) == (0, 3)
        assert applied2["created"] == 0
        assert s.scalar(select(func.count()).select_from(type(cov[0]))) == 3
        assert {st.amount_due for st in s.scalars(select(MutualaidFeeStatement))} == {
            Decimal("120.00"), Decimal("50.00")}


def test_import_below_ratio_rejects_rows(ma: MA, tmp_path: Path) -> None:
    with ma.app.app_context():
        w = ma.world.people
        path = tmp_path / "one.csv"
        path.write_text("身份证号,姓名,项目代码,份数\n" f"{w['m1'].id_number},张伟,ZYYL,1\n",
                        encoding="utf-8")
        (preview, errors), applied = _import(ma, path)
        assert errors and errors[0][0:2] == (2, "项目代码") and "参保 1 人" in errors[0][2]
        assert preview["new"] == 0 and applied["created"] == 0


def test_demo_seeding_enrolls_agent_offices_and_pays_most(ma: MA) -> None:
    import random

    from unionhub.demo import DemoContext
    from unionhub.orgs.models import Org
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.enrollment import demo
    from unionhub_mutualaid.models import MutualaidFeeStatement

    with ma.app.app_context():
        s, p = _ctx(ma)
        year = date.today().year
        plans.seed(s, (year - 1, year))
        ctx = DemoContext(rng=random.Random(1), orgs={o.code: s.get(Org, o.id)
                                                      for o in ma.world.orgs.values()},
                          member_ids=[x.id for x in p.values()], officers={})
        demo.seed(s, ctx)
        s.commit()
        cov = _coverage(s)
        assert {c.unit_org_id for c in cov} == {ma.world.org_id("g1")}  # the agent office
        assert {c.program for c in cov} >= {"ZYYL", "ZYJT", "YWSH"}
        assert {c.plan_year for c in cov} == {year - 1, year}
        sts = list(s.scalars(select(MutualaidFeeStatement)))
        assert sts and all(st.plan_year == year for st in sts if st.status == "open")
        assert ctx.lines and "互助保障参保" in ctx.lines[0]
