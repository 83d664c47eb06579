"""RSS 2.0 and Atom feeds per public section, and the sitemap.

Feeds and the sitemap are read by machines that never sign in, so they show exactly what an
anonymous visitor of the PC portal may read: the audience rule with the anonymous ``pc``
viewer (untargeted, no groups, on PC, live, in a shown untargeted section). A section that is
not public has no feed (404, as if it did not exist).

XML is built with :mod:`xml.etree.ElementTree` (it escapes text and attributes; the Atom and
sitemap roots declare their namespace as the default one, so their elements carry no prefix);
dates are RFC 822 in RSS and RFC 3339 in Atom, in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree as ET

from flask import Response, abort, url_for
from sqlalchemy import select

from unionhub import db
from unionhub.db import utcnow
from unionhub.i18n import _

from ..audience import Viewer, section_clause, visible_articles
from ..models import PortalArticle, PortalSection, SectionKind
from ..web import bp
from . import pages, service

FEED_ITEMS = 50
#: The sitemap protocol's limit of URLs per file.
SITEMAP_MAX = 50_000
ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
LISTED = (SectionKind.NEWS, SectionKind.NOTICE, SectionKind.DOCUMENTS)

# RSS names its own address with Atom's <atom:link rel="self">.
ET.register_namespace("atom", ATOM_NS)


def public_viewer() -> Viewer:
    """Who a feed reader or a crawler is: anonymous, on the PC portal."""
    return Viewer("pc")


def rfc822(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_public(section: PortalSection) -> bool:
    """Whether a section has feeds: shown to anonymous visitors of the PC portal, and a
    kind that lists articles."""
    return (section.kind in LISTED and not section.hidden and section.on_pc
            and section.audience_org_id is None and not section.has_groups)


def _public_section(code: str) -> PortalSection:
    section = service.section_by_code(db.session(), public_viewer(), code)
    if section is None or section.kind not in LISTED:
        abort(404)
    return section


def _items(section: PortalSection) -> list[PortalArticle]:
    s = db.session()
    return list(s.scalars(
        visible_articles(public_viewer())
        .where(PortalArticle.section_id.in_(service.subtree_ids(s, section.id)))
        .order_by(PortalArticle.published_at.desc(), PortalArticle.id.desc())
        .limit(FEED_ITEMS)))


def last_change(article: PortalArticle) -> datetime:
    """When an entry last changed: its publication, or a later edit."""
    published = article.published_at or article.updated_at or utcnow()
    return max(published, article.updated_at or published)


def _xml(root: ET.Element, mimetype: str) -> Response:
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, mimetype=mimetype)


def _article_url(article: PortalArticle) -> str:
    return url_for("portal.article", key=article.slug or str(article.id), _external=True)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


@bp.route("/feeds/<code>.rss")
def feed_rss(code: str) -> Any:
    section = _public_section(code)
    items = _items(section)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = _sub(rss, "channel")
    _sub(channel, "title", f"{section.name} · {_('工会门户')}")
    _sub(channel, "link", url_for("portal.section", code=section.code, _external=True))
    _sub(channel, "description", section.description or section.name)
    _sub(channel, "language", "zh-cn")
    _sub(channel, f"{{{ATOM_NS}}}link", href=url_for("portal.feed_rss", code=section.code,
                                                     _external=True),
         rel="self", type="application/rss+xml")
    newest = items[0].published_at if items else None
    _sub(channel, "lastBuildDate", rfc822(newest or utcnow()))
    for article in items:
        item = _sub(channel, "item")
        url = _article_url(article)
        _sub(item, "title", article.title)
        _sub(item, "link", url)
        _sub(item, "guid", url, isPermaLink="true")
        if article.published_at is not None:
            _sub(item, "pubDate", rfc822(article.published_at))
        _sub(item, "description", pages.text_summary(article, 300))
        for tag in article.tag_list:
            _sub(item, "category", tag)
    return _xml(rss, "application/rss+xml")


@bp.route("/feeds/<code>.atom")
def feed_atom(code: str) -> Any:
    section = _public_section(code)
    items = _items(section)
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    self_url = url_for("portal.feed_atom", code=section.code, _external=True)
    _sub(feed, "id", self_url)
    _sub(feed, "title", f"{section.name} · {_('工会门户')}")
    if section.description:
        _sub(feed, "subtitle", section.description)
    _sub(feed, "updated", rfc3339(max((last_change(x) for x in items), default=utcnow())))
    _sub(feed, "link", href=self_url, rel="self", type="application/atom+xml")
    _sub(feed, "link", href=url_for("portal.section", code=section.code, _external=True),
         rel="alternate", type="text/html")
    author = _sub(feed, "author")
    _sub(author, "name", _("工会门户"))
    for article in items:
        entry = _sub(feed, "entry")
        url = _article_url(article)
        _sub(entry, "id", url)
        _sub(entry, "title", article.title)
        _sub(entry, "link", href=url, rel="alternate", type="text/html")
        if article.published_at is not None:
            _sub(entry, "published", rfc3339(article.published_at))
        _sub(entry, "updated", rfc3339(last_change(article)))
        _sub(entry, "summary", pages.text_summary(article, 300))
        if article.author:
            _sub(_sub(entry, "author"), "name", article.author)
        for tag in article.tag_list:
            _sub(entry, "category", term=tag)
    return _xml(feed, "application/atom+xml")


@bp.route("/sitemap.xml")
def sitemap() -> Any:
    """The home page, the public sections and the newest public live articles (at most
    :data:`SITEMAP_MAX` URLs in all)."""
    s, viewer = db.session(), public_viewer()
    root = ET.Element("urlset", {"xmlns": SITEMAP_NS})

    def add(loc: str, lastmod: datetime | None = None) -> None:
        url = _sub(root, "url")
        _sub(url, "loc", loc)
        if lastmod is not None:
            _sub(url, "lastmod", rfc3339(lastmod))

    add(url_for("portal.home", _external=True))
    sections = list(s.execute(select(PortalSection.code, PortalSection.updated_at)
                              .where(section_clause(viewer))
                              .order_by(PortalSection.sort, PortalSection.id)
                              .limit(SITEMAP_MAX - 1)))
    for code, updated in sections:
        add(url_for("portal.section", code=code, _external=True), updated)
    room = SITEMAP_MAX - 1 - len(sections)
    rows = s.execute(visible_articles(viewer)
                     .with_only_columns(PortalArticle.id, PortalArticle.slug,
                                        PortalArticle.published_at, PortalArticle.updated_at)
                     .order_by(PortalArticle.published_at.desc(), PortalArticle.id.desc())
                     .limit(max(0, room)))
    for aid, slug, published, updated in rows:
        # live articles always have published_at; an edit after publication counts too
        when = max(published, updated) if updated is not None else published
        add(url_for("portal.article", key=slug or str(aid), _external=True), when)
    return _xml(root, "application/xml")
