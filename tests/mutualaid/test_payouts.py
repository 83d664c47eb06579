"""京卡直赔: bank batches, bank files, return files, payee-needed, rates, the member's view."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.helpers import login, new_card_number, post_form
from tests.mutualaid.conftest import MA

BATCHES = "/mutualaid/payouts/batches"


def _queue(ma: MA, person: str, amount: str, source_id: int, *, source: str = "ecbx",
           program: str = "ECBX") -> int:
    from unionhub import db
    from unionhub.identity.models import Member
    from unionhub_mutualaid import payables

    s = db.session()
    member = s.get(Member, ma.world.people[person].member_id)
    payout = payables.queue(s, member=member, source=source, source_id=source_id,
                            program=program, amount=Decimal(amount),
                            summary=payables.summary(program))
    s.commit()
    return payout.id


def _approved_claim(ma: MA, person: str = "m1", amount: str = "1234.56", n: int = 0
                    ) -> tuple[int, int]:
    """A claim in status approved with its payout queued, as decide.approve leaves it."""
    from unionhub import db
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.models import MutualaidClaim

    s = db.session()
    plan = plans.current(s, "ZYYL", 2026)
    assert plan is not None
    claim = MutualaidClaim(number=f"C-{person}-{n}", member_id=ma.world.people[person].member_id,
                           org_path="/", plan_id=plan.id, program="ZYYL", plan_year=2026,
                           event_date=date(2026, 3, 1), submitted_on=date(2026, 3, 20),
                           status="approved", amount=Decimal(amount))
    s.add(claim)
    s.commit()
    return claim.id, _queue(ma, person, amount, claim.id, source="claim", program="ZYYL")


def _batch(ma: MA, org: str = "city", **kw: Any) -> Any:
    from unionhub import db
    from unionhub.orgs.models import Org
    from unionhub_mutualaid.payouts import batches

    s = db.session()
    path = s.get(Org, ma.world.org_id(org)).path
    result = batches.create_batch(s, org_path=path, **kw)
    s.commit()
    return result


def _lines(batch_id: int) -> list[Any]:
    from unionhub import db
    from unionhub_mutualaid.payouts.models import MutualaidPayoutLine

    return list(db.session().scalars(select(MutualaidPayoutLine).where(
        MutualaidPayoutLine.batch_id == batch_id).order_by(MutualaidPayoutLine.seq)))


def _return_csv(tmp_path: Path, rows: list[tuple[str, ...]], encoding: str = "utf-8",
                name: str = "return.csv") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(("业务参考号", "银行流水号", "处理状态", "失败原因", "处理时间"))
    w.writerows(rows)
    path = tmp_path / name
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _payout(payout_id: int) -> Any:
    from unionhub import db
    from unionhub_mutualaid.models import MutualaidPayout

    return db.session().get(MutualaidPayout, payout_id, populate_existing=True)


def test_batch_claims_each_payout_once_and_sets_aside_payees_without_card(ma: MA) -> None:
    from unionhub import db
    from unionhub.identity import service as identity
    from unionhub.identity.models import Member
    from unionhub_mutualaid.payouts.models import MutualaidPayeeCheck, MutualaidPayoutLine

    with ma.app.app_context():
        s = db.session()
        p1 = _queue(ma, "m1", "100.00", 1)
        p2 = _queue(ma, "m2", "200.50", 2)
        p3 = _queue(ma, "m3", "0.01", 3)
        identity.report_lost(s, s.get(Member, ma.world.people["m2"].member_id).active_card)
        s.commit()
        first = _batch(ma)
        assert first.batch is not None and first.batch.count == 2
        assert first.batch.total == Decimal("100.01")
        assert [p for p, _ in first.set_aside] == [p2]
        assert "京卡" in first.set_aside[0][1]
        lines = _lines(first.batch.id)
        assert [ln.payout_id for ln in lines] == [p1, p3]
        assert [ln.reference for ln in lines] == [f"MA{first.batch.batch_no}000001",
                                                  f"MA{first.batch.batch_no}000002"]
        assert lines[0].name == "张伟" and lines[0].summary == "互助金-二次报销"
        assert (_payout(p1).status, _payout(p1).attempts) == ("batched", 1)
        assert _payout(p2).status == "payee_needed"
        again = _batch(ma)  # nothing pending any more: no second batch, no duplicate line
        assert again.batch is None and again.set_aside == []
        assert s.scalar(select(func.count()).select_from(MutualaidPayoutLine)) == 2
        checks = s.scalars(select(MutualaidPayeeCheck.ok)).all()
        assert sorted(checks) == [False, True, True]


def test_concurrent_generation_claims_a_payout_only_once(ma: MA) -> None:
    """The second officer's conditional update finds the payout no longer pending."""
    from unionhub import db
    from unionhub_mutualaid.models import MutualaidPayout
    from unionhub_mutualaid.payouts import batches
    from unionhub_mutualaid.payouts.models import MutualaidPayoutLine

    with ma.app.app_context():
        s = db.session()
        p1 = _queue(ma, "m1", "10.00", 1)
        original = s.execute

        def racing(stmt: Any, *a: Any, **kw: Any) -> Any:
            # Just before our claim, another officer's batch takes the payout.
            if getattr(stmt, "is_update", False) and "attempts" in str(stmt):
                s.connection().execute(
                    text("UPDATE mutualaid_payout SET status = 'batched' WHERE id = :id"),
                    {"id": p1})
            return original(stmt, *a, **kw)

        s.execute = racing  # type: ignore[method-assign]
        try:
            result = batches.create_batch(s, org_path="/")
        finally:
            del s.execute
        assert result.batch is None and result.skipped == 1
        assert s.scalar(select(func.count()).select_from(MutualaidPayoutLine)) == 0
        assert s.scalar(select(MutualaidPayout.attempts).where(MutualaidPayout.id == p1)) == 0


