"""Personal shelves: the standard three made on first use and exclusive, custom shelves
created, renamed and deleted with clear refusals, books put on and taken off, other people's
shelves out of reach."""

from __future__ import annotations

from flask.testing import FlaskClient
from lxml import html as lxml_html
from sqlalchemy import select

from tests.helpers import csrf_token
from tests.library.conftest import Library, add_book
from tests.library.test_reader_support import epub_bytes, signed_in, store


def _shelves(library: Library, who: str) -> dict[str, set[int]]:
    """name → book ids of ``who``'s shelves."""
    from unionhub import db
    from unionhub_library.models import LibraryShelf, LibraryShelfItem

    with library.app.app_context():
        s = db.session()
        out: dict[str, set[int]] = {}
        for shelf in s.scalars(select(LibraryShelf).where(
                LibraryShelf.account_id == library.world.people[who].account_id)):
            out[shelf.name] = set(s.scalars(select(LibraryShelfItem.book_id).where(
                LibraryShelfItem.shelf_id == shelf.id)))
        return out


def _shelf_id(library: Library, who: str, name: str) -> int:
    from unionhub import db
    from unionhub_library.models import LibraryShelf

    with library.app.app_context():
        found = db.session().scalar(select(LibraryShelf.id).where(
            LibraryShelf.account_id == library.world.people[who].account_id,
            LibraryShelf.name == name))
        assert found is not None
        return found


def _put(client: FlaskClient, book_id: int, shelf: str | int, op: str = "add") -> None:
    token = csrf_token(client, "/library/shelves?tab=shelves")
    r = client.post("/library/shelves/put", data={
        "csrf_token": token, "book_id": book_id, "shelf": str(shelf), "op": op,
        "next": f"/library/book/{book_id}"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/library/book/{book_id}")


def test_standard_shelves_are_exclusive(library: Library) -> None:
    book_id = store(library, epub_bytes(), "book.epub")
    client = signed_in(library, "m1")
    page = client.get("/library/shelves?tab=shelves").get_data(as_text=True)
    for label in ("想读", "在读", "读过"):
        assert label in page
    _put(client, book_id, "want")
    assert _shelves(library, "m1")["想读"] == {book_id}
    _put(client, book_id, "finished")
    shelves = _shelves(library, "m1")
    assert shelves["想读"] == set() and shelves["读过"] == {book_id}
    # reading a finished book leaves it on 读过
    client.get(f"/library/read/{book_id}/0")
    assert _shelves(library, "m1")["在读"] == set()
    _put(client, book_id, "finished", "remove")
    assert _shelves(library, "m1")["读过"] == set()
    client.get(f"/library/read/{book_id}/0")
    assert _shelves(library, "m1")["在读"] == {book_id}


def test_custom_shelves_and_refusals(library: Library) -> None:
    book_id = store(library, epub_bytes(), "book.epub")
    client = signed_in(library, "m1")

    def create(name: str) -> tuple[int, str]:
        token = csrf_token(client, "/library/shelves?tab=shelves")
        r = client.post("/library/shelves/new", data={"csrf_token": token, "name": name})
        return r.status_code, r.get_data(as_text=True)

    assert create("  工会 史  ")[0] == 302
    assert "工会 史" in _shelves(library, "m1")
    before = _shelves(library, "m1")
    for name, reason in (("工会 史", "已经有名为“工会 史”的书架"), ("", "请填写书架名称"),
                         ("想读", "系统书架的名称"), ("长" * 21, "不能超过 20 个字")):
        status, body = create(name)
        assert status == 422 and reason in body, name
    assert _shelves(library, "m1") == before

    shelf_id = _shelf_id(library, "m1", "工会 史")
    _put(client, book_id, shelf_id)
    _put(client, book_id, "want")
    shelves = _shelves(library, "m1")
    assert shelves["工会 史"] == {book_id} and shelves["想读"] == {book_id}
    page = client.get(f"/library/shelves/{shelf_id}").get_data(as_text=True)
    assert "工会史话" in page

    token = csrf_token(client, f"/library/shelves/{shelf_id}")
    r = client.post(f"/library/shelves/{shelf_id}/rename", data={"csrf_token": token,
                                                                 "name": "职工书屋"})
    assert r.status_code == 302 and "职工书屋" in _shelves(library, "m1")
    want = _shelf_id(library, "m1", "想读")
    r = client.post(f"/library/shelves/{want}/rename", data={"csrf_token": token,
                                                             "name": "随便"})
    assert r.status_code == 422 and "系统书架不能改名" in r.get_data(as_text=True)
    r = client.post(f"/library/shelves/{want}/delete", data={"csrf_token": token})
    assert r.status_code == 302 and "想读" in _shelves(library, "m1")
    r = client.post(f"/library/shelves/{shelf_id}/delete", data={"csrf_token": token})
    assert r.status_code == 302
    shelves = _shelves(library, "m1")
    assert "职工书屋" not in shelves and shelves["想读"] == {book_id}


def test_other_readers_shelves_are_out_of_reach(library: Library) -> None:
    book_id = store(library, epub_bytes(), "book.epub")
    owner = signed_in(library, "m1")
    token = csrf_token(owner, "/library/shelves?tab=shelves")
    owner.post("/library/shelves/new", data={"csrf_token": token, "name": "私人"})
    shelf_id = _shelf_id(library, "m1", "私人")
    _put(owner, book_id, shelf_id)
    other = signed_in(library, "m2")
    token = csrf_token(other, "/library/shelves?tab=shelves")
    assert other.get(f"/library/shelves/{shelf_id}").status_code == 404
    for url, data in ((f"/library/shelves/{shelf_id}/rename", {"name": "x"}),
                      (f"/library/shelves/{shelf_id}/delete", {}),
                      ("/library/shelves/put", {"book_id": book_id, "shelf": shelf_id,
                                                "op": "remove"})):
        r = other.post(url, data={"csrf_token": token, **data})
        assert r.status_code == 404, url
    assert _shelves(library, "m1")["私人"] == {book_id}
    assert library.app.test_client().get("/library/shelves").status_code == 302


def test_hidden_books_leave_the_lists(library: Library) -> None:
    shown = store(library, epub_bytes(title="在架的书"), "a.epub")
    with library.app.app_context():
        hidden = add_book(library.categories["D"], "下架的书",
                          owner_org_id=library.world.org_id("city"))
    client = signed_in(library, "m1")
    _put(client, shown, "want")
    # a hidden book cannot be put on a shelf
    token = csrf_token(client, "/library/shelves?tab=shelves")
    from unionhub import db
    from unionhub_library.models import LibraryBook

    with library.app.app_context():
        s = db.session()
        s.get(LibraryBook, hidden).state = "hidden"
        s.commit()
    r = client.post("/library/shelves/put", data={"csrf_token": token, "book_id": hidden,
                                                  "shelf": "want", "next": "/library/shelves"})
    assert r.status_code == 302
    assert _shelves(library, "m1")["想读"] == {shown}
    with library.app.app_context():
        s = db.session()
        s.get(LibraryBook, shown).state = "hidden"
        s.commit()
    want = _shelf_id(library, "m1", "想读")
    page = client.get(f"/library/shelves/{want}").get_data(as_text=True)
    assert "在架的书" not in page
    counts = lxml_html.fromstring(client.get("/library/shelves?tab=shelves").get_data(
        as_text=True)).xpath("//div[@class='shelf-grid']//b/text()")
    assert counts == ["0", "0", "0"]
