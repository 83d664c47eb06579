"""The union hierarchy: subtree queries, moves, the org file import."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import event, func, select

from tests.helpers import cli, login, post_form
from unionhub import db
from unionhub.orgs import service as orgs
from unionhub.orgs.models import Org, OrgLevel

HEADER = ["工会组织代码", "工会组织名称", "上级代码", "层级", "代办处", "联系人"]
ROWS = [
    # a child listed before its parent on purpose
    ["Z1G", "东城某基层工会", "Z1", "基层", "是", "王老师"],
    ["Z0", "测试市总工会", "", "市总", "否", ""],
    ["Z1", "东城区总工会", "Z0", "区县", "否", ""],
    ["Z2", "测试交通工会", "Z0", "产业", "", ""],
]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig",
              header: list[str] = HEADER) -> Path:
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def codes_paths(app) -> dict[str, str]:
    with app.app_context():
        return dict(db.session().execute(select(Org.code, Org.path)).all())


def test_subtree_is_one_query_and_move_carries_descendants(app, world):
    with app.app_context():
        s = db.session()
        g1 = world.orgs["g1"]
        stmts: list[str] = []
        listener = lambda *a: stmts.append(a[2])  # noqa: E731
        event.listen(db.get_db().engine, "before_cursor_execute", listener)
        names = s.scalars(select(Org.name).where(orgs.subtree(world.orgs["d1"].path))).all()
        event.remove(db.get_db().engine, "before_cursor_execute", listener)
        assert sorted(names) == sorted(["朝阳区总工会", "电控工会", "京东方分会"])
        assert len(stmts) == 1
        orgs.move_org(s, g1, world.orgs["d2"])
        s.commit()
        b1 = s.get(Org, world.orgs["b1"].id)
        g1 = s.get(Org, g1.id)
        assert g1.path.startswith(world.orgs["d2"].path) and b1.path.startswith(g1.path)
        assert b1.depth == 3
        d2_names = s.scalars(select(Org.name).where(orgs.subtree(world.orgs["d2"].path))).all()
        assert "京东方分会" in d2_names


def test_move_moves_member_visibility(app, world):
    c = app.test_client()
    login(c, "haidian")
    assert "张伟" not in c.get("/office/members").get_data(as_text=True)
    with app.app_context():
        s = db.session()
        orgs.move_org(s, s.get(Org, world.org_id("g1")), s.get(Org, world.org_id("d2")))
        s.commit()
    assert "张伟" in c.get("/office/members").get_data(as_text=True)


def test_cannot_move_under_own_descendant_or_wrong_level(app, world):
    with app.app_context():
        s = db.session()
        with pytest.raises(orgs.OrgError, match="下级"):
            orgs.move_org(s, s.get(Org, world.org_id("d1")), s.get(Org, world.org_id("b1")))
        with pytest.raises(orgs.OrgError):
            orgs.move_org(s, s.get(Org, world.org_id("g2")), s.get(Org, world.org_id("b1")))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_import_csv_in_every_encoding_is_idempotent(make_app, tmp_path, encoding):
    app = make_app()
    path = write_csv(tmp_path / "orgs.csv", ROWS, encoding)
    with app.app_context():
        s = db.session()
        r = orgs.import_orgs(s, path)
        s.commit()
        assert r.ok and r.created == 4, r.errors
        z1g = s.scalar(select(Org).where(Org.code == "Z1G"))
        assert z1g.agent_office and z1g.contact == "王老师" and z1g.level == OrgLevel.GRASSROOTS
        before = codes_paths(app)
        again = orgs.import_orgs(s, path)
        s.commit()
        assert again.ok and again.created == 0 and again.updated == 0 and again.unchanged == 4
    assert codes_paths(app) == before


def test_import_xlsx_with_reordered_columns_and_unknown_column(make_app, tmp_path):
    app = make_app()
    wb = Workbook()
    ws = wb.active
    ws.append(["层级", "备注", "工会组织名称", "上级代码", "工会组织代码"])
    ws.append(["市总", "x", "测试市总工会", None, "Z0"])
    ws.append(["区县", "y", "东城区总工会", "Z0", "Z1"])
    path = tmp_path / "orgs.xlsx"
    wb.save(path)
    with app.app_context():
        r = orgs.import_orgs(db.session(), path)
        assert r.ok and r.created == 2, r.errors
        assert any("备注" in w for w in r.warnings)


def test_bad_rows_are_reported_and_nothing_is_written(make_app, tmp_path):
    app = make_app()
    rows = [*ROWS, ["Z9", "错误工会", "NOPE", "基层", "", ""], ["Z8", "", "Z0", "区县", "", ""],
            ["Z7", "层级错", "Z0", "省总", "", ""], ["Z1", "重复", "Z0", "区县", "", ""]]
    path = write_csv(tmp_path / "bad.csv", rows)
    with app.app_context():
        s = db.session()
        r = orgs.import_orgs(s, path)
        s.commit()
        assert not r.ok
        text = "\n".join(r.errors)
        assert "第 6 行 上级代码: NOPE 不在组织体系中" in text
        assert "第 7 行 工会组织名称" in text
        assert "第 8 行 层级" in text
        assert "第 9 行 工会组织代码: Z1 与第 4 行重复" in text
        assert s.scalar(select(func.count()).select_from(Org)) == 0


def test_missing_required_column_rejects_file(make_app, tmp_path):
    app = make_app()
    path = write_csv(tmp_path / "x.csv", [["Z0", "市总"]], header=["工会组织代码", "工会组织名称"])
    with app.app_context():
        r = orgs.import_orgs(db.session(), path)
    assert not r.ok and "上级代码" in r.errors[0] and "层级" in r.errors[0]


def test_import_moves_an_org_when_its_parent_changes(make_app, tmp_path):
    app = make_app()
    with app.app_context():
        s = db.session()
        orgs.import_orgs(s, write_csv(tmp_path / "a.csv", ROWS))
        s.commit()
        moved = [r if r[0] != "Z1G" else ["Z1G", "东城某基层工会", "Z2", "基层", "是", "王老师"]
                 for r in ROWS]
        r = orgs.import_orgs(s, write_csv(tmp_path / "b.csv", moved))
        s.commit()
        assert r.moved == 1
    paths = codes_paths(app)
    assert paths["Z1G"].startswith(paths["Z2"])


def test_cli_import_and_dry_run(make_app, tmp_path):
    app = make_app()
    path = write_csv(tmp_path / "orgs.csv", ROWS, "gbk")
    r = cli(app, "orgs", "import", str(path), "--dry-run")
    assert r.exit_code == 0 and "新增 4" in r.output
    assert codes_paths(app) == {}
    r = cli(app, "orgs", "import", str(path))
    assert r.exit_code == 0 and "新增 4" in r.output
    assert len(codes_paths(app)) == 4
    bad = write_csv(tmp_path / "bad.csv", [["Q1", "x", "NOPE", "基层", "", ""]])
    r = cli(app, "orgs", "import", str(bad))
    assert r.exit_code != 0 and "第 2 行" in r.output


def test_admin_creates_and_moves_orgs_on_the_page(app, world):
    c = app.test_client()
    login(c, "admin")
    r = post_form(c, "/admin/orgs", {"code": "G9", "name": "新基层工会", "level": "grassroots",
                                     "parent_id": world.org_id("d1"), "agent_office": "y"})
    assert r.status_code == 302
    with app.app_context():
        g9 = db.session().scalar(select(Org).where(Org.code == "G9"))
        assert g9.path.startswith(world.orgs["d1"].path)
        gid = g9.id
    r = post_form(c, f"/admin/orgs/{gid}/move", {"parent_id": world.org_id("d2")})
    assert r.status_code == 302
    with app.app_context():
        assert db.session().get(Org, gid).parent_id == world.org_id("d2")
    # a district officer cannot create under another district
    d = app.test_client()
    login(d, "chaoyang")
    r = post_form(d, "/admin/orgs", {"code": "G10", "name": "越权", "level": "grassroots",
                                     "parent_id": world.org_id("d2")})
    assert r.status_code in (200, 400, 404)
    with app.app_context():
        assert db.session().scalar(select(Org).where(Org.code == "G10")) is None


def test_admin_uploads_org_file(app, world, tmp_path):
    c = app.test_client()
    login(c, "admin")
    path = write_csv(tmp_path / "more.csv", [["C", "北京市总工会", "", "市总", "", ""],
                                             ["D3", "丰台区总工会", "C", "区县", "", ""]], "gbk")
    with path.open("rb") as fh:
        r = post_form(c, "/admin/orgs/import", {"file": (fh, "more.csv")}, form_url="/admin/orgs",
                      content_type="multipart/form-data")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "导入完成" in body, body
    with app.app_context():
        assert db.session().scalar(select(Org).where(Org.code == "D3")) is not None
