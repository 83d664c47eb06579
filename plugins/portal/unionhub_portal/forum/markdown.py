"""Forum posts are Markdown: rendered with ``markdown-it-py`` with raw HTML off (typed tags come
out as text), then sanitised with nh3 through :data:`FORUM` — a
:class:`unionhub.web.richtext.Policy` that also drops any image whose address is not one of
this site's forum image URLs (``/portal/forum/images/<id>``), so a post cannot make readers'
browsers fetch a stranger's URL. Links get ``rel="noopener noreferrer nofollow"``; only http,
https and mailto links survive. Headings are moved down two levels (``#`` → ``<h3>``) so a post
never outranks the page's own headings.

The stored HTML is sanitised again when shown (:func:`shown`), so posts stored under older
rules are cleaned by the current ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from unionhub.web.richtext import Policy, html_to_text

#: The forum image URL, optionally below the application's script root.
IMAGE_SRC = re.compile(r"^(?:/[A-Za-z0-9._-]+)*/portal/forum/images/[0-9]{1,12}$")
MAX_MARKDOWN = 20_000


@dataclass(frozen=True)
class ForumPolicy(Policy):
    """:class:`Policy` plus a rule for image addresses."""

    image_src: re.Pattern[str] = field(default=IMAGE_SRC)

    def _filter(self, element: str, attribute: str, value: str) -> str | None:
        if element == "img" and attribute == "src" and not self.image_src.match(value):
            return None
        return value

    def clean(self, value: str) -> str:
        return str(nh3.clean(value, tags=set(self.tags), attributes=self.attributes,
                             url_schemes=set(self.url_schemes),
                             link_rel="noopener noreferrer nofollow", strip_comments=True,
                             attribute_filter=self._filter))


FORUM = ForumPolicy(
    tags=frozenset({"p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote", "ul",
                    "ol", "li", "a", "img", "h3", "h4", "h5", "h6", "hr", "table", "thead",
                    "tbody", "tr", "th", "td"}),
    attributes={"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}},
    url_schemes=frozenset({"http", "https", "mailto"}),
)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}
                      ).enable(["table", "strikethrough"])


def render(source: str) -> str:
    """Markdown → sanitised HTML (what is stored in ``body_html``)."""
    md = _parser()
    tokens = md.parse(source or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + 2)}"
    return FORUM.clean(md.renderer.render(tokens, md.options, {}))


def shown(stored: str | None) -> Markup:
    """Stored post HTML as markup safe to put in a page (sanitised again)."""
    return Markup(FORUM.clean(stored)) if stored else Markup("")


def excerpt(stored: str | None, length: int = 120) -> str:
    """Plain text of a post for quotes and lists (not markup: escape it when shown)."""
    text = " ".join(html_to_text(stored).split())
    return text if len(text) <= length else text[:length - 1] + "…"


__all__ = ["FORUM", "IMAGE_SRC", "MAX_MARKDOWN", "ForumPolicy", "excerpt", "render", "shown"]
