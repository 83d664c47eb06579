"""Book files the catalogue accepts, built here with zipfile and pypdf (the other catalogue
tests import these builders): TXT decoding and paging, PDF page counts, EPUB metadata — and
what :func:`inspect_file` refuses before anything is stored."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

import pytest
from PIL import Image

from unionhub_library.catalogue.errors import IngestError
from unionhub_library.catalogue.formats import (
    TXT_PAGE_CHARS,
    decode_txt,
    inspect_file,
    txt_pages,
)

MB = 1024 * 1024
CONTAINER = ('<?xml version="1.0"?><container version="1.0" '
             'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
             '<rootfile full-path="OEBPS/content.opf" '
             'media-type="application/oebps-package+xml"/></rootfiles></container>')


def png(width: int = 300, height: int = 400, colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def _page(title: str, text: str) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
            f"<head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p>"
            "</body></html>")


def zip_of(entries: dict[str, str | bytes], *, mimetype: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if mimetype:
            zf.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def epub_entries(*, version: int = 3, title: str = "劳动者之歌",
                 authors: Sequence[str] = ("张三",), isbn: str | None = None,
                 publisher: str | None = "工人出版社", date: str = "2019-05-01",
                 language: str = "zh", description: str | None = None,
                 subjects: Sequence[str] = (), cover: bytes | None = None,
                 chapters: Sequence[tuple[str, str]] = (("第一章", "开端的故事。"),
                                                        ("第二章", "发展的故事。")),
                 ) -> dict[str, str | bytes]:
    """The entries of an EPUB 2 or 3 (cover by the EPUB 3 property or the EPUB 2 meta)."""
    meta = [f"<dc:title>{title}</dc:title>", f"<dc:language>{language}</dc:language>",
            '<dc:identifier id="uid">urn:uuid:0000-test</dc:identifier>',
            f"<dc:date>{date}</dc:date>"]
    meta += [f"<dc:creator>{a}</dc:creator>" for a in authors]
    meta += [f"<dc:subject>{s}</dc:subject>" for s in subjects]
    if isbn:
        meta.append(f"<dc:identifier>urn:isbn:{isbn}</dc:identifier>")
    if publisher:
        meta.append(f"<dc:publisher>{publisher}</dc:publisher>")
    if description:
        meta.append(f"<dc:description>{description}</dc:description>")
    manifest, spine = [], []
    entries: dict[str, str | bytes] = {"META-INF/container.xml": CONTAINER}
    for i, (head, text) in enumerate(chapters, start=1):
        entries[f"OEBPS/text/c{i}.xhtml"] = _page(head, text)
        manifest.append(f'<item id="c{i}" href="text/c{i}.xhtml" '
                        'media-type="application/xhtml+xml"/>')
        spine.append(f'<itemref idref="c{i}"/>')
    if cover is not None:
        entries["OEBPS/images/front.png"] = cover
        props = ' properties="cover-image"' if version == 3 else ""
        manifest.append(f'<item id="img-front" href="images/front.png" '
                        f'media-type="image/png"{props}/>')
        if version == 2:
            meta.append('<meta name="cover" content="img-front"/>')
    links = "".join(f'<li><a href="text/c{i}.xhtml">{h}</a></li>'
                    for i, (h, _t) in enumerate(chapters, start=1))
    points = "".join(f'<navPoint id="p{i}" playOrder="{i}"><navLabel><text>{h}</text>'
                     f'</navLabel><content src="text/c{i}.xhtml"/></navPoint>'
                     for i, (h, _t) in enumerate(chapters, start=1))
    spine_attr = ""
    if version == 3:
        entries["OEBPS/nav.xhtml"] = (
            '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml" '
            'xmlns:epub="http://www.idpf.org/2007/ops"><head><title>目录</title></head><body>'
            f'<nav epub:type="toc"><ol>{links}</ol></nav></body></html>')
        manifest.append('<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" '
                        'properties="nav"/>')
    else:
        entries["OEBPS/toc.ncx"] = (
            '<?xml version="1.0" encoding="utf-8"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/"'
            f' version="2005-1"><head/><docTitle><text>{title}</text></docTitle>'
            f"<navMap>{points}</navMap></ncx>")
        manifest.append('<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>')
        spine_attr = ' toc="ncx"'
    entries["OEBPS/content.opf"] = (
        '<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf" '
        f'version="{"3.0" if version == 3 else "2.0"}" unique-identifier="uid">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/" '
        f'xmlns:opf="http://www.idpf.org/2007/opf">{"".join(meta)}</metadata>'
        f'<manifest>{"".join(manifest)}</manifest><spine{spine_attr}>{"".join(spine)}</spine>'
        "</package>")
    return entries


def make_epub(**kwargs: object) -> bytes:
    return zip_of(epub_entries(**kwargs))  # type: ignore[arg-type]


def make_pdf(pages: int = 3, *, title: str | None = "劳动法讲义", password: str | None = None
             ) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _i in range(pages):
        writer.add_blank_page(width=300, height=400)
    if title:
        writer.add_metadata({"/Title": title, "/Author": "王五"})
    if password:
        writer.encrypt(password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# -- TXT -------------------------------------------------------------------------------------


def test_txt_pages_cut_at_line_ends_and_cover_the_whole_text() -> None:
    line = "工会是职工自愿结合的工人阶级的群众组织。" * 3 + "\n"  # 61 characters
    text = line * 200
    pages = txt_pages(text)
    assert "".join(pages) == text
    assert all(len(p) <= TXT_PAGE_CHARS for p in pages)
    assert all(p.endswith("\n") for p in pages)
    assert len(pages) > len(text) // TXT_PAGE_CHARS
    # one long line with no break is cut hard at the page size
    assert [len(p) for p in txt_pages("字" * (TXT_PAGE_CHARS * 2 + 5))] == [
        TXT_PAGE_CHARS, TXT_PAGE_CHARS, 5]
    assert txt_pages(" \n\n ") == []


def test_txt_in_gbk_is_read_and_paged() -> None:
    text = "第一章 春天\r\n" + "职工书屋里的书很多。\r\n" * 400
    found = inspect_file(text.encode("gbk"), "职工读本.txt", 10 * MB)
    assert found.format == "txt"
    assert found.meta["encoding"] == "gb18030"
    decoded, encoding = decode_txt(text.encode("gbk"), found.meta["encoding"])
    assert encoding == "gb18030" and "\r" not in decoded
    assert found.meta["pages"] == len(txt_pages(decoded)) > 1


def test_txt_utf8_with_bom() -> None:
    found = inspect_file("\ufeff你好，世界\n".encode(), "a.txt", MB)
    assert found.meta == {"pages": 1, "encoding": "utf-8"}


@pytest.mark.parametrize(("data", "why"), [
    (b"\x00\x01\x02binary", "二进制"),
    (b"\x81\x30\xff\xfe\xfd", "无法识别"),
    (b"", "是空的"),
    (b"   \n  ", "没有文字"),
    (b"\xff\xfeh\x00i\x00", "UTF-16"),
])
def test_txt_refused(data: bytes, why: str) -> None:
    with pytest.raises(IngestError) as err:
        inspect_file(data, "x.txt", MB)
    assert why in err.value.errors["file"]


# -- PDF -------------------------------------------------------------------------------------


def test_pdf_page_count_and_info() -> None:
    found = inspect_file(make_pdf(4), "讲义.pdf", 10 * MB)
    assert found.format == "pdf" and found.meta == {"pages": 4}
    assert found.book == {"title": "劳动法讲义", "authors": ["王五"]}


@pytest.mark.parametrize(("data", "why"), [
    (make_pdf(2, password="secret"), "加密"),
    (b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "损坏"),
    (b"not a pdf at all", "PDF 文件头"),
])
def test_pdf_refused(data: bytes, why: str) -> None:
    with pytest.raises(IngestError) as err:
        inspect_file(data, "x.pdf", 10 * MB)
    assert why in err.value.errors["file"]


# -- EPUB and the common checks ------------------------------------------------------------


@pytest.mark.parametrize("version", [2, 3])
def test_epub_metadata_and_cover(version: int) -> None:
    data = make_epub(version=version, authors=("[英] 狄更斯 著", "张三 译"),
                     isbn="7-02-000220-X", subjects=("小说", "外国文学"),
                     description="&lt;p&gt;一部&lt;b&gt;长篇&lt;/b&gt;小说。&lt;/p&gt;",
                     cover=png())
    found = inspect_file(data, "book.epub", 10 * MB)
    assert found.format == "epub"
    assert [s["href"] for s in found.meta["spine"]] == ["OEBPS/text/c1.xhtml",
                                                        "OEBPS/text/c2.xhtml"]
    assert found.meta["toc"][0]["title"] == "第一章"
    assert found.book["title"] == "劳动者之歌"
    assert found.book["isbn"] == "9787020002207"
    assert found.book["year"] == 2019
    assert found.book["summary"] == "一部 长篇 小说。"
    assert found.book["tags"] == ["小说", "外国文学"]
    assert found.cover is not None and found.cover[0].startswith(b"\x89PNG")


def test_unknown_extension_and_size_limit() -> None:
    with pytest.raises(IngestError) as err:
        inspect_file(b"MZ\x90\x00", "virus.exe", MB)
    assert "不支持的文件类型" in err.value.errors["file"]
    with pytest.raises(IngestError) as err:
        inspect_file(b"a" * (MB + 1), "big.txt", MB)
    assert "超过 1 MB" in err.value.errors["file"]
    with pytest.raises(IngestError) as err:
        inspect_file(make_pdf(1), "disguised.epub", 10 * MB)
    assert "EPUB" in err.value.errors["file"]
