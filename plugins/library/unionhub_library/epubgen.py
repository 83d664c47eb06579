"""Writing EPUB files: the demo's books and the tests' fixtures.

:func:`make_epub` writes a small but complete publication — ``mimetype`` first and stored,
``META-INF/container.xml``, an OPF package with Dublin Core metadata, manifest and spine, an
NCX table of contents (what EPUB 2 readers use) and, for EPUB 3, the navigation document —
with one XHTML document per chapter, a stylesheet, an optional cover image and other images.
The output is deterministic (fixed timestamps, an identifier derived from the title) so a
test can compare bytes and hashes.

A chapter's body is plain text or simple XHTML. Plain text becomes escaped ``<p>``
paragraphs, one per line; a line starting with ``## `` becomes a section heading
(``<h2 id="s1">``) that also appears one level down in the table of contents. A body that
starts with ``<`` is put in the document as it is (tests use that to ship hostile markup, so
it must be well-formed XML for the book to parse).

:func:`make_cover_png` draws a cover with the title in Chinese, using a CJK font installed
on the machine (found with fontconfig; Pillow's own font otherwise — nothing is fetched).
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import uuid
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from .fonts import font as _font

__all__ = ["isbn13", "make_cover_png", "make_epub"]

#: Every entry's timestamp (a zip cannot store dates before 1980).
ZIP_TIME = (2020, 1, 1, 0, 0, 0)
MODIFIED = "2020-01-01T00:00:00Z"
OPF_DIR = "OEBPS"
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
               "gif": "image/gif", "svg": "image/svg+xml", "webp": "image/webp"}
CONTAINER = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
             '<rootfiles><rootfile full-path="OEBPS/content.opf" '
             'media-type="application/oebps-package+xml"/></rootfiles></container>\n')
STYLESHEET = """body { margin: 0 5%; line-height: 1.8; font-family: serif; }
h1 { font-size: 1.6em; margin: 1.2em 0 1em; text-align: center; }
h2 { font-size: 1.25em; margin: 1.4em 0 0.6em; }
p { text-indent: 2em; margin: 0 0 0.6em; }
img { max-width: 100%; }
"""


def isbn13(number: int, prefix: str = "9787") -> str:
    """A checked ISBN-13: ``prefix`` (the Chinese registration group by default), ``number``
    zero-padded to fill 12 digits, and the check digit."""
    body = f"{prefix}{number:0{12 - len(prefix)}d}"
    if len(body) != 12 or not body.isdigit():
        raise ValueError(f"cannot make an ISBN from {prefix!r} and {number}")
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


@dataclass
class _Chapter:
    index: int
    title: str
    body: str
    href: str = ""
    sections: list[tuple[str, str]] = field(default_factory=list)  # (id, title)


def _xhtml_body(chapter: _Chapter) -> str:
    """The chapter's ``<body>`` content; fills ``chapter.sections`` from ``## `` lines."""
    text = chapter.body
    if text.lstrip().startswith("<"):
        return f"<h1>{escape(chapter.title)}</h1>\n{text}"
    parts = [f"<h1>{escape(chapter.title)}</h1>"]
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("## "):
            anchor = f"s{len(chapter.sections) + 1}"
            heading = line[3:].strip()
            chapter.sections.append((anchor, heading))
            parts.append(f'<h2 id="{anchor}">{escape(heading)}</h2>')
        else:
            parts.append(f"<p>{escape(line)}</p>")
    return "\n".join(parts)


def _document(title: str, body: str, language: str, version: int, css_href: str) -> str:
    lang = quoteattr(language)
    if version >= 3:
        head = ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
                '<html xmlns="http://www.w3.org/1999/xhtml" '
                f'xmlns:epub="http://www.idpf.org/2007/ops" xml:lang={lang} lang={lang}>')
    else:
        head = ('<?xml version="1.0" encoding="utf-8"?>\n'
                '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" '
                '"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">\n'
                f'<html xmlns="http://www.w3.org/1999/xhtml" xml:lang={lang}>')
    return (f"{head}\n<head>\n<meta http-equiv=\"Content-Type\" "
            f"content=\"text/html; charset=utf-8\"/>\n<title>{escape(title)}</title>\n"
            f'<link rel="stylesheet" type="text/css" href="{css_href}"/>\n</head>\n'
            f"<body>\n{body}\n</body>\n</html>\n")


