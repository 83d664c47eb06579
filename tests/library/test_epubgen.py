"""The EPUB writer used by the demo and the tests: its books are valid zips laid out as the
OCF container requires, and :class:`unionhub_library.epub.EpubBook` reads back the metadata,
the chapters, the table of contents and the cover of both EPUB 3 and EPUB 2 packages."""

from __future__ import annotations

import io
import zipfile

import pytest
from lxml import etree

from unionhub_library import epub
from unionhub_library.epubgen import isbn13, make_cover_png, make_epub
from unionhub_library.fonts import cjk_font_path

XH = "{http://www.w3.org/1999/xhtml}"
CHAPTERS = [
    ("第一章 工会的由来", "## 早期的工人组织\n十九世纪，工人们结成互助会。\n"
                      "## 近代工会\n工会为工人争取八小时工作制。<script>alert(1)</script> & 更多"),
    ("第二章 劳动法", "劳动合同应当以书面形式订立。\n\n用人单位应当按时足额支付劳动报酬。"),
    ("第三章 插图", '<p>一幅图：</p><p><img src="../images/photo.png" alt="会场"/></p>'),
]


def _book(version: int, **extra: object) -> bytes:
    cover = make_cover_png("工会简史", "王建国", width=120, height=160)
    return make_epub("工会简史", ["王建国", "李芳"], CHAPTERS, cover_png=cover,
                     epub_version=version, isbn=isbn13(1234567), publisher="工人出版社",
                     description="一部工会简史。", subjects=["工会", "历史"], year=2021,
                     images={"photo.png": make_cover_png("图", "", width=40, height=30)},
                     **extra)


@pytest.mark.parametrize("version", [3, 2])
def test_container_layout(version: int) -> None:
    data = _book(version)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        first = z.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert not first.extra
        assert z.read("mimetype") == b"application/epub+zip"
        # the OCF rule readers rely on: the literal mimetype at byte 38
        assert data[30:38] == b"mimetype" and data[38:58] == b"application/epub+zip"
        names = z.namelist()
        assert "META-INF/container.xml" in names and "OEBPS/toc.ncx" in names
        assert ("OEBPS/nav.xhtml" in names) is (version == 3)
        for name in names:
            if name.endswith((".xml", ".opf", ".ncx", ".xhtml")):
                etree.fromstring(z.read(name))  # every document is well-formed
        opf = etree.fromstring(z.read("OEBPS/content.opf"))
    assert opf.get("version") == f"{version}.0"
    ns = {"opf": "http://www.idpf.org/2007/opf"}
    cover_items = opf.findall("opf:manifest/opf:item[@id='cover-image']", ns)
    assert len(cover_items) == 1
    if version == 3:
        assert cover_items[0].get("properties") == "cover-image"
        assert opf.find("opf:metadata/opf:meta[@name='cover']", ns) is None
    else:
        assert cover_items[0].get("properties") is None
        assert opf.find("opf:metadata/opf:meta[@name='cover']", ns).get("content") == "cover-image"
        assert not opf.findall("opf:manifest/opf:item[@properties='nav']", ns)


@pytest.mark.parametrize("version", [3, 2])
def test_parses_back(version: int) -> None:
    with epub.EpubBook.open(_book(version)) as book:
        meta = book.meta
        assert meta.title == "工会简史" and meta.authors == ["王建国", "李芳"]
        assert meta.isbn == isbn13(1234567) and meta.publisher == "工人出版社"
        assert meta.year == 2021 and meta.language == "zh"
        assert meta.description == "一部工会简史。" and meta.subjects == ["工会", "历史"]
        assert [s.title for s in book.spine] == [t for t, _ in CHAPTERS]
        assert [s.href for s in book.spine] == [f"OEBPS/text/ch00{i}.xhtml" for i in (1, 2, 3)]
        assert [(t.title, t.fragment, t.level) for t in book.toc] == [
            ("第一章 工会的由来", None, 1), ("早期的工人组织", "s1", 2), ("近代工会", "s2", 2),
            ("第二章 劳动法", None, 1), ("第三章 插图", None, 1)]
        assert book.cover_href == "OEBPS/images/cover.png"
        cover = book.cover()
        assert cover is not None and cover[1] == "image/png"
        assert cover[0].startswith(b"\x89PNG")

        first = etree.fromstring(book.read(book.spine[0].href))
        assert first.find(f".//{XH}h1").text == "第一章 工会的由来"
        assert [h.get("id") for h in first.iter(f"{XH}h2")] == ["s1", "s2"]
        paragraphs = [p.text for p in first.iter(f"{XH}p")]
        # plain text is escaped, never markup
        assert paragraphs[1] == "工会为工人争取八小时工作制。<script>alert(1)</script> & 更多"
        assert not list(first.iter(f"{XH}script"))
        second = etree.fromstring(book.read(book.spine[1].href))
        assert [p.text for p in second.iter(f"{XH}p")] == [
            "劳动合同应当以书面形式订立。", "用人单位应当按时足额支付劳动报酬。"]

        # an XHTML body is kept, and its image resolves to a manifest item
        third = etree.fromstring(book.read(book.spine[2].href))
        img = next(third.iter(f"{XH}img"))
        target = book.resolve(book.spine[2].href, img.get("src"))
        assert target == ("OEBPS/images/photo.png", None)
        assert book.media_type(target[0]) == "image/png"
        assert book.read(target[0]).startswith(b"\x89PNG")
        assert book.file_meta()["spine"][0] == {"href": "OEBPS/text/ch001.xhtml",
                                                "title": "第一章 工会的由来"}


