"""The approval pages: the inbox tabs with counts, starting a general request from a
workflow's form (field errors re-shown, nothing stored), the request page with the actions
open to the viewer (approve, reject with an opinion, return, transfer/delegate/add a signer
by user name, withdraw, CC, comment, files), a stale form refused with a message and nothing
changed, files downloaded only by those who may see the request, and the workflow admin
(a changed definition is a new version; bad JSON or a bad definition is refused)."""

from __future__ import annotations

import io
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.helpers import login, post_form
from tests.oa.conftest import OA, make_workflow
from unionhub import db
from unionhub.identity.admin import create_officer
from unionhub_oa.workflow.models import (
    OaAction,
    OaAttachment,
    OaCc,
    OaRequest,
    OaWorkflow,
    OaWorkflowVersion,
)

DISTRICT = {"key": "district", "name": "区工会审核",
            "approvers": {"by": "role", "role": "district_officer", "org": "level:district"},
            "mode": "any"}
CITY = {"key": "city", "name": "市总审批",
        "approvers": {"by": "role", "role": "city_officer", "org": "city"}, "mode": "any"}
FIELDS = [{"name": "amount", "label": "金额（元）", "type": "decimal", "required": True},
          {"name": "days", "label": "天数", "type": "int"},
          {"name": "kind", "label": "类别", "type": "choice", "choices": ["差旅", "办公用品"]},
          {"name": "on", "label": "日期", "type": "date"},
          {"name": "reason", "label": "事由", "type": "textarea"}]


def client_of(oa: OA, username: str) -> FlaskClient:
    client = oa.app.test_client()
    r = login(client, username)
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    return client


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code)
    return r.get_data(as_text=True)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def flashes(html: str) -> list[str]:
    return [text(m).strip() for m in re.findall(r'<div class="flash [a-z]+"[^>]*>(.*?)</div>',
                                                html, re.S)]


def workflow(oa: OA, steps: list[dict[str, Any]] | None = None, code: str = "expense") -> int:
    with oa.app.app_context():
        return make_workflow(code, "oa.general", steps or [DISTRICT], FIELDS, name="费用报销")


def start(client: FlaskClient, oa: OA, title: str = "购买办公用品", code: str = "expense",
          **extra: Any) -> int:
    """Start a request through the form; returns its id."""
    data = {"title": title, "org_id": str(oa.world.org_id("g1")), "f_amount": "1200.50",
            "f_days": "2", "f_kind": "办公用品", "f_on": "2025-03-01", "f_reason": "打印纸",
            **extra}
    r = post_form(client, f"/oa/requests/new/{code}", data)
    assert r.status_code == 302, text(r.get_data(as_text=True))[:600]
    m = re.search(r"/oa/requests/(\d+)$", r.headers["Location"])
    assert m, r.headers["Location"]
    return int(m.group(1))


def lock_of(html: str) -> str:
    m = re.search(r'name="lock" value="(\d+)"', html)
    assert m, "no lock on the page"
    return m.group(1)


def act(client: FlaskClient, request_id: int, action: str, *, lock: str | None = None,
        **data: Any) -> str:
    """Post an action from the request page; follows the redirect back and returns it."""
    url = f"/oa/requests/{request_id}"
    html = page(client, url)
    r = post_form(client, f"{url}/action",
                  {"action": action, "lock": lock or lock_of(html), **data}, form_url=url)
    assert r.status_code == 302 and r.headers["Location"].endswith(url), r.status_code
    return page(client, url)


def state(oa: OA, request_id: int) -> str:
    with oa.app.app_context():
        req = db.session().get(OaRequest, request_id)
        assert req is not None
        return req.state


def trail(oa: OA, request_id: int) -> list[str]:
    with oa.app.app_context():
        return list(db.session().scalars(select(OaAction.action).where(
            OaAction.request_id == request_id).order_by(OaAction.id)))


def count(oa: OA, model: Any) -> int:
    with oa.app.app_context():
        return db.session().scalar(select(func.count()).select_from(model)) or 0