def test_bank_file_gbk_csv_and_xlsx_totals_and_audit(ma: MA) -> None:
    from openpyxl import load_workbook

    from unionhub import db
    from unionhub.audit.models import AuditLog
    from unionhub_mutualaid.payouts.models import MutualaidPayoutBatch

    with ma.app.app_context():
        _queue(ma, "m1", "1000.00", 1)
        _queue(ma, "m3", "23.45", 2)
    client = ma.app.test_client()
    login(client, "reviewer")
    with ma.app.app_context():
        city = ma.world.org_id("city")
    r = post_form(client, BATCHES, {"org_id": str(city), "program": ""})
    assert r.status_code == 302
    batch_url = r.headers["Location"]
    with ma.app.app_context():
        batch = db.session().scalar(select(MutualaidPayoutBatch))
        batch_id, batch_no = batch.id, batch.batch_no
    assert client.get(batch_url).status_code == 200
    r = client.get(f"{BATCHES}/{batch_id}/file.csv")
    assert r.status_code == 200 and "no-store" in r.headers["Cache-Control"]
    rows = list(csv.reader(io.StringIO(r.data.decode("gbk"))))
    assert rows[0] == ["批次号", "总笔数", "总金额"]
    assert rows[1] == [batch_no, "2", "1023.45"]
    assert rows[2] == ["序号", "京卡卡号", "姓名", "身份证号", "金额", "摘要", "业务参考号"]
    m1 = ma.world.people["m1"]
    assert rows[3] == ["1", m1.card_number, "张伟", m1.id_number, "1000.00", "互助金-二次报销",
                       f"MA{batch_no}000001"]
    assert len(rows) == 5 and sum(Decimal(x[4]) for x in rows[3:]) == Decimal(rows[1][2])
    r = client.get(f"{BATCHES}/{batch_id}/file.xlsx")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).active
    values = [[c.value for c in row if c.value is not None] for row in ws.iter_rows()]
    assert values[1] == [batch_no, "2", "1023.45"]
    assert values[4][1] == ma.world.people["m3"].card_number and values[4][4] == "23.45"
    with ma.app.app_context():
        s = db.session()
        logs = s.scalars(select(AuditLog).where(
            AuditLog.action == "mutualaid.payout.bank_file")).all()
        assert [log.details["format"] for log in logs] == ["csv", "xlsx"]
        assert all(m1.card_number not in str(log.details) for log in logs)
        s.get(MutualaidPayoutBatch, batch_id).total = Decimal("1023.46")  # header tampered
        s.commit()
    r = client.get(f"{BATCHES}/{batch_id}/file.csv", follow_redirects=True)
    assert "不一致" in r.get_data(as_text=True)
    assert m1.card_number not in r.get_data(as_text=True)


@pytest.mark.parametrize("who", ["m1", "clerk", "chaoyang"])
def test_members_and_clerks_cannot_download_a_bank_file(ma: MA, who: str) -> None:
    with ma.app.app_context():
        _queue(ma, "m1", "10.00", 1)
        batch_id = _batch(ma).batch.id
    client = ma.app.test_client()
    ident = ma.world.people[who].card_number if who in ma.world.people else who
    login(client, ident)
    assert client.get(f"{BATCHES}/{batch_id}/file.csv").status_code == 403
    assert client.get(BATCHES).status_code == 403
    assert client.get("/mutualaid/payouts/payee").status_code == 403


