"""Points on the web and the API: officers' rules, grant preview and grant job, the report
(scoped, with its chart), the member's page, profile panel and API, the jobs."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.benefits_mall.conftest import Mall
from tests.helpers import PASSWORD, beijing_today, login, post_form
from unionhub import db

ADMIN = "/benefits_mall/admin/points"


def _client(mall: Mall, who: str) -> Any:
    client = mall.app.test_client()
    ident = mall.world.people[who].mobile if who in mall.world.people else who
    assert login(client, ident).status_code == 302
    return client


def _svc() -> Any:
    from unionhub_benefits_mall.points import service

    return service


def _balance(mall: Mall, key: str) -> int:
    with mall.app.app_context():
        return int(_svc().balance(db.session(), mall.world.people[key].member_id))


def _rule(mall: Mall, occasion: str = "spring_festival", org: str = "city",
          caps: tuple[int, int, int] = (200, 200, 1000)) -> None:
    from unionhub.orgs.models import Org

    with mall.app.app_context():
        s = db.session()
        _svc().set_rule(s, s.get(Org, mall.world.org_id(org)), occasion, *caps)
        s.commit()


def _run_jobs(mall: Mall, kind: str) -> list[str]:
    from unionhub.jobs.models import Job
    from unionhub.jobs.service import run_job

    with mall.app.app_context():
        ids = list(db.session().scalars(select(Job.id).where(Job.kind == kind,
                                                             Job.status == "pending")))
    return [run_job(mall.app, i) for i in ids]


def test_officer_sets_a_rule_with_field_errors(mall: Mall) -> None:
    client = _client(mall, "city")
    assert "积分规则" in client.get(ADMIN).get_data(as_text=True)
    form = {"org_id": str(mall.world.org_id("d1")), "occasion": "mid_autumn",
            "per_grant": "x", "per_member_occasion": "100", "per_member_year": "50",
            "valid_months": "12"}
    r = post_form(client, f"{ADMIN}/rules", form, form_url=ADMIN)
    assert r.status_code == 422
    assert "单次发放上限：请填写正整数" in r.get_data(as_text=True)
    form["per_grant"] = "100"
    r = post_form(client, f"{ADMIN}/rules", form, form_url=ADMIN)
    assert r.status_code == 422
    assert "每人每年该节日上限不能大于每人每年总上限" in r.get_data(as_text=True)
    form["per_member_year"] = "500"
    r = post_form(client, f"{ADMIN}/rules", form, form_url=ADMIN)
    assert r.status_code == 302
    html = client.get(ADMIN).get_data(as_text=True)
    assert "朝阳区总工会" in html and "中秋" in html
    # a district officer may not set a rule for another district
    chaoyang = _client(mall, "chaoyang")
    form["org_id"] = str(mall.world.org_id("d2"))
    r = post_form(chaoyang, f"{ADMIN}/rules", form, form_url=ADMIN)
    assert r.status_code == 422 and "管辖范围" in r.get_data(as_text=True)


def test_grant_preview_then_job(mall: Mall) -> None:
    _rule(mall)
    client = _client(mall, "chaoyang")
    page = client.get(ADMIN).get_data(as_text=True)
    key = re.search(r'name="batch_key" value="([0-9a-f]+)"', page)
    assert key
    form = {"org_id": str(mall.world.org_id("d1")), "occasion": "spring_festival",
            "points": "150", "group_id": "", "note": "春节慰问", "batch_key": key.group(1)}
    r = post_form(client, f"{ADMIN}/grant", {**form, "action": "preview"}, form_url=ADMIN)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<b>2</b> 名会员将获得积分" in html  # m1 and m3; m2 is in another district
    assert _balance(mall, "m1") == 0  # a preview writes nothing
    r = post_form(client, f"{ADMIN}/grant", {**form, "action": "grant"}, form_url=ADMIN)
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    # submitting the same form again does not start a second grant
    r2 = post_form(client, f"{ADMIN}/grant", {**form, "action": "grant"}, form_url=ADMIN)
    assert r2.headers["Location"] == r.headers["Location"]
    assert _run_jobs(mall, "benefits_mall.points_grant") == ["succeeded"]
    assert (_balance(mall, "m1"), _balance(mall, "m3"), _balance(mall, "m2")) == (150, 150, 0)
    job_page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "发放人数" in job_page
    html = client.get(ADMIN).get_data(as_text=True)
    assert "春节" in html and "300" in html  # the batch: 2 members, 300 points
    # another 100 passes the per-occasion cap (200): the preview says who and why
    form["batch_key"] = "b" * 32
    form["points"] = "100"
    r = post_form(client, f"{ADMIN}/grant", {**form, "action": "grant"}, form_url=ADMIN)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "将超过上限" in html and "张伟" in html and "王芳" in html
    assert _run_jobs(mall, "benefits_mall.points_grant") == []


def test_grant_form_errors_and_scope(mall: Mall) -> None:
    _rule(mall)
    client = _client(mall, "chaoyang")
    form = {"org_id": str(mall.world.org_id("d2")), "occasion": "spring_festival",
            "points": "abc", "action": "preview"}
    r = post_form(client, f"{ADMIN}/grant", form, form_url=ADMIN)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "发放范围：请选择您管辖范围内的工会" in html and "每人积分：请填写正整数" in html
    form = {"org_id": str(mall.world.org_id("d1")), "occasion": "dragon_boat",
            "points": "10", "action": "grant"}
    r = post_form(client, f"{ADMIN}/grant", form, form_url=ADMIN)
    assert r.status_code == 422 and "没有设置“端午”的积分规则" in r.get_data(as_text=True)
    member = _client(mall, "m1")
    assert member.get(ADMIN).status_code == 403
    assert member.get(f"{ADMIN}/report").status_code == 403


def test_grant_job_refused_writes_nothing(mall: Mall) -> None:
    from unionhub.jobs import service as jobs
    from unionhub.jobs.models import Job

    _rule(mall, caps=(200, 200, 1000))
    with mall.app.test_request_context():
        s = db.session()
        job = jobs.submit("benefits_mall.points_grant", {
            "org_id": mall.world.org_id("d1"), "occasion": "spring_festival", "points": 300,
            "year": beijing_today().year, "batch_key": "too-much", "group_ids": []}, session=s)
        s.commit()
        job_id = job.id
    from unionhub.jobs.service import run_job

    assert run_job(mall.app, job_id) == "failed"
    with mall.app.app_context():
        failed = db.session().get(Job, job_id)
        assert failed is not None and "单次发放上限" in (failed.error or "")
    assert _balance(mall, "m1") == 0


def _seed_points(mall: Mall) -> None:
    from unionhub.orgs.models import Org

    svc = _svc()
    with mall.app.app_context():
        s = db.session()
        for occasion in ("spring_festival", "mid_autumn"):
            svc.set_rule(s, s.get(Org, mall.world.org_id("city")), occasion, 200, 200, 1000)
        for org, occasion, points in (("d1", "spring_festival", 100), ("city", "mid_autumn", 50)):
            svc.grant(s, org=s.get(Org, mall.world.org_id(org)), member_ids=None,
                      occasion=occasion, points=points, year=beijing_today().year,
                      account_id=None, batch_key=f"{org}-{occasion}")
        svc.spend(s, mall.world.people["m1"].member_id, 30, batch_key="spend-1")
        s.commit()


def test_report_by_union_scoped_with_chart(mall: Mall) -> None:
    _seed_points(mall)
    city = _client(mall, "city")
    html = city.get(f"{ADMIN}/report").get_data(as_text=True)
    assert "<svg" in html and 'role="img"' in html
    assert "朝阳区总工会" in html and "海淀区总工会" in html
    # granted: d1 members 2 × 100 + 2 × 50, d2 member 50; spent 30; outstanding 320 − 30
    assert "<b>350</b>" in html and "<b>30</b>" in html and "<b>320</b>" in html
    chaoyang = _client(mall, "chaoyang")
    html = chaoyang.get(f"{ADMIN}/report").get_data(as_text=True)
    assert "海淀区总工会" not in html and "电控工会" in html
    assert "<b>300</b>" in html  # d1's members only: 200 + 100
    r = chaoyang.get(f"{ADMIN}/report?org_id={mall.world.org_id('d2')}")
    assert r.status_code == 404
    html = city.get(f"{ADMIN}/report?org_id={mall.world.org_id('d1')}").get_data(as_text=True)
    grants = html[html.index("各工会发放情况"):]
    assert "电控工会" in html and "海淀区总工会" not in grants
    assert "北京市总工会" in grants and "朝阳区总工会" in grants  # who granted to d1 members


def test_member_page_panel_and_api(mall: Mall) -> None:
    _seed_points(mall)
    client = _client(mall, "m1")
    html = client.get("/benefits_mall/my/points").get_data(as_text=True)
    assert '<b id="points-balance">120</b>' in html
    assert "-30" in html and "+100" in html
    me = client.get("/me").get_data(as_text=True)
    assert "我的积分" in me and "120" in me
    r = client.post("/api/v1/auth/token", json={
        "identifier": mall.world.people["m1"].mobile, "password": PASSWORD, "device": "t"})
    auth = {"Authorization": f"Bearer {r.get_json()['token']}"}
    body = client.get("/api/v1/benefits_mall/points", headers=auth).get_json()
    assert body["balance"] == 120 and body["expiring"] == []
    entries = client.get("/api/v1/benefits_mall/points/entries", headers=auth).get_json()
    assert entries["total"] == 3 and entries["items"][0]["kind"] == "spend"
    officer = _client(mall, "city")
    assert officer.get("/benefits_mall/my/points").status_code == 404


def test_expire_job_runs_on_beat(mall: Mall) -> None:
    from unionhub.jobs import service as jobs

    _seed_points(mall)
    with mall.app.app_context():
        reg = jobs.registry()
        assert reg.beat["benefits_mall.points_expire"][1].every == 86400
        assert reg.beat["benefits_mall.bookings_expire"][1].every == 300
    later = (beijing_today() + timedelta(days=400)).isoformat()
    with mall.app.test_request_context():
        s = db.session()
        job = jobs.submit("benefits_mall.points_expire", {"today": later}, session=s)
        s.commit()
        job_id = job.id
    assert jobs.run_job(mall.app, job_id) == "succeeded"
    with mall.app.app_context():
        from unionhub.jobs.models import Job

        done = db.session().get(Job, job_id)
        assert done is not None and done.result == {"expired": 5, "today": later}
        total = _svc().balance(db.session(), mall.world.people["m1"].member_id)
    assert total == 0


def test_chart_with_braces_in_org_names():
    """Org names are data: braces in them must not be taken for format fields."""
    from unionhub.web.charts import Group, grouped_bars

    svg = str(grouped_bars("k", "标题{x}", "说明{0}", ["发放"], [Group("工会{y}", [5])]))
    assert "工会{y}" in svg and "标题{x}" in svg and svg.startswith("<svg")