def test_pages_need_the_office(oa: OA) -> None:
    workflow(oa)
    anon = oa.app.test_client()
    r = anon.get("/oa/")
    assert r.status_code in (302, 401)
    member = oa.app.test_client()
    assert login(member, oa.world.people["m1"].mobile).status_code == 302
    for url in ("/oa/", "/oa/inbox?tab=done", "/oa/requests/new", "/oa/requests/new/expense",
                "/oa/workflows"):
        assert member.get(url).status_code == 403, url
    g1 = client_of(oa, "g1officer")
    assert g1.get("/oa/workflows").status_code == 403
    assert g1.get("/oa/workflows/new").status_code == 403
    html = page(g1, "/oa/")
    assert 'id="inbox-tabs"' in html and "没有待办的审批" in html
    html = page(g1, "/oa/requests/new")
    assert "费用报销" in html and "/oa/requests/new/expense" in html
    assert g1.get("/oa/requests/new/nosuch").status_code == 404
    assert g1.get("/oa/requests/999").status_code == 404


def test_full_flow_start_approve(oa: OA) -> None:
    workflow(oa, [DISTRICT, CITY])
    g1 = client_of(oa, "g1officer")
    form = page(g1, "/oa/requests/new/expense")
    for label in ("金额（元）", "天数", "类别", "日期", "事由", "发起单位", "电控工会"):
        assert label in form, label
    rid = start(g1, oa)
    html = page(g1, f"/oa/requests/{rid}")
    assert "已提交申请" in " ".join(flashes(html))
    assert "购买办公用品" in html and "1200.50" in html and "电控工会" in html
    assert "审批中" in html and 'id="act-withdraw"' in html
    assert 'id="act-decide"' not in html  # the initiator is not an approver

    cy = client_of(oa, "chaoyang")
    inbox = page(cy, "/oa/inbox?tab=todo")
    assert f'data-request="{rid}"' in inbox and "区工会审核" in inbox
    assert re.search(r'data-tab="todo"[^>]*>\s*待办 <span class="count">1</span>', inbox)
    html = act(cy, rid, "approve", opinion="同意报销")
    assert "已同意" in " ".join(flashes(html))
    assert state(oa, rid) == "running"
    assert f'data-request="{rid}"' in page(cy, "/oa/inbox?tab=done")
    assert f'data-request="{rid}"' not in page(cy, "/oa/inbox?tab=todo")

    city = client_of(oa, "city")
    html = act(city, rid, "approve")
    assert state(oa, rid) == "approved"
    html = page(g1, f"/oa/requests/{rid}")
    assert "已通过" in html and "同意报销" in html
    assert 'id="actions"' not in html  # nothing left to decide
    assert 'id="act-comment"' in html  # a comment stays possible after the end
    mine = page(g1, "/oa/inbox?tab=mine")
    assert f'data-request="{rid}"' in mine and "已通过" in mine
    assert trail(oa, rid).count("approve") == 2


def test_start_form_errors_store_nothing(oa: OA) -> None:
    workflow(oa)
    g1 = client_of(oa, "g1officer")
    url = "/oa/requests/new/expense"
    org = str(oa.world.org_id("g1"))
    r = post_form(g1, url, {"title": "", "org_id": org, "f_amount": ""})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "请填写标题" in html and 'id="form-errors"' in html
    r = post_form(g1, url, {"title": "报销", "org_id": org, "f_amount": "十二元",
                            "f_days": "1.5", "f_kind": "别的", "f_on": "2025-02-30"})
    assert r.status_code == 422
    errors = re.findall(r'<li data-field="([^"]+)">', r.get_data(as_text=True))
    assert {"f_amount", "f_days", "f_kind", "f_on"} <= set(errors), errors
    assert 'value="报销"' in r.get_data(as_text=True)  # the form keeps what was typed
    # An org where the officer holds no grant is refused.
    r = post_form(g1, url, {"title": "报销", "org_id": str(oa.world.org_id("d2")),
                            "f_amount": "1"})
    assert r.status_code == 422 and "请选择您任职的单位" in r.get_data(as_text=True)
    assert count(oa, OaRequest) == 0