def test_return_file_applied_once_claim_paid_member_sees_paid(ma: MA, tmp_path: Path) -> None:
    from unionhub import db
    from unionhub.notify.models import Notification
    from unionhub_mutualaid.models import MutualaidClaim

    with ma.app.app_context():
        claim_id, p1 = _approved_claim(ma, "m1", "1234.56")
        p2 = _queue(ma, "m2", "88.00", 7)
        batch = _batch(ma).batch
        ref1, ref2 = (ln.reference for ln in _lines(batch.id))
    path = _return_csv(tmp_path, [
        (ref1, "B0001", "成功", "", "2026-04-02 10:20:30"),
        (ref2, "", "失败", "账户已销户", "2026/4/2"),
        (ref1, "B0001", "成功", "", "2026-04-02"),
        ("MA-NOPE", "B0003", "成功", "", ""),
    ], encoding="gbk")
    client = ma.app.test_client()
    login(client, "reviewer")

    def upload() -> str:
        with path.open("rb") as fh:
            r = post_form(client, "/mutualaid/payouts/returns",
                          {"file": (fh, "回盘.csv")}, form_url=BATCHES,
                          content_type="multipart/form-data", follow_redirects=True)
        assert r.status_code == 200
        return r.get_data(as_text=True)

    html = upload()
    assert "成功入账 1 笔，失败 1 笔，重复 1 行，未知业务参考号 1 行" in html
    assert "MA-NOPE 不存在" in html and "与第 2 行重复" in html
    with ma.app.app_context():
        s = db.session()
        paid, failed = _payout(p1), _payout(p2)
        assert (paid.status, paid.paid_on, paid.paid_first_batch) == ("paid", date(2026, 4, 2),
                                                                      True)
        assert failed.status == "payee_needed" and failed.failure == "银行退回：账户已销户"
        claim = s.get(MutualaidClaim, claim_id)
        assert (claim.status, claim.paid_on) == ("paid", date(2026, 4, 2))
        lines = _lines(batch.id)
        assert [(ln.status, ln.bank_serial) for ln in lines] == [("paid", "B0001"),
                                                                 ("failed", None)]
        note = s.scalar(select(Notification).where(
            Notification.member_id == ma.world.people["m1"].member_id))
        card = ma.world.people["m1"].card_number
        assert note is not None and "1234.56" in note.body and card[-4:] in note.body
        assert card not in note.body
        from unionhub_mutualaid.payouts.models import MutualaidPayoutBatch
        assert s.get(MutualaidPayoutBatch, batch.id).status == "returned"

    html = upload()  # the same file again: nothing changes, the report says so
    assert "成功入账 0 笔，失败 0 笔，重复 3 行" in html
    assert "未做任何更改" in html and "此前已导入过" in html
    with ma.app.app_context():
        s = db.session()
        assert s.scalar(select(func.count()).select_from(Notification).where(
            Notification.member_id == ma.world.people["m1"].member_id)) == 1
        assert _payout(p2).attempts == 1

    member = ma.app.test_client()
    login(member, ma.world.people["m1"].card_number)
    page = member.get("/mutualaid/payouts/my").get_data(as_text=True)
    assert "已到账" in page and "1234.56" in page
    assert ma.world.people["m1"].card_number not in page
    assert "已到账" in member.get("/mutualaid/").get_data(as_text=True)


def test_bad_return_file_is_refused_and_nothing_changes(ma: MA, tmp_path: Path) -> None:
    from unionhub import db
    from unionhub_mutualaid.payouts import returns

    with ma.app.app_context():
        p1 = _queue(ma, "m1", "10.00", 1)
        ref = _lines(_batch(ma).batch.id)[0].reference
        bad = _return_csv(tmp_path, [(ref, "B1", "成功", "", ""), (ref, "B2", "已处理", "", "")])
        with pytest.raises(returns.ReturnFileRejected) as exc:
            returns.import_file(db.session(), bad, "bad.csv", org_path="/")
        assert exc.value.errors == ["第 3 行「处理状态」：「已处理」应为 成功 或 失败"]
        missing = tmp_path / "missing.csv"
        missing.write_text("业务参考号,处理状态\nX,成功\n", encoding="utf-8")
        with pytest.raises(returns.ReturnFileRejected, match="银行流水号"):
            returns.import_file(db.session(), missing, "missing.csv", org_path="/")
        db.session().rollback()
        assert _payout(p1).status == "batched"