def _nav(title: str, chapters: Sequence[_Chapter], language: str) -> str:
    items = []
    for ch in chapters:
        link = f'<a href="{ch.href}">{escape(ch.title)}</a>'
        if ch.sections:
            subs = "".join(f'<li><a href="{ch.href}#{anchor}">{escape(heading)}</a></li>'
                           for anchor, heading in ch.sections)
            items.append(f"<li>{link}<ol>{subs}</ol></li>")
        else:
            items.append(f"<li>{link}</li>")
    body = (f'<nav epub:type="toc" id="toc"><h1>{escape(title)}</h1>\n<ol>\n'
            + "\n".join(items) + "\n</ol></nav>")
    return _document(title, body, language, 3, "style.css")


def _ncx(uid: str, title: str, authors: Sequence[str], chapters: Sequence[_Chapter]) -> str:
    order = 0
    points = []
    for ch in chapters:
        order += 1
        own = order
        inner = []
        for anchor, heading in ch.sections:
            order += 1
            inner.append(f'<navPoint id="np{order}" playOrder="{order}"><navLabel><text>'
                         f'{escape(heading)}</text></navLabel>'
                         f'<content src="{ch.href}#{anchor}"/></navPoint>')
        points.append(f'<navPoint id="np-ch{ch.index}" playOrder="{own}">'
                      f"<navLabel><text>{escape(ch.title)}</text></navLabel>"
                      f'<content src="{ch.href}"/>{"".join(inner)}</navPoint>')
    depth = 2 if any(ch.sections for ch in chapters) else 1
    author = escape("、".join(authors))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">\n<head>'
            f'<meta name="dtb:uid" content={quoteattr(uid)}/>'
            f'<meta name="dtb:depth" content="{depth}"/>'
            '<meta name="dtb:totalPageCount" content="0"/>'
            '<meta name="dtb:maxPageNumber" content="0"/></head>\n'
            f"<docTitle><text>{escape(title)}</text></docTitle>\n"
            f"<docAuthor><text>{author}</text></docAuthor>\n<navMap>\n"
            + "\n".join(points) + "\n</navMap>\n</ncx>\n")


def _image_type(name: str) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in IMAGE_TYPES:
        raise ValueError(f"image {name!r}: unknown type (use {', '.join(IMAGE_TYPES)})")
    return IMAGE_TYPES[ext]


