"""One EPUB chapter (spine item) as HTML that is safe to put in a page.

The chapter's XHTML is parsed with lxml (:func:`unionhub_library.epub.parse_xml`: no network,
no DTD, no entity declarations, no huge trees; a document that is not well-formed XML is read
again with lxml's HTML parser under the same rules). From its ``<body>``:

- scripts, styles, forms, frames, media and SVG drawings are removed with their content (an
  ``<svg>`` that only frames an ``<image>`` — the usual cover page — becomes an ``<img>``);
  ``section``/``article``/``header``… become ``div`` (the page's own CSS styles those);
- ``src``/``href``/``xlink:href`` are rewritten: an image in the manifest → the authorised
  resource endpoint (:attr:`Links.resource`), a link to another chapter → the reader's chapter
  URL with its fragment (:attr:`Links.chapter`), a fragment in the same chapter → ``#bk-…``;
  ``http``/``https`` links are kept (opened in a new tab, ``rel="noopener …"``); every other
  link loses its target (``javascript:``, ``data:``, ``file:``, paths leaving the book,
  documents outside the spine);
- ids and class names get the ``bk-`` prefix (a book cannot clobber the page's ids or pick up
  its classes) and ``style`` attributes keep only what :mod:`.css` allows;
- finally nh3 keeps only :data:`TAGS` and :data:`ATTRIBUTES` (no ``on*`` handlers, no unknown
  URL schemes).

The book's stylesheets are returned as resource URLs (the endpoint cleans and scopes them with
:mod:`.css`) and the chapter's own ``<style>`` elements as cleaned, scoped text.

Stored files never change (a new upload gets a new stored name), so rendered chapters are kept
in a small in-process cache keyed by stored name, spine index and link bases.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import nh3
from lxml import etree

from unionhub.i18n import _
from unionhub_library.epub import EpubBook, EpubError, parse_xml

from . import css

PREFIX = css.PREFIX
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SVG_NS = "http://www.w3.org/2000/svg"

TAGS = frozenset({
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "span", "div", "img", "figure", "figcaption",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "colgroup", "col",
    "ul", "ol", "li", "dl", "dt", "dd", "ruby", "rt", "rp", "rb", "a", "em", "strong", "b",
    "i", "u", "s", "small", "big", "sup", "sub", "blockquote", "q", "cite", "pre", "code",
    "kbd", "samp", "var", "abbr", "mark", "del", "ins", "br", "hr", "wbr", "bdi", "bdo",
})
ATTRIBUTES: dict[str, set[str]] = {
    "*": {"class", "id", "lang", "dir", "title", "style"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "reversed"},
    "li": {"value"},
}
#: Removed with everything inside them.
DROP_WITH_CONTENT = frozenset({
    "script", "style", "template", "noscript", "iframe", "frame", "frameset", "object",
    "embed", "applet", "form", "input", "button", "select", "textarea", "audio", "video",
    "source", "track", "canvas", "map", "link", "meta", "title", "base", "head", "math",
    "svg", "dialog", "portal",
})
AS_DIV = frozenset({"section", "article", "aside", "nav", "header", "footer", "main",
                    "hgroup", "address", "center", "details", "summary"})
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp",
                         "image/svg+xml"})
STYLE_TYPES = frozenset({"text/css"})
MAX_CLASSES = 8

_HTML_PARSER = etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True,
                                huge_tree=False, recover=True)


class RenderError(ValueError):
    """The chapter cannot be shown; ``str(error)`` says why (for the reader)."""


@dataclass(frozen=True)
class Links:
    """Where rewritten links point: ``resource_base`` + quoted zip path for images and
    stylesheets, ``chapter_base`` + spine index (+ ``#bk-fragment``) for chapters."""

    resource_base: str
    chapter_base: str

    def resource(self, path: str) -> str:
        return self.resource_base + quote(path)

    def chapter(self, index: int, fragment: str | None = None) -> str:
        url = f"{self.chapter_base}{index}"
        return f"{url}#{quote(PREFIX + fragment)}" if fragment else url


@dataclass(frozen=True)
class Chapter:
    index: int
    title: str | None
    html: str
    #: Resource URLs of the book stylesheets the chapter links.
    stylesheets: tuple[str, ...]
    #: The chapter's own ``<style>`` elements, cleaned and scoped.
    css: str


# -- parsing -----------------------------------------------------------------------------------


def _parse(data: bytes, href: str) -> Any:
    try:
        return parse_xml(data, href)
    except EpubError:
        if b"<!ENTITY" in data:
            raise
    try:
        root = etree.fromstring(data, _HTML_PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise EpubError(f"{href}: {exc}") from exc
    if root is None:
        raise EpubError(href)
    return root


def _local(el: Any) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return etree.QName(tag).localname.lower() if tag.startswith("{") else tag.lower()


def _drop(el: Any) -> None:
    """Remove ``el`` and its content, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    prev = el.getprevious()
    if tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


# -- rewriting ---------------------------------------------------------------------------------


class _Rewriter:
    def __init__(self, book: EpubBook, href: str, links: Links) -> None:
        self.book, self.href, self.links = book, href, links
        self.spine = {item.href: item.index for item in book.spine}

    def link(self, raw: str) -> tuple[str, bool] | None:
        """``(url, external)`` for an ``<a href>``, or None to drop the target."""
        raw = raw.strip()
        try:
            parts = urlsplit(raw)
        except ValueError:
            return None
        scheme = parts.scheme.lower()
        if scheme in ("http", "https") and parts.netloc:
            return raw, True
        if scheme or raw.startswith("//"):
            return None
        target = self.book.resolve(self.href, raw)
        if target is None:
            return None
        path, fragment = target
        if path == self.href and fragment:
            return "#" + quote(PREFIX + fragment), False
        if path in self.spine:
            return self.links.chapter(self.spine[path], fragment), False
        if self.book.media_type(path) in IMAGE_TYPES:
            return self.links.resource(path), False
        return None

    def image(self, raw: str) -> str | None:
        """The resource URL of an image in the manifest, or None."""
        raw = raw.strip()
        if not raw or urlsplit(raw).scheme or raw.startswith("//"):
            return None
        target = self.book.resolve(self.href, raw)
        if target is None or self.book.media_type(target[0]) not in IMAGE_TYPES:
            return None
        return self.links.resource(target[0])

    def stylesheet(self, raw: str) -> str | None:
        target = self.book.resolve(self.href, raw.strip())
        if target is None or self.book.media_type(target[0]) not in STYLE_TYPES:
            return None
        return self.links.resource(target[0])


def _svg_as_img(svg: Any, rw: _Rewriter) -> Any | None:
    """An ``<img>`` for an ``<svg>`` whose picture is one ``<image>`` (a cover page)."""
    for node in svg.iter(f"{{{SVG_NS}}}image", "image"):
        src = rw.image(node.get(XLINK_HREF) or node.get("href") or "")
        if src:
            img = etree.Element("img")
            img.set("src", src)
            img.set("alt", "")
            return img
    return None


def _prefixed_classes(value: str) -> str:
    names = [c for c in value.split() if c[:1].isalpha() or c[:1] in "_-"][:MAX_CLASSES]
    return " ".join(PREFIX + c for c in names if all(ch.isalnum() or ch in "_-" for ch in c))


def _clean_attributes(el: Any, tag: str, rw: _Rewriter) -> bool:
    """Rewrite ``el``'s attributes in place; False when the element must go."""
    attrs = dict(el.attrib)
    el.attrib.clear()
    lang = attrs.get(XML_LANG) or attrs.get("lang")
    if lang:
        el.set("lang", lang[:35])
    for name in ("dir", "title", "alt", "width", "height", "colspan", "rowspan", "scope",
                 "span", "start", "reversed", "value"):
        if name in attrs:
            el.set(name, attrs[name][:200])
    if attrs.get("id"):
        el.set("id", PREFIX + attrs["id"][:100])
    classes = _prefixed_classes(attrs.get("class", ""))
    if classes:
        el.set("class", classes)
    style = css.clean_declarations(attrs.get("style", "")) if attrs.get("style") else ""
    if style:
        el.set("style", style)
    if tag == "img":
        src = rw.image(attrs.get("src") or attrs.get(XLINK_HREF) or "")
        if src is None:
            return False
        el.set("src", src)
        el.set("alt", attrs.get("alt", "")[:200])
        el.set("loading", "lazy")
    elif tag == "a" and attrs.get("href"):
        target = rw.link(attrs["href"])
        if target is not None:
            el.set("href", target[0])
            if target[1]:
                el.set("target", "_blank")
    return True


def _rewrite(body: Any, rw: _Rewriter) -> None:
    for el in list(body.iter()):
        if el is body:
            continue
        if not isinstance(el.tag, str):  # comments, processing instructions, entities
            _drop(el)
            continue
        tag = _local(el)
        if tag == "svg" and el.getparent() is not None:
            img = _svg_as_img(el, rw)
            if img is not None:
                img.tail = el.tail
                el.getparent().replace(el, img)
                continue
        if tag in DROP_WITH_CONTENT:
            if el.getparent() is not None:
                _drop(el)
            continue
        el.tag = "div" if tag in AS_DIV else tag
        if not _clean_attributes(el, tag, rw):
            _drop(el)


def _chapter_css(root: Any, rw: _Rewriter) -> tuple[tuple[str, ...], str]:
    sheets: list[str] = []
    inline: list[str] = []
    for el in root.iter():
        tag = _local(el)
        if tag == "link" and "stylesheet" in (el.get("rel") or "").lower().split():
            url = rw.stylesheet(el.get("href") or "")
            if url and url not in sheets:
                sheets.append(url)
        elif tag == "style" and (el.get("type") or "text/css").lower() == "text/css":
            inline.append(css.clean_stylesheet("".join(el.itertext())))
    return tuple(sheets), "".join(inline)


def clean_html(markup: str) -> str:
    """The final pass: only :data:`TAGS` and :data:`ATTRIBUTES`, http(s) or relative URLs."""
    return str(nh3.clean(
        markup, tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
        tag_attribute_values={"a": {"target": {"_blank"}}, "img": {"loading": {"lazy"}}},
        url_schemes={"http", "https"}, link_rel="noopener noreferrer nofollow",
        strip_comments=True, filter_style_properties=set(css.PROPERTIES),
    ))


def render_chapter(book: EpubBook, index: int, links: Links) -> Chapter:
    """Spine item ``index`` of ``book`` (raises :class:`RenderError`)."""
    if not 0 <= index < len(book.spine):
        raise RenderError(_("没有这一章"))
    item = book.spine[index]
    try:
        root = _parse(book.read(item.href), item.href)
    except EpubError as exc:
        raise RenderError(_("这一章无法显示：%(reason)s", reason=str(exc))) from exc
    rw = _Rewriter(book, item.href, links)
    stylesheets, inline_css = _chapter_css(root, rw)
    body = next((el for el in root.iter() if _local(el) == "body"), None)
    if body is None:
        return Chapter(index, item.title, "", stylesheets, inline_css)
    classes = _prefixed_classes(body.get("class", ""))
    _rewrite(body, rw)
    body.attrib.clear()
    body.tag = "div"
    body.set("class", f"{css.BODY_CLASS} {classes}".strip())
    markup = etree.tostring(body, method="html", encoding="unicode", with_tail=False)
    return Chapter(index, item.title, clean_html(markup), stylesheets, inline_css)


# -- cache -------------------------------------------------------------------------------------

CACHE_SIZE = 64
_cache: OrderedDict[tuple[str, int, Links], Chapter] = OrderedDict()
_lock = threading.Lock()


def chapter(path: Path, stored_name: str, index: int, links: Links) -> Chapter:
    """:func:`render_chapter` for the stored file at ``path``, through the cache."""
    key = (stored_name, index, links)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    try:
        with EpubBook.open(path) as book:
            result = render_chapter(book, index, links)
    except EpubError as exc:
        raise RenderError(_("这本书无法打开：%(reason)s", reason=str(exc))) from exc
    with _lock:
        _cache[key] = result
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def stylesheet(book: EpubBook, path: str) -> str:
    """The cleaned, scoped text of the book's stylesheet at ``path`` (a manifest item)."""
    return css.clean_stylesheet(css.decode(book.read(path)))
