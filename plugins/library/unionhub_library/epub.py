"""Reading EPUB files from strangers, with the standard library and lxml only.

An EPUB is a zip: before anything is parsed, :func:`check_zip` bounds the number of entries,
each entry's and the total uncompressed size and the compression ratio (a zip bomb is refused
from its directory, and every read is bounded again in case the directory lies), and refuses
names that could escape a directory (``..``, absolute paths, backslashes, drive letters).
XML is parsed without network access, without DTD loading and with any ``<!ENTITY``
declaration refused (no entity expansion attack).

What the platform needs from a book: metadata (Dublin Core in the OPF), the spine (reading
order), the table of contents (EPUB 3 navigation document, else the EPUB 2 NCX), the cover
(the EPUB 3 ``cover-image`` property, else the EPUB 2 ``<meta name="cover">``, else a cover-ish
manifest image, the guide's cover page or the first page's first image) and bounded reads of
manifest items. Rendering chapters is the reader's business (:mod:`unionhub_library.reader`).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from unionhub.i18n import _

NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "xh": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
}
DOCUMENT_TYPES = ("application/xhtml+xml", "text/html")
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/svg+xml")
MiB = 1024 * 1024


class EpubError(ValueError):
    """The file is not an EPUB we accept; ``str(error)`` tells the user why."""


@dataclass(frozen=True)
class Limits:
    max_entries: int = 3000
    max_entry_bytes: int = 64 * MiB
    max_total_bytes: int = 512 * MiB
    #: Uncompressed / compressed, checked for entries above 1 MiB (text compresses ~10×).
    max_ratio: int = 200


@dataclass
class EpubMeta:
    title: str = ""
    authors: list[str] = field(default_factory=list)
    publisher: str | None = None
    year: int | None = None
    language: str | None = None
    identifiers: list[str] = field(default_factory=list)
    #: The first identifier that is a valid ISBN, as ISBN-13 (no hyphens).
    isbn: str | None = None
    #: Plain text (markup in the OPF description removed).
    description: str | None = None
    subjects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SpineItem:
    index: int
    href: str
    title: str | None
    media_type: str


@dataclass(frozen=True)
class TocEntry:
    title: str
    href: str
    fragment: str | None
    level: int


@dataclass(frozen=True)
class _Item:
    id: str
    href: str
    media_type: str
    properties: frozenset[str]


def safe_name(name: str) -> bool:
    """A zip entry name that stays inside the directory it is extracted or served from."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/"):
        return False
    if re.match(r"^[A-Za-z]:", name):
        return False
    return ".." not in name.split("/")


def check_zip(zf: zipfile.ZipFile, limits: Limits = Limits()) -> None:
    """Refuse an archive whose directory is hostile (see the module docstring)."""
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise EpubError(_("压缩包内文件过多（%(n)s 个，上限 %(max)s 个）",
                          n=len(infos), max=limits.max_entries))
    total = 0
    for info in infos:
        if not safe_name(info.filename):
            raise EpubError(_("压缩包内含有不安全的路径：%(name)s", name=info.filename[:120]))
        if info.flag_bits & 0x1:
            raise EpubError(_("不支持加密的压缩包（%(name)s）", name=info.filename[:120]))
        if info.file_size > limits.max_entry_bytes:
            raise EpubError(_("压缩包内文件 %(name)s 解压后过大", name=info.filename[:120]))
        if info.file_size > MiB and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise EpubError(_("压缩包内文件 %(name)s 压缩比异常，疑似压缩炸弹",
                              name=info.filename[:120]))
        total += info.file_size
        if total > limits.max_total_bytes:
            raise EpubError(_("压缩包解压后总大小超过上限"))


def read_bounded(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """An entry's bytes, refusing to produce more than ``limit`` (a lying directory)."""
    try:
        with zf.open(name) as fh:
            data = fh.read(limit + 1)
    except KeyError:
        raise EpubError(_("EPUB 缺少文件：%(name)s", name=name[:120])) from None
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise EpubError(_("EPUB 内文件 %(name)s 已损坏", name=name[:120])) from exc
    if len(data) > limit:
        raise EpubError(_("压缩包内文件 %(name)s 解压后过大", name=name[:120]))
    return data


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_comments=True, recover=False)


