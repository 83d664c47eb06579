"""Documents in the core search: an issued document is found by the recipient orgs' officers
and the issuing side, never by another district; drafts are not indexed at all; the list
page's search box shows only documents the viewer may open."""

from __future__ import annotations

from typing import Any

from tests.oa.test_documents_support import client_for, issued, make_draft

WORD = "职工疗休养"


def index(oa: Any) -> None:
    from unionhub.search.queue import process_queue

    run = process_queue(oa.app)
    assert run.acquired and run.failed == 0


def found(oa: Any, username: str, text: str = WORD) -> set[str]:
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub.search.service import get_service

    with oa.app.test_request_context():
        who = db.session().get(Account, oa.world.officers[username])
        results = get_service(oa.app).search_as(who, text, doc_type="oa.document",
                                                per_page=50)
        return {h.title for h in results.hits}


def test_document_acl(oa: Any) -> None:
    from unionhub import db
    from unionhub_oa.documents.search import documents

    doc_id, number = issued(oa, [("d1", True), ("g2", False)], title=f"关于{WORD}的通知")
    make_draft(oa, title="未下发的草稿")
    with oa.app.app_context():
        docs = list(documents(db.session(), None))
    assert [d.doc_id for d in docs] == [str(doc_id)]
    doc = docs[0]
    world = oa.world
    expected = {f"officer:oa.use:{world.org_id('city')}"} | {
        f"officer:oa.use:{world.org_id(k)}" for k in ("d1", "g1", "b1", "g2")}
    assert set(doc.acl) == expected
    assert number in doc.body and "北京市总工会" in doc.body
    assert doc.url == f"/oa/documents/{doc_id}" and doc.tags == ("doctype:fa",)


def test_search_finds_issued_documents_for_those_who_may_see_them(oa: Any) -> None:
    issued(oa, [("d1", True)], title=f"关于组织{WORD}活动的通知",
           body=f"<p>请各单位做好{WORD}报名工作。</p>")
    make_draft(oa, title=f"{WORD}草稿")
    index(oa)
    title = f"关于组织{WORD}活动的通知"
    assert found(oa, "g1officer") == {title}
    assert found(oa, "chaoyang") == {title}
    assert found(oa, "city") == {title}  # the issuing side; its draft is never indexed
    assert found(oa, "haidian") == set()
    assert found(oa, "g1officer", "报名工作") == {title}


def test_the_list_page_search_box(oa: Any) -> None:
    doc_id, number = issued(oa, [("g1", False)], title=f"{WORD}安排")
    index(oa)
    html = client_for(oa, "g1officer").get(f"/oa/documents?q={WORD}").get_data(as_text=True)
    assert f'data-document="{doc_id}"' in html and 'id="search-hits"' in html
    other = client_for(oa, "haidian").get(f"/oa/documents?q={WORD}").get_data(as_text=True)
    assert f'data-document="{doc_id}"' not in other and 'id="no-hits"' in other
    by_number = client_for(oa, "chaoyang").get(f"/oa/documents?q={number}")
    assert by_number.status_code == 200
