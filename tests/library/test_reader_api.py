"""The reader on the app API: contents, a chapter with resource addresses that answer to the
bearer token, PDF pages, progress shared with the web reader, shelves, history, OpenAPI."""

from __future__ import annotations

import io

from lxml import html as lxml_html
from pypdf import PdfReader

from tests.library.conftest import Library
from tests.library.test_reader_support import (
    epub_bytes,
    pdf_bytes,
    signed_in,
    store,
    token,
)

API = "/api/v1/library"


def test_contents_chapter_and_resources(library: Library) -> None:
    book_id = store(library, epub_bytes(chapters=3, hostile=True), "book.epub")
    client = library.app.test_client()
    auth = token(library, "m1")
    toc = client.get(f"{API}/books/{book_id}/toc", headers=auth).get_json()
    assert toc["format"] == "epub" and toc["total"] == 3 and toc["progress"] is None
    assert [t["title"] for t in toc["toc"]][:3] == ["第一章 起源", "第一节", "第二节"]
    assert toc["toc"][2] == {"title": "第二节", "position": 0, "fragment": "bk-s2", "level": 2}

    r = client.get(f"{API}/books/{book_id}/content/1", headers=auth)
    assert r.status_code == 200
    body = r.get_json()
    assert (body["position"], body["total"], body["prev"], body["next"]) == (1, 3, 0, 2)
    assert "<script" not in body["html"] and "onerror" not in body["html"]
    tree = lxml_html.fragment_fromstring(body["html"], create_parent="div")
    src = tree.xpath("//img/@src")[0]
    assert src == f"{API}/books/{book_id}/res/OEBPS/images/pic.png"
    assert f"{API}/books/{book_id}/content/0#bk-s1" in tree.xpath("//a/@href")
    assert body["stylesheets"] == [f"{API}/books/{book_id}/res/OEBPS/style.css"]
    image = client.get(src, headers=auth)
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert client.get(src).status_code == 401  # no token, nothing
    # a cookie session does not open the API either
    assert signed_in(library, "m1").get(src).status_code == 401
    assert client.get(f"{API}/books/{book_id}/res/OEBPS/content.opf",
                      headers=auth).status_code == 404
    css = client.get(body["stylesheets"][0], headers=auth)
    assert css.mimetype == "text/css" and ".reader-content" in css.get_data(as_text=True)
    assert client.get(f"{API}/books/{book_id}/content/3", headers=auth).status_code == 404


def test_lent_title_needs_a_loan(library: Library) -> None:
    book_id = store(library, epub_bytes(), "lent.epub", licence="lent", copies=1)
    client = library.app.test_client()
    auth = token(library, "m1")
    for url in (f"/books/{book_id}/toc", f"/books/{book_id}/content/0",
                f"/books/{book_id}/res/OEBPS/images/pic.png"):
        r = client.get(API + url, headers=auth)
        assert r.status_code == 403, url
    assert client.get(f"{API}/books/{book_id}/content/0",
                      headers=auth).get_json()["error"]["code"] == "loan_required"


def test_pdf_page_on_the_api(library: Library) -> None:
    book_id = store(library, pdf_bytes(["Alpha page", "Beta page"]), "doc.pdf")
    client = library.app.test_client()
    auth = token(library, "m1")
    body = client.get(f"{API}/books/{book_id}/content/1", headers=auth).get_json()
    assert body["format"] == "pdf" and "Beta page" in body["text"] and body["html"] is None
    page = client.get(body["page_pdf_url"], headers=auth)
    assert page.status_code == 200 and len(PdfReader(io.BytesIO(page.data)).pages) == 1


