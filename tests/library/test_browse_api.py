"""The catalogue on the app API: classes, a class's books (sub-classes included), an author's
books, new, popular, search and a book's details — paginated, without a token, never a hidden
book — and every operation in the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

from tests.library.conftest import Library, add_book
from tests.library.test_browse_queries import _credit, _recount, _subclass
from tests.library.test_browse_search import _index


def _catalogue(library: Library) -> dict[str, int]:
    from unionhub.db import utcnow

    city = library.world.org_id("city")
    now = utcnow()
    tp = _subclass("TP", "计算机技术", library.categories["T"])
    ids = {
        "a": add_book(library.categories["I"], "呐喊", owner_org_id=city, authors="鲁迅 著",
                      summary="小说集。", tags="小说,经典", isbn="9787020002207",
                      created_at=now - timedelta(days=3), read_count=5,
                      cover_name="a" * 32 + ".jpg", thumb_name="b" * 32 + ".jpg"),
        "b": add_book(library.categories["I"], "彷徨", owner_org_id=city, authors="鲁迅 著",
                      created_at=now - timedelta(days=2), read_count=9),
        "c": add_book(tp, "编程入门", owner_org_id=city, licence="lent", copies=2,
                      created_at=now - timedelta(days=1)),
        "h": add_book(library.categories["I"], "藏书", owner_org_id=city, state="hidden",
                      created_at=now, read_count=50),
    }
    for key in ("a", "b", "h"):
        _credit(ids[key], "鲁迅")
    _recount()
    return ids


def test_lists_without_a_token(library: Library) -> None:
    with library.app.app_context():
        ids = _catalogue(library)
    c = library.app.test_client()
    tree = c.get("/api/v1/library/categories").get_json()
    assert len(tree) == 22
    t = next(n for n in tree if n["code"] == "T")
    assert t["book_count"] == 1 and t["children"][0]["code"] == "TP"
    assert next(n for n in tree if n["code"] == "I")["book_count"] == 2

    new = c.get("/api/v1/library/books/new").get_json()
    assert [b["id"] for b in new["items"]] == [ids["c"], ids["b"], ids["a"]]
    assert new["total"] == 3 and new["page"] == 1 and new["per_page"] == 20
    first = new["items"][2]
    assert first["title"] == "呐喊" and first["category_code"] == "I"
    assert first["thumb_url"] == f"/library/book/{ids['a']}/thumb?v=bbbbbbbb"
    assert first["cover_url"] == f"/library/book/{ids['a']}/cover?v=aaaaaaaa"
    assert new["items"][0]["cover_url"] is None and new["items"][0]["licence"] == "lent"

    popular = c.get("/api/v1/library/books/popular?per_page=2").get_json()
    assert [b["id"] for b in popular["items"]] == [ids["b"], ids["a"]]
    page2 = c.get("/api/v1/library/books/popular?per_page=2&page=2").get_json()
    assert [b["id"] for b in page2["items"]] == [ids["c"]]

    t_books = c.get("/api/v1/library/categories/T/books").get_json()
    assert [b["id"] for b in t_books["items"]] == [ids["c"]] and t_books["total"] == 1
    assert c.get("/api/v1/library/categories/NOPE/books").status_code == 404

    author_id = next(cr["id"] for cr in c.get(f"/api/v1/library/books/{ids['a']}")
                     .get_json()["credits"])
    theirs = c.get(f"/api/v1/library/authors/{author_id}/books").get_json()
    assert [b["id"] for b in theirs["items"]] == [ids["b"], ids["a"]]
    assert theirs["total"] == 2
    assert c.get("/api/v1/library/authors/999999/books").status_code == 404


def test_book_detail_and_hidden_books(library: Library) -> None:
    with library.app.app_context():
        ids = _catalogue(library)
    c = library.app.test_client()
    book = c.get(f"/api/v1/library/books/{ids['a']}").get_json()
    assert book["isbn"] == "9787020002207" and book["tags"] == ["小说", "经典"]
    assert book["summary"] == "小说集。" and book["formats"] == []
    assert book["credits"][0]["name"] == "鲁迅" and book["credits"][0]["role"] == "著"
    assert book["url"] == f"/library/book/{ids['a']}"
    lent = c.get(f"/api/v1/library/books/{ids['c']}").get_json()
    assert (lent["copies"], lent["copies_free"], lent["loan_days"]) == (2, 2, 14)
    missing = c.get(f"/api/v1/library/books/{ids['h']}")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    for url in ("/api/v1/library/books/new", "/api/v1/library/books/popular",
                "/api/v1/library/categories/I/books"):
        assert ids["h"] not in {b["id"] for b in c.get(url).get_json()["items"]}, url


def test_search_and_bad_parameters(library: Library) -> None:
    with library.app.app_context():
        ids = _catalogue(library)
    _index(library, list(ids.values()))
    c = library.app.test_client()
    found = c.get("/api/v1/library/search?q=鲁迅").get_json()
    assert {h["book"]["id"] for h in found["items"]} == {ids["a"], ids["b"]}
    assert found["total"] == 2
    assert all("<b>鲁迅</b>" in h["snippet"] for h in found["items"])
    assert c.get("/api/v1/library/search?q=藏书").get_json()["items"] == []
    only_t = c.get("/api/v1/library/search?q=编程&category=T").get_json()
    assert [h["book"]["id"] for h in only_t["items"]] == [ids["c"]]
    assert c.get("/api/v1/library/search?q=编程&category=I").get_json()["total"] == 0
    for url, field in (("/api/v1/library/search?q=", "q"),
                       ("/api/v1/library/search?q=" + "字" * 101, "q"),
                       ("/api/v1/library/books/new?page=0", "page"),
                       ("/api/v1/library/books/new?page=101", "page"),
                       ("/api/v1/library/books/new?per_page=51", "per_page"),
                       ("/api/v1/library/books/popular?page=x", "page")):
        r = c.get(url)
        assert r.status_code == 400, url
        assert field in r.get_json()["error"]["fields"], url
    unknown = c.get("/api/v1/library/search?q=x&category=NOPE")
    assert unknown.status_code == 404
    assert "category" in unknown.get_json()["error"]["fields"]


def test_operations_are_in_the_openapi_document(library: Library) -> None:
    spec = library.app.test_client().get("/api/v1/openapi.json").get_json()
    paths = set(spec["paths"])
    assert {"/api/v1/library/categories", "/api/v1/library/categories/{code}/books",
            "/api/v1/library/authors/{author_id}/books", "/api/v1/library/books/new",
            "/api/v1/library/books/popular", "/api/v1/library/search",
            "/api/v1/library/books/{book_id}"} <= paths
    search = spec["paths"]["/api/v1/library/search"]["get"]
    assert {p["name"] for p in search["parameters"]} >= {"q", "category", "page", "per_page"}