def parse_xml(data: bytes, what: str) -> Any:
    """Parse one XML document of the book; ``what`` names it in the error message."""
    if b"<!ENTITY" in data:
        raise EpubError(_("%(what)s 含有实体声明，已拒绝", what=what))
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise EpubError(_("%(what)s 不是有效的 XML：%(err)s", what=what, err=str(exc)[:160])) \
            from exc


def isbn13(raw: str) -> str | None:
    """An identifier as a checked ISBN-13 (an ISBN-10 is converted), or None."""
    from .catalogue.isbn import IsbnError, normalise_isbn

    try:
        return normalise_isbn(re.sub(r"(?i)^urn:", "", raw.strip()))
    except IsbnError:
        return None


def _text(node: Any) -> str:
    return " ".join("".join(node.itertext()).split()) if node is not None else ""


def _plain(markup: str) -> str:
    """An OPF description (often escaped HTML) as plain text."""
    import html

    text = re.sub(r"<[^>]*>", " ", html.unescape(markup))
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


class EpubBook:
    """An opened EPUB (use as a context manager, or call :meth:`close`)."""

    def __init__(self, zf: zipfile.ZipFile, limits: Limits) -> None:
        self._zf = zf
        self.limits = limits
        self._items: dict[str, _Item] = {}
        self._by_href: dict[str, _Item] = {}
        self.meta = EpubMeta()
        self.spine: list[SpineItem] = []
        self.toc: list[TocEntry] = []
        self.cover_href: str | None = None
        self.opf_path = ""
        self._load()

    @classmethod
    def open(cls, source: str | Path | bytes | IO[bytes], limits: Limits = Limits()) -> EpubBook:
        """Open and check ``source`` (a path, the bytes, or a binary file object)."""
        if isinstance(source, bytes):
            source = io.BytesIO(source)
        try:
            zf = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise EpubError(_("文件不是有效的 EPUB（无法作为 ZIP 打开）")) from exc
        try:
            check_zip(zf, limits)
            return cls(zf, limits)
        except Exception:
            zf.close()
            raise

    def __enter__(self) -> EpubBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zf.close()

    # -- reading ---------------------------------------------------------------------------

    def read(self, href: str) -> bytes:
        """The bytes of a manifest item (by its path inside the zip)."""
        if href not in self._by_href:
            raise EpubError(_("EPUB 中没有这个文件：%(name)s", name=href[:120]))
        return read_bounded(self._zf, href, self.limits.max_entry_bytes)

    def media_type(self, href: str) -> str | None:
        item = self._by_href.get(href)
        return item.media_type if item else None

    def resolve(self, base_href: str, link: str) -> tuple[str, str | None] | None:
        """A relative link in document ``base_href`` as (zip path, fragment); None for an
        external link or one that leaves the book."""
        parts = urlsplit(link.strip())
        if parts.scheme or parts.netloc:
            return None
        fragment = unquote(parts.fragment) or None
        if not parts.path:
            return base_href, fragment
        if parts.path.startswith("/"):
            return None
        path = posixpath.normpath(posixpath.join(posixpath.dirname(base_href), unquote(parts.path)))
        if path == ".." or path.startswith("../") or not safe_name(path):
            return None
        return path, fragment

    def cover(self) -> tuple[bytes, str] | None:
        """The cover image's bytes and media type, when the book has one."""
        if self.cover_href is None:
            return None
        return self.read(self.cover_href), self.media_type(self.cover_href) or "image/jpeg"

    def file_meta(self) -> dict[str, Any]:
        """What :class:`~unionhub_library.models.LibraryFile` keeps of the book."""
        return {
            "title": self.meta.title,
            "spine": [{"href": s.href, "title": s.title} for s in self.spine],
            "toc": [{"title": t.title, "href": t.href, "fragment": t.fragment, "level": t.level}
                    for t in self.toc],
            "cover": self.cover_href,
        }

    # -- loading ---------------------------------------------------------------------------

    def _load(self) -> None:
        names = set(self._zf.namelist())
        if "mimetype" in names:
            mimetype = read_bounded(self._zf, "mimetype", 100).strip()
            if mimetype != b"application/epub+zip":
                raise EpubError(_("文件不是 EPUB（mimetype 为 %(m)s）",
                                  m=mimetype[:40].decode("ascii", "replace")))
        if "META-INF/container.xml" not in names:
            raise EpubError(_("EPUB 缺少 META-INF/container.xml"))
        container = parse_xml(read_bounded(self._zf, "META-INF/container.xml", MiB),
                              "container.xml")
        rootfile = container.find(".//c:rootfile", NS)
        path = rootfile.get("full-path") if rootfile is not None else None
        if not path or not safe_name(path) or path not in names:
            raise EpubError(_("container.xml 没有指向有效的 OPF 文件"))
        self.opf_path = path
        opf = parse_xml(read_bounded(self._zf, path, 8 * MiB), "OPF")
        if etree.QName(opf).localname != "package":
            raise EpubError(_("OPF 文件的根元素不是 package"))
        self._manifest(opf, names)
        self._metadata(opf)
        toc_id = self._spine(opf)
        self.toc = self._nav_toc() or self._ncx_toc(toc_id)
        titles: dict[str, str] = {}
        for entry in self.toc:
            titles.setdefault(entry.href, entry.title)
        self.spine = [SpineItem(s.index, s.href, titles.get(s.href), s.media_type)
                      for s in self.spine]
        self.cover_href = self._find_cover(opf)

    def _manifest(self, opf: Any, names: set[str]) -> None:
        base = posixpath.dirname(self.opf_path)
        for node in opf.findall("opf:manifest/opf:item", NS):
            item_id, href = node.get("id"), node.get("href")
            if not item_id or not href:
                continue
            path = posixpath.normpath(posixpath.join(base, unquote(href.split("#")[0])))
            if not safe_name(path) or path not in names:
                continue
            item = _Item(item_id, path, (node.get("media-type") or "").strip().lower(),
                         frozenset((node.get("properties") or "").split()))
            self._items[item_id] = item
            self._by_href[path] = item

    def _metadata(self, opf: Any) -> None:
        md = opf.find("opf:metadata", NS)
        if md is None:
            raise EpubError(_("OPF 缺少 metadata"))
        meta = self.meta
        meta.title = _text(md.find("dc:title", NS))
        meta.authors = [t for t in (_text(n) for n in md.findall("dc:creator", NS)) if t]
        meta.publisher = _text(md.find("dc:publisher", NS)) or None
        found = re.search(r"\d{4}", _text(md.find("dc:date", NS)))
        meta.year = int(found.group()) if found else None
        meta.language = _text(md.find("dc:language", NS)) or None
        meta.identifiers = [t for t in (_text(n) for n in md.findall("dc:identifier", NS)) if t]
        meta.isbn = next((i for i in map(isbn13, meta.identifiers) if i), None)
        description = md.find("dc:description", NS)
        meta.description = _plain("".join(description.itertext())) or None \
            if description is not None else None
        meta.subjects = [t for t in (_text(n) for n in md.findall("dc:subject", NS)) if t]

    def _spine(self, opf: Any) -> str | None:
        spine = opf.find("opf:spine", NS)
        if spine is None:
            raise EpubError(_("OPF 缺少 spine（阅读顺序）"))
        for ref in spine.findall("opf:itemref", NS):
            item = self._items.get(ref.get("idref") or "")
            if item is None or item.media_type not in DOCUMENT_TYPES or ref.get("linear") == "no":
                continue
            self.spine.append(SpineItem(len(self.spine), item.href, None, item.media_type))
        if not self.spine:
            raise EpubError(_("EPUB 没有可阅读的章节"))
        return spine.get("toc")

    def _nav_toc(self) -> list[TocEntry]:
        nav_item = next((i for i in self._items.values() if "nav" in i.properties), None)
        if nav_item is None:
            return []
        doc = parse_xml(self.read(nav_item.href), nav_item.href)
        type_attr = f"{{{NS['epub']}}}type"
        navs = [n for n in doc.iter(f"{{{NS['xh']}}}nav")]
        nav = next((n for n in navs if "toc" in (n.get(type_attr) or "").split()),
                   navs[0] if navs else None)
        if nav is None:
            return []
        out: list[TocEntry] = []

        def walk(ol: Any, level: int) -> None:
            for li in ol.findall("xh:li", NS):
                link = li.find("xh:a", NS)
                if link is None:
                    link = li.find("xh:span", NS)
                target = self.resolve(nav_item.href, link.get("href") or "") \
                    if link is not None and link.get("href") else None
                if link is not None and target is not None and target[0] in self._by_href:
                    out.append(TocEntry(_text(link) or target[0], target[0], target[1], level))
                child = li.find("xh:ol", NS)
                if child is not None:
                    walk(child, level + 1)

        top = nav.find("xh:ol", NS)
        if top is not None:
            walk(top, 1)
        return out

    def _ncx_toc(self, toc_id: str | None) -> list[TocEntry]:
        item = self._items.get(toc_id or "") or next(
            (i for i in self._items.values() if i.media_type == "application/x-dtbncx+xml"), None)
        if item is None:
            return []
        doc = parse_xml(self.read(item.href), item.href)
        out: list[TocEntry] = []

        def walk(parent: Any, level: int) -> None:
            for point in parent.findall("ncx:navPoint", NS):
                content = point.find("ncx:content", NS)
                target = self.resolve(item.href, content.get("src") or "") \
                    if content is not None else None
                if target is not None and target[0] in self._by_href:
                    title = _text(point.find("ncx:navLabel/ncx:text", NS)) or target[0]
                    out.append(TocEntry(title, target[0], target[1], level))
                walk(point, level + 1)

        nav_map = doc.find("ncx:navMap", NS)
        if nav_map is not None:
            walk(nav_map, 1)
        return out

    def _find_cover(self, opf: Any) -> str | None:
        images = [i for i in self._items.values() if i.media_type in IMAGE_TYPES]
        for item in images:  # EPUB 3
            if "cover-image" in item.properties:
                return item.href
        for meta in opf.findall("opf:metadata/opf:meta", NS):  # EPUB 2
            if meta.get("name") == "cover":
                ref = meta.get("content") or ""
                item = self._items.get(ref) or self._by_href.get(
                    posixpath.normpath(posixpath.join(posixpath.dirname(self.opf_path), ref)))
                if item is not None and item.media_type in IMAGE_TYPES:
                    return item.href
        for item in images:  # named like a cover
            if "cover" in item.id.lower() or "cover" in posixpath.basename(item.href).lower():
                return item.href
        pages = [ref.get("href") for ref in opf.findall("opf:guide/opf:reference", NS)
                 if ref.get("type") == "cover" and ref.get("href")]
        base = posixpath.dirname(self.opf_path)
        candidates = [posixpath.normpath(posixpath.join(base, unquote(p.split("#")[0])))
                      for p in pages] + [self.spine[0].href]
        for page in candidates:  # the cover page's, or the first page's, first image
            if page not in self._by_href:
                continue
            try:
                doc = parse_xml(self.read(page), page)
            except EpubError:
                continue
            for node in doc.iter(f"{{{NS['xh']}}}img", "{http://www.w3.org/2000/svg}image"):
                link = node.get("src") or node.get("{http://www.w3.org/1999/xlink}href") or ""
                target = self.resolve(page, link)
                if target and (self.media_type(target[0]) or "") in IMAGE_TYPES:
                    return target[0]
        return None
