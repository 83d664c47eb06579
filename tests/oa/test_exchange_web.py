"""Data-exchange pages: upload a file with bad rows, the preview with the rejected rows (line,
column, reason), 确认应用, the result page; form errors; scoping to the officer's subtree."""

from __future__ import annotations

import io
import re
from typing import Any

from sqlalchemy import func, select

from tests.core.test_imports import HEADER, person
from tests.helpers import PASSWORD, login, post_form
from tests.oa.test_exchange_run import drain, get_run, member_id, start
from unionhub import db
from unionhub.identity.admin import create_officer
from unionhub.identity.models import Member
from unionhub.imports.models import ImportBatch
from unionhub_oa.exchange.models import OaRun


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    for r in rows:
        w.writerow([r.get(h, "") for h in HEADER])
    return buf.getvalue().encode("utf-8-sig")


def upload(client: Any, rows: list[dict[str, str]], **fields: Any) -> Any:
    data = {"period": "2026-11", "plan_year": "2026",
            "file": (io.BytesIO(csv_bytes(rows)), "jingka.csv"), **fields}
    return post_form(client, "/oa/runs/new", data, content_type="multipart/form-data")


def run_id_of(response: Any) -> int:
    m = re.search(r"/oa/runs/(\d+)$", response.headers["Location"])
    assert m, response.headers.get("Location")
    return int(m.group(1))


def test_a_run_on_a_file_with_bad_rows(oa):
    app, world = oa.app, oa.world
    m2 = world.people["m2"]
    good_a, good_b = person(姓名="新会员甲"), person(姓名="新会员乙")
    bad_id = person(身份证号="110105199002301234")
    rows = [
        good_a,                                                         # line 2
        bad_id,                                                         # 3: bad ID
        person(姓名="李娜改名", 身份证号=m2.id_number, 京卡卡号=m2.card_number,
               工会组织代码="G2", 手机号="12345"),                     # 4: bad mobile
        person(工会组织代码="NOPE"),                                    # 5: unknown org
        good_b,                                                         # 6
        person(姓名="重复", 身份证号=good_a["身份证号"]),               # 7: repeats line 2
    ]
    client = app.test_client()
    login(client, "city")
    r = upload(client, rows)
    assert r.status_code == 302, r.get_data(as_text=True)
    run_id = run_id_of(r)

    page = client.get(f"/oa/runs/{run_id}")
    assert page.status_code == 200
    assert page.headers.get("Refresh") == "3"  # the job has not run yet
    assert '<meta http-equiv="refresh" content="3">' in page.get_data(as_text=True)

    drain(app)
    page = client.get(f"/oa/runs/{run_id}")
    html = page.get_data(as_text=True)
    assert "Refresh" not in page.headers
    assert 'data-state="preview"' in html
    preview = dict(re.findall(r'data-count="(\w+)"><b>(\d+)</b>', html))
    assert preview["new"] == "2" and preview["rejected"] == "4"
    rejected = {line: (column, reason) for line, column, reason in re.findall(
        r'<tr data-line="(\d+)"><td[^>]*>\d+</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td>',
        html)}
    assert set(rejected) == {"3", "4", "5", "7"}
    assert rejected["3"][0] == "身份证号"
    assert rejected["4"][0] == "手机号"
    assert rejected["5"] == ("工会组织代码", "「NOPE」不在组织体系中")
    assert rejected["7"] == ("身份证号", "与第 2 行重复")
    with app.app_context():
        batch_id = db.session().get(OaRun, run_id).import_batch_id
    assert f'href="/imports/{batch_id}/errors.csv"' in html
    report = client.get(f"/imports/{batch_id}/errors.csv")
    assert report.status_code == 200 and "工会组织代码" in report.get_data(as_text=True)
    assert 'id="run-confirm"' in html and 'id="run-discard"' in html
    assert 'id="run-retry"' not in html

    r = post_form(client, f"/oa/runs/{run_id}/confirm", {}, form_url=f"/oa/runs/{run_id}")
    assert r.status_code == 302
    assert get_run(app, run_id).state == "applying"
    drain(app)
    html = client.get(f"/oa/runs/{run_id}").get_data(as_text=True)
    assert 'data-state="done"' in html and 'id="run-result"' in html
    assert html.count('data-state="done"') >= 7  # the run's badge and its six steps
    assert 'id="run-confirm"' not in html and 'id="run-discard"' not in html
    assert "数据交换" in html and 'data-kind="new"' in html
    # good rows applied, bad rows left the stored data as it was
    assert member_id(app, good_a["身份证号"]) is not None
    assert member_id(app, good_b["身份证号"]) is not None
    assert member_id(app, bad_id["身份证号"]) is None
    with app.app_context():
        s = db.session()
        stored = s.get(Member, m2.member_id)
        assert stored.name == "李娜" and stored.mobile == m2.mobile
        assert s.scalar(select(func.count()).select_from(Member).where(
            Member.name == "重复")) == 0

    listing = client.get("/oa/runs").get_data(as_text=True)
    assert f'data-run="{run_id}"' in listing and "2026-11" in listing


