"""Borrowing from an e-reader app: the borrow link makes a loan through the loans service with
the app token, answers with the book's entry, refuses clearly when no copy is free, and
never acts on a browser's session cookie."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import func, select

from tests.helpers import login
from tests.library.conftest import Library, add_book
from tests.library.test_opds_feeds import ENTRY, NS, Reader, add_file, link, links
from tests.library.test_opds_tokens import basic

ACQ_REL = "http://opds-spec.org/acquisition"
BORROW_REL = "http://opds-spec.org/acquisition/borrow"


def _lent(library: Library, copies: int = 1, title: str = "借阅之书") -> int:
    with library.app.app_context():
        book_id = add_book(library.categories["K"], title,
                           owner_org_id=library.world.org_id("city"), licence="lent",
                           copies=copies)
        add_file(book_id, "epub")
        return book_id


def _loans(library: Library, book_id: int) -> list[tuple[int, str]]:
    from unionhub import db
    from unionhub_library.models import LibraryLoan

    with library.app.app_context():
        return [tuple(r) for r in db.session().execute(
            select(LibraryLoan.account_id, LibraryLoan.state)
            .where(LibraryLoan.book_id == book_id).order_by(LibraryLoan.id))]


def _copies_out(library: Library, book_id: int) -> int:
    from unionhub import db
    from unionhub_library.models import LibraryBook

    with library.app.app_context():
        return db.session().get(LibraryBook, book_id).copies_out


def test_borrow_link_makes_a_loan_and_returns_the_entry(library: Library) -> None:
    book_id = _lent(library)
    admin_id = library.world.officers["admin"]  # may download: the entry then has the file
    app = Reader(library, admin_id)
    root = app.feed("/library/opds/new")
    [offer] = root.findall("a:entry", NS)
    href = link(offer, BORROW_REL, ENTRY)["href"]

    r = app.client.post(href.removeprefix("http://localhost"), headers=app.headers)
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.headers["Content-Type"].replace(" ", "") == ENTRY
    got = ET.fromstring(r.data)
    assert links(got, BORROW_REL) == []
    [file_link] = got.findall(f"a:link[@rel='{ACQ_REL}']", NS)
    assert file_link.get("href").endswith(f"/library/book/{book_id}/download/epub")
    assert file_link.find("opds:availability", NS).get("until")
    assert _loans(library, book_id) == [(admin_id, "active")]
    assert _copies_out(library, book_id) == 1

    # following the link again changes nothing (GET, as many apps do)
    again = app.client.get(href.removeprefix("http://localhost"), headers=app.headers)
    assert again.status_code == 200
    assert _loans(library, book_id) == [(admin_id, "active")]


def test_no_free_copy_is_refused_with_the_reason(library: Library) -> None:
    book_id = _lent(library, copies=1)
    w = library.world
    first, second = Reader(library, w.people["m1"].account_id), Reader(
        library, w.people["m2"].account_id)
    url = f"/library/opds/book/{book_id}/borrow"
    assert first.client.get(url, headers=first.headers).status_code == 201
    r = second.client.get(url, headers=second.headers)
    assert r.status_code == 409
    assert "暂无可借副本" in r.get_data(as_text=True)
    assert _loans(library, book_id) == [(w.people["m1"].account_id, "active")]
    assert _copies_out(library, book_id) == 1


def test_reader_without_download_gets_a_loan_but_no_file_link(library: Library) -> None:
    book_id = _lent(library, copies=2)
    member = Reader(library, library.world.people["m3"].account_id)
    r = member.client.get(f"/library/opds/book/{book_id}/borrow", headers=member.headers)
    assert r.status_code == 201
    got = ET.fromstring(r.data)
    assert links(got, ACQ_REL) == [] and links(got, BORROW_REL) == []
    assert link(got, "alternate", "text/html")["href"].endswith(f"/library/book/{book_id}")
    assert "借阅之书" in [e.findtext("a:title", namespaces=NS)
                       for e in member.feed("/library/opds/loans").findall("a:entry", NS)]


def test_borrowing_needs_an_app_token_not_a_session(library: Library) -> None:
    book_id = _lent(library)
    url = f"/library/opds/book/{book_id}/borrow"
    anonymous = library.app.test_client()
    r = anonymous.get(url)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    assert anonymous.get(url, headers=basic("zzzzzzzz", "y" * 26)).status_code == 401

    browser = library.app.test_client()
    login(browser, library.world.people["m1"].mobile)
    for method in (browser.get, browser.post):
        r = method(url)
        assert r.status_code == 303  # to the book page, where borrowing is a real form
        assert r.headers["Location"].endswith(f"/library/book/{book_id}")
    assert _loans(library, book_id) == []


def test_open_and_hidden_titles(library: Library) -> None:
    from unionhub import db
    from unionhub_library.models import LibraryLoan

    org = library.world.org_id("city")
    with library.app.app_context():
        open_id = add_book(library.categories["K"], "开放之书", owner_org_id=org)
        hidden_id = add_book(library.categories["K"], "下架之书", owner_org_id=org,
                             licence="lent", copies=3, state="hidden")
    member = Reader(library, library.world.people["m1"].account_id)
    r = member.client.get(f"/library/opds/book/{open_id}/borrow", headers=member.headers)
    assert r.status_code == 200  # nothing to borrow: the entry as it is
    assert member.client.get(f"/library/opds/book/{hidden_id}/borrow",
                             headers=member.headers).status_code == 404
    with library.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(LibraryLoan)) == 0


def test_clerk_without_read_permission_cannot_borrow(library: Library) -> None:
    book_id = _lent(library)
    clerk = Reader(library, library.world.officers["clerk"])
    r = clerk.client.get(f"/library/opds/book/{book_id}/borrow", headers=clerk.headers)
    assert r.status_code == 403
    assert _loans(library, book_id) == []



def test_acquisition_link_downloads_with_the_app_token(library: Library) -> None:
    """The file link works for the app that read it (HTTP Basic with its token)."""
    from unionhub import db
    from unionhub_library import storage
    from unionhub_library.models import LibraryFile

    data = b"PK\x03\x04 not really an epub, but bytes to compare"
    with library.app.app_context():
        book_id = add_book(library.categories["K"], "可下载之书",
                           owner_org_id=library.world.org_id("city"))
        add_file(book_id, "epub", len(data))
        stored = db.session().scalar(select(LibraryFile.stored_name).where(
            LibraryFile.book_id == book_id))
        storage.path_of("files", stored).write_bytes(data)
    admin = Reader(library, library.world.officers["admin"])
    [entry] = admin.feed("/library/opds/new").findall("a:entry", NS)
    href = link(entry, ACQ_REL, "application/epub+zip")["href"].removeprefix("http://localhost")
    r = admin.client.get(href, headers=admin.headers)
    assert r.status_code == 200 and r.data == data
    r = admin.client.get(href, headers=basic("zzzzzzzz", "q" * 26))
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Basic")
    member = Reader(library, library.world.people["m1"].account_id)
    assert member.client.get(href, headers=member.headers).status_code == 403
