"""The hotline on the app API: categories and published Q&As without signing in, asking with
field errors, my questions and one with its trail; another member gets 404."""

from __future__ import annotations

from typing import Any

from tests.helpers import PASSWORD
from tests.portal.conftest import Portal
from unionhub import db
from unionhub.identity.models import Account
from unionhub_portal.hotline import service
from unionhub_portal.hotline.models import PortalHotlineQuestion

API = "/api/v1/portal/hotline"


def api_client(portal: Portal, identifier: str) -> Any:
    client = portal.app.test_client()
    r = client.post("/api/v1/auth/token", json={"identifier": identifier, "password": PASSWORD,
                                                "device": "t"})
    assert r.status_code == 201, r.get_json()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {r.get_json()['token']}"
    return client


def test_ask_list_and_read_my_questions(portal: Portal) -> None:
    w = portal.world
    m1 = api_client(portal, w.people["m1"].mobile)
    r = m1.post(f"{API}/questions", json={"category": "injury", "subject": "上下班途中受伤算工伤吗",
                                          "body": "骑车上班途中被机动车撞伤，对方负全责。"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["state"] == "new" and body["state_label"] == "待受理"
    assert body["org"] == "电控工会" and body["anonymous"] is True
    assert [e["kind"] for e in body["events"]] == ["asked"] and body["answer"] is None
    qid = body["id"]

    r = m1.post(f"{API}/questions", json={"category": "x", "subject": "", "body": "长" * 2001})
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["fields"] == {"category": "请选择问题类别", "subject": "请填写标题",
                             "body": "问题描述不能超过 2000 个字（现有 2001 个字）"}
    assert m1.post(f"{API}/questions", json={"subject": "缺字段"}).status_code == 422
    r = m1.post(f"{API}/questions", json={"category": "wages", "subject": "投错工会",
                                          "body": "想问海淀区总工会的问题。",
                                          "org_id": w.org_id("d2")})
    assert r.status_code == 422 and "org_id" in r.get_json()["error"]["fields"]

    page = m1.get(f"{API}/questions").get_json()
    assert page["total"] == 1 and page["items"][0]["id"] == qid
    assert m1.get(f"{API}/questions/{qid}").get_json()["subject"] == "上下班途中受伤算工伤吗"
    m2 = api_client(portal, w.people["m2"].mobile)
    assert m2.get(f"{API}/questions/{qid}").status_code == 404
    assert m2.get(f"{API}/questions").get_json()["total"] == 0
    assert portal.app.test_client().get(f"{API}/questions").status_code == 401
    officer = api_client(portal, "chaoyang")
    r = officer.post(f"{API}/questions", json={"category": "wages", "subject": "干部提问",
                                               "body": "干部不是会员能提问吗"})
    assert r.status_code == 403

    with portal.app.app_context():
        s = db.session()
        q = s.get(PortalHotlineQuestion, qid)
        g1 = s.get(Account, w.officers["g1officer"])
        service.answer(s, q, g1, "在上下班途中受到非本人主要责任的交通事故伤害的，应当认定为工伤。")
        draft = service.publish_draft(q)
        service.publish(s, q, g1, subject=draft.subject, question_text=draft.question,
                        answer_text=draft.answer)
        s.commit()
    detail = m1.get(f"{API}/questions/{qid}").get_json()
    assert detail["state"] == "published" and "应当认定为工伤" in detail["answer"]
    assert detail["public_url"] == f"/portal/hotline/{qid}"
    assert [e["kind"] for e in detail["events"]] == ["asked", "answered", "published"]


def test_public_list_needs_no_sign_in_and_hides_the_asker(portal: Portal) -> None:
    w = portal.world
    anon = portal.app.test_client()
    cats = anon.get(f"{API}/categories").get_json()
    assert {"code": "contract", "label": "劳动合同"} in cats and len(cats) == len(
        service.CATEGORIES)
    assert anon.get(API).get_json() == {"items": [], "page": 1, "per_page": 20, "total": 0}
    with portal.app.app_context():
        s = db.session()
        g1 = s.get(Account, w.officers["g1officer"])
        ids = []
        for key, anonymous, category in (("m1", True, "contract"), ("m3", False, "wages")):
            acc = s.get(Account, w.people[key].account_id)
            q = service.ask(s, acc, category=category, subject=f"{category} 问题",
                            body="劳动合同到期不续签有补偿吗？", anonymous=anonymous)
            service.answer(s, q, g1, "劳动合同期满终止的，除单位维持或提高条件续订而劳动者"
                                     "不同意的以外，应支付经济补偿。")
            draft = service.publish_draft(q)
            service.publish(s, q, g1, subject=draft.subject, question_text=draft.question,
                            answer_text=draft.answer)
            ids.append(q.id)
        # one more, not published: never listed
        acc = s.get(Account, w.people["m2"].account_id)
        hidden = service.ask(s, acc, category="contract", subject="未公开", body="未公开的问题内容")
        s.commit()
    body = anon.get(API).get_json()
    assert body["total"] == 2 and {i["id"] for i in body["items"]} == set(ids)
    askers = {i["category"]: i["asker"] for i in body["items"]}
    assert askers == {"contract": "匿名职工", "wages": "王*"}
    assert anon.get(f"{API}?category=wages").get_json()["total"] == 1
    assert anon.get(f"{API}?q=补偿&per_page=1").get_json()["total"] == 2
    assert anon.get(f"{API}?category=nope").status_code == 400
    assert anon.get(f"{API}/{ids[0]}").get_json()["asker"] == "匿名职工"
    assert anon.get(f"{API}/{hidden.id}").status_code == 404
