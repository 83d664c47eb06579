"""The document pages: drafting with clear refusals (the form re-shown, nothing stored), rich
text sanitised when saved and when shown, editing only drafts, submitting without a workflow,
the issue form with its distribution list, and who may reach each page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tests.helpers import post_form
from tests.oa.test_documents_support import (
    account,
    approved,
    client_for,
    issued,
    make_draft,
    set_prefix,
    stored,
)


def document_count(oa: Any) -> int:
    from unionhub import db
    from unionhub_oa.documents.models import OaDocument

    with oa.app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(OaDocument)) or 0)


def new_form(oa: Any, **over: Any) -> dict[str, Any]:
    data = {"org_id": str(oa.world.org_id("d1")), "doc_type": "fa",
            "title": "关于开展职工技能比赛的通知", "body": "各基层工会：\n请按时报名。",
            "urgency": "urgent", "secrecy": ""}
    data.update(over)
    return data


def test_drafting_a_document(oa: Any) -> None:
    chaoyang = client_for(oa, "chaoyang")
    page = chaoyang.get("/oa/documents/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "朝阳区总工会" in html and "下行文" in html and "北京市总工会" not in html
    resp = post_form(chaoyang, "/oa/documents/new", new_form(oa))
    assert resp.status_code == 302
    doc_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    doc = stored(oa, doc_id)
    assert (doc.org_id, doc.org_path, doc.state) == (
        oa.world.org_id("d1"), oa.world.orgs["d1"].path, "draft")
    assert doc.urgency == "urgent" and doc.number is None
    assert doc.body == "各基层工会：<br>请按时报名。"  # typed lines kept
    html = chaoyang.get(f"/oa/documents/{doc_id}").get_data(as_text=True)
    assert "加急" in html and 'id="edit-form"' in html and 'id="issue-form"' not in html


def test_bad_input_is_refused_with_reasons(oa: Any) -> None:
    chaoyang = client_for(oa, "chaoyang")
    resp = post_form(chaoyang, "/oa/documents/new",
                     new_form(oa, title="  ", doc_type="xx", body="", urgency="now",
                              org_id=str(oa.world.org_id("d2"))),
                     form_url="/oa/documents/new")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    for field in ("title", "doc_type", "body", "urgency", "org_id"):
        assert f'data-field="{field}"' in html, field
    assert "请填写标题" in html and "请选择您可以起草公文的单位" in html
    assert document_count(oa) == 0
    long_title = post_form(chaoyang, "/oa/documents/new", new_form(oa, title="长" * 201),
                           form_url="/oa/documents/new")
    assert long_title.status_code == 422 and "201" in long_title.get_data(as_text=True)
    assert document_count(oa) == 0


def test_rich_text_is_sanitised(oa: Any) -> None:
    evil = ('<p onclick="steal()">正文<script>alert(1)</script>'
            '<a href="javascript:alert(2)">链接</a><img src=x onerror=alert(3)></p>'
            '<table><tr><td>表格</td></tr></table>')
    doc_id = make_draft(oa, body=evil)
    body = stored(oa, doc_id).body
    for bad in ("<script", "onclick", "javascript:", "onerror"):
        assert bad not in body, bad
    assert "正文" in body and "<table>" in body and "<td>表格</td>" in body
    # text stored under older rules is cleaned again when shown
    from unionhub import db
    from unionhub_oa.documents.models import OaDocument

    with oa.app.app_context():
        db.session().get(OaDocument, doc_id).body = '<p>旧正文<script>alert(4)</script></p>'
        db.session().commit()
    html = client_for(oa, "city").get(f"/oa/documents/{doc_id}").get_data(as_text=True)
    shown = html[html.index('id="doc-body"'):html.index("</article>")]
    assert "旧正文" in shown and "alert(4)" not in shown
    assert "<script>alert(4)" not in html  # the edit form shows it escaped


def test_editing_and_submitting_a_draft(oa: Any) -> None:
    doc_id = make_draft(oa, by="chaoyang", org="d1")
    chaoyang = client_for(oa, "chaoyang")
    url = f"/oa/documents/{doc_id}"
    bad = post_form(chaoyang, url, {"action": "save", "doc_type": "fa", "title": "",
                                    "body": "x"})
    assert bad.status_code == 422 and stored(oa, doc_id).title == "关于做好年度工作的通知"
    ok = post_form(chaoyang, url, {"action": "save", "doc_type": "zi", "title": "改过的标题",
                                   "body": "<p>新正文</p>", "secrecy": "internal"})
    assert ok.status_code == 302
    doc = stored(oa, doc_id)
    assert (doc.doc_type, doc.title, doc.body, doc.secrecy) == (
        "zi", "改过的标题", "<p>新正文</p>", "internal")
    # another district's officer cannot even see it
    assert post_form(client_for(oa, "haidian"), url, {"action": "save", "title": "x"},
                     form_url="/oa/documents").status_code == 404
    submitted = post_form(chaoyang, url, {"action": "submit", "doc_type": "zi",
                                          "title": "提交时的标题", "body": "<p>定稿</p>"})
    assert submitted.status_code == 302
    doc = stored(oa, doc_id)
    assert (doc.state, doc.title, doc.approval_ref) == ("approved", "提交时的标题", None)
    # no longer a draft: no edits
    again = post_form(chaoyang, url, {"action": "save", "doc_type": "zi", "title": "再改",
                                      "body": "x"}, form_url="/oa/documents")
    assert again.status_code == 422 and stored(oa, doc_id).title == "提交时的标题"
    html = chaoyang.get(url).get_data(as_text=True)
    assert 'id="awaiting-issue"' in html and 'id="edit-form"' not in html


def test_the_issue_form(oa: Any) -> None:
    doc_id = approved(oa, by="chaoyang", org="d1")
    set_prefix(oa, "d1", "朝工")
    url = f"/oa/documents/{doc_id}"
    city = client_for(oa, "city")
    html = city.get(url).get_data(as_text=True)
    assert 'id="issue-form"' in html
    for key in ("city", "d1", "d2", "g1", "g2", "b1"):
        assert f'data-org="{oa.world.org_id(key)}"' in html, key
    refused = post_form(city, url, {"action": "issue"})
    assert refused.status_code == 422 and "请至少选择一个主送单位" in refused.get_data(as_text=True)
    assert stored(oa, doc_id).state == "approved"
    no_token = city.post(url, data={"action": "issue", "org": [str(oa.world.org_id("g1"))]})
    assert no_token.status_code == 400 and stored(oa, doc_id).state == "approved"
    # 含下级 ticked alone chooses the org too
    resp = city.post(url, data={"csrf_token": _token(city, url), "action": "issue",
                                "org": [str(oa.world.org_id("g1"))],
                                "subtree": [str(oa.world.org_id("g2"))]})
    assert resp.status_code == 302
    doc = stored(oa, doc_id)
    assert doc.state == "issued" and doc.number and doc.number.startswith("朝工发〔") \
        and doc.number.endswith("〕1号")
    from unionhub import db
    from unionhub_oa.documents.models import OaDocRecipient

    with oa.app.app_context():
        rows = set(db.session().execute(select(OaDocRecipient.org_id,
                                               OaDocRecipient.include_subtree)).all())
    assert rows == {(oa.world.org_id("g1"), False), (oa.world.org_id("g2"), True)}
    html = city.get(url).get_data(as_text=True)
    assert doc.number in html and "软件园工会（含下级）" in html and 'id="issue-form"' not in html
    # the district officer may draft but not issue: no form for them
    assert 'id="issue-form"' not in client_for(oa, "chaoyang").get(url).get_data(as_text=True)


def _token(client: Any, url: str) -> str:
    from tests.helpers import csrf_token

    return csrf_token(client, url)


def test_who_may_reach_the_pages(oa: Any) -> None:
    from tests.helpers import login

    anonymous = oa.app.test_client()
    assert anonymous.get("/oa/documents").status_code in (302, 401)
    member = oa.app.test_client()
    login(member, oa.world.people["m1"].card_number)
    assert member.get("/oa/documents").status_code == 403
    assert member.get("/oa/documents/new").status_code == 403
    clerk = client_for(oa, "clerk")
    assert clerk.get("/oa/documents").status_code == 403
    assert client_for(oa, "chaoyang").get("/oa/documents/999999").status_code == 404
    assert client_for(oa, "chaoyang").get("/oa/documents/99999999999").status_code == 404
    doc_id, _number = issued(oa)
    assert client_for(oa, "chaoyang").get(f"/oa/documents/{doc_id}").status_code == 200


def test_list_tabs_and_empty_states(oa: Any) -> None:
    city = client_for(oa, "city")
    for tab in ("received", "issued", "drafts", "nonsense"):
        page = city.get(f"/oa/documents?tab={tab}")
        assert page.status_code == 200, tab
        assert 'id="doc-empty"' in page.get_data(as_text=True)
    make_draft(oa, title="一份草稿")
    html = city.get("/oa/documents?tab=drafts").get_data(as_text=True)
    assert "一份草稿" in html and 'id="new-document"' in html


def test_search_and_paging_input_never_fail(oa: Any) -> None:
    city = client_for(oa, "city")
    empty = city.get("/oa/documents?q=通知&page=abc")  # no index written yet
    assert empty.status_code == 200 and 'id="no-hits"' in empty.get_data(as_text=True)
    assert city.get("/oa/documents?tab=drafts&page=-3").status_code == 200
    assert city.get("/oa/documents?q=" + "长" * 500).status_code == 200


def test_non_ascii_digits_and_huge_ids_are_field_messages(oa: Any) -> None:
    """``²`` passes ``str.isdigit`` but not ``int``; a 20-digit id overflows the database:
    both are refused with the field's message, nothing stored, never a server error."""
    chaoyang = client_for(oa, "chaoyang")
    for raw in ("²", "99999999999999999999", "-1"):
        resp = post_form(chaoyang, "/oa/documents/new", new_form(oa, org_id=raw),
                         form_url="/oa/documents/new")
        assert resp.status_code == 422, raw
        assert "请选择您可以起草公文的单位" in resp.get_data(as_text=True)
    assert document_count(oa) == 0
    doc_id = approved(oa)
    url = f"/oa/documents/{doc_id}"
    city = client_for(oa, "city")
    for field in ("org", "subtree"):
        for raw in ("²", "99999999999999999999"):
            resp = post_form(city, url, {"action": "issue", field: [raw]})
            assert resp.status_code == 422, (field, raw)
            assert "主送单位的编号无效" in resp.get_data(as_text=True)
    assert stored(oa, doc_id).state == "approved"


