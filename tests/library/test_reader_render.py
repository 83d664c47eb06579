"""EPUB chapters rendered on the server: structure kept, links rewritten, hostile markup and
styles removed, book CSS cleaned and scoped to the chapter's container."""

from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html

from tests.library.test_reader_support import epub_bytes
from unionhub_library.epub import EpubBook
from unionhub_library.reader import css
from unionhub_library.reader.render import Links, RenderError, render_chapter

LINKS = Links(resource_base="/library/read/7/res/", chapter_base="/library/read/7/")


def _render(index: int, **kw: object) -> object:
    with EpubBook.open(epub_bytes(**kw)) as book:  # type: ignore[arg-type]
        return render_chapter(book, index, LINKS)


def test_a_chapter_keeps_its_structure_with_prefixed_ids() -> None:
    chapter = _render(0)
    assert chapter.title == "第一章 起源"
    tree = lxml_html.fragment_fromstring(chapter.html, create_parent="div")
    assert [h.text for h in tree.iter("h2")] == ["第一节", "第二节"]
    assert tree.xpath("//h2/@id") == ["bk-s1", "bk-s2"]
    assert tree.xpath("//div[@class='bk-body']"), "the book's body becomes the scoped container"
    # the book's stylesheet is linked through the authorised resource endpoint
    assert chapter.stylesheets == ("/library/read/7/res/OEBPS/style.css",)


def test_hostile_chapter_comes_out_clean() -> None:
    chapter = _render(1, hostile=True)
    out = chapter.html
    lowered = out.lower()
    for bad in ("<script", "onclick", "onerror", "javascript:", "data:text", "<iframe",
                "<object", "<form", "<input", "<style", "<svg", "expression", "url(",
                "evil.example/track", "etc/passwd", "alert("):
        assert bad not in lowered, (bad, out)
    tree = lxml_html.fragment_fromstring(out, create_parent="div")
    hrefs = tree.xpath("//a/@href")
    # kept: the other chapter (with its anchor), the anchor here, the https link
    assert hrefs == ["/library/read/7/0#bk-s1", "#bk-here", "https://example.org/ok"]
    external = tree.xpath("//a[@href='https://example.org/ok']")[0]
    assert external.get("target") == "_blank" and "noopener" in external.get("rel")
    # both the <img> and the SVG cover image point at the resource endpoint
    assert tree.xpath("//img/@src") == ["/library/read/7/res/OEBPS/images/pic.png"] * 2
    styled = tree.xpath("//div[@id='bk-here']")[0]
    assert styled.get("class") == "bk-note bk-x"
    assert styled.get("style") == "color:red"
    assert tree.xpath("//ruby/rt/text()") == ["gōng"]
    # the chapter's own <style> is cleaned and scoped, the @import dropped
    assert chapter.css.strip() == ".reader-content p { color: #333 }"


def test_a_chapter_that_is_not_well_formed_xml_is_read_as_html() -> None:
    import io
    import zipfile

    data = epub_bytes(chapters=2)
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.endswith("ch002.xhtml"):
                body = body.replace(b"</body>", b"<p>&nbsp;tag soup<br><img src=x onerror=alert(1)>"
                                                b"</body>")
            dst.writestr(info, body)
    with EpubBook.open(out.getvalue()) as book:
        chapter = render_chapter(book, 1, LINKS)
    assert "tag soup" in chapter.html
    assert "onerror" not in chapter.html and "<img" not in chapter.html


def test_a_position_outside_the_spine_is_refused() -> None:
    with EpubBook.open(epub_bytes(chapters=2)) as book, pytest.raises(RenderError):
        render_chapter(book, 2, LINKS)


@pytest.mark.parametrize(("sheet", "expected"), [
    ("p { color: red }", ".reader-content p { color: red }"),
    ("body { margin: 0 5% }", ".reader-content .bk-body { margin: 0 5% }"),
    ("html > body.x .y, #z { font-weight: bold }",
     ".reader-content .bk-body.bk-x .bk-y, .reader-content #bk-z { font-weight: bold }"),
    (":root { color: #111 }", ".reader-content { color: #111 }"),
    ("p { color: red !important }", ".reader-content p { color: red }"),
    ("@media screen and (min-width: 40em) { h1 { text-align: center } }",
     "@media screen and (min-width: 40em) {\n.reader-content h1 { text-align: center }\n}"),
])
def test_book_css_is_scoped(sheet: str, expected: str) -> None:
    assert css.clean_stylesheet(sheet).strip() == expected


@pytest.mark.parametrize("sheet", [
    "@import url(http://evil.example/x.css);",
    "@import 'x.css';",
    "@font-face { font-family: x; src: url(http://evil.example/f.woff) }",
    "p { background: url(http://evil.example/a.png) }",
    "p { background-image: url(a.png) }",
    "p { width: expression(alert(1)) }",
    "p { color: e\\78pression(alert(1)) }",
    "p { behavior: url(x.htc) }",
    "p { -moz-binding: url(x.xml#y) }",
    "p { color: var(--red) }",
    "p { position: fixed; top: 0 }",
    "p { z-index: 99999 }",
    "~ .topbar { display: none }",
    "+ footer { color: red }",
    "p { font-size: 12px }",
    "p { margin: -5000px }",
    "p { margin-left: 2000px }",
    "p { display: contents }",
    "p }{ color: red",
    "p { color: red } </style><script>alert(1)</script>",
])
def test_dangerous_css_is_dropped(sheet: str) -> None:
    out = css.clean_stylesheet(sheet)
    assert "url(" not in out and "expression" not in out and "@import" not in out
    assert "<" not in out
    assert not re.search(r"(position|z-index|behavior|binding|var\()", out)
    for rule in filter(None, out.strip().splitlines()):
        assert rule.startswith(".reader-content") or rule.startswith("@media") or rule == "}"
    assert "topbar" not in out and "footer" not in out
    assert "12px" not in out and "5000" not in out and "2000" not in out
