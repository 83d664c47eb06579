"""Who sees a document: drafts only the drafting org's side (its officers and those above);
once issued, the recipient orgs' officers — and their subtrees' when the recipient includes
them — but never another district. Read receipts are written when a recipient opens it, once;
the receipts page lists per recipient org who has read it and who has not; recipient officers
with a member record are notified."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tests.oa.test_documents_support import (
    add_officer,
    client_for,
    issued,
    make_draft,
)


def visible_to(oa: Any, doc_id: int) -> set[str]:
    """The build_world officers who may open the document (checked in SQL)."""
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_oa.documents import service

    out = set()
    with oa.app.test_request_context():
        s = db.session()
        for name, account_id in oa.world.officers.items():
            if service.get_visible(s, s.get(Account, account_id), doc_id) is not None:
                out.add(name)
    return out


def test_a_draft_is_seen_by_the_drafting_side_only(oa: Any) -> None:
    doc_id = make_draft(oa, by="chaoyang", org="d1")
    # the district's officers and those above it (city, admin); not the district's own
    # grassroots officers, not the other district
    assert visible_to(oa, doc_id) == {"admin", "city", "chaoyang"}
    assert client_for(oa, "haidian").get(f"/oa/documents/{doc_id}").status_code == 404
    assert client_for(oa, "g1officer").get(f"/oa/documents/{doc_id}").status_code == 404
    page = client_for(oa, "chaoyang").get(f"/oa/documents/{doc_id}")
    assert page.status_code == 200 and "关于做好年度工作的通知" in page.get_data(as_text=True)


def test_issued_to_a_subtree(oa: Any) -> None:
    doc_id, _number = issued(oa, [("d1", True)])
    assert visible_to(oa, doc_id) == {"admin", "city", "chaoyang", "g1officer"}
    assert client_for(oa, "haidian").get(f"/oa/documents/{doc_id}").status_code == 404


def test_issued_to_an_org_without_its_subtree(oa: Any) -> None:
    doc_id, _number = issued(oa, [("d1", False), ("g2", False)])
    # g2's officer: none in build_world; haidian (d2, above g2) is not a recipient
    assert visible_to(oa, doc_id) == {"admin", "city", "chaoyang"}
    g2officer = add_officer(oa, "g2officer", "grassroots_officer", "g2")
    from unionhub import db
    from unionhub.identity.models import Account
    from unionhub_oa.documents import service

    with oa.app.test_request_context():
        s = db.session()
        assert service.get_visible(s, s.get(Account, g2officer), doc_id) is not None


def test_the_received_tab_puts_unread_first(oa: Any) -> None:
    older, _n1 = issued(oa, [("d1", True)], title="较早的通知")
    newer, _n2 = issued(oa, [("g1", False)], title="较新的通知")
    own = make_draft(oa, by="g1officer", org="g1", title="本单位草稿")
    g1 = client_for(oa, "g1officer")
    html = g1.get("/oa/documents").get_data(as_text=True)
    assert html.index("较新的通知") < html.index("较早的通知")
    assert 'id="unread-count"' in html and ">2</span>" in html
    assert "本单位草稿" not in html
    assert g1.get(f"/oa/documents/{older}").status_code == 200
    html = g1.get("/oa/documents").get_data(as_text=True)
    # the read one goes below the unread one, whatever their dates
    assert html.index("较新的通知") < html.index("较早的通知")
    assert g1.get(f"/oa/documents/{newer}").status_code == 200
    html = g1.get("/oa/documents").get_data(as_text=True)
    assert 'id="unread-count"' not in html
    assert "本单位草稿" in g1.get("/oa/documents?tab=drafts").get_data(as_text=True)
    issued_tab = client_for(oa, "city").get("/oa/documents?tab=issued").get_data(as_text=True)
    assert "较早的通知" in issued_tab and "较新的通知" in issued_tab
    assert own  # drafted by g1: in g1's drafts, never in the city's received tab
    assert "本单位草稿" not in client_for(oa, "city").get("/oa/documents").get_data(
        as_text=True)


def receipts_count(oa: Any, doc_id: int) -> dict[int, Any]:
    from unionhub import db
    from unionhub_oa.documents.models import OaDocReceipt

    with oa.app.app_context():
        return dict(db.session().execute(select(OaDocReceipt.account_id, OaDocReceipt.read_at)
                                         .where(OaDocReceipt.document_id == doc_id)).all())


def test_read_receipts(oa: Any) -> None:
    doc_id, number = issued(oa, [("d1", True), ("d2", False)])
    world = oa.world
    g1 = client_for(oa, "g1officer")
    assert g1.get(f"/oa/documents/{doc_id}").status_code == 200
    first = receipts_count(oa, doc_id)
    assert set(first) == {world.officers["g1officer"]}
    assert g1.get(f"/oa/documents/{doc_id}").status_code == 200  # opened again: one receipt
    assert receipts_count(oa, doc_id) == first
    # the issuing side reading its own document writes no receipt
    city = client_for(oa, "city")
    assert city.get(f"/oa/documents/{doc_id}").status_code == 200
    assert set(receipts_count(oa, doc_id)) == {world.officers["g1officer"]}

    page = city.get(f"/oa/documents/{doc_id}/receipts")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert number in html
    d1_part = html[html.index(f'data-recipient="{world.org_id("d1")}"'):
                   html.index(f'data-recipient="{world.org_id("d2")}"')]
    d2_part = html[html.index(f'data-recipient="{world.org_id("d2")}"'):]
    # d1 with its subtree: chaoyang (d1) has not read it, g1officer (g1) has; the agent
    # clerk at g1 holds no oa.use and is not listed
    assert 'data-counts="1/2"' in d1_part
    read, unread = d1_part.split("未阅", 1)[0], d1_part.split("未阅", 1)[1]
    assert f'data-account="{world.officers["g1officer"]}"' in read
    assert f'data-account="{world.officers["chaoyang"]}"' in unread
    assert f'data-account="{world.officers["clerk"]}"' not in d1_part
    assert 'data-counts="0/1"' in d2_part  # haidian
    assert f'data-account="{world.officers["haidian"]}"' in d2_part
    assert 'id="total-read">1<' in html and 'id="total-unread">2<' in html

    haidian = client_for(oa, "haidian")
    assert haidian.get(f"/oa/documents/{doc_id}").status_code == 200
    assert world.officers["haidian"] in receipts_count(oa, doc_id)
    # recipients do not follow who else has read it; only the issuing side does
    assert haidian.get(f"/oa/documents/{doc_id}/receipts").status_code == 404
    assert g1.get(f"/oa/documents/{doc_id}/receipts").status_code == 404
    html = city.get(f"/oa/documents/{doc_id}/receipts").get_data(as_text=True)
    assert 'id="total-read">2<' in html and 'id="total-unread">1<' in html


def test_an_officer_reached_through_two_recipients_is_counted_once(oa: Any) -> None:
    """d1 with its subtree and g1 below it both reach g1officer: listed once, under g1 (the
    most specific recipient); the totals count distinct officers."""
    from unionhub import db
    from unionhub_oa.documents import service
    from unionhub_oa.documents.models import OaDocument

    world = oa.world
    doc_id, _number = issued(oa, [("d1", True), ("g1", False)])
    assert client_for(oa, "g1officer").get(f"/oa/documents/{doc_id}").status_code == 200
    with oa.app.test_request_context():
        s = db.session()
        groups = {g.org.id: g for g in service.receipts(s, s.get(OaDocument, doc_id))}
    d1, g1 = groups[world.org_id("d1")], groups[world.org_id("g1")]
    assert [r.account_id for r in d1.read] == []
    assert [r.account_id for r in d1.unread] == [world.officers["chaoyang"]]
    assert [r.account_id for r in g1.read] == [world.officers["g1officer"]]
    assert g1.unread == []
    assert sum(g.total for g in groups.values()) == 2
    html = client_for(oa, "city").get(f"/oa/documents/{doc_id}/receipts").get_data(as_text=True)
    assert 'id="total-read">1<' in html and 'id="total-unread">1<' in html
    assert html.count(f'data-account="{world.officers["g1officer"]}"') == 1


def test_receipts_of_a_draft_do_not_exist(oa: Any) -> None:
    doc_id = make_draft(oa)
    assert client_for(oa, "city").get(f"/oa/documents/{doc_id}/receipts").status_code == 404


def test_recipient_officers_with_a_member_record_are_notified(oa: Any) -> None:
    from unionhub import db
    from unionhub.access.models import RoleGrant
    from unionhub.notify.models import Notification

    world = oa.world
    with oa.app.app_context():
        s = db.session()
        # m1 (a member of g1) is also g1's officer; m2 (g2) an officer of g2
        s.add(RoleGrant(account_id=world.people["m1"].account_id, role="grassroots_officer",
                        org_id=world.org_id("g1")))
        s.add(RoleGrant(account_id=world.people["m2"].account_id, role="grassroots_officer",
                        org_id=world.org_id("g2")))
        s.commit()
    doc_id, number = issued(oa, [("d1", True)], title="关于表彰先进的通知")
    with oa.app.app_context():
        rows = db.session().execute(select(Notification.member_id, Notification.type_key,
                                           Notification.title, Notification.body,
                                           Notification.url)).all()
    assert [r[0] for r in rows] == [world.people["m1"].member_id]
    _member, type_key, title, body, url = rows[0]
    assert type_key == "oa.document" and "关于表彰先进的通知" in title
    assert number in body and "北京市总工会" in body
    assert url == f"/oa/documents/{doc_id}"
    # the member-officer signs in as a member and reads it: a receipt
    m1 = client_for(oa, world.people["m1"].card_number)
    assert m1.get(f"/oa/documents/{doc_id}").status_code == 200
    with oa.app.app_context():
        from unionhub_oa.documents.models import OaDocReceipt

        assert db.session().scalar(select(func.count()).select_from(OaDocReceipt)) == 1