def test_the_issue_form_says_why_an_org_without_a_prefix_may_not_number(oa: Any) -> None:
    doc_id = approved(oa, by="chaoyang", org="d1")
    url = f"/oa/documents/{doc_id}"
    city = client_for(oa, "city")
    resp = post_form(city, url, {"action": "issue", "org": [str(oa.world.org_id("g1"))]})
    assert resp.status_code == 422
    assert "本单位尚未设置公文机关代字，请管理员在 设置 中为本单位设置后再编号" in \
        resp.get_data(as_text=True)
    assert stored(oa, doc_id).number is None


def test_recipient_choices_say_when_truncated_and_can_be_searched(oa: Any,
                                                                 monkeypatch: Any) -> None:
    from unionhub_oa.documents import views

    doc_id = approved(oa)
    url = f"/oa/documents/{doc_id}"
    city = client_for(oa, "city")
    html = city.get(url).get_data(as_text=True)
    assert 'id="recipient-search"' in html and 'id="choices-truncated"' not in html
    monkeypatch.setattr(views, "CHOICES_SHOWN", 3)
    html = city.get(url).get_data(as_text=True)
    assert 'id="choices-truncated"' in html and "仅列出前 3 个" in html
    assert html.count('name="org" value=') == 3
    # narrowed by name, or by code (case-insensitive)
    html = city.get(url + "?org_q=软件园").get_data(as_text=True)
    assert 'id="choices-truncated"' not in html
    assert f'data-org="{oa.world.org_id("g2")}"' in html
    assert html.count('name="org" value=') == 1 and 'value="软件园"' in html
    html = city.get(url + "?org_q=b1").get_data(as_text=True)
    assert f'data-org="{oa.world.org_id("b1")}"' in html and html.count('name="org" value=') == 1
    html = city.get(url + "?org_q=%25").get_data(as_text=True)  # a LIKE wildcard is literal
    assert 'id="choices-none"' in html and html.count('name="org" value=') == 0
    # a refused issue re-shows the search; orgs ticked before stay listed whatever it says
    resp = post_form(city, url, {"action": "issue", "org_q": "软件园",
                                 "org": [str(oa.world.org_id("g1")), "²"]})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'value="软件园"' in html
    from unionhub import db
    from unionhub_oa.documents import service

    with oa.app.test_request_context():
        s = db.session()
        got = service.recipient_choices(s, account(oa, "city"), "软件园",
                                        keep=[oa.world.org_id("g1")])
        assert [o.code for o in got.orgs] == ["G1", "G2"] and not got.truncated
    resp = post_form(city, url, {"action": "issue", "org_q": "软件园",
                                 "org": [str(oa.world.org_id("g2"))]})
    assert resp.status_code == 302 and stored(oa, doc_id).state == "issued"