def test_other_district_and_members_are_refused(oa: OA) -> None:
    workflow(oa)
    g1 = client_of(oa, "g1officer")
    rid = start(g1, oa)
    hd = client_of(oa, "haidian")
    assert hd.get(f"/oa/requests/{rid}").status_code == 404
    r = post_form(hd, f"/oa/requests/{rid}/action", {"action": "approve", "lock": "1"},
                  form_url="/oa/")
    assert r.status_code == 404
    assert f'data-request="{rid}"' not in page(hd, "/oa/inbox?tab=todo")
    member = oa.app.test_client()
    login(member, oa.world.people["m1"].mobile)
    assert member.get(f"/oa/requests/{rid}").status_code == 403
    assert state(oa, rid) == "running"


def test_reject_needs_an_opinion(oa: OA) -> None:
    workflow(oa)
    rid = start(client_of(oa, "g1officer"), oa)
    cy = client_of(oa, "chaoyang")
    html = act(cy, rid, "reject", opinion="  ")
    assert "不同意时请填写意见" in " ".join(flashes(html))
    assert state(oa, rid) == "running" and "reject" not in trail(oa, rid)
    html = act(cy, rid, "reject", opinion="超出预算")
    assert state(oa, rid) == "rejected"
    assert "已驳回" in html and "超出预算" in html


def test_stale_form_is_refused_and_changes_nothing(oa: OA) -> None:
    workflow(oa)
    with oa.app.app_context():
        s = db.session()
        create_officer(s, "chaoyang2", "chaoyang2", "Passw0rd-test", "district_officer",
                       oa.world.orgs["d1"])
        s.commit()
    rid = start(client_of(oa, "g1officer"), oa)
    cy, cy2 = client_of(oa, "chaoyang"), client_of(oa, "chaoyang2")
    seen = lock_of(page(cy2, f"/oa/requests/{rid}"))
    act(cy, rid, "approve", opinion="同意")
    assert state(oa, rid) == "approved"
    before = trail(oa, rid)
    html = act(cy2, rid, "reject", lock=seen, opinion="不同意")
    assert "已被他人处理" in " ".join(flashes(html))
    assert state(oa, rid) == "approved" and trail(oa, rid) == before
    # A comment typed meanwhile is not lost: it is added to what the request has become.
    html = act(cy2, rid, "comment", lock=seen, opinion="已阅")
    assert "已发表评论" in " ".join(flashes(html)) and trail(oa, rid)[-1] == "comment"

    # A form shown before any change but posted with a lock that no longer matches.
    rid2 = start(client_of(oa, "g1officer"), oa, title="第二份")
    html = page(cy, f"/oa/requests/{rid2}")
    stale = str(int(lock_of(html)) + 5)
    html = act(cy, rid2, "approve", lock=stale)
    assert any("他人" in f or "刷新" in f or "变化" in f for f in flashes(html)), flashes(html)
    assert state(oa, rid2) == "running" and "approve" not in trail(oa, rid2)


def test_return_transfer_delegate_and_withdraw(oa: OA) -> None:
    workflow(oa, [DISTRICT, CITY])
    g1 = client_of(oa, "g1officer")
    rid = start(g1, oa)
    cy, city = client_of(oa, "chaoyang"), client_of(oa, "city")
    act(cy, rid, "approve")
    html = page(city, f"/oa/requests/{rid}")
    assert 'id="act-return"' in html and "区工会审核" in html
    html = act(city, rid, "return", step="0", opinion="")
    assert "退回时请填写意见" in " ".join(flashes(html))
    act(city, rid, "return", step="0", opinion="请补充发票")
    assert "return" in trail(oa, rid)
    html = page(cy, f"/oa/requests/{rid}")
    assert 'id="act-decide"' in html

    # Transfer / delegate by user name: unknown names and members are refused.
    html = act(cy, rid, "delegate", to="nobody")
    assert "找不到" in " ".join(flashes(html))
    html = act(cy, rid, "delegate", to=oa.world.people["m1"].mobile)
    assert "找不到" in " ".join(flashes(html))
    act(cy, rid, "delegate", to="city", opinion="请市总把关")
    html = page(city, f"/oa/requests/{rid}")
    assert 'id="act-answer"' in html
    act(city, rid, "answer", opinion="可以")
    html = page(cy, f"/oa/requests/{rid}")
    assert 'id="act-decide"' in html
    act(cy, rid, "transfer", to="admin", opinion="转管理员")
    assert 'id="act-decide"' in page(client_of(oa, "admin"), f"/oa/requests/{rid}")
    assert {"delegate", "answer", "transfer"} <= set(trail(oa, rid))

    # Withdraw: only while nobody acted.
    rid2 = start(g1, oa, title="再申请")
    html = act(g1, rid2, "withdraw")
    assert state(oa, rid2) == "withdrawn" and "已撤回" in html


