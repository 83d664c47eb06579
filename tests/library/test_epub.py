"""The EPUB reader (unionhub_library.epub) on hand-made books: metadata, spine, table of
contents and cover for EPUB 3 and EPUB 2, and every hostile archive refused."""

from __future__ import annotations

import io
import zipfile

import pytest

from unionhub_library.epub import EpubBook, EpubError, Limits, isbn13

CONTAINER = (b'<?xml version="1.0"?><container version="1.0" '
             b'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
             b'<rootfile full-path="OEBPS/content.opf" '
             b'media-type="application/oebps-package+xml"/></rootfiles></container>')
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


def chapter(title: str, body: str = "<p>正文。</p>") -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
            f"<head><title>{title}</title></head><body><h1>{title}</h1>{body}</body></html>")


def opf(manifest: str, spine: str, *, meta: str = "", version: str = "3.0",
        spine_attrs: str = "", guide: str = "") -> str:
    return (f'<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf"'
            f' version="{version}" unique-identifier="id"><metadata '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>劳动者之歌</dc:title>'
            f"<dc:creator>张三</dc:creator><dc:creator>李四</dc:creator>"
            f"<dc:publisher>工人出版社</dc:publisher><dc:date>2019-05-01</dc:date>"
            f"<dc:language>zh</dc:language><dc:identifier id=\"id\">urn:uuid:1234</dc:identifier>"
            f"<dc:identifier>ISBN 978-7-02-000220-7</dc:identifier>"
            f"<dc:description>&lt;p&gt;一部&lt;b&gt;关于&lt;/b&gt;劳动的书。&lt;/p&gt;"
            f"</dc:description><dc:subject>文学</dc:subject>{meta}</metadata>"
            f"<manifest>{manifest}</manifest><spine{spine_attrs}>{spine}</spine>{guide}"
            f"</package>")


def build(files: dict[str, str | bytes], *, mimetype: bytes = b"application/epub+zip") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), mimetype)
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def epub3() -> bytes:
    nav = ('<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml" '
           'xmlns:epub="http://www.idpf.org/2007/ops"><body><nav epub:type="toc"><ol>'
           '<li><a href="text/c1.xhtml">第一章 开端</a><ol>'
           '<li><a href="text/c1.xhtml#s2">第一节</a></li></ol></li>'
           '<li><a href="text/c2.xhtml">第二章 发展</a></li></ol></nav></body></html>')
    manifest = ('<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" '
                'properties="nav"/>'
                '<item id="c1" href="text/c1.xhtml" media-type="application/xhtml+xml"/>'
                '<item id="c2" href="text/c2.xhtml" media-type="application/xhtml+xml"/>'
                '<item id="hidden" href="text/notes.xhtml" media-type="application/xhtml+xml"/>'
                '<item id="img" href="images/c.png" media-type="image/png" '
                'properties="cover-image"/>')
    spine = '<itemref idref="c1"/><itemref idref="c2"/><itemref idref="hidden" linear="no"/>'
    return build({"META-INF/container.xml": CONTAINER, "OEBPS/content.opf": opf(manifest, spine),
                  "OEBPS/nav.xhtml": nav, "OEBPS/text/c1.xhtml": chapter("第一章 开端"),
                  "OEBPS/text/c2.xhtml": chapter("第二章 发展"),
                  "OEBPS/text/notes.xhtml": chapter("注释"), "OEBPS/images/c.png": PNG})


def epub2(cover_meta: bool = True) -> bytes:
    ncx = ('<?xml version="1.0" encoding="utf-8"?><ncx xmlns="http://www.daisy.org/z3986/2005/'
           'ncx/" version="2005-1"><navMap><navPoint id="p1"><navLabel><text>序</text></navLabel>'
           '<content src="c1.html"/><navPoint id="p2"><navLabel><text>小节</text></navLabel>'
           '<content src="c1.html#x"/></navPoint></navPoint></navMap></ncx>')
    manifest = ('<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
                '<item id="c1" href="c1.html" media-type="application/xhtml+xml"/>'
                '<item id="pic" href="pic.png" media-type="image/png"/>')
    meta = '<meta name="cover" content="pic"/>' if cover_meta else ""
    body = '<p><img src="pic.png" alt=""/></p>'
    return build({"META-INF/container.xml": CONTAINER,
                  "OEBPS/content.opf": opf(manifest, '<itemref idref="c1"/>', meta=meta,
                                           version="2.0", spine_attrs=' toc="ncx"'),
                  "OEBPS/toc.ncx": ncx, "OEBPS/c1.html": chapter("序", body),
                  "OEBPS/pic.png": PNG})