def _opf(*, version: int, uid: str, title: str, authors: Sequence[str], language: str,
         isbn: str | None, publisher: str | None, year: int | None, description: str | None,
         subjects: Iterable[str], chapters: Sequence[_Chapter], images: Mapping[str, bytes],
         cover: bool) -> str:
    v3 = version >= 3
    meta = []
    if isbn:
        meta.append(f'<dc:identifier id="bookid">urn:isbn:{escape(isbn)}</dc:identifier>' if v3
                    else f'<dc:identifier id="bookid" opf:scheme="ISBN">{escape(isbn)}'
                         "</dc:identifier>")
    else:
        meta.append(f'<dc:identifier id="bookid">{escape(uid)}</dc:identifier>')
    meta.append(f"<dc:title>{escape(title)}</dc:title>")
    for i, name in enumerate(authors, start=1):
        if v3:
            meta.append(f'<dc:creator id="creator{i}">{escape(name)}</dc:creator>'
                        f'<meta refines="#creator{i}" property="role" '
                        'scheme="marc:relators">aut</meta>')
        else:
            meta.append(f'<dc:creator opf:role="aut">{escape(name)}</dc:creator>')
    meta.append(f"<dc:language>{escape(language)}</dc:language>")
    if publisher:
        meta.append(f"<dc:publisher>{escape(publisher)}</dc:publisher>")
    if year:
        meta.append(f"<dc:date>{year:04d}</dc:date>")
    if description:
        meta.append(f"<dc:description>{escape(description)}</dc:description>")
    meta += [f"<dc:subject>{escape(s)}</dc:subject>" for s in subjects]
    if v3:
        meta.append(f'<meta property="dcterms:modified">{MODIFIED}</meta>')
    elif cover:
        meta.append('<meta name="cover" content="cover-image"/>')

    manifest = []
    if v3:
        manifest.append('<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" '
                        'properties="nav"/>')
    manifest.append('<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>')
    manifest.append('<item id="css" href="style.css" media-type="text/css"/>')
    if cover:
        props = ' properties="cover-image"' if v3 else ""
        manifest.append(f'<item id="cover-image" href="images/cover.png" '
                        f'media-type="image/png"{props}/>')
    for n, name in enumerate(sorted(images), start=1):
        manifest.append(f'<item id="img{n}" href={quoteattr("images/" + name)} '
                        f'media-type="{_image_type(name)}"/>')
    for ch in chapters:
        manifest.append(f'<item id="ch{ch.index:03d}" href="{ch.href}" '
                        'media-type="application/xhtml+xml"/>')
    spine = "".join(f'<itemref idref="ch{ch.index:03d}"/>' for ch in chapters)
    namespaces = ('xmlns:dc="http://purl.org/dc/elements/1.1/" '
                  'xmlns:opf="http://www.idpf.org/2007/opf"')
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            f'<package xmlns="http://www.idpf.org/2007/opf" version="{"3.0" if v3 else "2.0"}" '
            f'unique-identifier="bookid" xml:lang={quoteattr(language)}>\n'
            f"<metadata {namespaces}>\n" + "\n".join(meta) + "\n</metadata>\n"
            "<manifest>\n" + "\n".join(manifest) + "\n</manifest>\n"
            f'<spine toc="ncx">{spine}</spine>\n</package>\n')


def make_epub(title: str, authors: Sequence[str], chapters: Sequence[tuple[str, str]], *,
              cover_png: bytes | None = None, epub_version: int = 3, isbn: str | None = None,
              publisher: str | None = None, language: str = "zh",
              description: str | None = None, subjects: Iterable[str] = (),
              images: Mapping[str, bytes] | None = None, year: int | None = None,
              compress: bool = True) -> bytes:
    """An EPUB (version 3, or 2 with ``epub_version=2``) of ``chapters`` ((title, body) each).

    ``images`` are stored under ``OEBPS/images/<name>``; an XHTML body refers to them as
    ``../images/<name>``. ``compress=False`` stores every entry (quicker, bigger).
    """
    if epub_version not in (2, 3):
        raise ValueError("epub_version must be 2 or 3")
    if not chapters:
        raise ValueError("a book needs at least one chapter")
    images = dict(images or {})
    for name in images:
        if "/" in name or "\\" in name or name.startswith(".") or name == "cover.png":
            raise ValueError(f"image name {name!r}: a plain file name other than cover.png")
    seed = "unionhub-epub:" + title + "/" + "、".join(authors)
    uid = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, seed)}"
    items = [_Chapter(i, t or f"第{i}章", body, href=f"text/ch{i:03d}.xhtml")
             for i, (t, body) in enumerate(chapters, start=1)]
    docs = {ch.href: _document(ch.title, _xhtml_body(ch), language, epub_version,
                               "../style.css") for ch in items}

    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w") as z:
        def put(name: str, data: str | bytes, stored: bool = False) -> None:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if stored else method
            z.writestr(info, data.encode("utf-8") if isinstance(data, str) else data)

        put("mimetype", "application/epub+zip", stored=True)  # first, uncompressed
        put("META-INF/container.xml", CONTAINER)
        put(f"{OPF_DIR}/content.opf", _opf(
            version=epub_version, uid=uid, title=title, authors=authors, language=language,
            isbn=isbn, publisher=publisher, year=year, description=description,
            subjects=subjects, chapters=items, images=images, cover=cover_png is not None))
        put(f"{OPF_DIR}/toc.ncx", _ncx(uid if not isbn else f"urn:isbn:{isbn}", title,
                                       authors, items))
        if epub_version >= 3:
            put(f"{OPF_DIR}/nav.xhtml", _nav(title, items, language))
        put(f"{OPF_DIR}/style.css", STYLESHEET)
        if cover_png is not None:
            put(f"{OPF_DIR}/images/cover.png", cover_png, stored=True)
        for name in sorted(images):
            put(f"{OPF_DIR}/images/{name}", images[name], stored=name.endswith((".png", ".jpg",
                                                                                ".jpeg")))
        for href, doc in docs.items():
            put(f"{OPF_DIR}/{href}", doc)
    return buffer.getvalue()