def test_cc_comment_and_read_mark(oa: OA) -> None:
    workflow(oa)
    g1 = client_of(oa, "g1officer")
    rid = start(g1, oa)
    html = act(g1, rid, "cc", to="nobody, city")
    assert "nobody" in " ".join(flashes(html))
    assert count(oa, OaCc) == 0
    act(g1, rid, "cc", to="city，admin")
    assert count(oa, OaCc) == 2
    city = client_of(oa, "city")
    cc_tab = page(city, "/oa/inbox?tab=cc")
    assert f'data-request="{rid}"' in cc_tab and 'class="unread"' in cc_tab
    page(city, f"/oa/requests/{rid}")
    with oa.app.app_context():
        read = dict(db.session().execute(select(OaCc.account_id, OaCc.read_at)).all())
    assert read[oa.world.officers["city"]] is not None
    assert read[oa.world.officers["admin"]] is None
    assert 'class="unread"' not in page(city, "/oa/inbox?tab=cc")
    html = act(g1, rid, "comment", opinion="")
    assert "请填写评论内容" in " ".join(flashes(html))
    html = act(g1, rid, "comment", opinion="发票已补")
    assert "发票已补" in html


def test_attachments(oa: OA) -> None:
    workflow(oa)
    g1 = client_of(oa, "g1officer")
    url = "/oa/requests/new/expense"
    r = post_form(g1, url, {"title": "带附件", "org_id": str(oa.world.org_id("g1")),
                            "f_amount": "10",
                            "file": (io.BytesIO(b"%PDF-1.4 invoice"), "发票.pdf",
                                     "application/pdf")},
                  content_type="multipart/form-data")
    assert r.status_code == 302
    rid = int(r.headers["Location"].rsplit("/", 1)[1])
    with oa.app.app_context():
        att = db.session().scalars(select(OaAttachment)).one()
        att_id = att.id
        assert att.owner == "request" and att.owner_id == rid and att.filename == "发票.pdf"
    cy = client_of(oa, "chaoyang")
    html = page(cy, f"/oa/requests/{rid}")
    assert f"/oa/requests/{rid}/files/{att_id}" in html and "发票.pdf" in html
    r = cy.get(f"/oa/requests/{rid}/files/{att_id}")
    assert r.status_code == 200 and r.data == b"%PDF-1.4 invoice"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "%E5%8F%91%E7%A5%A8.pdf" in disposition
    hd = client_of(oa, "haidian")
    assert hd.get(f"/oa/requests/{rid}/files/{att_id}").status_code == 404
    assert cy.get(f"/oa/requests/{rid + 1}/files/{att_id}").status_code == 404

    # Uploading from the request page: an image is shown inline, an HTML page is refused.
    html = page(cy, f"/oa/requests/{rid}")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    r = post_form(cy, f"/oa/requests/{rid}/action",
                  {"action": "attach", "lock": lock_of(html),
                   "file": (io.BytesIO(png), "现场.png", "image/png")},
                  form_url=f"/oa/requests/{rid}", content_type="multipart/form-data")
    assert r.status_code == 302
    with oa.app.app_context():
        new_id = db.session().scalar(select(func.max(OaAttachment.id)))
    assert new_id != att_id
    r = cy.get(f"/oa/requests/{rid}/files/{new_id}")
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    r = post_form(cy, f"/oa/requests/{rid}/action",
                  {"action": "attach", "lock": lock_of(html),
                   "file": (io.BytesIO(b"<script>alert(1)</script>"), "x.html", "text/html")},
                  form_url=f"/oa/requests/{rid}", content_type="multipart/form-data")
    html = page(cy, f"/oa/requests/{rid}")
    assert "不支持的文件类型" in " ".join(flashes(html))
    assert count(oa, OaAttachment) == 2
    html = act(cy, rid, "attach")
    assert "请选择要上传的文件" in " ".join(flashes(html))