def test_progress_is_shared_between_app_and_web(library: Library) -> None:
    book_id = store(library, epub_bytes(chapters=4), "book.epub")
    client = library.app.test_client()
    auth = token(library, "m1", device="华为 Mate 60")
    assert client.get(f"{API}/books/{book_id}/progress", headers=auth).status_code == 404
    r = client.put(f"{API}/books/{book_id}/progress", headers=auth,
                   json={"format": "epub", "position": 3, "offset": 0.25})
    assert r.status_code == 200, r.get_json()
    saved = r.get_json()
    assert (saved["position"], saved["percent"], saved["device"]) == (3, 0.8125, "华为 Mate 60")
    web = signed_in(library, "m1")
    assert web.get(f"/library/read/{book_id}").headers["Location"].endswith(f"/{book_id}/3")
    web.get(f"/library/read/{book_id}/1")
    got = client.get(f"{API}/books/{book_id}/progress", headers=auth).get_json()
    assert got["position"] == 1 and got["device"] != "华为 Mate 60"
    bad = client.put(f"{API}/books/{book_id}/progress", headers=auth,
                     json={"format": "epub", "position": 9, "offset": 0})
    assert bad.status_code == 422 and "position" in bad.get_json()["error"]["fields"]
    bad = client.put(f"{API}/books/{book_id}/progress", headers=auth,
                     json={"format": "epub", "position": 1, "offset": 3})
    assert bad.status_code == 422 and "offset" in bad.get_json()["error"]["fields"]
    assert client.get(f"{API}/books/{book_id}/progress", headers=auth).get_json() == got
    reading = client.get(f"{API}/reading", headers=auth).get_json()
    assert reading["total"] == 1 and reading["items"][0]["book"]["id"] == book_id


def test_shelves_and_history_on_the_api(library: Library) -> None:
    book_id = store(library, epub_bytes(), "book.epub")
    client = library.app.test_client()
    auth = token(library, "m1")
    shelves = client.get(f"{API}/shelves", headers=auth).get_json()
    assert [s["kind"] for s in shelves] == ["want", "reading", "finished"]
    want, finished = shelves[0]["id"], shelves[2]["id"]
    assert client.put(f"{API}/shelves/{want}/books/{book_id}", headers=auth).status_code == 204
    assert client.put(f"{API}/shelves/{finished}/books/{book_id}",
                      headers=auth).status_code == 204
    counts = {s["kind"]: s["count"] for s in client.get(f"{API}/shelves", headers=auth)
              .get_json()}
    assert counts == {"want": 0, "reading": 0, "finished": 1}
    r = client.post(f"{API}/shelves", headers=auth, json={"name": "党史"})
    assert r.status_code == 201
    custom = r.get_json()["id"]
    dup = client.post(f"{API}/shelves", headers=auth, json={"name": "党史"})
    assert dup.status_code == 422 and "name" in dup.get_json()["error"]["fields"]
    assert client.patch(f"{API}/shelves/{custom}", headers=auth,
                        json={"name": "工运史"}).get_json()["name"] == "工运史"
    assert client.patch(f"{API}/shelves/{want}", headers=auth,
                        json={"name": "x"}).status_code == 422
    client.put(f"{API}/shelves/{custom}/books/{book_id}", headers=auth)
    books = client.get(f"{API}/shelves/{custom}/books", headers=auth).get_json()
    assert [b["id"] for b in books["items"]] == [book_id]
    assert client.delete(f"{API}/shelves/{custom}/books/{book_id}",
                         headers=auth).status_code == 204
    assert client.delete(f"{API}/shelves/{custom}", headers=auth).status_code == 204
    assert client.delete(f"{API}/shelves/{want}", headers=auth).status_code == 422
    other = token(library, "m2")
    assert client.get(f"{API}/shelves/{finished}/books", headers=other).status_code == 404
    assert client.get(f"{API}/shelves", headers={}).status_code == 401

    client.get(f"{API}/books/{book_id}/content/0", headers=auth)
    history = client.get(f"{API}/history", headers=auth).get_json()
    assert history["total"] == 1 and history["items"][0]["book"]["title"] == "工会史话"
    assert history["items"][0]["device"] == "iPhone"


def test_reader_operations_are_in_the_openapi_document(library: Library) -> None:
    doc = library.app.test_client().get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    for path, method in (("/books/{book_id}/toc", "get"),
                         ("/books/{book_id}/content/{pos}", "get"),
                         ("/books/{book_id}/res/{res}", "get"),
                         ("/books/{book_id}/pdf/{page}", "get"),
                         ("/books/{book_id}/progress", "get"),
                         ("/books/{book_id}/progress", "put"),
                         ("/reading", "get"), ("/history", "get"), ("/shelves", "get"),
                         ("/shelves", "post"), ("/shelves/{shelf_id}", "patch"),
                         ("/shelves/{shelf_id}", "delete"),
                         ("/shelves/{shelf_id}/books/{book_id}", "put")):
        assert method in paths[API + path], (path, method)
    assert "ReaderContentOut" in doc["components"]["schemas"]