# -- covers -------------------------------------------------------------------------------------

#: Punctuation that must not begin a line (it stays at the end of the previous one).
NO_LINE_START = frozenset("，。、：；！？）》」』”’…,.:;!?)")
def _advance(font: Any, char: str) -> float:
    """The width of one character in ``font`` (cached: a cover measures the same few)."""
    key = (getattr(font, "path", None), getattr(font, "size", None))
    widths = _WIDTHS.setdefault(key, {})
    if char not in widths:
        widths[char] = font.getlength(char)
    return widths[char]


_WIDTHS: dict[tuple[Any, Any], dict[str, float]] = {}


def _wrap(text: str, font: Any, width: int, max_lines: int) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` (character by character, which is
    right for Chinese; a trailing ellipsis when it does not fit in ``max_lines``). Widths
    are summed per character: CJK fonts have no kerning to speak of."""
    lines: list[str] = []
    line, used = "", 0.0
    for char in text.strip():
        advance = _advance(font, char)
        if used + advance > width and line and char not in NO_LINE_START:
            lines.append(line)
            line, used = "", 0.0
            if char == " ":
                continue
        line += char
        used += advance
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb((hue % 360) / 360, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)


def make_cover_png(title: str, author: str, *, width: int = 600, height: int = 800,
                   hue: float | None = None, compress_level: int = 6) -> bytes:
    """A book cover as PNG: a two-tone background in ``hue`` (degrees; by default derived from
    the title), a light panel with the title in large type, the author below, a rule.
    ``compress_level`` (0–9) trades size for speed."""
    from PIL import Image, ImageDraw

    if hue is None:
        hue = int(hashlib.sha1(title.encode("utf-8")).hexdigest()[:4], 16) % 360
    dark, mid, light = _rgb(hue, 0.75, 0.45), _rgb(hue, 0.6, 0.7), _rgb(hue, 0.08, 0.98)
    image = Image.new("RGB", (width, height), dark)
    draw = ImageDraw.Draw(image)
    band = height * 3 // 10
    draw.rectangle((0, height - band, width, height), fill=mid)
    for i in range(6):  # a few diagonal strokes so covers are not flat
        x = width * (i + 1) // 7
        draw.line((x, height - band, x + band // 2, height), fill=dark, width=max(1, width // 150))
    margin = width // 12
    panel = (margin, height // 8, width - margin, height - band - height // 16)
    draw.rectangle(panel, fill=light)
    draw.rectangle((panel[0], panel[1], panel[0] + max(3, width // 60), panel[3]), fill=mid)
    inner = panel[2] - panel[0] - 2 * margin
    size = max(12, width // 9)
    font = _font(size)
    lines = _wrap(title, font, inner, 4)
    while len(lines) > 3 and size > 14:
        size = int(size * 0.85)
        font = _font(size)
        lines = _wrap(title, font, inner, 4)
    line_height = int(size * 1.3)
    y = panel[1] + margin
    for line in lines:
        draw.text((panel[0] + margin, y), line, fill=dark, font=font)
        y += line_height
    y += line_height // 3
    draw.line((panel[0] + margin, y, panel[0] + margin + inner // 3, y), fill=mid,
              width=max(2, width // 120))
    small = _font(max(10, width // 22))
    for line in _wrap(author, small, inner, 2):
        y += int(width // 22 * 1.6)
        draw.text((panel[0] + margin, y), line, fill=_rgb(hue, 0.5, 0.35), font=small)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=compress_level)
    return out.getvalue()
