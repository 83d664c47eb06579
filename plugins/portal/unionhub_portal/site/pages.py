"""What the PC pages and the mobile micro-site share: the context of each page, built from
:mod:`.service` for a viewer on one platform, the search and the SEO tags of the page head."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from unionhub import db
from unionhub.db import utcnow
from unionhub.search.backend import SearchResults
from unionhub.search.service import get_service
from unionhub.web.richtext import ARTICLE, html_to_text, render

from ..audience import Platform, Viewer
from ..models import ArticleState, PortalArticle, PortalSection, SectionKind
from . import service
from .counter import pending_views
from .search import ARTICLE_DOC, OFF_PC_STATUSES

#: Offers on the home page and on a discount section.
HOME_OFFERS = 6
SECTION_OFFERS = 60
MAX_QUERY = 100


def account() -> Any:
    """The signed-in account, or None (offer providers and search take either)."""
    return current_user if current_user.is_authenticated else None


def offers(limit: int, category: str | None = None) -> list[Any]:
    """Jingka discounts from the enabled providers (none when the mall is off)."""
    from unionhub.offers.service import offers_for

    return offers_for(account(), limit=limit, category=category)


def offer_categories() -> list[tuple[str, str]]:
    from unionhub.offers.service import categories

    return categories()


#: Seconds an anonymous visitor's home page is served from the process's memory (config
#: ``PORTAL_HOME_CACHE_SECONDS``; 0 turns the cache off).
HOME_CACHE_SECONDS = 30.0
#: Distinct (platform, locale, host) pages kept at most; beyond that the cache starts over.
HOME_CACHE_KEYS = 32


def cached_home(platform: Platform, render_page: Callable[[], str]) -> str:
    """The home page on ``platform``, rendered by ``render_page`` — for an anonymous visitor
    kept up to :data:`HOME_CACHE_SECONDS` per process (and per app), keyed by platform,
    locale and host: every anonymous visitor has the same audience, and the layout shows
    nothing personal to them. Never cached: a signed-in viewer (their audience, name and
    forms differ) and a visitor with a message waiting to be flashed (it must be shown once,
    to them only). A cached page is dropped when the next scheduled article goes live or the
    next one expires; an edit or a withdrawal shows on the anonymous home page up to that many
    seconds late (article pages, lists and searches are never cached)."""
    ttl = float(current_app.config.get("PORTAL_HOME_CACHE_SECONDS", HOME_CACHE_SECONDS))
    if ttl <= 0 or current_user.is_authenticated or session.get("_flashes"):
        return render_page()
    cache: dict[tuple[str, ...], tuple[float, str]] = current_app.extensions.setdefault(
        "portal_home_cache", {})
    key = (platform, str(get_locale()), request.host_url, request.script_root)
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    html = render_page()
    if len(cache) >= HOME_CACHE_KEYS:
        cache.clear()  # the Host header is the client's: keep the key count bounded
    cache[key] = (now + min(ttl, _seconds_to_next_change()), html)
    return html


def _seconds_to_next_change() -> float:
    """Seconds until the next scheduled publication or expiry of a published article: a
    cached home page never outlives it, so scheduling and expiry stay exact to the second."""
    s = db.session()
    now = utcnow()
    published = PortalArticle.state == ArticleState.PUBLISHED
    moments = [s.scalar(select(func.min(PortalArticle.published_at)).where(
                   published, PortalArticle.published_at > now)),
               s.scalar(select(func.min(PortalArticle.expires_at)).where(
                   published, PortalArticle.expires_at > now))]
    upcoming = [(m - now).total_seconds() for m in moments if m is not None]
    return max(0.0, min(upcoming, default=float("inf")))


def home_context(s: Session, viewer: Viewer) -> dict[str, Any]:
    return {
        "headlines": service.headlines(s, viewer),
        "notices": service.notices(s, viewer),
        "blocks": service.home_blocks(s, viewer),
        "hot": service.hot(s, viewer),
        "offers": offers(HOME_OFFERS),
        "viewer": viewer,
    }


def list_context(s: Session, viewer: Viewer, section: PortalSection) -> dict[str, Any]:
    """A listing section's page: its articles (with its sub-sections'), the sub-sections,
    and what its kind shows beside each title (issuing unions, attachment counts)."""
    page = service.list_articles(s, viewer, section_ids=service.subtree_ids(s, section.id),
                                 page=service.clamp_page(request.args.get("page", 1)))
    ids = [a.id for a in page.items]
    return {
        "section": section,
        "page": page,
        "subsections": service.children(s, viewer, section),
        "parent": section.parent if section.parent_id else None,
        "issuers": (service.org_names(s, (a.owner_org_id for a in page.items))
                    if section.kind == SectionKind.NOTICE else {}),
        "files": (service.attachment_counts(s, ids)
                  if section.kind == SectionKind.DOCUMENTS else {}),
        "viewer": viewer,
    }


def discounts_context(s: Session, viewer: Viewer, section: PortalSection) -> dict[str, Any]:
    cats = offer_categories()
    category = request.args.get("category") or None
    if category not in {c for c, _n in cats}:
        category = None
    return {"section": section, "offers": offers(SECTION_OFFERS, category),
            "categories": cats, "category": category,
            "subsections": service.children(s, viewer, section), "viewer": viewer}


@dataclass
class ArticleView:
    """An article as its page shows it."""

    article: PortalArticle
    body: Markup
    views: int
    issuer: str | None
    attachments: list[Any]
    prev: service.Neighbour | None
    next: service.Neighbour | None


#: An attachment's address in a sanitised body (``src``/``href``, optionally below the script
#: root), to which the micro-site adds ``?m=1``.
_BODY_ATTACHMENT = re.compile(r'((?:src|href)="(?:/[A-Za-z0-9._-]+)*/portal/attachments/[0-9]+)"')


def body_markup(article: PortalArticle, mobile: bool = False) -> Markup:
    """The sanitised body; on the micro-site its images and file links ask for the mobile
    reader's copy (``?m=1``), so that an article only on the mobile site shows its images."""
    body = render(article.body_html, ARTICLE)
    if not mobile:
        return body
    return Markup(_BODY_ATTACHMENT.sub(r'\1?m=1"', str(body)))


