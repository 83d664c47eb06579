"""HTML written by people (officers, merchants, members): sanitised with ``nh3`` when saved and
again when shown, so that text stored under older rules is cleaned by the current ones.

A :class:`Policy` names what markup a kind of text may use; :data:`BASIC` suits descriptions
(structure, lists, links), :data:`ARTICLE` published articles (adds headings, images, tables,
figures). Text typed without any tag keeps its line breaks. :func:`html_to_text` gives the plain
text for search, feeds' summaries and the API.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import nh3
from markupsafe import Markup


@dataclass(frozen=True)
class Policy:
    """What a kind of rich text may contain."""

    tags: frozenset[str]
    attributes: dict[str, set[str]] = field(default_factory=dict)
    url_schemes: frozenset[str] = frozenset({"http", "https", "mailto", "tel"})

    def clean(self, value: str) -> str:
        return str(nh3.clean(value, tags=set(self.tags), attributes=self.attributes,
                             url_schemes=set(self.url_schemes),
                             link_rel="noopener noreferrer nofollow", strip_comments=True))


BASIC = Policy(
    tags=frozenset({"p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "h3", "h4",
                    "blockquote", "a", "span"}),
    attributes={"a": {"href", "title"}},
)

ARTICLE = Policy(
    tags=BASIC.tags | {"h2", "h5", "img", "figure", "figcaption", "table", "thead", "tbody",
                       "tr", "th", "td", "caption", "hr", "sub", "sup", "s", "code", "pre",
                       "div"},
    attributes={"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
                "th": {"colspan", "rowspan"}, "td": {"colspan", "rowspan"}},
)

_TAG = re.compile(r"<[A-Za-z!/]")
_BLOCK_TAG = re.compile(r"<\s*(p|br|div|li|ul|ol|h[1-6]|blockquote|table)\b", re.I)
_BLOCKS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "ul",
           "ol", "table", "figure", "figcaption", "pre"}
_SKIP = {"script", "style", "template", "iframe", "object", "noscript", "textarea", "title"}


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


def clean_typed(raw: str | None, policy: Policy = BASIC) -> str:
    """What to store for rich text typed into a form: plain text becomes paragraphs, inline
    markup keeps its typed line breaks, everything goes through ``policy``."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    if not _TAG.search(raw):
        raw = text_to_html(raw)
    elif not _BLOCK_TAG.search(raw):  # inline markup only: the typed line breaks still count
        raw = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")
    return policy.clean(raw)


def render(stored: str | None, policy: Policy = BASIC) -> Markup:
    """Stored rich text as markup that is safe to put in a page."""
    if not stored:
        return Markup("")
    return Markup(policy.clean(stored))
