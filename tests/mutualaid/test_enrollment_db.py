"""Enrollment against the database: checks per member, the unit's ratio and shares, fee
statements and payment, renewal, clerk scope, the 参保名单 import and the web pages."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.helpers import PASSWORD, add_member, login, post_form
from tests.mutualaid.conftest import MA

#: "today" for these tests: late in the 2026 plan year the conftest seeds (cover starts on the
#: enrollment date, so the calendar matters)
TODAY = date(2026, 11, 30)


@pytest.fixture(autouse=True)
def _pin_today(monkeypatch: pytest.MonkeyPatch) -> None:
    from unionhub_mutualaid.enrollment import service

    monkeypatch.setattr(service, "today", lambda: TODAY)


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


def test_overlapping_cover_of_another_plan_year_is_refused(ma: MA) -> None:
    """ZDJB's 2025 plan year covers 2025–2027: enrolling in the 2026 one would insure the same
    illness twice."""
    from unionhub_mutualaid.enrollment import service

    with ma.app.app_context():
        s, p = _ctx(ma)
        g1 = ma.world.orgs["g1"]
        first = service.enroll(s, g1, _plan(s, "ZDJB", 2025),
                               [(p["m1"], 2, None), (p["m3"], 2, None)], None,
                               on=date(2024, 12, 1))
        s.commit()
        assert len(first.accepted) == 2
        again = service.enroll(s, g1, _plan(s, "ZDJB", 2026),
                               [(p["m1"], 2, None), (p["m3"], 2, None)], None)
        assert again.accepted == []
        assert {r.reason for r in again.rejected} == {
            "已有 2025 年度重大疾病互助保障，保障至 2027-12-31，保障期重叠，不能重复参保"}
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


def _pay(s: Any, statement_id: int, on: date) -> Any:
    from unionhub_mutualaid.enrollment import service
    from unionhub_mutualaid.models import MutualaidFeeStatement

    st = s.get(MutualaidFeeStatement, statement_id)
    return service.record_payment(s, st.id, service.outstanding(st), on, f"P-{st.id}", None)


def test_renewal_in_grace_keeps_first_enrolled_gap_restarts_waiting(ma: MA) -> None:
    from unionhub_mutualaid.enrollment import service

    with ma.app.app_context():
        s, p = _ctx(ma)
        g1 = ma.world.orgs["g1"]
        entries = [(p["m1"], 1, None), (p["m3"], 1, None)]
        r0 = service.enroll(s, g1, _plan(s, "ZYYL", 2025), entries, None, on=date(2024, 12, 1))
        _pay(s, r0.statement_id, date(2024, 12, 20))
        s.commit()
        old = {c.member_id: c for c in _coverage(s)}
        assert old[p["m1"].id].waiting_until == date(2025, 1, 30)
        old[p["m3"].id].end = date(2025, 10, 31)  # m3's cover ended early: a 61-day gap
        s.commit()
        r = service.enroll(s, g1, _plan(s, "ZYYL", 2026), entries, None, on=date(2025, 12, 1))
        s.commit()
        got = {a.member_id: (a.first_enrolled, a.waiting_until) for a in r.accepted}
        assert got[p["m1"].id] == (date(2025, 1, 1), date(2025, 1, 30))  # no new waiting
        assert got[p["m3"].id] == (date(2026, 1, 1), date(2026, 1, 30))  # restarted


def test_unpaid_prior_year_does_not_make_cover_continuous(ma: MA) -> None:
    from unionhub_mutualaid.enrollment import service

    with ma.app.app_context():
        s, p = _ctx(ma)
        g1 = ma.world.orgs["g1"]
        entries = [(p["m1"], 1, None), (p["m3"], 1, None)]
        r25 = service.enroll(s, g1, _plan(s, "ZYYL", 2025), entries, None, on=date(2024, 12, 1))
        s.commit()  # 2025 left pending_payment: it never covered anybody
        r26 = service.enroll(s, g1, _plan(s, "ZYYL", 2026), entries, None, on=date(2025, 12, 1))
        s.commit()
        assert {(a.first_enrolled, a.waiting_until) for a in r26.accepted} == {
            (date(2026, 1, 1), date(2026, 1, 30))}  # a full waiting period
        # 2025 paid late (cover from 1 March), then 2026 before it starts: now continuous
        _pay(s, r25.statement_id, date(2025, 3, 1))
        _pay(s, r26.statement_id, date(2025, 12, 20))
        s.commit()
        rows = {(c.plan_year, c.start, c.first_enrolled, c.waiting_until, c.status)
                for c in _coverage(s)}
        assert rows == {(2025, date(2025, 3, 1), date(2025, 3, 1), date(2025, 3, 30), "active"),
                        (2026, date(2026, 1, 1), date(2025, 3, 1), date(2025, 3, 30), "active")}


def _claim(s: Any, ma: MA, cov: Any, event: date, number: str) -> Any:
    from unionhub_mutualaid.models import MutualaidClaim

    claim = MutualaidClaim(number=number, member_id=cov.member_id, org_path="/",
                           plan_id=cov.plan_id, program=cov.program, plan_year=cov.plan_year,
                           coverage_id=cov.id, event_date=event,
                           stays=[[event.isoformat(), date(event.year, event.month,
                                                           event.day + 5).isoformat()]],
                           total_amount=Decimal("20000.00"), out_of_pocket=Decimal("12345.61"),
                           submitted_on=date(2026, 11, 20))
    s.add(claim)
    s.flush()
    return claim


def test_cover_starts_no_earlier_than_enrollment_and_payment(ma: MA) -> None:
    from unionhub_mutualaid import decide
    from unionhub_mutualaid.adjudication import Reason
    from unionhub_mutualaid.enrollment import service

    with ma.app.app_context():
        s, p = _ctx(ma)
        g1 = ma.world.orgs["g1"]
        entries = [(p["m1"], 1, None), (p["m3"], 1, None)]
        r = service.enroll(s, g1, _plan(s, "ZYYL", 2026), entries, None, on=date(2026, 6, 1))
        s.commit()
        assert r.start == date(2026, 6, 1)  # enrolled mid-year: not from 1 January
        assert {(c.start, c.first_enrolled, c.waiting_until) for c in _coverage(s)} == {
            (date(2026, 6, 1), date(2026, 6, 1), date(2026, 6, 30))}
        _pay(s, r.statement_id, date(2026, 9, 15))
        s.commit()
        cov = {c.member_id: c for c in _coverage(s)}
        assert {(c.start, c.end, c.first_enrolled, c.waiting_until, c.status)
                for c in cov.values()} == {
            (date(2026, 9, 15), date(2026, 12, 31), date(2026, 9, 15), date(2026, 10, 14),
             "active")}
        mine = cov[p["m1"].id]
        march = decide.evaluate(s, _claim(s, ma, mine, date(2026, 3, 1), "C-MAR"))
        august = decide.evaluate(s, _claim(s, ma, mine, date(2026, 8, 1), "C-AUG"))
        october = decide.evaluate(s, _claim(s, ma, mine, date(2026, 10, 20), "C-OCT"))
        assert march.amount == august.amount == 0
        assert Reason.BEFORE_COVER in march.reasons and Reason.BEFORE_COVER in august.reasons
        assert october.amount > 0  # after the payment and the waiting period: covered
        s.rollback()
        # a term that is over can be neither enrolled in nor paid for
        with pytest.raises(service.EnrollmentError, match="已于 2025-12-31 结束"):
            service.enroll(s, g1, _plan(s, "ZYJT", 2025), entries, None)
        late = service.enroll(s, g1, _plan(s, "ZYJT", 2025), entries, None,
                              on=date(2025, 6, 1))
        with pytest.raises(service.PaymentError, match="晚于保障期结束日 2025-12-31"):
            _pay(s, late.statement_id, date(2026, 1, 10))
        s.rollback()
    member = ma.app.test_client()
    login(member, ma.world.people["m1"].card_number, PASSWORD)
    page = member.get("/mutualaid/").get_data(as_text=True)
    assert "2026-09-15 – 2026-12-31" in page  # the real start, not the term start


def test_late_payment_moves_start_and_can_break_continuity(ma: MA) -> None:
    from unionhub_mutualaid.enrollment import service

    with ma.app.app_context():
        s, p = _ctx(ma)
        g1 = ma.world.orgs["g1"]
        entries = [(p["m1"], 1, None), (p["m3"], 1, None)]
        for program in ("ZYYL", "ZYJT"):
            r = service.enroll(s, g1, _plan(s, program, 2025), entries, None,
                               on=date(2024, 11, 1))
            _pay(s, r.statement_id, date(2024, 12, 1))  # paid before 1 January: from then
        renew = {program: service.enroll(s, g1, _plan(s, program, 2026), entries, None,
                                         on=date(2025, 12, 1)) for program in ("ZYYL", "ZYJT")}
        s.commit()
        assert {c.start for c in _coverage(s) if c.plan_year == 2025} == {date(2025, 1, 1)}
        _pay(s, renew["ZYYL"].statement_id, date(2026, 1, 20))  # 19 days late: within grace
        _pay(s, renew["ZYJT"].statement_id, date(2026, 3, 1))  # 59 days: continuity lost
        s.commit()
        rules = {k: service.plans.rules_of(_plan(s, k, 2026)) for k in ("ZYYL", "ZYJT")}
        got = {(c.program, c.start, c.first_enrolled) for c in _coverage(s)
               if c.plan_year == 2026}
        assert got == {("ZYYL", date(2026, 1, 20), date(2025, 1, 1)),
                       ("ZYJT", date(2026, 3, 1), date(2026, 3, 1))}
        zyjt_wait = {c.waiting_until for c in _coverage(s)
                     if c.plan_year == 2026 and c.program == "ZYJT"}
        days = rules["ZYJT"].waiting.days
        assert zyjt_wait == {date(2026, 3, 1) + timedelta(days=days - 1) if days else None}


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
    assert f"{TODAY} – 2026-12-31" in mine  # enrolled late in the year: cover from then


def test_bad_form_input_is_a_field_error_not_a_500(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid.enrollment import service
    from unionhub_mutualaid.models import MutualaidFeeStatement

    with ma.app.app_context():
        s, p = _ctx(ma)
        plan_id = _plan(s, "ZYYL", 2026).id
        r = service.enroll(s, ma.world.orgs["g1"], _plan(s, "ZYYL", 2026),
                           [(p["m1"], 1, None), (p["m3"], 1, None)], None)
        s.commit()
        st_id = r.statement_id
        ids = [p["m1"].id, p["m3"].id]
    officer = ma.app.test_client()
    login(officer, "reviewer")
    furl = f"/mutualaid/fees/{st_id}"
    for raw, message in [("Infinity", "不是有效金额"), ("-Infinity", "不是有效金额"),
                         ("sNaN", "不是有效金额"), ("NaN", "不是有效金额"),
                         ("1e30", "不能超过 100,000,000 元"), ("120.001", "最多两位小数"),
                         ("-120", "须大于 0"), ("abc", "不是有效金额")]:
        res = post_form(officer, furl, {"amount": raw, "paid_on": "2026-11-01",
                                        "reference": "BANK-1"})
        assert res.status_code == 200, raw
        assert message in res.get_data(as_text=True), raw
    with ma.app.app_context():
        s = db.session()
        st = s.get(MutualaidFeeStatement, st_id)
        assert (st.status, st.amount_paid) == ("open", Decimal("0.00"))
        assert {c.status for c in _coverage(s)} == {"pending_payment"}
    # "²".isdigit() is true but int("²") fails; a 20-digit id overflows an INTEGER
    clerk = ma.app.test_client()
    login(clerk, "clerk")
    g1 = ma.world.org_id("g1")
    url = f"/mutualaid/enroll/new?unit={g1}&plan={plan_id}"
    res = post_form(clerk, url, {"unit": g1, "plan": plan_id, "member_id": ids, "shares": "²"},
                    form_url=url)
    assert res.status_code == 200 and "份数：请填写正整数" in res.get_data(as_text=True)
    res = post_form(clerk, url, {"unit": g1, "plan": plan_id, "shares": "1",
                                 "member_id": ["²", "99999999999999999999"]}, form_url=url)
    assert res.status_code == 200 and "请至少勾选一名会员" in res.get_data(as_text=True)
    for bad in ("²", "99999999999999999999"):
        assert clerk.get(f"/mutualaid/enroll?unit={g1}&year={bad}").status_code == 200
        assert clerk.get(f"/mutualaid/enroll/new?unit={g1}&plan={bad}").status_code == 200
        assert clerk.get(f"/mutualaid/enroll?unit={bad}").status_code == 200  # first unit
    assert officer.get("/mutualaid/fees?year=99999999999999999999").status_code == 200


def test_member_list_pages_neither_repeat_nor_skip(ma: MA) -> None:
    from unionhub_mutualaid.enrollment import service

    with ma.app.app_context():
        s, p = _ctx(ma)
        b1 = s.get(type(ma.world.orgs["b1"]), ma.world.org_id("b1"))
        twins = [s.get(type(p["m1"]), add_member(b1, "张伟").member_id) for _ in range(3)]
        r = service.enroll(s, ma.world.orgs["g1"], _plan(s, "ZYYL", 2026),
                           [(m, 1, None) for m in (p["m1"], p["m3"], *twins)], None)
        s.commit()
        assert len(r.accepted) == 5
        masked = sorted(m.id_number_masked for m in (p["m1"], p["m3"], *twins))
        assert len(set(masked)) == 5
    ma.app.config["PAGE_SIZE"] = 2
    clerk = ma.app.test_client()
    login(clerk, "clerk")
    seen: list[str] = []
    for page in (1, 2, 3):
        html = clerk.get(f"/mutualaid/enroll?unit={ma.world.org_id('g1')}&page={page}"
                         ).get_data(as_text=True)
        seen += [m for m in masked if f'class="mono">{m}<' in html]
    assert sorted(seen) == masked


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


def _import(ma: MA, path: Path, year: int = 2026) -> tuple[Any, dict[str, int]]:
    from unionhub import db
    from unionhub.imports import engine
    from unionhub.imports.models import ImportBatch

    s = db.session()
    batch = engine.create_batch(s, ma.app, "mutualaid.enrollment", path, path.name,
                                ma.world.officers["clerk"],
                                params={"unit_org_id": ma.world.org_id("g1"), "plan_year": year})
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
        assert {(c.start, c.first_enrolled) for c in cov} == {(TODAY, TODAY)}  # not 1 January
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


def test_import_for_an_ended_term_rejects_rows(ma: MA, tmp_path: Path) -> None:
    with ma.app.app_context():
        w = ma.world.people
        path = tmp_path / "late.csv"
        path.write_text("身份证号,姓名,项目代码,份数\n" f"{w['m1'].id_number},张伟,ZYYL,1\n"
                        f"{w['m3'].id_number},王芳,ZYYL,1\n", encoding="utf-8")
        (preview, errors), applied = _import(ma, path, 2025)
        assert {e[:2] for e in errors} == {(2, "项目代码"), (3, "项目代码")}
        assert "已于 2025-12-31 结束" in errors[0][2]
        assert preview["new"] == 0 and applied["created"] == 0


def test_demo_seeding_enrolls_agent_offices_and_pays_most(
        ma: MA, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    from unionhub_mutualaid.enrollment import service

    monkeypatch.setattr(service, "today", date.today)  # the demo seeds the real calendar

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
        # enrolled and paid before each plan year: paid cover starts on 1 January
        active = [c for c in cov if c.status == "active"]
        assert active and all(c.start == date(c.plan_year, 1, 1) for c in active)
        assert ctx.lines and "互助保障参保" in ctx.lines[0]


def test_upload_page_starts_an_import_for_the_unit_and_year(ma: MA, tmp_path: Path) -> None:
    from unionhub import db
    from unionhub.imports.models import ImportBatch

    client = ma.app.test_client()
    login(client, "clerk")
    url = f"/mutualaid/enroll/import?unit={ma.world.org_id('g1')}"
    path = _write(ma, tmp_path, "bom")
    with path.open("rb") as fh:
        r = post_form(client, url, {"plan_year": "2026", "file": (fh, path.name)},
                      content_type="multipart/form-data")
    assert r.status_code == 302 and "/imports/" in r.headers["Location"]
    with path.open("rb") as fh:  # a file that is not CSV/XLSX is refused with a message
        r = post_form(client, url, {"plan_year": "2026", "file": (fh, "名单.txt")},
                      content_type="multipart/form-data", follow_redirects=True)
    assert "只支持 CSV 或 XLSX 文件" in r.get_data(as_text=True)
    ma.app.extensions["jobs_transport"].drain()
    with ma.app.app_context():
        batch = db.session().scalars(select(ImportBatch)).one()
        assert batch.handler == "mutualaid.enrollment" and batch.status == "ready"
        assert (batch.params["unit_org_id"], batch.params["plan_year"]) == (
            ma.world.org_id("g1"), 2026)