def test_failed_line_payee_needed_ready_new_batch_new_reference(ma: MA, tmp_path: Path
                                                               ) -> None:
    from openpyxl import Workbook

    from unionhub import db
    from unionhub.identity import service as identity
    from unionhub.identity.models import Member
    from unionhub_mutualaid.payouts import returns

    with ma.app.app_context():
        s = db.session()
        p1 = _queue(ma, "m1", "300.00", 1)
        first = _batch(ma).batch
        old_ref = _lines(first.id)[0].reference
        wb = Workbook()
        ws = wb.active
        ws.append(["处理时间", "业务参考号", "处理状态", "银行流水号", "失败原因", "备注"])
        ws.append([date(2026, 4, 2), old_ref, "失败", None, "卡片已挂失", "x"])
        xlsx = tmp_path / "ret.xlsx"
        wb.save(xlsx)
        record = returns.import_file(s, xlsx, "ret.xlsx", org_path="/")
        s.commit()
        assert record.failed == 1 and "忽略未知列「备注」" in record.report["warnings"]
        assert _payout(p1).status == "payee_needed"
        assert _batch(ma).batch is None  # payee_needed is not picked up again by itself
        old_card = s.get(Member, ma.world.people["m1"].member_id).active_card
        new_number = new_card_number()
        identity.report_lost(s, old_card)
        s.commit()
        old_card_id = old_card.id

    client = ma.app.test_client()
    login(client, "reviewer")
    page = client.get("/mutualaid/payouts/payee").get_data(as_text=True)
    assert "银行退回：卡片已挂失" in page
    r = post_form(client, f"/mutualaid/payouts/{p1}/ready", {},
                  form_url="/mutualaid/payouts/payee", follow_redirects=True)
    assert "收款人核验未通过" in r.get_data(as_text=True)
    with ma.app.app_context():
        s = db.session()
        assert _payout(p1).status == "payee_needed"
        from unionhub.identity.models import JingkaCard
        new = identity.replace_card(s, s.get(JingkaCard, old_card_id), new_number)
        s.commit()
        new_card_id = new.id
    r = post_form(client, f"/mutualaid/payouts/{p1}/ready", {},
                  form_url="/mutualaid/payouts/payee", follow_redirects=True)
    assert "重新进入待发放" in r.get_data(as_text=True)
    assert "66.7%" in client.get("/mutualaid/payouts/payee").get_data(as_text=True)
    with ma.app.app_context():
        assert _payout(p1).status == "pending"
        second = _batch(ma).batch
        line = _lines(second.id)[0]
        assert line.reference != old_ref and line.card_id == new_card_id
        assert _payout(p1).attempts == 2
        old = _lines(first.id)[0]
        assert (old.reference, old.status, old.card_id) == (old_ref, "failed", old_card_id)
        returns.simulate(db.session(), [line])
        db.session().commit()
        assert _payout(p1).paid_first_batch is False


def test_card_replaced_after_approval_is_paid_on_the_new_card(ma: MA) -> None:
    from unionhub import db
    from unionhub.identity import service as identity
    from unionhub.identity.models import Member
    from unionhub_mutualaid.payouts import bankfiles

    with ma.app.app_context():
        s = db.session()
        _claim_id, _p = _approved_claim(ma, "m3", "500.00")
        member = s.get(Member, ma.world.people["m3"].member_id)
        old = member.active_card
        identity.report_lost(s, old)
        number = new_card_number()
        new = identity.replace_card(s, old, number)
        s.commit()
        batch = _batch(ma).batch
        assert _lines(batch.id)[0].card_id == new.id
        text = bankfiles.to_csv(s, batch).decode("gbk")
        assert number in text and ma.world.people["m3"].card_number not in text


def test_direct_pay_rate_shown_on_batches_page(ma: MA) -> None:
    from unionhub import db
    from unionhub_mutualaid.payouts import returns, stats

    with ma.app.app_context():
        s = db.session()
        ids = [_queue(ma, p, "10.00", i) for i, p in enumerate(("m1", "m2", "m3"), start=1)]
        lines = _lines(_batch(ma).batch.id)
        returns.simulate(s, lines, {lines[2].id: "户名不符"})
        s.commit()
        assert stats.direct_pay_rate(s).percent == "100.0%"
        assert _payout(ids[2]).status == "payee_needed"
        from unionhub_mutualaid.payouts import payee
        payee.mark_ready(s, _payout(ids[2]))
        returns.simulate(s, _lines(_batch(ma).batch.id))
        s.commit()
        rate = stats.direct_pay_rate(s)
        assert (rate.numerator, rate.denominator, rate.percent) == (2, 3, "66.7%")
    client = ma.app.test_client()
    login(client, "reviewer")
    html = client.get(BATCHES).get_data(as_text=True)
    assert "直赔率" in html and "66.7%" in html


