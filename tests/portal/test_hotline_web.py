"""Hotline pages: a member asks on PC and on the phone, bad input keeps the form with clear
messages, officers work through the queue (another district's officer gets 404), assign,
answer, publish the redacted copy; the public lists, the overdue list, "我的" and the officer
dashboard."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from tests.helpers import csrf_token, login, post_form
from tests.portal.conftest import Portal
from unionhub import db
from unionhub.db import utcnow
from unionhub.identity.models import Account
from unionhub_portal.hotline import service
from unionhub_portal.hotline.models import HotlineState, PortalHotlineQuestion

BODY = "我叫张伟，手机13812345678。公司连续两个月拖欠工资，请问我该怎么维权？"


def member_client(portal: Portal, key: str = "m1") -> Any:
    client = portal.app.test_client()
    login(client, portal.world.people[key].mobile)
    return client


def officer_client(portal: Portal, username: str) -> Any:
    client = portal.app.test_client()
    login(client, username)
    return client


def ask_on_pc(portal: Portal, client: Any, **data: str) -> Any:
    form = {"category": "wages", "subject": "单位拖欠工资怎么办", "body": BODY,
            "anonymous": "1"}
    form.update(data)
    return post_form(client, "/portal/hotline/ask", form)


def question(question_id: int) -> PortalHotlineQuestion:
    with db.session() as s:
        q = s.get(PortalHotlineQuestion, question_id)
        assert q is not None
        return q


def count() -> int:
    return int(db.session().scalar(select(func.count()).select_from(PortalHotlineQuestion)) or 0)


def test_member_asks_on_pc_and_follows_it(portal: Portal) -> None:
    client = member_client(portal)
    r = ask_on_pc(portal, client)
    assert r.status_code == 302
    m = re.fullmatch(r"/portal/hotline/my/(\d+)", r.headers["Location"])
    assert m, r.headers["Location"]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "提问已提交" in page and "单位拖欠工资怎么办" in page and "待受理" in page
    assert "提问" in page and "电控工会" in page  # the trail names the union
    mine = client.get("/portal/hotline/my").get_data(as_text=True)
    assert "单位拖欠工资怎么办" in mine
    # another member cannot open it
    assert member_client(portal, "m2").get(r.headers["Location"]).status_code == 404
    with portal.app.app_context():
        q = question(int(m.group(1)))
        assert q.org_id == portal.world.org_id("g1") and q.anonymous and q.channel == "pc"
    me = client.get("/me").get_data(as_text=True)
    assert "我的提问" in me and 'id="hotline-total">1<' in me


def test_bad_input_keeps_the_form_and_saves_nothing(portal: Portal) -> None:
    client = member_client(portal)
    r = ask_on_pc(portal, client, subject="", body="很长" * 1001)
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "请填写标题" in html and "问题描述不能超过 2000 个字（现有 2002 个字）" in html
    assert "请修改下面标出的内容后重新提交" in html and "很长很长" in html  # input kept
    r = ask_on_pc(portal, client, category="nope")
    assert r.status_code == 422 and "请选择问题类别" in r.get_data(as_text=True)
    with portal.app.app_context():
        assert count() == 0
    # an officer without membership may not ask
    officer = officer_client(portal, "chaoyang")
    assert officer.get("/portal/hotline/ask").status_code == 403
    # not signed in: to the login page
    r = portal.app.test_client().get("/portal/hotline/ask")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_mobile_pages_render_and_ask(portal: Portal) -> None:
    anon = portal.app.test_client()
    r = anon.get("/portal/m/hotline")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'name="viewport"' in html and "登录后提问" in html
    assert '<a href="/portal/m/hotline" class="active"><span>☎' in html  # the 热线 tab
    client = member_client(portal, "m3")
    form = client.get("/portal/m/hotline/ask")
    assert form.status_code == 200 and "电控工会（默认）" in form.get_data(as_text=True)
    r = post_form(client, "/portal/m/hotline/ask",
                  {"category": "hours", "subject": "年休假能跨年休吗",
                   "body": "今年的年休假没休完，明年还能休吗？"})
    assert r.status_code == 302
    m = re.fullmatch(r"/portal/m/hotline/my/(\d+)", r.headers["Location"])
    assert m
    detail = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "年休假能跨年休吗" in detail and "办理记录" in detail and "m-tabs" in detail
    assert "年休假能跨年休吗" in client.get("/portal/m/hotline/my").get_data(as_text=True)
    with portal.app.app_context():
        q = question(int(m.group(1)))
        assert q.channel == "mobile" and not q.anonymous  # the box was not ticked
    bad = post_form(client, "/portal/m/hotline/ask",
                    {"category": "hours", "subject": "", "body": "内容"})
    assert bad.status_code == 422 and "请填写标题" in bad.get_data(as_text=True)


def _detail_url(qid: int) -> str:
    return f"/portal/admin/hotline/{qid}"


def test_officer_flow_scope_assign_answer_publish(portal: Portal) -> None:
    w = portal.world
    member = member_client(portal)
    r = ask_on_pc(portal, member, anonymous="")  # shown with a masked name when published
    qid = int(r.headers["Location"].rsplit("/", 1)[1])

    # another district's officer: not in the queue, 404 on the question and its actions
    haidian = officer_client(portal, "haidian")
    assert "单位拖欠工资怎么办" not in haidian.get("/portal/admin/hotline").get_data(as_text=True)
    assert haidian.get(_detail_url(qid)).status_code == 404
    token = csrf_token(haidian, "/portal/admin/hotline")
    assert haidian.post(_detail_url(qid) + "/answer",
                        data={"csrf_token": token, "answer": "越权答复"}).status_code == 404
    # members have no back office
    assert member.get("/portal/admin/hotline").status_code == 403

    chaoyang = officer_client(portal, "chaoyang")
    queue = chaoyang.get("/portal/admin/hotline").get_data(as_text=True)
    assert "单位拖欠工资怎么办" in queue
    detail = chaoyang.get(_detail_url(qid)).get_data(as_text=True)
    mobile = w.people["m1"].mobile
    # officers see the asker, with the registered mobile masked
    assert "张伟" in detail and f"{mobile[:3]}****{mobile[-4:]}" in detail
    assert mobile not in detail
    assert 'id="assign-form"' in detail and "g1officer" in detail and "haidian" not in detail
    # assigning to an officer of another district is refused
    r = post_form(chaoyang, _detail_url(qid) + "/assign",
                  {"assignee_id": str(w.officers["haidian"])}, form_url=_detail_url(qid))
    assert r.status_code == 422 and "只能分派给负责电控工会热线的干部" in r.get_data(as_text=True)
    r = post_form(chaoyang, _detail_url(qid) + "/assign",
                  {"assignee_id": str(w.officers["g1officer"]), "note": "请尽快答复"},
                  form_url=_detail_url(qid))
    assert r.status_code == 302

    g1 = officer_client(portal, "g1officer")
    mine = g1.get("/portal/admin/hotline?tab=mine").get_data(as_text=True)
    assert "单位拖欠工资怎么办" in mine
    # a grassroots officer answers but does not assign
    assert 'id="assign-form"' not in g1.get(_detail_url(qid)).get_data(as_text=True)
    r = post_form(g1, _detail_url(qid) + "/assign",
                  {"assignee_id": str(w.officers["chaoyang"])}, form_url=_detail_url(qid))
    assert r.status_code == 403
    r = post_form(g1, _detail_url(qid) + "/answer", {"answer": ""}, form_url=_detail_url(qid))
    assert r.status_code == 422 and "请填写答复内容" in r.get_data(as_text=True)
    answer = "用人单位应按劳动合同约定按时足额支付工资。可向劳动保障监察机构投诉，或申请劳动仲裁。"
    r = post_form(g1, _detail_url(qid) + "/answer", {"answer": answer}, form_url=_detail_url(qid))
    assert r.status_code == 302
    with portal.app.app_context():
        from unionhub.notify.models import Notification

        notes = list(db.session().scalars(select(Notification).where(
            Notification.member_id == w.people["m1"].member_id,
            Notification.type_key == "portal.hotline_answered")))
        assert len(notes) == 1 and notes[0].url == f"/portal/hotline/my/{qid}"
    page = member.get(f"/portal/hotline/my/{qid}").get_data(as_text=True)
    assert "劳动保障监察" in page and "已答复" in page

    # publishing: the form starts from the redacted copy
    form = g1.get(_detail_url(qid) + "/publish").get_data(as_text=True)
    assert "张伟" not in form.split('id="publish-form"')[1] and "13812345678" not in form
    assert "张某" in form and "〔手机号〕" in form
    r = post_form(g1, _detail_url(qid) + "/publish",
                  {"subject": "单位拖欠工资怎么办", "question": "张伟问：公司拖欠工资怎么办？",
                   "answer": answer}, form_url=_detail_url(qid) + "/publish")
    assert r.status_code == 422 and "提问人姓名" in r.get_data(as_text=True)
    r = post_form(g1, _detail_url(qid) + "/publish",
                  {"subject": "单位拖欠工资怎么办", "question": "张某问：公司拖欠工资怎么办？",
                   "answer": answer}, form_url=_detail_url(qid) + "/publish")
    assert r.status_code == 302
    with portal.app.app_context():
        assert question(qid).state == HotlineState.PUBLISHED

    anon = portal.app.test_client()
    listing = anon.get("/portal/hotline").get_data(as_text=True)
    assert "单位拖欠工资怎么办" in listing and "张*" in listing and "张伟" not in listing
    one = anon.get(f"/portal/hotline/{qid}").get_data(as_text=True)
    assert "劳动保障监察" in one and 'id="asker">张*<' in one and "13812345678" not in one
    assert "单位拖欠工资怎么办" in anon.get("/portal/m/hotline").get_data(as_text=True)
    assert "张*" in anon.get(f"/portal/m/hotline/{qid}").get_data(as_text=True)
    assert "单位拖欠工资怎么办" in anon.get("/portal/hotline?q=拖欠").get_data(as_text=True)
    assert "单位拖欠工资怎么办" not in anon.get("/portal/hotline?c=contract").get_data(
        as_text=True)

    # the member rates the answer
    r = post_form(member, f"/portal/hotline/my/{qid}/rate", {"rating": "4"},
                  form_url=f"/portal/hotline/my/{qid}")
    assert r.status_code == 302
    with portal.app.app_context():
        assert question(qid).rating == 4


def test_unpublished_questions_are_not_public(portal: Portal) -> None:
    member = member_client(portal)
    r = ask_on_pc(portal, member)
    qid = int(r.headers["Location"].rsplit("/", 1)[1])
    anon = portal.app.test_client()
    assert anon.get(f"/portal/hotline/{qid}").status_code == 404
    assert anon.get(f"/portal/m/hotline/{qid}").status_code == 404
    assert "单位拖欠工资怎么办" not in anon.get("/portal/hotline").get_data(as_text=True)


def test_anonymous_question_published_shows_anonymous_worker(portal: Portal) -> None:
    member = member_client(portal)
    qid = int(ask_on_pc(portal, member).headers["Location"].rsplit("/", 1)[1])
    with portal.app.app_context():
        s = db.session()
        q = s.get(PortalHotlineQuestion, qid)
        officer = s.get(Account, portal.world.officers["chaoyang"])
        service.answer(s, q, officer, "可以向劳动保障监察机构投诉。")
        draft = service.publish_draft(q)
        service.publish(s, q, officer, subject=draft.subject, question_text=draft.question,
                        answer_text=draft.answer)
        s.commit()
    anon = portal.app.test_client()
    for url in ("/portal/hotline", f"/portal/hotline/{qid}", "/portal/m/hotline",
                f"/portal/m/hotline/{qid}"):
        html = anon.get(url).get_data(as_text=True)
        assert "匿名职工" in html and "张伟" not in html and "张*" not in html, url


def test_overdue_list_dashboard_and_escalation_trail(portal: Portal) -> None:
    member = member_client(portal)
    qid = int(ask_on_pc(portal, member).headers["Location"].rsplit("/", 1)[1])
    with portal.app.app_context():
        s = db.session()
        q = s.get(PortalHotlineQuestion, qid)
        q.asked_at = utcnow() - timedelta(days=14)
        q.due_at = utcnow() - timedelta(days=10)
        s.commit()
        assert service.escalate_overdue(s) == 1
        s.commit()
    chaoyang = officer_client(portal, "chaoyang")
    page = chaoyang.get("/portal/admin/hotline/overdue")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "单位拖欠工资怎么办" in html and "个工作日" in html
    assert "no-overdue" not in html
    assert "no-overdue" in officer_client(portal, "haidian").get(
        "/portal/admin/hotline/overdue").get_data(as_text=True)
    # grassroots officers answer but hold no overdue list
    assert officer_client(portal, "g1officer").get(
        "/portal/admin/hotline/overdue").status_code == 403
    detail = chaoyang.get(_detail_url(qid)).get_data(as_text=True)
    assert "超时督办" in detail and "已通知 0 人" in detail
    office = chaoyang.get("/office/").get_data(as_text=True)
    assert 'id="hotline-overdue">1<' in office and 'id="hotline-new">1<' in office
    assert 'id="hotline-overdue">0<' in officer_client(portal, "haidian").get(
        "/office/").get_data(as_text=True)
