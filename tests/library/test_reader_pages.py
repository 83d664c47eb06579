"""The web reader: chapters, resources behind authorisation, PDF and TXT pages, the book
page's actions and who may read what."""

from __future__ import annotations

import io
import re

from lxml import html as lxml_html
from pypdf import PdfReader

from tests.library.conftest import Library, add_book
from tests.library.test_reader_support import (
    epub_bytes,
    lend_to,
    pdf_bytes,
    signed_in,
    store,
)


def _content(page_html: str) -> lxml_html.HtmlElement:
    doc = lxml_html.fromstring(page_html)
    found = doc.xpath("//div[contains(@class, 'reader-content')]")
    assert found, page_html[:2000]
    return found[0]


def test_reader_opens_at_the_start_then_resumes(library: Library) -> None:
    book_id = store(library, epub_bytes(chapters=3), "book.epub")
    client = signed_in(library, "m1")
    r = client.get(f"/library/read/{book_id}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/library/read/{book_id}/0")
    page = client.get(f"/library/read/{book_id}/0")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    content = _content(text)
    assert content.xpath("//h1/text()") == ["第一章 起源"]
    assert f'href="/library/read/{book_id}/1"' in text  # 下一章
    assert f'/library/read/{book_id}/res/OEBPS/style.css' in text
    assert page.headers["Cache-Control"].startswith("private")
    # the TOC lists chapters and their sections
    toc = lxml_html.fromstring(text).xpath("//details[@id='reader-toc']//a/@href")
    assert f"/library/read/{book_id}/0#bk-s2" in toc and f"/library/read/{book_id}/2" in toc
    client.get(f"/library/read/{book_id}/2")
    r = client.get(f"/library/read/{book_id}")
    assert r.headers["Location"].endswith(f"/library/read/{book_id}/2")
    assert client.get(f"/library/read/{book_id}/3").status_code == 404


def test_hostile_chapter_is_clean_in_the_page(library: Library) -> None:
    book_id = store(library, epub_bytes(hostile=True), "bad.epub")
    client = signed_in(library, "m1")
    text = client.get(f"/library/read/{book_id}/1").get_data(as_text=True)
    body = lxml_html.tostring(_content(text), encoding="unicode").lower()
    for bad in ("<script", "onerror", "onclick", "javascript:", "<iframe", "expression",
                "evil.example"):
        assert bad not in body, bad
    # the chapter's inline style went into a scoped <style> without the outside URL
    styles = re.findall(r"<style>(.*?)</style>", text, re.S)
    assert any(".reader-content p { color: #333 }" in s for s in styles)
    assert not any("evil.example" in s for s in styles)


def test_resources_need_a_reader_who_may_read_the_book(library: Library) -> None:
    open_id = store(library, epub_bytes(title="开放的书"), "open.epub")
    lent_id = store(library, epub_bytes(title="借阅的书"), "lent.epub", licence="lent",
                    copies=1)
    image = "res/OEBPS/images/pic.png"
    visitor = library.app.test_client()
    assert visitor.get(f"/library/read/{open_id}/{image}").status_code == 401
    assert visitor.get(f"/library/read/{open_id}/0").status_code == 302  # to sign in
    m1 = signed_in(library, "m1")
    ok = m1.get(f"/library/read/{open_id}/{image}")
    assert ok.status_code == 200 and ok.mimetype == "image/png"
    assert ok.data.startswith(b"\x89PNG")
    assert ok.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in ok.headers["Content-Security-Policy"]
    assert "private" in ok.headers["Cache-Control"]
    # a lent title without a loan: 403 for resources, a page pointing to 借阅 for the reader
    assert m1.get(f"/library/read/{lent_id}/{image}").status_code == 403
    refused = m1.get(f"/library/read/{lent_id}/0")
    assert refused.status_code == 403 and "借阅" in refused.get_data(as_text=True)
    lend_to(library, "m1", lent_id)
    assert m1.get(f"/library/read/{lent_id}/{image}").status_code == 200
    assert m1.get(f"/library/read/{lent_id}/0").status_code == 200
    # only manifest items, and only images and stylesheets
    for path in ("res/OEBPS/images/nothere.png", "res/META-INF/container.xml",
                 "res/OEBPS/content.opf", "res/OEBPS/text/ch001.xhtml",
                 "res/OEBPS/../META-INF/container.xml", "res/mimetype"):
        assert m1.get(f"/library/read/{open_id}/{path}").status_code == 404, path


def test_book_stylesheets_are_served_clean_and_scoped(library: Library) -> None:
    sheet = ("@import url(http://evil.example/x.css);\nbody { margin: 0 5% }\n"
             "p { text-indent: 2em; background: url(http://evil.example/p.png) }\n"
             ".topbar { display: none }\n~ .footer { display: none }")
    book_id = store(library, epub_bytes(css=sheet), "css.epub")
    r = signed_in(library, "m1").get(f"/library/read/{book_id}/res/OEBPS/style.css")
    assert r.status_code == 200 and r.mimetype == "text/css"
    out = r.get_data(as_text=True)
    assert ".reader-content .bk-body { margin: 0 5% }" in out
    assert ".reader-content p { text-indent: 2em }" in out
    assert ".reader-content .bk-topbar { display: none }" in out
    assert "evil" not in out and "@import" not in out and "~" not in out