def article_view(s: Session, viewer: Viewer, read: service.ArticleRead) -> ArticleView:
    article = read.article
    prev, nxt = service.neighbours(s, viewer, article)
    return ArticleView(
        article=article,
        body=body_markup(article, mobile=viewer.platform == "mobile"),
        # this view included (counted after rendering), and those this process has not
        # written yet
        views=article.view_count + pending_views(article.id) + 1,
        issuer=read.issuer,
        attachments=service.attachments(s, article.id) if read.has_files else [],
        prev=prev, next=nxt)


def set_head(article: PortalArticle, canonical: str) -> None:
    """The article's SEO tags, rendered into the page head by :func:`head_tags` (the
    layouts have no head block of their own; they render the ``layout.head`` slot)."""
    # the start of the body suffices for 120 characters (parsing all of it cost a sixth of
    # the page's time)
    description = (article.seo_description or article.summary
                   or html_to_text(article.body_html[:1500])[:120])
    keywords = article.seo_keywords or "，".join(article.tag_list)
    g.portal_head = {"description": " ".join(description.split()), "keywords": keywords,
                     "canonical": canonical}


def set_section_head(section: PortalSection, feeds: bool) -> None:
    """A section page's description, canonical link and (for a public section) its feeds."""
    g.portal_head = {
        "description": section.seo_description or section.description or "",
        "canonical": url_for("portal.section", code=section.code, _external=True),
        "rss": url_for("portal.feed_rss", code=section.code) if feeds else "",
        "atom": url_for("portal.feed_atom", code=section.code) if feeds else "",
    }


def head_tags(**_ctx: Any) -> Markup | None:
    """``layout.head`` contribution: meta description and keywords and the canonical link of
    the portal page being shown (nothing on other pages)."""
    head: dict[str, str] | None = g.get("portal_head")
    if not head:
        return None
    out = []
    if head.get("description"):
        out.append(Markup('<meta name="description" content="{}">').format(head["description"]))
    if head.get("keywords"):
        out.append(Markup('<meta name="keywords" content="{}">').format(head["keywords"]))
    if head.get("canonical"):
        out.append(Markup('<link rel="canonical" href="{}">').format(head["canonical"]))
    if head.get("rss"):
        out.append(Markup('<link rel="alternate" type="application/rss+xml" href="{}">')
                   .format(head["rss"]))
    if head.get("atom"):
        out.append(Markup('<link rel="alternate" type="application/atom+xml" href="{}">')
                   .format(head["atom"]))
    return Markup("\n").join(out)


def canonical_url(article: PortalArticle) -> str:
    """The PC page is the canonical one (also for the mobile page of the same article)."""
    return url_for("portal.article", key=article.slug or str(article.id), _external=True)


def query_text() -> str:
    return (request.args.get("q") or "").strip()[:MAX_QUERY]


def search(q: str, platform: Platform, page: int, per_page: int | None = None,
           who: Any = None) -> SearchResults:
    """Articles matching ``q`` that the viewer may read on ``platform``.

    The PC search finds ``published`` documents (on the PC portal, section shown); the mobile
    site and the app also find ``offsite`` ones, limited to their own ``platform:`` tag. The
    access tokens and the publication window are applied by the search service."""
    from unionhub.search.acl import viewer_tokens

    svc = get_service()
    if not q:
        return SearchResults(per_page=per_page or svc.per_page)
    tokens = viewer_tokens(who if who is not None else account())
    if platform == "pc":
        return svc.search(q, tokens, doc_type=ARTICLE_DOC, page=page, per_page=per_page,
                          tags=("platform:pc",))
    return svc.search(q, tokens, doc_type=ARTICLE_DOC, page=page, per_page=per_page,
                      tags=(f"platform:{platform}",),
                      statuses={ARTICLE_DOC: OFF_PC_STATUSES})


def mobile_url(url: str) -> str:
    """A search hit's (PC) article path on the mobile site."""
    return "/portal/m/" + url.removeprefix("/portal/") if url.startswith("/portal/a/") else url


def text_summary(article: PortalArticle, length: int = 120) -> str:
    """A summary for lists and feeds: the article's own, else the start of its text."""
    if article.summary:
        return article.summary
    text = " ".join(html_to_text(article.body_html).split())
    return text if len(text) <= length else text[:length] + "…"
