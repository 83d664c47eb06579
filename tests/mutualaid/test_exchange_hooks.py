"""Mutual aid's side of the member data exchange: accounting lines checked against sums made
here from the raw rows, the reactions to a real member/Jingka import (payouts re-routed to
the new card, dues-funded cover of new and left members), and the campaign audience."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tests.helpers import add_member, new_card_number, new_id_number
from tests.mutualaid.conftest import MA
from unionhub.web.formatting import SHANGHAI

HEADER = ["姓名", "身份证号", "京卡卡号", "工会组织代码", "手机号", "入会日期", "会籍状态",
          "卡状态", "原卡号"]


def _plan(s: Any, program: str, year: int) -> Any:
    from unionhub_mutualaid import plans

    plan = plans.current(s, program, year)
    assert plan is not None
    return plan


def _cover(s: Any, member_id: int, unit: Any, program: str, year: int, *, shares: int = 1,
           fee: str = "50.00", status: str = "active", end: date | None = None) -> None:
    from unionhub_mutualaid.models import MutualaidCoverage

    plan = _plan(s, program, year)
    s.add(MutualaidCoverage(member_id=member_id, plan_id=plan.id, program=program,
                            plan_year=year, unit_org_id=unit.id, shares=shares,
                            start=plan.term_start, end=end or plan.term_end, fee=Decimal(fee),
                            status=status))


def _queue(s: Any, member_id: int, source_id: int, amount: str = "100.00") -> int:
    from unionhub.identity.models import Member
    from unionhub_mutualaid import payables

    payout = payables.queue(s, member=s.get(Member, member_id), source="ecbx",
                            source_id=source_id, program="ECBX", amount=Decimal(amount),
                            summary=payables.summary("ECBX"))
    return payout.id


def _set_aside(s: Any, payout_id: int, reason: str) -> None:
    from unionhub_mutualaid.models import MutualaidPayout
    from unionhub_mutualaid.payouts import payee

    assert payee.needs_payee(s, s.get(MutualaidPayout, payout_id), reason)


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    for r in rows:
        w.writerow([r.get(h, "") for h in HEADER])
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))
    return path


def _import(ma: MA, path: Path) -> dict[str, Any]:
    """Stage, review and apply a member file through the core, as the import pages do."""
    from unionhub import db
    from unionhub.imports import engine
    from unionhub.imports.models import BatchStatus, ImportBatch

    with ma.app.app_context():
        s = db.session()
        batch = engine.create_batch(s, ma.app, "core.members", path, path.name,
                                    ma.world.officers["admin"])
        s.commit()
        engine.stage(ma.app, batch.id, lambda *a, **k: None)
        s.expire_all()
        staged = s.get(ImportBatch, batch.id)
        assert staged.status == BatchStatus.READY, staged.error
        engine.apply(ma.app, batch.id, lambda *a, **k: None)
        s.expire_all()
        return dict(s.get(ImportBatch, batch.id).applied)


# -- accounting lines --------------------------------------------------------------------------


def dues_heads(s: Any, program: str, year: int) -> dict[int, int]:
    """Members per org a dues-funded plan covered, from the raw member and card rows in
    Python: a member during the term (joined by its end, not left before its start; gone
    without a date: not counted) holding a card that is active or stopped on or after its
    first day, Beijing time."""
    from unionhub.identity.models import Member
    from unionhub_mutualaid.models import MutualaidPlan

    plan = s.scalar(select(MutualaidPlan).where(
        MutualaidPlan.program == program, MutualaidPlan.plan_year == year,
        MutualaidPlan.status == "active"))
    start, end = plan.term_start, plan.term_end
    first_moment = datetime(start.year, start.month, start.day, tzinfo=SHANGHAI)
    out: dict[int, int] = {}
    for m in s.scalars(select(Member)):
        member = (m.joined_on is None or m.joined_on <= end) and (
            m.left_on >= start if m.left_on is not None else m.status == "active")
        card = any(c.status == "active" or (
            c.status_changed_at is not None and c.status_changed_at >= first_moment)
            for c in m.cards)
        if member and card:
            out[m.org_id] = out.get(m.org_id, 0) + 1
    return out


def test_accounting_lines_match_sums_of_the_raw_rows(ma: MA) -> None:
    from unionhub import db
    from unionhub.identity import service as identity
    from unionhub.identity.models import Member, MemberStatus
    from unionhub_mutualaid.enrollment import service
    from unionhub_mutualaid.exchange import accounting_lines
    from unionhub_mutualaid.models import MutualaidCoverage, MutualaidFeeStatement

    with ma.app.app_context():
        s = db.session()
        o, p = ma.world.orgs, ma.world.people
        extra = [add_member(o["g1"], f"甲{i}").member_id for i in range(4)]
        extra += [add_member(o["g2"], f"乙{i}").member_id for i in range(3)]
        g1_ids = [p["m1"].member_id, p["m3"].member_id, *extra[:4]]
        g2_ids = [p["m2"].member_id, *extra[4:]]
        fees = ["45.50", "91.00", "0.01", "136.50", "45.49", "12.34"]
        for i, mid in enumerate(g1_ids):
            _cover(s, mid, o["g1"], "ZYYL", 2026, shares=i % 3 + 1, fee=fees[i])
        for i, mid in enumerate(g2_ids):
            _cover(s, mid, o["g2"], "ZYYL", 2026, shares=1, fee="45.50",
                   status="pending_payment" if i else "active")
            _cover(s, mid, o["g2"], "YWSH", 2026, shares=2, fee="99.99")
        _cover(s, g1_ids[0], o["g1"], "ZYYL", 2025, fee="40.00")  # another plan year
        s.flush()
        # g1's ZYYL statement is refreshed and paid; one more member is enrolled afterwards,
        # so it is out of date (billed < due); g2's ZYYL statement is billed, part paid
        g1_zyyl = service.refresh_statement(s, o["g1"], _plan(s, "ZYYL", 2026))
        s.execute(MutualaidFeeStatement.__table__.update()
                  .where(MutualaidFeeStatement.id == g1_zyyl)
                  .values(amount_paid=Decimal("300.00"), status="paid"))
        late = add_member(o["g1"], "迟到").member_id
        _cover(s, late, o["g1"], "ZYYL", 2026, fee="7.77")
        service.refresh_statement(s, o["g2"], _plan(s, "ZYYL", 2026))
        g2_st = s.scalar(select(MutualaidFeeStatement).where(
            MutualaidFeeStatement.unit_org_id == o["g2"].id,
            MutualaidFeeStatement.program == "ZYYL"))
        g2_st.amount_paid = Decimal("45.50")
        # a statement without coverage rows still gives a line (d2 billed ZDJB, paid 10)
        s.add(MutualaidFeeStatement(unit_org_id=o["d2"].id, plan_id=_plan(s, "ZDJB", 2026).id,
                                    program="ZDJB", plan_year=2026, amount_due=Decimal("10.00"),
                                    amount_paid=Decimal("10.00"), status="paid"))
        # dues-funded cover: members with a card at some time during the plan's term
        identity.report_lost(s, s.get(Member, extra[0]).active_card)  # today: in 2026's term
        early = s.get(Member, extra[1]).active_card
        identity.report_lost(s, early)
        early.status_changed_at = datetime(2025, 12, 20, 2, 0, tzinfo=UTC)  # before 2026
        left_2025 = s.get(Member, extra[2])
        left_2025.status, left_2025.left_on = MemberStatus.LEFT, date(2025, 6, 30)
        s.get(Member, extra[3]).joined_on = date(2026, 3, 1)
        left_2026 = s.get(Member, extra[4])
        left_2026.status, left_2026.left_on = MemberStatus.LEFT, date(2026, 5, 1)
        s.get(Member, extra[5]).status = MemberStatus.LEFT  # gone, no date: never counted
        s.commit()

        lines = accounting_lines(2026)
        got = {(ln.unit_org_id, ln.item): ln for ln in lines}
        assert len(got) == len(lines)
        for ln in lines:
            for amount in (ln.due, ln.billed, ln.received):
                assert isinstance(amount, Decimal) and amount == amount.quantize(Decimal("0.01"))

        # independent sums from the raw rows
        rows = s.scalars(select(MutualaidCoverage).where(MutualaidCoverage.plan_year == 2026))
        want: dict[tuple[int, str], list[Any]] = {}
        for c in rows:
            w = want.setdefault((c.unit_org_id, c.program),
                                [set(), 0, Decimal("0.00"), Decimal("0.00"), Decimal("0.00")])
            w[0].add(c.member_id)
            w[1] += c.shares
            w[2] += c.fee
        for st in s.scalars(select(MutualaidFeeStatement).where(
                MutualaidFeeStatement.plan_year == 2026)):
            w = want.setdefault((st.unit_org_id, st.program),
                                [set(), 0, Decimal("0.00"), Decimal("0.00"), Decimal("0.00")])
            w[3] += st.amount_due
            w[4] += st.amount_paid
        for key, (members, shares, due, billed, received) in want.items():
            ln = got[key]
            assert (ln.headcount, ln.shares, ln.due, ln.billed, ln.received) == (
                len(members), shares, due, billed, received), key
        g1_line = got[(o["g1"].id, "ZYYL")]
        assert g1_line.headcount == 7 and g1_line.billed == sum(
            (Decimal(f) for f in fees), Decimal("0.00"))
        assert g1_line.due == g1_line.billed + Decimal("7.77")
        assert g1_line.received == Decimal("300.00")
        assert got[(o["g2"].id, "YWSH")].due == Decimal("399.96")
        assert got[(o["g2"].id, "YWSH")].billed == Decimal("0.00")  # never billed
        assert (got[(o["d2"].id, "ZDJB")].headcount, got[(o["d2"].id, "ZDJB")].received) == (
            0, Decimal("10.00"))
        assert got[(o["g1"].id, "ZYYL")].item_label == "住院医疗互助保障"

        # dues-funded programs, 2026: g1 has m1, the card lost today, the 2026 joiner and the
        # late member (not the card lost in December 2025, not the 2025 leaver); b1 m3; g2
        # m2, the May 2026 leaver and the third extra (not the leaver without a date); no
        # fee, no shares — and the same from the raw rows, by the rule itself
        g1_2026 = {p["m1"].member_id, extra[0], extra[3], late}
        for program in ("ECBX", "FGSZH"):
            heads = {k[0]: got[k].headcount for k in got if k[1] == program}
            assert heads == {o["g1"].id: len(g1_2026), o["b1"].id: 1, o["g2"].id: 3}
            assert heads == dues_heads(s, program, 2026)
            assert all(got[k].due == got[k].received == Decimal("0.00") and got[k].shares == 0
                       for k in got if k[1] == program)
        assert got[(o["g1"].id, "ECBX")].item_label == "二次报销（暖·互助）"
        assert set(want) | {k for k in got if k[1] in ("ECBX", "FGSZH")} == set(got)

        # 2025: only the one 2025 row and the dues programs of 2025, counted over 2025's
        # term: the December 2025 loss and the 2025 leaver count, the 2026 joiner does not
        lines25 = {(ln.unit_org_id, ln.item): ln for ln in accounting_lines(2025)}
        assert lines25[(o["g1"].id, "ZYYL")].due == Decimal("40.00")
        assert {k[1] for k in lines25} == {"ZYYL", "ECBX", "FGSZH"}
        heads25 = {k[0]: lines25[k].headcount for k in lines25 if k[1] == "ECBX"}
        assert heads25 == {o["g1"].id: 5, o["b1"].id: 1, o["g2"].id: 3}
        assert heads25 == dues_heads(s, "ECBX", 2025)
        # a year's figures stay put when today's membership changes: a member joining or
        # leaving now changes neither 2025 nor (for the leaver) 2026
        newcomer = add_member(o["g1"], "今天入会").member_id
        s.get(Member, newcomer).joined_on = date(2026, 11, 30)
        leaver = s.get(Member, p["m2"].member_id)
        leaver.status, leaver.left_on = MemberStatus.LEFT, date(2026, 11, 30)
        s.commit()
        again25 = {(ln.unit_org_id, ln.item): ln.headcount for ln in accounting_lines(2025)}
        assert {k[0]: n for k, n in again25.items() if k[1] == "ECBX"} == heads25
        again26 = {(ln.unit_org_id, ln.item): ln.headcount for ln in accounting_lines(2026)}
        assert again26[(o["g2"].id, "ECBX")] == 3
        assert again26[(o["g1"].id, "ECBX")] == len(g1_2026) + 1
        assert accounting_lines(2030) == []


def test_accounting_lines_through_the_core_hook(ma: MA) -> None:
    from unionhub import db, exchange

    with ma.app.app_context():
        s = db.session()
        _cover(s, ma.world.people["m1"].member_id, ma.world.orgs["g1"], "ZYJT", 2026,
               fee="20.05")
        s.commit()
        lines = exchange.accounting_lines(2026)
        assert {ln.plugin for ln in lines} == {"mutualaid"}
        zyjt = [ln.line for ln in lines if ln.line.item == "ZYJT"]
        assert len(zyjt) == 1 and zyjt[0].due == Decimal("20.05")


# -- reactions to an import ------------------------------------------------------------------


def test_import_reroutes_payouts_and_reports_dues_cover(ma: MA, tmp_path: Path) -> None:
    from unionhub import db
    from unionhub.audit.models import AuditLog
    from unionhub.identity import service as identity
    from unionhub.identity.models import Member
    from unionhub_mutualaid.models import MutualaidCoverage, MutualaidPayout
    from unionhub_mutualaid.payouts import payee
    from unionhub_mutualaid.payouts.models import MutualaidPayeeCheck

    p, o = ma.world.people, ma.world.orgs
    with ma.app.app_context():
        s = db.session()
        m1 = s.get(Member, p["m1"].member_id)
        no_card = _queue(s, m1.id, 1)
        bank = _queue(s, m1.id, 2, "0.01")
        no_name = _queue(s, m1.id, 3)
        waiting = _queue(s, m1.id, 4)
        other = _queue(s, p["m3"].member_id, 5)  # m3's card is not replaced
        identity.report_lost(s, m1.active_card)
        _set_aside(s, no_card, payee.NO_CARD)
        _set_aside(s, bank, "银行退回：账户状态异常")
        _set_aside(s, no_name, payee.NO_NAME)
        _set_aside(s, other, payee.NO_CARD)
        # m2 leaves with voluntary cover running to the end of 2026 and one ended in 2025
        _cover(s, p["m2"].member_id, o["g2"], "ZYYL", 2026)
        _cover(s, p["m2"].member_id, o["g2"], "ZYYL", 2025)
        s.commit()
        coverage_before = s.query(MutualaidCoverage).count()

    new_card = new_card_number()
    applied = _import(ma, _write(tmp_path / "members.csv", [
        {"姓名": p["m1"].name, "身份证号": p["m1"].id_number, "京卡卡号": new_card,
         "工会组织代码": "G1", "手机号": p["m1"].mobile, "原卡号": p["m1"].card_number},
        {"姓名": p["m2"].name, "身份证号": p["m2"].id_number, "京卡卡号": p["m2"].card_number,
         "工会组织代码": "G2", "手机号": p["m2"].mobile, "会籍状态": "退会"},
        {"姓名": "新会员", "身份证号": new_id_number(), "京卡卡号": new_card_number(),
         "工会组织代码": "G1", "入会日期": "2026/10/1"},
        {"姓名": "新会员二", "身份证号": new_id_number(), "京卡卡号": new_card_number(),
         "工会组织代码": "B1", "入会日期": "2026/10/1"},
    ]))
    reactions = applied["reactions"]
    assert [r["plugin"] for r in reactions] == ["mutualaid"]
    ma_reaction = reactions[0]
    assert ma_reaction["label"] == "互助保障"
    assert ma_reaction["counts"] == {"payouts_rerouted": 2, "payouts_to_new_card": 3,
                                     "dues_covered_new": 2, "left_cover_continues": 1,
                                     "dues_cover_ended": 1}
    assert set(ma_reaction["count_labels"]) == set(ma_reaction["counts"])

    with ma.app.app_context():
        s = db.session()

        def status(pid: int) -> tuple[str, str | None]:
            po = s.get(MutualaidPayout, pid)
            return po.status, po.failure

        assert status(no_card) == ("pending", None)
        assert status(bank) == ("pending", None)
        assert status(no_name) == ("payee_needed", payee.NO_NAME)  # a card does not fix it
        assert status(waiting) == ("pending", None)
        assert status(other) == ("payee_needed", payee.NO_CARD)
        checks = s.scalars(select(MutualaidPayeeCheck.payout_id).where(
            MutualaidPayeeCheck.ok.is_(True))).all()
        assert sorted(checks) == sorted([no_card, bank])
        audited = s.scalars(select(AuditLog.target_id).where(
            AuditLog.action == "mutualaid.payout.rerouted")).all()
        assert sorted(audited) == sorted([str(no_card), str(bank)])
        assert s.query(MutualaidCoverage).count() == coverage_before  # nothing deleted

    # the same file again changes nothing: no reaction at all
    again = _import(ma, _write(tmp_path / "again.csv", [
        {"姓名": p["m1"].name, "身份证号": p["m1"].id_number, "京卡卡号": new_card,
         "工会组织代码": "G1", "手机号": p["m1"].mobile},
    ]))
    assert "reactions" not in again


def test_direct_reaction_without_anything_to_do_is_none(ma: MA) -> None:
    from unionhub import db
    from unionhub.contrib import MemberChanges
    from unionhub.identity.models import Member
    from unionhub_mutualaid.exchange import members_changed
    from unionhub_mutualaid.models import MutualaidPlan

    nobody = select(Member.id).where(Member.id < 0)
    with ma.app.app_context():
        s = db.session()
        assert members_changed(MemberChanges(s, 1, None, nobody, nobody, nobody)) is None
        # a new member is counted only while a dues-funded plan covers today
        newcomer = select(Member.id).where(Member.id == ma.world.people["m1"].member_id)
        got = members_changed(MemberChanges(s, 1, None, newcomer, nobody, nobody))
        assert got is not None and got.counts == {"dues_covered_new": 1}
        s.execute(MutualaidPlan.__table__.update().where(MutualaidPlan.funding == "dues")
                  .values(status="superseded"))
        assert members_changed(MemberChanges(s, 1, None, newcomer, nobody, nobody)) is None
        s.rollback()


# -- audience ----------------------------------------------------------------------------------


def test_program_audience(ma: MA) -> None:
    from unionhub import db
    from unionhub.exchange import audience_sources

    p, o = ma.world.people, ma.world.orgs
    with ma.app.app_context():
        s = db.session()
        _cover(s, p["m1"].member_id, o["g1"], "ZDJB", 2025)
        _cover(s, p["m3"].member_id, o["g1"], "ZDJB", 2026)
        _cover(s, p["m2"].member_id, o["g2"], "NGTJ", 2025)
        s.commit()
        src = audience_sources()["mutualaid.program"]
        assert src.label == "参加互助项目的会员"
        assert src.choices(s) == [("ZDJB", "重大疾病互助保障"), ("NGTJ", "女工特殊疾病互助保障")]
        # the latest plan year of the program: 2026 for ZDJB, 2025 for NGTJ
        assert s.scalars(src.members(s, "ZDJB")).all() == [p["m3"].member_id]
        assert s.scalars(src.members(s, "NGTJ")).all() == [p["m2"].member_id]
        assert s.scalars(src.members(s, "NOPE")).all() == []
