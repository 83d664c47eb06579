"""The catalogue's back office: only ``library.catalogue.manage`` holders, only books owned in
their subtree (404 otherwise); upload, edit, hide/unhide, add a file, change the cover."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.helpers import PASSWORD, login, post_form
from tests.library.conftest import add_book
from tests.library.test_catalogue_files import make_epub, make_pdf, png

MULTIPART = {"content_type": "multipart/form-data"}


@pytest.fixture
def lib(library: Any) -> Any:
    """The library with a librarian of the Chaoyang district union (d1) and three books:
    one owned by the city, one by a grassroots union under d1, one by Haidian (d2)."""
    with library.app.app_context():
        from unionhub import db
        from unionhub.identity.admin import create_officer

        s = db.session()
        acc = create_officer(s, "libd1", "libd1", PASSWORD, "librarian", library.world.orgs["d1"])
        s.commit()
        library.world.officers["libd1"] = acc.id
        cat = library.categories["I"]
        library.books = {
            "city": add_book(cat, "市总的书", owner_org_id=library.world.org_id("city")),
            "g1": add_book(cat, "电控工会的书", owner_org_id=library.world.org_id("g1")),
            "d2": add_book(cat, "海淀的书", owner_org_id=library.world.org_id("d2")),
        }
    return library


def _client(lib: Any, who: str) -> FlaskClient:
    client = lib.app.test_client()
    login(client, who)
    return client


def _book(lib: Any, book_id: int) -> Any:
    from unionhub import db
    from unionhub_library.models import LibraryBook

    with lib.app.app_context():
        book = db.session().get(LibraryBook, book_id)
        assert book is not None
        db.session().expunge(book)
        return book


def test_permission_required(lib: Any) -> None:
    anonymous = lib.app.test_client()
    assert anonymous.get("/library/admin/books").status_code in (302, 401)
    for who in ("chaoyang", "g1officer"):  # officers without catalogue.manage
        client = _client(lib, who)
        assert client.get("/library/admin/books").status_code == 403
        assert client.get("/library/admin/import").status_code == 403
        assert client.get(f"/library/admin/books/{lib.books['g1']}").status_code == 403
    member = lib.app.test_client()
    login(member, lib.world.people["m1"].card_number)
    assert member.get("/library/admin/books/upload").status_code == 403


def test_list_is_scoped_to_the_officer_subtree(lib: Any) -> None:
    city = _client(lib, "city").get("/library/admin/books").get_data(as_text=True)
    assert all(t in city for t in ("市总的书", "电控工会的书", "海淀的书"))
    assert "图书管理" in city  # the officer menu item

    d1 = _client(lib, "libd1")
    page = d1.get("/library/admin/books").get_data(as_text=True)
    assert "电控工会的书" in page
    assert "市总的书" not in page and "海淀的书" not in page
    assert d1.get(f"/library/admin/books/{lib.books['g1']}").status_code == 200
    for other in ("city", "d2"):
        book_id = lib.books[other]
        assert d1.get(f"/library/admin/books/{book_id}").status_code == 404
        response = post_form(d1, f"/library/admin/books/{book_id}/state", {"action": "hide"},
                             form_url=f"/library/admin/books/{lib.books['g1']}")
        assert response.status_code == 404
    assert _book(lib, lib.books["d2"]).state == "active"


def test_list_filters_and_pagination(lib: Any) -> None:
    with lib.app.app_context():
        for i in range(25):
            add_book(lib.categories["K"], f"历史书{i:02d}", owner_org_id=lib.world.org_id("city"),
                     isbn=None)
    client = _client(lib, "city")
    url = f"/library/admin/books?category={lib.categories['K']}"
    first = client.get(url).get_data(as_text=True)
    assert first.count('data-book="') == 20 and "历史书24" in first and "市总的书" not in first
    second = client.get(f"{url}&page=2")
    assert second.get_data(as_text=True).count('data-book="') == 5
    found = client.get("/library/admin/books?q=历史书07").get_data(as_text=True)
    assert found.count('data-book="') == 1
    hidden = client.get("/library/admin/books?state=hidden").get_data(as_text=True)
    assert 'id="no-books"' in hidden


def test_upload_edit_hide_and_add_file(lib: Any) -> None:
    from unionhub import db
    from unionhub_library.models import LibraryBook, LibraryCategory

    client = _client(lib, "libd1")
    response = post_form(client, "/library/admin/books/upload", {
        "file": (io.BytesIO(make_epub(isbn="9787020002207", cover=png())), "歌.epub"),
        "owner_org_id": str(lib.world.org_id("g1")), "category_id": str(lib.categories["I"]),
        "title": "", "authors": "赵六 著", "licence": "lent", "copies": "2",
        "loan_days": "21"}, **MULTIPART)
    assert response.status_code == 302, response.get_data(as_text=True)
    book_id = int(re.search(r"/admin/books/(\d+)$", response.headers["Location"]).group(1))
    book = _book(lib, book_id)
    assert (book.title, book.authors_display, book.isbn) == ("劳动者之歌", "赵六 著",
                                                            "9787020002207")
    assert (book.licence, book.copies, book.loan_days) == ("lent", 2, 21)
    assert book.owner_org_id == lib.world.org_id("g1") and book.cover_name

    edit = client.get(f"/library/admin/books/{book_id}").get_data(as_text=True)
    assert "劳动者之歌" in edit and 'value="赵六 著"' in edit
    assert client.get(f"/library/admin/books/{book_id}/cover.jpg").status_code == 200

    # a refused edit names the fields and changes nothing
    form = {"owner_org_id": str(lib.world.org_id("g1")), "title": "新名",
            "category_id": str(lib.categories["K"]), "isbn": "978-7-02-000220-8",
            "year": "abc", "licence": "lent", "copies": "2", "loan_days": "21",
            "authors": "赵六 著"}
    bad = post_form(client, f"/library/admin/books/{book_id}", form)
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "校验位错误" in text and "出版年应为整数" in text
    assert _book(lib, book_id).title == "劳动者之歌"
    # moving the book to a union outside the officer's scope is refused
    outside = post_form(client, f"/library/admin/books/{book_id}",
                        {**form, "isbn": "", "year": "", "owner_org_id":
                         str(lib.world.org_id("d2"))})
    assert outside.status_code == 422
    ok = post_form(client, f"/library/admin/books/{book_id}",
                   {**form, "isbn": "9787020002207", "year": "2020"})
    assert ok.status_code == 302
    book = _book(lib, book_id)
    assert (book.title, book.category_id, book.year) == ("新名", lib.categories["K"], 2020)
    with lib.app.app_context():
        s = db.session()
        assert s.get(LibraryCategory, lib.categories["K"]).book_count == 1

    # hide and put back
    url = f"/library/admin/books/{book_id}"
    assert post_form(client, f"{url}/state", {"action": "hide"}, form_url=url).status_code == 302
    assert _book(lib, book_id).state == "hidden"
    with lib.app.app_context():
        assert db.session().get(LibraryCategory, lib.categories["K"]).book_count == 0
    post_form(client, f"{url}/state", {"action": "show"}, form_url=url)
    assert _book(lib, book_id).state == "active"

    # another format; the same format again is refused with a message
    added = post_form(client, f"{url}/files", {"file": (io.BytesIO(make_pdf(2)), "歌.pdf")},
                      form_url=url, **MULTIPART)
    assert added.status_code == 302
    again = post_form(client, f"{url}/files", {"file": (io.BytesIO(make_pdf(3)), "b.pdf")},
                      form_url=url, follow_redirects=True, **MULTIPART)
    assert "已有 PDF 文件" in again.get_data(as_text=True)
    with lib.app.app_context():
        formats = db.session().scalars(select(LibraryBook).where(LibraryBook.id == book_id)
                                       ).one().files
        assert sorted(f.format for f in formats) == ["epub", "pdf"]

    # a new cover; a non-image is refused
    cover = post_form(client, f"{url}/cover", {"cover": (io.BytesIO(png(200, 300)), "c.png")},
                      form_url=url, **MULTIPART)
    assert cover.status_code == 302 and _book(lib, book_id).cover_name != book.cover_name
    refused = post_form(client, f"{url}/cover", {"cover": (io.BytesIO(b"GIF89a junk"), "c.gif")},
                        form_url=url, follow_redirects=True, **MULTIPART)
    assert "不是有效的图片" in refused.get_data(as_text=True)


def test_refused_upload_stores_nothing(lib: Any) -> None:
    from unionhub import db
    from unionhub_library.models import LibraryBook

    client = _client(lib, "city")
    response = post_form(client, "/library/admin/books/upload", {
        "file": (io.BytesIO(b"PK\x03\x04 not a zip"), "broken.epub"),
        "owner_org_id": str(lib.world.org_id("city")),
        "category_id": str(lib.categories["I"])}, **MULTIPART)
    assert response.status_code == 422
    assert "无法作为 ZIP 打开" in response.get_data(as_text=True)
    missing = post_form(client, "/library/admin/books/upload", {
        "owner_org_id": str(lib.world.org_id("city")), "category_id": ""}, **MULTIPART)
    assert missing.status_code == 422
    assert "请选择文件" in missing.get_data(as_text=True)
    with lib.app.app_context():
        assert db.session().scalar(select(func.count()).select_from(LibraryBook)) == 3
    files = Path(lib.app.instance_path) / "library" / "files"
    assert not files.exists() or not any(files.iterdir())


def test_cover_image_of_a_book_outside_scope_is_404(lib: Any) -> None:
    client = _client(lib, "libd1")
    assert client.get(f"/library/admin/books/{lib.books['city']}/cover.jpg").status_code == 404
    assert client.get(f"/library/admin/books/{lib.books['g1']}/cover.jpg").status_code == 404