def test_epub3_metadata_spine_toc_and_cover() -> None:
    with EpubBook.open(epub3()) as book:
        assert book.meta.title == "劳动者之歌"
        assert book.meta.authors == ["张三", "李四"]
        assert (book.meta.publisher, book.meta.year, book.meta.language) == ("工人出版社", 2019,
                                                                              "zh")
        assert book.meta.isbn == "9787020002207"
        assert book.meta.description == "一部 关于 劳动的书。"
        assert book.meta.subjects == ["文学"]
        assert [s.href for s in book.spine] == ["OEBPS/text/c1.xhtml", "OEBPS/text/c2.xhtml"]
        assert [s.title for s in book.spine] == ["第一章 开端", "第二章 发展"]
        assert [(t.title, t.fragment, t.level) for t in book.toc] == [
            ("第一章 开端", None, 1), ("第一节", "s2", 2), ("第二章 发展", None, 1)]
        assert book.cover() == (PNG, "image/png")
        assert b"<h1>" in book.read("OEBPS/text/c2.xhtml")
        meta = book.file_meta()
        assert meta["spine"][1] == {"href": "OEBPS/text/c2.xhtml", "title": "第二章 发展"}
        assert meta["cover"] == "OEBPS/images/c.png"


def test_epub2_ncx_and_cover_meta() -> None:
    with EpubBook.open(epub2()) as book:
        assert [(t.title, t.href, t.fragment, t.level) for t in book.toc] == [
            ("序", "OEBPS/c1.html", None, 1), ("小节", "OEBPS/c1.html", "x", 2)]
        assert book.cover_href == "OEBPS/pic.png"


def test_cover_found_in_the_first_page_when_undeclared() -> None:
    with EpubBook.open(epub2(cover_meta=False)) as book:
        assert book.cover_href == "OEBPS/pic.png"


def test_resolve_keeps_links_inside_the_book() -> None:
    with EpubBook.open(epub3()) as book:
        base = "OEBPS/text/c1.xhtml"
        assert book.resolve(base, "../images/c.png") == ("OEBPS/images/c.png", None)
        assert book.resolve(base, "c2.xhtml#p%203") == ("OEBPS/text/c2.xhtml", "p 3")
        assert book.resolve(base, "#top") == (base, "top")
        for escaping in ("../../../etc/passwd", "/etc/passwd", "https://evil.example/x.png",
                         "javascript:alert(1)"):
            assert book.resolve(base, escaping) is None


def test_only_manifest_items_are_readable() -> None:
    data = build({"META-INF/container.xml": CONTAINER, "OEBPS/secret.txt": b"x",
                  "OEBPS/content.opf": opf('<item id="c1" href="c1.xhtml" '
                                           'media-type="application/xhtml+xml"/>',
                                           '<itemref idref="c1"/>'),
                  "OEBPS/c1.xhtml": chapter("一")})
    with EpubBook.open(data) as book, pytest.raises(EpubError):
        book.read("OEBPS/secret.txt")


def hostile_names(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", b"application/epub+zip")
        zf.writestr(zipfile.ZipInfo(name), b"x")
    return buf.getvalue()


@pytest.mark.parametrize("name", ["../evil.txt", "OEBPS/../../evil.txt", "/etc/passwd",
                                  "C:/evil.txt", "OEBPS\\..\\evil.txt"])
def test_escaping_entry_names_are_refused(name: str) -> None:
    with pytest.raises(EpubError, match="不安全的路径"):
        EpubBook.open(hostile_names(name))


def test_zip_bomb_is_refused_from_its_directory() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", b"application/epub+zip")
        zf.writestr("OEBPS/bomb.xhtml", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(EpubError, match="压缩炸弹"):
        EpubBook.open(buf.getvalue())
    with pytest.raises(EpubError, match="过大"):
        EpubBook.open(buf.getvalue(), Limits(max_entry_bytes=1024 * 1024))


def test_too_many_entries_are_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(60):
            zf.writestr(f"f{i}.txt", b"x")
    with pytest.raises(EpubError, match="文件过多"):
        EpubBook.open(buf.getvalue(), Limits(max_entries=50))


def test_entity_declarations_are_refused() -> None:
    laughs = (b'<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaaaaaaaa">'
              b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><container>&b;</container>')
    with pytest.raises(EpubError, match="实体声明"):
        EpubBook.open(build({"META-INF/container.xml": laughs}))


@pytest.mark.parametrize("files, message", [
    ({}, "container.xml"),
    ({"META-INF/container.xml": b"<container"}, "不是有效的 XML"),
    ({"META-INF/container.xml": CONTAINER}, "OPF"),
    ({"META-INF/container.xml": CONTAINER,
      "OEBPS/content.opf": opf("", "")}, "没有可阅读的章节"),
])
def test_broken_books_get_a_clear_message(files: dict[str, bytes], message: str) -> None:
    with pytest.raises(EpubError, match=message):
        EpubBook.open(build(files))


def test_not_a_zip_or_not_an_epub() -> None:
    with pytest.raises(EpubError, match="ZIP"):
        EpubBook.open(b"%PDF-1.4 not a zip")
    with pytest.raises(EpubError, match="mimetype"):
        EpubBook.open(build({}, mimetype=b"application/zip"))


def test_isbn13() -> None:
    assert isbn13("978-7-02-000220-7") == "9787020002207"
    assert isbn13("0-306-40615-2") == "9780306406157"
    assert isbn13("urn:isbn:9780306406157") == "9780306406157"
    assert isbn13("978-7-02-000220-8") is None
    assert isbn13("0-306-40615-3") is None
    assert isbn13("urn:uuid:1234") is None