def test_without_cover_or_isbn() -> None:
    data = make_epub("无封面", ["佚名"], [("", "只有一段。")])
    with epub.EpubBook.open(data) as book:
        assert book.cover_href is None and book.cover() is None
        assert book.meta.isbn is None
        assert book.meta.identifiers[0].startswith("urn:uuid:")
        assert book.spine[0].title == "第1章"  # a chapter without a title gets one


def test_deterministic_and_uncompressed_option() -> None:
    assert _book(3) == _book(3)
    assert _book(3) != _book(2)
    stored = _book(3, compress=False)
    with zipfile.ZipFile(io.BytesIO(stored)) as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
    with epub.EpubBook.open(stored) as book:
        assert len(book.spine) == 3


def test_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="chapter"):
        make_epub("空", ["佚名"], [])
    with pytest.raises(ValueError, match="epub_version"):
        make_epub("书", ["佚名"], [("一", "文")], epub_version=4)
    for name in ("../x.png", "a/b.png", "cover.png"):
        with pytest.raises(ValueError, match="image name"):
            make_epub("书", ["佚名"], [("一", "文")], images={name: b"x"})
    with pytest.raises(ValueError, match="unknown type"):
        make_epub("书", ["佚名"], [("一", "文")], images={"x.exe": b"x"})


def test_isbn13_is_checked() -> None:
    values = {isbn13(n) for n in range(0, 5000, 7)}
    assert all(len(v) == 13 and v.startswith("9787") for v in values)
    assert all(epub.isbn13(v) == v for v in values)  # the reader's check accepts them
    assert isbn13(30640615, prefix="9780") == "9780306406157"  # the textbook example
    assert isbn13(0) == "9787000000001"
    assert epub.isbn13(isbn13(42)[:12] + str((int(isbn13(42)[12]) + 1) % 10)) is None
    with pytest.raises(ValueError):
        isbn13(10**9)


def test_cover_png() -> None:
    from PIL import Image

    data = make_cover_png("新时代产业工人的故事：劳动创造世界", "王建国 著", width=300,
                          height=400, hue=0)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (300, 400)
    other = Image.open(io.BytesIO(make_cover_png("新时代产业工人的故事：劳动创造世界",
                                                 "王建国 著", width=300, height=400, hue=200)))
    assert image.getpixel((2, 2)) != other.getpixel((2, 2))  # the hue is the background's
    # the title is drawn: the panel holds dark text pixels, and another title differs there
    panel = image.crop((40, 60, 260, 200))
    colours = panel.getcolors(maxcolors=100000)
    assert colours is not None and len(colours) > 10
    retitled = Image.open(io.BytesIO(make_cover_png("工会简史", "王建国 著", width=300,
                                                    height=400, hue=0))).crop((40, 60, 260, 200))
    assert panel.tobytes() != retitled.tobytes()
    # by default the hue comes from the title (stable)
    assert make_cover_png("甲", "乙", width=60, height=80) == make_cover_png(
        "甲", "乙", width=60, height=80)


def test_cjk_font_has_chinese_glyphs() -> None:
    """On a machine with a CJK font, the cover uses it: a Chinese character is drawn as a
    glyph of its own shape, not the same "missing glyph" box as another character."""
    from PIL import Image, ImageDraw, ImageFont

    path = cjk_font_path()
    if path is None:
        pytest.skip("no CJK font installed (covers fall back to Pillow's font)")
    font = ImageFont.truetype(path, 40)

    def drawn(char: str) -> bytes:
        image = Image.new("L", (50, 50), 0)
        ImageDraw.Draw(image).text((2, 2), char, fill=255, font=font)
        return image.tobytes()

    assert drawn("工") != drawn("会") != drawn("书")