def test_detail_page_fits_a_phone(oa: OA) -> None:
    workflow(oa)
    rid = start(client_of(oa, "g1officer"), oa)
    html = page(client_of(oa, "chaoyang"), f"/oa/requests/{rid}")
    assert 'name="viewport"' in html
    decide = html[html.index('id="act-decide"'):]
    decide = decide[:decide.index("</form>")]
    assert 'class="oa-buttons"' in decide and 'class="button"' in decide
    assert 'name="lock"' in decide and "<textarea" in decide
    assert 'class="card oa-actions"' in html


def test_workflow_admin(oa: OA) -> None:
    city = client_of(oa, "city")
    html = page(city, "/oa/workflows")
    assert "还没有审批流程" in html
    form = page(city, "/oa/workflows/new")
    assert "&#34;steps&#34;" in form or "&quot;steps&quot;" in form

    definition = '{"fields": [], "steps": [' + \
        '{"key": "d", "name": "区审核", "approvers": {"by": "role", ' + \
        '"role": "district_officer", "org": "level:district"}, "mode": "any"}]}'
    base = {"code": "leave", "name": "请假", "kind": "oa.general", "description": "",
            "enabled": "1"}
    r = post_form(city, "/oa/workflows/new", {**base, "definition": "{not json"})
    assert r.status_code == 422 and "不是有效的 JSON" in r.get_data(as_text=True)
    r = post_form(city, "/oa/workflows/new",
                  {**base, "definition": definition.replace('"any"', '"most"')})
    assert r.status_code == 422 and "审批方式" in r.get_data(as_text=True)
    assert count(oa, OaWorkflow) == 0
    r = post_form(city, "/oa/workflows/new", {**base, "definition": definition})
    assert r.status_code == 302, text(r.get_data(as_text=True))[:500]
    edit_url = r.headers["Location"]
    r = post_form(city, "/oa/workflows/new", {**base, "definition": definition})
    assert r.status_code == 422 and "已被使用" in r.get_data(as_text=True)

    html = page(city, edit_url)
    assert "v1" in html and "区审核" in html
    # Saving the same definition keeps the version; a changed one makes v2.
    r = post_form(city, edit_url, {**base, "name": "请假申请", "definition": definition})
    assert r.status_code == 302
    changed = definition.replace("区审核", "区工会审核")
    r = post_form(city, edit_url, {**base, "definition": changed})
    assert r.status_code == 302
    with oa.app.app_context():
        s = db.session()
        wf = s.scalars(select(OaWorkflow)).one()
        assert wf.current_version == 2 and wf.name == "请假"
        versions = s.scalars(select(OaWorkflowVersion.version).where(
            OaWorkflowVersion.workflow_id == wf.id)).all()
        assert sorted(versions) == [1, 2]
    html = page(city, edit_url)
    assert 'data-version="2"' in html and 'data-version="1"' in html
    # A bad definition is refused with its message, the name change with it.
    r = post_form(city, edit_url, {**base, "name": "改名", "definition": '{"steps": []}'})
    assert r.status_code == 422 and "至少需要一个审批环节" in r.get_data(as_text=True)
    with oa.app.app_context():
        wf = db.session().scalars(select(OaWorkflow)).one()
        assert wf.current_version == 2 and wf.name == "请假"
    html = page(city, "/oa/workflows")
    assert 'data-code="leave"' in html and "v2" in html
