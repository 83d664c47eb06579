"""Offer descriptions: HTML written by officers and merchants, sanitised with ``nh3`` on save
and again on output (a description stored before a tightening of the rules is cleaned by the
new rules when shown). Text typed without any tag keeps its line breaks. ``html_to_text`` gives
the plain text for search and the API."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3
from markupsafe import Markup

#: Markup a description may use: text structure, lists, links, no images or styles.
ALLOWED_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "h3", "h4",
                "blockquote", "a", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
MAX_DESCRIPTION = 20_000
_TAG = re.compile(r"<[A-Za-z!/]")
_BLOCK_TAG = re.compile(r"<\s*(p|br|div|li|ul|ol|h[1-6]|blockquote|table)\b", re.I)
_BLOCKS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "ul",
           "ol", "table"}
_SKIP = {"script", "style", "template", "iframe", "object", "noscript", "textarea", "title"}


def _nh3_clean(value: str) -> str:
    return str(nh3.clean(value, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                         url_schemes=URL_SCHEMES, link_rel="noopener noreferrer nofollow",
                         strip_comments=True))


def text_to_html(text: str) -> str:
    """Plain text as HTML: escaped, paragraphs and line breaks kept."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").strip().split("\n")
    return "<br>".join(html.escape(line, quote=True) for line in lines) if text.strip() else ""


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag == "br" or tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(value: str | None) -> str:
    """The readable text of an HTML fragment (scripts and styles dropped), line breaks kept
    for ``<br>`` and block elements, runs of blank lines collapsed."""
    if not value:
        return ""
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    out: list[str] = []
    for line in (part.strip() for part in text.split("\n")):
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def clean_description(raw: str) -> str:
    """What to store for a description typed into the form (see the module docstring)."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    if not _TAG.search(raw):
        raw = text_to_html(raw)
    elif not _BLOCK_TAG.search(raw):  # inline markup only: the typed line breaks still count
        raw = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")
    return _nh3_clean(raw)


def render_description(stored: str | None) -> Markup:
    """A stored description as markup that is safe to put in a page."""
    if not stored:
        return Markup("")
    return Markup(_nh3_clean(stored))


def editable_description(stored: str | None) -> str:
    """The form's textarea value: the stored (sanitised) HTML."""
    return stored or ""