def test_pdf_is_read_page_by_page(library: Library) -> None:
    book_id = store(library, pdf_bytes(["First page text", "Second page text", "Third"],
                                       script_link=True), "doc.pdf")
    client = signed_in(library, "m1")
    page = client.get(f"/library/read/{book_id}/1")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Second page text" in text  # the accessible text of the page
    assert f'src="/library/read/{book_id}/pdf/1"' in text
    one = client.get(f"/library/read/{book_id}/pdf/1")
    assert one.status_code == 200 and one.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(one.data))
    assert len(reader.pages) == 1
    assert "Second page text" in reader.pages[0].extract_text()
    assert "/Annots" not in reader.pages[0] and b"JavaScript" not in one.data
    assert one.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/library/read/{book_id}/pdf/3").status_code == 404
    assert library.app.test_client().get(f"/library/read/{book_id}/pdf/0").status_code == 401
    # 跳页
    r = client.get(f"/library/read/{book_id}?page=3")
    assert r.headers["Location"].endswith(f"/library/read/{book_id}/2")


def test_txt_is_read_page_by_page(library: Library) -> None:
    from unionhub_library.catalogue.formats import TXT_PAGE_CHARS

    lines = [f"第{i}行：职工书屋里的故事。" for i in range(1, 600)]
    book_id = store(library, "\n".join(lines).encode("gb18030"), "story.txt")
    client = signed_in(library, "m1")
    first = client.get(f"/library/read/{book_id}/0").get_data(as_text=True)
    assert "第1行：职工书屋里的故事。" in first and "第599行" not in first
    with library.app.app_context():
        from unionhub import db
        from unionhub_library.models import LibraryFile

        pages = db.session().query(LibraryFile).filter_by(book_id=book_id).one().meta["pages"]
    assert pages >= len("\n".join(lines)) // TXT_PAGE_CHARS > 1
    last = client.get(f"/library/read/{book_id}/{pages - 1}").get_data(as_text=True)
    assert "第599行：职工书屋里的故事。" in last
    assert client.get(f"/library/read/{book_id}/{pages}").status_code == 404


def test_book_page_shows_read_and_shelf_actions(library: Library) -> None:
    book_id = store(library, epub_bytes(), "book.epub")
    lent_id = store(library, epub_bytes(title="借阅本"), "lent.epub", licence="lent", copies=1)
    with library.app.app_context():
        bare = add_book(library.categories["D"], "没有文件的书",
                        owner_org_id=library.world.org_id("city"))
    client = signed_in(library, "m1")
    page = client.get(f"/library/book/{book_id}").get_data(as_text=True)
    assert "开始阅读" in page and 'data-shelf="want"' in page
    client.get(f"/library/read/{book_id}/1")
    page = client.get(f"/library/book/{book_id}").get_data(as_text=True)
    assert re.search(r"继续阅读（\d+%）", page)
    # opening the book put it on 在读
    doc = lxml_html.fromstring(page)
    assert doc.xpath("//button[@data-shelf='reading']/@aria-pressed") == ["true"]
    lent = client.get(f"/library/book/{lent_id}").get_data(as_text=True)
    assert 'id="read-button"' not in lent
    assert 'id="read-button"' not in client.get(f"/library/book/{bare}").get_data(as_text=True)
    visitor = library.app.test_client().get(f"/library/book/{book_id}").get_data(as_text=True)
    assert "登录后阅读" in visitor and 'data-shelf=' not in visitor


def test_hidden_book_is_not_found_for_readers(library: Library) -> None:
    book_id = store(library, epub_bytes(), "book.epub")
    with library.app.app_context():
        from unionhub import db
        from unionhub_library.models import LibraryBook

        s = db.session()
        s.get(LibraryBook, book_id).state = "hidden"
        s.commit()
    client = signed_in(library, "m1")
    assert client.get(f"/library/read/{book_id}/0").status_code == 404
    assert client.get(f"/library/read/{book_id}/res/OEBPS/images/pic.png").status_code == 404


def test_my_page_home_and_library_home_show_current_reading(library: Library) -> None:
    book_id = store(library, epub_bytes(chapters=4), "book.epub")
    client = signed_in(library, "m1")
    me = client.get("/me").get_data(as_text=True)
    assert "在读的书" in me and "还没有在读的书" in me
    assert "继续阅读" not in client.get("/").get_data(as_text=True)
    assert 'id="continue-reading"' not in client.get("/library/").get_data(as_text=True)
    client.get(f"/library/read/{book_id}/2")
    me = lxml_html.fromstring(client.get("/me").get_data(as_text=True))
    assert me.xpath("//ul[@id='reading-panel']//a/text()") == ["工会史话"]
    assert "读到 50%" in me.text_content()
    home = client.get("/").get_data(as_text=True)
    assert "继续阅读" in home and f"/library/read/{book_id}" in home
    lib = lxml_html.fromstring(client.get("/library/").get_data(as_text=True))
    assert lib.xpath("//section[@id='continue-reading']//a[@class='title']/text()") == ["工会史话"]
    assert "我的书架" in client.get("/me").get_data(as_text=True)
    visitor = library.app.test_client().get("/library/").get_data(as_text=True)
    assert 'id="continue-reading"' not in visitor
