"""The 医保结算数据 import: new records, corrections, re-imports, non-members, fast claims."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.helpers import login, new_id_number, post_form
from tests.mutualaid.conftest import MA
from unionhub import db
from unionhub.imports import engine
from unionhub.imports.models import BatchStatus, ImportBatch

HEADER = ["结算流水号", "身份证号", "姓名", "就诊类型", "医院名称", "结算日期", "医疗费总额",
          "统筹支付", "个人自付一", "入院日期", "出院日期", "大额支付", "个人自付二", "个人自费",
          "诊断编码", "诊断名称"]


def rec(idn: str, serial: str, **kw: str) -> dict[str, str]:
    row = {"结算流水号": serial, "身份证号": idn, "姓名": "测试", "就诊类型": "门诊",
           "医院名称": "北京协和医院", "结算日期": "2026-02-10", "医疗费总额": "1000.00",
           "统筹支付": "600.00", "个人自付一": "400.00", "诊断编码": "J18.9",
           "诊断名称": "肺炎（绝密诊断）"}
    row.update(kw)
    return row


def inpatient(idn: str, serial: str, **kw: str) -> dict[str, str]:
    base = {"就诊类型": "住院", "入院日期": "2026/2/1", "出院日期": "20260208",
            "结算日期": "2026-02-09", "医疗费总额": "20000", "统筹支付": "15000",
            "个人自付一": "3000.50"}
    base.update(kw)
    return rec(idn, serial, **base)


def write(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8-sig") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    for r in rows:
        w.writerow([r.get(h, "") for h in HEADER])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def stage(ma: MA, path: Path) -> ImportBatch:
    app = ma.app
    with app.app_context():
        s = db.session()
        batch = engine.create_batch(s, app, "mutualaid.settlement", path, path.name,
                                    ma.world.officers["reviewer"])
        s.commit()
        engine.stage(app, batch.id, lambda *a, **k: None)
        s.expire_all()
        return s.get(ImportBatch, batch.id)


def apply(ma: MA, batch_id: int) -> dict[str, int]:
    return engine.apply(ma.app, batch_id, lambda *a, **k: None)


def imported(ma: MA, path: Path) -> tuple[ImportBatch, dict[str, int]]:
    batch = stage(ma, path)
    assert batch.status == BatchStatus.READY, batch.error
    return batch, apply(ma, batch.id)


def records(ma: MA) -> list[tuple[Any, ...]]:
    with ma.app.app_context(), db.get_db().engine.connect() as c:
        return list(c.execute(text(
            "SELECT serial, member_id, visit_type, settled_on, quarter, total, self_pay_1, "
            "revision, import_id FROM mutualaid_settlement ORDER BY serial")).all())


def _idn(ma: MA, key: str) -> str:
    return ma.world.people[key].id_number


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_import_new_records_then_same_file_changes_nothing(ma: MA, tmp_path: Path,
                                                           encoding: str) -> None:
    outsider = new_id_number()
    rows = [rec(_idn(ma, "m1"), "S-1", 姓名="张伟"),
            inpatient(_idn(ma, "m2"), "S-2", 姓名="李娜"),
            rec(outsider, "S-3", 姓名="路人甲", 结算日期="2026-04-02"),
            rec(_idn(ma, "m3").lower(), "S-4", 个人自付一="0", 医疗费总额="￥1,234.5")]
    path = write(tmp_path / "settle.csv", rows, encoding)
    batch = stage(ma, path)
    assert batch.status == BatchStatus.READY, batch.error
    assert batch.preview == {"new": 4, "corrections": 0, "unchanged": 0, "members": 3,
                             "set_aside": 1, "member_changes": 3, "inpatient_members": 1,
                             "rejected": 0}
    counts = apply(ma, batch.id)
    assert counts["created"] == 4 and counts["set_aside"] == 1 and counts["corrected"] == 0
    stored = {r.serial: r for r in records(ma)}
    m1 = ma.world.people["m1"].member_id
    assert stored["S-1"].member_id == m1 and stored["S-1"].self_pay_1 == 40000  # fen
    assert stored["S-3"].member_id is None and stored["S-3"].quarter == "2026Q2"
    assert stored["S-4"].total == 123450 and stored["S-2"].visit_type == "inpatient"
    assert stored["S-1"].quarter == "2026Q1" and stored["S-1"].revision == 1
    before = records(ma)
    again = stage(ma, write(tmp_path / "again.csv", rows, encoding))
    assert again.preview["unchanged"] == 4 and again.preview["new"] == 0
    assert again.preview["corrections"] == 0
    assert apply(ma, again.id)["created"] == 0
    assert records(ma) == before
    with ma.app.app_context(), db.get_db().engine.connect() as c:
        dump = "".join(str(r) for r in c.execute(text("SELECT * FROM mutualaid_settlement")))
    assert _idn(ma, "m1") not in dump and outsider not in dump


def test_correction_overwrites_and_stale_correction_is_rejected(ma: MA, tmp_path: Path) -> None:
    idn = _idn(ma, "m1")
    imported(ma, write(tmp_path / "a.csv", [rec(idn, "C-1")]))
    batch, counts = imported(ma, write(tmp_path / "b.csv", [
        rec(idn, "C-1", 结算日期="2026-02-20", 个人自付一="500", 统筹支付="500")]))
    assert batch.preview["corrections"] == 1 and counts["corrected"] == 1
    (row,) = records(ma)
    assert row.revision == 2 and row.self_pay_1 == 50000 and str(row.settled_on) == "2026-02-20"
    before = records(ma)
    stale = stage(ma, write(tmp_path / "c.csv", [
        rec(idn, "C-1", 结算日期="2026-02-15", 个人自付一="900")]))
    assert stale.rejected == 1 and stale.preview["corrections"] == 0
    line, column, reason = stale.sample_errors[0]
    assert (line, column) == (2, "结算日期") and "早于" in reason and "2026-02-20" in reason
    apply(ma, stale.id)
    # same date, other amounts: not a silent overwrite either
    clash = stage(ma, write(tmp_path / "d.csv", [
        rec(idn, "C-1", 结算日期="2026-02-20", 个人自付一="800")]))
    assert clash.rejected == 1 and "金额不同" in clash.sample_errors[0][2]
    assert records(ma) == before


def test_duplicate_serial_in_file_later_date_wins(ma: MA, tmp_path: Path) -> None:
    idn = _idn(ma, "m1")
    batch, counts = imported(ma, write(tmp_path / "dup.csv", [
        rec(idn, "D-1", 结算日期="2026-03-05", 个人自付一="300"),
        rec(idn, "D-1", 结算日期="2026-03-01", 个人自付一="100"),
        rec(idn, "D-2")]))
    assert batch.rejected == 1
    line, column, reason = batch.sample_errors[0]
    assert (line, column) == (3, "结算流水号") and "第 2 行" in reason
    assert counts["created"] == 2
    rows = {r.serial: r for r in records(ma)}
    assert rows["D-1"].self_pay_1 == 30000


def test_bad_rows_name_column_and_reason(ma: MA, tmp_path: Path) -> None:
    idn = _idn(ma, "m1")
    bad_check = idn[:-1] + ("0" if idn[-1] != "0" else "1")
    rows = [rec(bad_check, "B-1"),
            rec(idn, "B-2", 个人自付一="1200"),
            inpatient(idn, "B-3", 入院日期=""),
            inpatient(idn, "B-4", 入院日期="2026-02-08", 出院日期="2026-02-01"),
            rec(idn, "B-5", 统筹支付="-5"),
            rec(idn, "B-6", 结算日期="2026-13-01"),
            rec(idn, "B-7", 就诊类型="急诊"),
            rec(idn, "B-8", 医疗费总额="12.345")]
    batch = stage(ma, write(tmp_path / "bad.csv", rows))
    errors = {line: (col, reason) for line, col, reason in batch.sample_errors}
    assert errors[2] == ("身份证号", "校验位错误")
    assert errors[3] == ("个人自付一", "不能大于医疗费总额")
    assert errors[4][0] == "入院日期"
    assert errors[5][0] == "出院日期" and "早于" in errors[5][1]
    assert errors[6] == ("统筹支付", "金额不能为负")
    assert errors[7][0] == "结算日期" and errors[8][0] == "就诊类型"
    assert errors[9][0] == "医疗费总额"
    assert batch.rejected == 8 and batch.preview["new"] == 0
    report = (engine.batch_dir(ma.app, batch.id) / engine.ERRORS_FILE).read_text("utf-8-sig")
    assert bad_check not in report


def test_missing_required_column_rejects_file(ma: MA, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("结算流水号,身份证号,姓名\nX,1,2\n", encoding="utf-8")
    batch = stage(ma, path)
    assert batch.status == BatchStatus.FAILED and "个人自付一" in (batch.error or "")
    assert records(ma) == []


def _cover(ma: MA, key: str, *programs: str) -> None:
    from unionhub_mutualaid import plans
    from unionhub_mutualaid.models import MutualaidCoverage

    with ma.app.app_context():
        s = db.session()
        for program in programs:
            plan = plans.current(s, program, 2026)
            assert plan is not None
            s.add(MutualaidCoverage(
                member_id=ma.world.people[key].member_id, plan_id=plan.id, program=program,
                plan_year=2026, unit_org_id=ma.world.org_id("g1"), shares=1,
                start=date(2026, 1, 1), end=date(2026, 12, 31),
                first_enrolled=date(2024, 1, 1), status="active", fee=Decimal("60.00")))
        s.commit()


def _run_fastclaim_jobs(ma: MA) -> list[str]:
    from unionhub.jobs.models import Job
    from unionhub.jobs.service import run_job

    with ma.app.app_context():
        ids = db.session().scalars(select(Job.id).where(
            Job.kind == "mutualaid.settlement_followup", Job.status == "pending")).all()
    return [run_job(ma.app, job_id) for job_id in ids]


def test_fast_claims_for_enrolled_inpatient_records_once(ma: MA, tmp_path: Path) -> None:
    from unionhub_mutualaid.models import MutualaidClaim
    from unionhub_mutualaid.screening.models import MutualaidScreeningFlag

    _cover(ma, "m1", "ZYYL", "ZYJT")
    rows = [inpatient(_idn(ma, "m1"), "F-1", 诊断编码="C34.9"),
            inpatient(_idn(ma, "m2"), "F-2"),  # not enrolled: no claim
            rec(_idn(ma, "m1"), "F-3")]  # outpatient: no claim
    _batch, counts = imported(ma, write(tmp_path / "f.csv", rows))
    assert counts["fast_claim_records"] == 2
    assert _run_fastclaim_jobs(ma) == ["succeeded"]
    with ma.app.app_context():
        claims = db.session().scalars(select(MutualaidClaim).order_by(
            MutualaidClaim.program)).all()
        assert [(c.program, c.benefit, c.settlement_serial, c.source) for c in claims] == [
            ("ZYJT", "allowance", "ZYJT:F-1", "settlement"),
            ("ZYYL", "medical", "ZYYL:F-1", "settlement")]
        zyyl = claims[1]
        assert zyyl.out_of_pocket == Decimal("3000.50") and zyyl.member_id == \
            ma.world.people["m1"].member_id
        assert claims[0].stays == [["2026-02-01", "2026-02-08"]]
        # the same follow-up job screened the diagnoses (flag for the member's own union)
        flags = db.session().scalars(select(MutualaidScreeningFlag)).all()
        assert [f.member_id for f in flags] == [ma.world.people["m1"].member_id]
    # a correction of the record and the same file again: still one claim per program
    imported(ma, write(tmp_path / "g.csv", [inpatient(_idn(ma, "m1"), "F-1",
                                                      结算日期="2026-02-25")]))
    imported(ma, write(tmp_path / "h.csv", rows))
    _run_fastclaim_jobs(ma)
    with ma.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(MutualaidClaim)) == 2


def test_pages_upload_and_statistics_without_diagnoses(ma: MA, tmp_path: Path) -> None:
    imported(ma, write(tmp_path / "s.csv", [rec(_idn(ma, "m1"), "P-1"),
                                            rec(new_id_number(), "P-2")]))
    client = ma.app.test_client()
    login(client, "reviewer")
    page = client.get("/mutualaid/settlement")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "2026Q1" in html
    assert "绝密诊断" not in html and "J18.9" not in html
    path = write(tmp_path / "up.csv", [rec(_idn(ma, "m2"), "P-3")])
    with path.open("rb") as fh:
        resp = post_form(client, "/mutualaid/settlement", {"file": (fh, "up.csv")},
                         content_type="multipart/form-data")
    assert resp.status_code == 302 and "/imports/" in resp.headers["Location"]
    detail = client.get(resp.headers["Location"])
    assert detail.status_code == 200 and "医保结算数据" in detail.get_data(as_text=True)
    assert "/mutualaid/ecbx" in html  # the officer menu
    ecbx = client.get("/mutualaid/ecbx")
    assert ecbx.status_code == 200 and "2026Q1" in ecbx.get_data(as_text=True)
    other = ma.app.test_client()
    login(other, "chaoyang")
    assert other.get("/mutualaid/settlement").status_code == 403
    assert other.get("/mutualaid/ecbx").status_code == 403


def test_set_aside_record_is_matched_when_the_person_has_become_a_member(
        ma: MA, tmp_path: Path) -> None:
    from tests.helpers import new_card_number
    from unionhub.identity import service as identity

    idn = new_id_number()
    rows = [rec(idn, "N-1"), rec(_idn(ma, "m1"), "N-2")]
    _b, counts = imported(ma, write(tmp_path / "a.csv", rows))
    assert counts["set_aside"] == 1
    with ma.app.app_context():
        s = db.session()
        m = identity.create_member(s, name="新会员", id_number=idn, org=s.merge(
            ma.world.orgs["g2"]), mobile="13900001111", card_number=new_card_number())
        s.commit()
        member_id = m.id
    batch, counts = imported(ma, write(tmp_path / "b.csv", rows))
    assert batch.preview["unchanged"] == 2 and counts["matched_later"] == 1
    assert {r.serial: r.member_id for r in records(ma)}["N-1"] == member_id
    _b, counts = imported(ma, write(tmp_path / "c.csv", rows))
    assert counts["matched_later"] == 0 and counts["created"] == 0


def test_correction_in_a_later_quarter_keeps_the_first_quarter(ma: MA, tmp_path: Path) -> None:
    idn = _idn(ma, "m1")
    imported(ma, write(tmp_path / "a.csv", [rec(idn, "K-1", 结算日期="2026-03-20"),
                                            rec(idn, "K-2", 结算日期="2025-12-20")]))
    _b, counts = imported(ma, write(tmp_path / "b.csv", [
        rec(idn, "K-1", 结算日期="2026-04-05", 个人自付一="500", 统筹支付="500"),
        rec(idn, "K-2", 结算日期="2026-01-10", 个人自付一="450", 统筹支付="550")]))
    assert counts["corrected"] == 2
    rows = {r.serial: r for r in records(ma)}
    # the corrected amounts and dates are stored; each record stays in its first quarter
    assert (rows["K-1"].quarter, str(rows["K-1"].settled_on), rows["K-1"].self_pay_1,
            rows["K-1"].revision) == ("2026Q1", "2026-04-05", 50000, 2)
    assert (rows["K-2"].quarter, str(rows["K-2"].settled_on), rows["K-2"].self_pay_1) == (
        "2025Q4", "2026-01-10", 45000)


def test_amounts_out_of_bounds_and_future_dates_are_rejected(ma: MA, tmp_path: Path) -> None:
    idn = _idn(ma, "m1")
    rows = [rec(idn, "O-1", 医疗费总额="1e17"),
            rec(idn, "O-2", 医疗费总额="200000000", 统筹支付="100000000.01"),
            rec(idn, "O-3", 统筹支付="Infinity"),
            rec(idn, "O-4", 大额支付="NaN"),
            rec(idn, "O-5", 个人自费="-inf"),
            rec(idn, "O-6", 结算日期="2999-01-01"),
            rec(idn, "O-7", 医疗费总额="100000000", 统筹支付="99999600", 个人自付一="400")]
    batch = stage(ma, write(tmp_path / "big.csv", rows))
    assert batch.status == BatchStatus.READY, batch.error
    errors = {line: (col, reason) for line, col, reason in batch.sample_errors}
    assert errors[2][0] == "医疗费总额" and "超过上限" in errors[2][1]
    assert errors[3][0] == "医疗费总额" and "200000000.00" in errors[3][1]
    assert errors[4] == ("统筹支付", "「Infinity」不是有效金额")
    assert errors[5] == ("大额支付", "「NaN」不是有效金额")
    assert errors[6] == ("个人自费", "「-inf」不是有效金额")
    assert errors[7][0] == "结算日期" and "晚于今天" in errors[7][1]
    assert batch.rejected == 6 and batch.preview["new"] == 1  # exactly the bound is fine
    apply(ma, batch.id)
    assert [(r.serial, r.total) for r in records(ma)] == [("O-7", 10_000_000_000)]