def test_confirm_twice_applies_once_and_discard_after_done_is_refused(oa, tmp_path):
    from tests.core.test_imports import write

    app, world = oa.app, oa.world
    run_id = start(app, world, write(tmp_path / "m.csv", [person()]))
    drain(app)
    client = app.test_client()
    login(client, "city")
    url = f"/oa/runs/{run_id}"
    post_form(client, f"{url}/confirm", {}, form_url=url)
    r = post_form(client, f"{url}/confirm", {}, form_url=url, follow_redirects=True)
    assert "该运行不在待确认状态" in r.get_data(as_text=True)
    drain(app)
    assert get_run(app, run_id).state == "done"
    r = post_form(client, f"{url}/discard", {}, form_url=url, follow_redirects=True)
    assert "该运行不能放弃" in r.get_data(as_text=True)
    assert get_run(app, run_id).state == "done"


def test_discard_keeps_the_stored_data(oa, tmp_path):
    from tests.core.test_imports import write

    app, world = oa.app, oa.world
    newcomer = person()
    run_id = start(app, world, write(tmp_path / "m.csv", [newcomer]))
    drain(app)
    client = app.test_client()
    login(client, "city")
    url = f"/oa/runs/{run_id}"
    r = post_form(client, f"{url}/discard", {}, form_url=url, follow_redirects=True)
    assert "已放弃本次数据交换" in r.get_data(as_text=True)
    run = get_run(app, run_id)
    assert run.state == "discarded"
    assert member_id(app, newcomer["身份证号"]) is None
    with app.app_context():
        assert db.session().get(ImportBatch, run.import_batch_id).status == "discarded"


def test_upload_form_names_the_bad_field_and_stores_nothing(oa):
    app = oa.app
    client = app.test_client()
    login(client, "city")
    assert client.get("/oa/runs/new").status_code == 200
    for fields, message in (({"period": "2026/11"}, "期间须为“年-月”"),
                            ({"plan_year": "26"}, "参保年度须为四位年份"),
                            ({"file": (io.BytesIO(b"x"), "members.pdf")}, "只支持 CSV 或 XLSX")):
        r = upload(client, [person()], **fields)
        assert r.status_code == 422
        html = r.get_data(as_text=True)
        assert message in html
        if "period" in fields:
            assert 'value="2026/11"' in html  # the form is shown again as typed
    r = post_form(client, "/oa/runs/new", {"period": "2026-11", "plan_year": "2026"},
                  content_type="multipart/form-data")
    assert r.status_code == 422 and "请选择文件" in r.get_data(as_text=True)
    with app.app_context():
        s = db.session()
        assert s.scalar(select(func.count()).select_from(OaRun)) == 0
        assert s.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_pages_are_scoped_to_the_officers_subtree(oa, tmp_path):
    from tests.core.test_imports import write

    app, world = oa.app, oa.world
    with app.app_context():
        s = db.session()
        officer = create_officer(s, "xd1", "朝阳数据员", PASSWORD, "city_officer",
                                 world.orgs["d1"])
        s.commit()
        world.officers["xd1"] = officer.id
    city_run = start(app, world, write(tmp_path / "c.csv", [person(工会组织代码="G2")]))
    d1_run = start(app, world, write(tmp_path / "d.csv", [person(工会组织代码="G1"),
                                                         person(工会组织代码="NOPE")]),
                   officer="xd1")
    with app.app_context():
        s = db.session()
        assert s.get(OaRun, city_run).org_path == world.orgs["city"].path
        assert s.get(OaRun, d1_run).org_path == world.orgs["d1"].path
    drain(app)

    client = app.test_client()
    login(client, "xd1")
    listing = client.get("/oa/runs").get_data(as_text=True)
    assert f'data-run="{d1_run}"' in listing and f'data-run="{city_run}"' not in listing
    html = client.get(f"/oa/runs/{d1_run}").get_data(as_text=True)
    assert 'id="errors-download"' in html  # the officer's own report
    assert client.get(f"/oa/runs/{city_run}").status_code == 404
    r = post_form(client, f"/oa/runs/{city_run}/discard", {},
                  form_url=f"/oa/runs/{d1_run}")
    assert r.status_code == 404
    assert get_run(app, city_run).state == "preview"

    client = app.test_client()
    login(client, "city")
    listing = client.get("/oa/runs").get_data(as_text=True)
    assert f'data-run="{d1_run}"' in listing and f'data-run="{city_run}"' in listing
    html = client.get(f"/oa/runs/{d1_run}").get_data(as_text=True)
    assert 'id="errors-download"' not in html  # another officer's report: not offered

    client = app.test_client()
    login(client, "haidian")  # a district officer: no 数据交换
    assert client.get("/oa/runs").status_code == 403
    assert client.get(f"/oa/runs/{d1_run}").status_code == 403
    assert client.get("/oa/runs/new").status_code == 403