def test_officer_scope_and_member_api(ma: MA) -> None:
    """A grassroots officer given payouts.manage at g1 sees only g1's subtree; the API
    lists the member's own payouts with masked cards."""
    from unionhub import db
    from unionhub.access.models import RolePermission

    with ma.app.app_context():
        _queue(ma, "m1", "10.00", 1)
        _queue(ma, "m2", "20.00", 2)
        s = db.session()
        s.add(RolePermission(role="grassroots_officer", permission="mutualaid.payouts.manage"))
        s.commit()
        g1 = ma.world.org_id("g1")
    client = ma.app.test_client()
    login(client, "g1officer")
    r = post_form(client, BATCHES, {"org_id": str(g1), "program": ""}, follow_redirects=True)
    assert "1 笔" in r.get_data(as_text=True)
    with ma.app.app_context():
        assert _payout(2).status == "pending"  # m2 (g2) is outside g1
        city = ma.world.org_id("city")
    r = post_form(client, BATCHES, {"org_id": str(city), "program": ""}, follow_redirects=True)
    assert "请选择您有权管理的工会组织" in r.get_data(as_text=True)

    api = ma.app.test_client()
    tok = api.post("/api/v1/auth/token", json={
        "identifier": ma.world.people["m1"].card_number, "password": "Passw0rd-test",
        "device": "t"}).get_json()["token"]
    body = api.get("/api/v1/mutualaid/payouts",
                   headers={"Authorization": f"Bearer {tok}"}).get_json()
    assert body["total"] == 1 and body["items"][0]["status_label"] == "发放中"
    assert body["items"][0]["amount"] == "10.00"
    assert body["items"][0]["card"].endswith(ma.world.people["m1"].card_number[-4:])
    assert ma.world.people["m1"].card_number not in str(body)


def test_demo_batches_approved_claims_most_paid_a_couple_payee_needed(ma: MA) -> None:
    from types import SimpleNamespace

    from unionhub import db
    from unionhub_mutualaid.models import MutualaidClaim, MutualaidPayout
    from unionhub_mutualaid.payouts import FEATURE

    with ma.app.app_context():
        for n in range(6):
            _approved_claim(ma, ("m1", "m2", "m3")[n % 3], f"{100 + n}.00", n)
        s = db.session()
        ctx = SimpleNamespace(lines=[])
        assert FEATURE.demo is not None
        FEATURE.demo(s, ctx)
        s.commit()
        statuses = sorted(s.scalars(select(MutualaidPayout.status)))
        assert statuses == ["paid"] * 4 + ["payee_needed"] * 2
        assert sorted(s.scalars(select(MutualaidClaim.status))) == ["approved"] * 2 + ["paid"] * 4
        assert "4 笔到账" in ctx.lines[0]


def test_payee_rule_in_sql_agrees_with_python(ma: MA) -> None:
    """The 二次报销 quarter checks payees in SQL (``reason_sql``); batches and "mark ready" in
    Python (``reason_for``). Every combination of the facts gets the same answer."""
    import itertools

    from unionhub import db
    from unionhub.identity.models import CardStatus, JingkaCard, Member
    from unionhub_mutualaid.payouts import payee

    with ma.app.app_context():
        s = db.session()
        m = s.get(Member, ma.world.people["m1"].member_id)
        card = s.scalar(select(JingkaCard).where(JingkaCard.member_id == m.id))
        name, enc = m.name, m.id_number_enc
        for blank, no_id, status, card_status in itertools.product(
                (False, True), (False, True), ("active", "transferred", "left"),
                (CardStatus.ACTIVE, CardStatus.LOST)):
            m.name = "  " if blank else name
            m.id_number_enc = "" if no_id else enc
            m.status, card.status = status, card_status
            s.flush()
            in_sql = s.scalar(select(payee.reason_sql()).where(Member.id == m.id))
            in_python = payee.reason_for(name=m.name, has_id_number=not no_id, status=status,
                                         has_card=card_status == CardStatus.ACTIVE)
            assert in_sql == in_python, (blank, no_id, status, card_status)
        s.rollback()
