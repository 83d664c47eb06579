"""The import framework and the member/Jingka file handler."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select, text

from tests.helpers import cli, login, new_card_number, new_id_number, post_form
from unionhub import db
from unionhub.identity import service as identity
from unionhub.identity.models import Account, CardStatus, Member, MemberStatus
from unionhub.imports import engine
from unionhub.imports.models import BatchStatus, ImportBatch

HEADER = ["姓名", "身份证号", "京卡卡号", "工会组织代码", "手机号", "入会日期", "会籍状态",
          "卡状态", "原卡号"]


def person(org: str = "G1", **kw: str) -> dict[str, str]:
    row = {"姓名": "测试会员", "身份证号": new_id_number(), "京卡卡号": new_card_number(),
           "工会组织代码": org, "手机号": "", "入会日期": "2015/3/1", "会籍状态": "",
           "卡状态": "", "原卡号": ""}
    row.update(kw)
    return row


def write(path: Path, rows: list[dict[str, str]], encoding: str = "utf-8-sig",
          header: list[str] = HEADER) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def run(app, path: Path, owner_id: int | None = None) -> ImportBatch:
    """Stage and review (what the stage job does), returning the batch."""
    with app.app_context():
        s = db.session()
        batch = engine.create_batch(s, app, "core.members", path, path.name, owner_id)
        s.commit()
        engine.stage(app, batch.id, lambda *a, **k: None)
        s.expire_all()
        return s.get(ImportBatch, batch.id)


def apply(app, batch_id: int) -> dict[str, int]:
    return engine.apply(app, batch_id, lambda *a, **k: None)


def snapshot(app) -> list[tuple]:
    with app.app_context(), db.get_db().engine.connect() as c:
        members = c.execute(text(
            "SELECT id, name, mobile, org_id, status, joined_on, left_on FROM member ORDER BY id"
        )).all()
        cards = c.execute(text(
            "SELECT id, member_id, status, replaced_by_id FROM jingka_card ORDER BY id")).all()
        accounts = c.execute(text("SELECT id, member_id FROM account ORDER BY id")).all()
    return [*members, *cards, *accounts]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_new_members_previewed_then_applied_and_reimport_changes_nothing(
        app, world, tmp_path, encoding):
    rows = [person(姓名=f"新会员{i}", 手机号=f"1370000{i:04d}") for i in range(30)]
    path = write(tmp_path / "members.csv", rows, encoding)
    batch = run(app, path)
    assert batch.status == BatchStatus.READY, batch.error
    assert batch.preview == {"new": 30, "changed": 0, "cards_replaced": 0, "card_status": 0,
                             "left": 0, "unchanged": 0, "rejected": 0}
    before = snapshot(app)
    counts = apply(app, batch.id)
    assert counts["created"] == 30
    with app.app_context():
        s = db.session()
        m = identity.find_by_id_number(rows[7]["身份证号"])
        assert m.name == "新会员7" and m.org.code == "G1" and m.joined_on == date(2015, 3, 1)
        assert m.mobile == "13700000007"
        assert identity.find_by_card(rows[7]["京卡卡号"]).member.id == m.id
        assert s.scalar(select(Account).where(Account.member_id == m.id)) is not None
        assert identity.reveal_card_number(m.active_card) == rows[7]["京卡卡号"]
    assert len(snapshot(app)) == len(before) + 90  # member, card and account each
    # the same file again: everything unchanged, and applying changes nothing
    again = run(app, write(tmp_path / "again.csv", rows, encoding))
    assert again.preview["unchanged"] == 30 and again.preview["new"] == 0
    after_first = snapshot(app)
    assert apply(app, again.id) == {"created": 0, "updated": 0, "cards_replaced": 0,
                                    "card_status": 0}
    assert snapshot(app) == after_first


def test_no_clear_numbers_in_database_or_error_report(app, world, tmp_path):
    good = person()
    bad = person(身份证号=good["身份证号"][:-1] + ("0" if good["身份证号"][-1] != "0" else "1"))
    batch = run(app, write(tmp_path / "m.csv", [good, bad]))
    apply(app, batch.id)
    with app.app_context(), db.get_db().engine.connect() as c:
        dump = "".join(str(r) for t in ("member", "jingka_card", "import_batch", "audit_log")
                       for r in c.execute(text(f"SELECT * FROM {t}")))
    report = (engine.batch_dir(app, batch.id) / engine.ERRORS_FILE).read_text("utf-8-sig")
    for number in (good["身份证号"], good["京卡卡号"], bad["身份证号"], bad["京卡卡号"]):
        assert number not in dump and number not in report


def test_rejected_rows_name_line_column_and_reason(app, world, tmp_path):
    ok = person()
    rows = [
        ok,                                                      # line 2
        person(身份证号="110105199002301234"),                   # 3: bad date / check
        person(京卡卡号=ok["京卡卡号"][:-1] + str((int(ok["京卡卡号"][-1]) + 1) % 10)),  # 4
        person(工会组织代码="NOPE"),                             # 5
        person(身份证号=ok["身份证号"]),                          # 6: duplicate of line 2
        person(入会日期="去年"),                                  # 7
        person(京卡卡号=new_card_number("622202")),              # 8: BIN
        person(姓名=""),                                         # 9
        person(会籍状态="离职"),                                  # 10
        person(京卡卡号=world.people["m2"].card_number),         # 11: another member's card
    ]
    batch = run(app, write(tmp_path / "bad.csv", rows))
    assert batch.preview["new"] == 1 and batch.preview["rejected"] == 9
    errors = {line: (col, reason) for line, col, reason in batch.sample_errors}
    assert errors[3][0] == "身份证号"
    assert errors[4] == ("京卡卡号", "卡号校验位错误")
    assert errors[5] == ("工会组织代码", "「NOPE」不在组织体系中")
    assert errors[6] == ("身份证号", "与第 2 行重复")
    assert errors[7][0] == "入会日期"
    assert errors[8][0] == "京卡卡号" and "BIN" in errors[8][1]
    assert errors[9] == ("姓名", "不能为空")
    assert errors[10][0] == "会籍状态"
    assert errors[11] == ("京卡卡号", "该卡号已登记给其他会员")
    report = list(csv.reader((engine.batch_dir(app, batch.id) / engine.ERRORS_FILE)
                             .read_text("utf-8-sig").splitlines()))
    assert report[0] == ["行号", "列", "原因"] and len(report) == 10
    assert apply(app, batch.id)["created"] == 1


def test_changes_replacements_loss_and_leaving(app, world, tmp_path):
    m1, m2, m3 = world.people["m1"], world.people["m2"], world.people["m3"]
    new_card, new_card2 = new_card_number(), new_card_number()
    rows = [
        # m1: new card with 原卡号 (replacement), moved to branch B1, new mobile
        {"姓名": m1.name, "身份证号": m1.id_number, "京卡卡号": new_card, "工会组织代码": "B1",
         "手机号": "13911112222", "原卡号": m1.card_number},
        # m2: left the union, card reported lost
        {"姓名": m2.name, "身份证号": m2.id_number, "京卡卡号": m2.card_number,
         "工会组织代码": "G2", "手机号": m2.mobile, "会籍状态": "退会", "卡状态": "挂失"},
        # m3: new card number without 原卡号
        {"姓名": "王芳芳", "身份证号": m3.id_number, "京卡卡号": new_card2, "工会组织代码": "B1",
         "手机号": m3.mobile},
    ]
    batch = run(app, write(tmp_path / "changes.csv", rows))
    assert batch.preview == {"new": 0, "changed": 3, "cards_replaced": 2, "card_status": 1,
                             "left": 1, "unchanged": 0, "rejected": 0}, batch.sample_errors
    counts = apply(app, batch.id)
    assert counts == {"created": 0, "updated": 3, "cards_replaced": 2, "card_status": 1}
    with app.app_context():
        old = identity.find_by_card(m1.card_number)
        assert old.replaced and old.member.id == m1.member_id
        assert old.card.replaced_by.number_hash == identity.card_hash(new_card)
        assert old.member.org.code == "B1" and old.member.mobile == "13911112222"
        leaver = db.session().get(Member, m2.member_id)
        assert leaver.status == MemberStatus.LEFT and leaver.left_on == date.today()
        assert leaver.active_card is None
        assert identity.find_by_card(m2.card_number).card.status == CardStatus.LOST
        assert db.session().get(Member, m3.member_id).name == "王芳芳"
        assert identity.find_by_card(new_card2).card.status == CardStatus.ACTIVE
        actions = db.session().scalars(text(
            "SELECT action FROM audit_log WHERE action IN ('card.replace', 'member.update', "
            "'import.members')")).all()
        assert actions.count("card.replace") == 2 and "import.members" in actions
    # the replaced number can never come back, nor can a wrong 原卡号 be used
    bad = run(app, write(tmp_path / "bad.csv", [
        {"姓名": m1.name, "身份证号": m1.id_number, "京卡卡号": m1.card_number,
         "工会组织代码": "B1"},
        {"姓名": m3.name, "身份证号": m3.id_number, "京卡卡号": new_card_number(),
         "工会组织代码": "B1", "原卡号": new_card_number()},
    ]))
    errors = {line: reason for line, _c, reason in bad.sample_errors}
    assert errors == {2: "该卡号已补卡作废，不能再次使用", 3: "与该会员已登记的京卡不符"}


def test_missing_required_column_rejects_the_file(app, world, tmp_path):
    path = write(tmp_path / "x.csv", [person()], header=["姓名", "身份证号", "工会组织代码"])
    batch = run(app, path)
    assert batch.status == BatchStatus.FAILED and "京卡卡号" in batch.error
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Member)) == 3


def test_xlsx_with_excel_dates_reordered_columns_and_unknown_column(app, world, tmp_path):
    p = person()
    wb = Workbook()
    ws = wb.active
    ws.append(["备注", "工会组织代码", "京卡卡号", "姓名", "身份证号", "入会日期"])
    ws.append(["x", "G2", p["京卡卡号"], "表格会员", p["身份证号"], date(2019, 7, 1)])
    path = tmp_path / "m.xlsx"
    wb.save(path)
    batch = run(app, path)
    assert batch.preview["new"] == 1, batch.sample_errors
    assert any("备注" in w for w in batch.warnings)
    apply(app, batch.id)
    with app.app_context():
        assert identity.find_by_id_number(p["身份证号"]).joined_on == date(2019, 7, 1)


def test_importer_scope_limits_rows(app, world, tmp_path):
    rows = [person(org="G1"), person(org="G2")]
    batch = run(app, write(tmp_path / "m.csv", rows), owner_id=world.officers["chaoyang"])
    assert batch.preview["new"] == 1
    assert batch.sample_errors == [[3, "工会组织代码", "「G2」不在您的管辖范围内"]]


def test_apply_is_all_or_nothing(app, world, tmp_path, monkeypatch):
    from unionhub.imports import members

    rows = [person() for _ in range(5)]
    batch = run(app, write(tmp_path / "m.csv", rows))
    before = snapshot(app)
    real = members._audit

    def boom(*a, **k):
        real(*a, **k)
        raise RuntimeError("disk full")

    monkeypatch.setattr(members, "_audit", boom)
    with pytest.raises(RuntimeError):
        apply(app, batch.id)
    assert snapshot(app) == before
    with app.app_context():
        assert db.session().get(ImportBatch, batch.id).status == BatchStatus.READY
    monkeypatch.setattr(members, "_audit", real)
    assert apply(app, batch.id)["created"] == 5  # resumable: apply again
    with pytest.raises(engine.ImportError_):
        apply(app, batch.id)  # and never twice


def test_apply_refuses_a_batch_whose_staged_rows_are_gone(app, world, tmp_path):
    """PostgreSQL's unlogged staging table is emptied by a crash: the batch must fail with a
    message, not be marked applied with nothing applied."""
    batch = run(app, write(tmp_path / "m.csv", [person() for _ in range(3)]))
    before = snapshot(app)
    with app.app_context():
        db.session().execute(text("DELETE FROM import_member_stage"))
        db.session().commit()
    with pytest.raises(engine.ImportError_, match="暂存的数据已不在"):
        apply(app, batch.id)
    assert snapshot(app) == before
    with app.app_context():
        row = db.session().get(ImportBatch, batch.id)
        assert row.status == BatchStatus.FAILED and "重新上传" in row.error


def test_large_file_validated_in_worker_processes(app, world, tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(engine, "CHUNK", 7)
    rows = [person(姓名=f"并行{i}") for i in range(40)] + [person(工会组织代码="NOPE")]
    batch = run(app, write(tmp_path / "m.csv", rows))
    assert batch.preview["new"] == 40 and batch.preview["rejected"] == 1
    assert batch.sample_errors == [[42, "工会组织代码", "「NOPE」不在组织体系中"]]


def test_web_upload_preview_apply_and_report(app, world, tmp_path):
    rows = [person(姓名="网页导入"), person(工会组织代码="NOPE")]
    path = write(tmp_path / "web.csv", rows, "gbk")
    c = app.test_client()
    login(c, "city")
    with path.open("rb") as fh:
        r = post_form(c, "/imports/", {"handler": "core.members", "file": (fh, "web.csv")},
                      content_type="multipart/form-data")
    assert r.status_code == 302
    detail_url = r.headers["Location"]
    app.extensions["jobs_transport"].drain()
    page = c.get(detail_url).get_data(as_text=True)
    assert "待确认导入" in page and "「NOPE」不在组织体系中" in page
    batch_id = int(detail_url.rstrip("/").split("/")[-1])
    report = c.get(f"/imports/{batch_id}/errors.csv")
    assert report.status_code == 200 and "NOPE" in report.get_data(as_text=True)
    r = post_form(c, f"/imports/{batch_id}/apply", {}, form_url=detail_url)
    assert r.status_code == 302
    app.extensions["jobs_transport"].drain()
    page = c.get(detail_url).get_data(as_text=True)
    assert "已导入" in page
    with app.app_context():
        assert identity.find_by_id_number(rows[0]["身份证号"]).name == "网页导入"
    # others cannot see or apply it; members cannot import at all
    other = app.test_client()
    login(other, "chaoyang")
    assert other.get(detail_url).status_code == 404
    member = app.test_client()
    login(member, world.people["m1"].card_number)
    assert member.get("/imports/").status_code == 403


def test_cli_import_with_progress_and_dry_run(app, world, tmp_path):
    path = write(tmp_path / "cli.csv", [person(姓名="命令行"), person(工会组织代码="NOPE")])
    dry = cli(app, "import", "members", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "新会员 1" in dry.output and "第 3 行 工会组织代码" in dry.output
    assert "未导入任何数据" in dry.output
    done = cli(app, "import", "members", str(path), "--yes")
    assert done.exit_code == 0, done.output
    assert "已新增 1" in done.output
    bad = cli(app, "import", "nothing", str(path))
    assert bad.exit_code != 0


def test_plugin_import_handler(make_app, world, tmp_path):
    make_app.set_plugin("sample", True)
    app = make_app()
    assert "sample.notes" in engine.handlers(app)
    path = tmp_path / "notes.csv"
    path.write_text(f"内容,身份证号\n你好,{world.people['m1'].id_number}\n"
                    f"无人,{new_id_number()}\n", encoding="utf-8")
    r = cli(app, "import", "sample.notes", str(path), "--yes")
    assert r.exit_code == 0, r.output
    assert "第 3 行 身份证号: 不是会员" in r.output
    with app.app_context():
        from unionhub_sample.models import SampleNote

        assert [n.text for n in db.session().scalars(select(SampleNote))] == ["你好"]
