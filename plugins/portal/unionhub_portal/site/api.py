"""Sections and articles on the mobile-app API (``/api/v1/portal``), with the audience rule
of the ``app`` platform. Every operation also answers without a token: the viewer is then
anonymous and sees only untargeted content; with a token it is the member."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import request
from flask_login import current_user
from pydantic import BaseModel, Field

from unionhub import db
from unionhub.api import PAGE_PARAMS, ApiError, Page, QueryParam, operation
from unionhub.api.core import page_args
from unionhub.web.richtext import ARTICLE, html_to_text, render

from ..audience import Viewer
from ..models import PortalArticle, PortalSection
from ..web import api, current_viewer
from . import pages, service
from .counter import count_view, pending_views

TAGS = ["portal"]
#: Images and file links in a body, rewritten to the app's download (bearer token, app rule).
_APP_ATTACHMENT = re.compile(r'"/portal/attachments/(\d+)"')


def attachment_url(attachment_id: int) -> str:
    """Where the app downloads an attachment (``articles.api``: the app platform's rule)."""
    return f"/api/v1/portal/attachments/{attachment_id}"


class SectionOut(BaseModel):
    id: int
    code: str
    name: str
    #: news, notice, documents, qa, discounts, forum, link
    kind: str
    description: str | None
    #: Where a ``link`` section goes; null for the others.
    link_url: str | None
    children: list[SectionOut] = Field(default_factory=list)


class ArticleOut(BaseModel):
    id: int
    slug: str | None
    title: str
    summary: str
    section: str
    section_name: str
    source: str | None
    author: str | None
    published_at: datetime | None
    expires_at: datetime | None
    pinned: bool
    views: int
    tags: list[str]
    cover_url: str | None
    #: The article on the mobile site (a web view may open it).
    url: str


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    url: str


class ArticleDetailOut(ArticleOut):
    #: Sanitised HTML (safe for a web view) and the same as plain text.
    body_html: str
    body_text: str
    issuer: str | None
    attachments: list[AttachmentOut]
    prev_id: int | None
    next_id: int | None


class SearchHitOut(BaseModel):
    id: int
    title: str
    #: Title and an excerpt with the matched words in ``<b>`` (everything else escaped).
    title_html: str
    snippet: str
    published_at: datetime | None
    url: str


class HomeOut(BaseModel):
    headlines: list[ArticleOut]
    notices: list[ArticleOut]
    hot: list[ArticleOut]


def _viewer() -> Viewer:
    """The member of the token, or the anonymous app viewer without one."""
    return current_viewer("app")


def _out(article: PortalArticle) -> ArticleOut:
    return ArticleOut(
        id=article.id, slug=article.slug, title=article.title,
        summary=pages.text_summary(article), section=article.section.code,
        section_name=article.section.name, source=article.source, author=article.author,
        published_at=article.published_at, expires_at=article.expires_at,
        pinned=article.pinned, views=article.view_count, tags=article.tag_list,
        cover_url=attachment_url(article.cover_id) if article.cover_id else None,
        url=service.article_path(article, mobile=True))


def _tree(sections: list[PortalSection]) -> list[SectionOut]:
    nodes = {s.id: SectionOut(id=s.id, code=s.code, name=s.name, kind=s.kind,
                              description=s.description, link_url=s.link_url)
             for s in sections}
    roots: list[SectionOut] = []
    for s in sections:  # parents come before their children
        (nodes[s.parent_id].children if s.parent_id in nodes else roots).append(nodes[s.id])
    return roots


def _page_args() -> tuple[int, int]:
    page, per_page = page_args()
    if page > service.MAX_PAGE:
        raise ApiError(400, "bad_parameter", f"page 不能超过 {service.MAX_PAGE}",
                       {"page": f"不能超过 {service.MAX_PAGE}"})
    return page, per_page


LIST_PARAMS = (
    QueryParam("page", {"type": "integer", "minimum": 1, "maximum": service.MAX_PAGE,
                        "default": 1}, "页码，从 1 开始（最多 50 页）"),
    PAGE_PARAMS[1],
)


@api.route("/sections")
@operation("门户：栏目树（我在 App 上可见的）", tags=TAGS, response=list[SectionOut], auth=False)
def api_sections() -> Any:
    return _tree(service.visible_sections(db.session(), _viewer()))


def _list(section_ids: list[int] | None) -> dict[str, Any]:
    page, per_page = _page_args()
    result = service.list_articles(db.session(), _viewer(), section_ids=section_ids, page=page,
                                   per_page=per_page)
    return {"items": [_out(a) for a in result.items], "page": page, "per_page": per_page,
            "total": result.total}


@api.route("/sections/<code>/articles")
@operation("门户：栏目的文章（置顶在前，最新在前；含下级栏目）", tags=TAGS,
           response=Page[ArticleOut], params=LIST_PARAMS, auth=False, errors=(400, 404),
           description="total 最多统计到 50 页的条数。")
def api_section_articles(code: str) -> Any:
    s = db.session()
    section = service.section_by_code(s, _viewer(), code)
    if section is None:
        raise ApiError(404, "not_found", "没有这个栏目，或它不面向您")
    return _list(service.subtree_ids(s, section.id))


@api.route("/articles")
@operation("门户：文章列表或搜索（q 为关键词）", tags=TAGS,
           response=Page[SearchHitOut | ArticleOut],
           params=(QueryParam("q", {"type": "string", "maxLength": 100},
                              "关键词；不填时按时间列出全部文章"), *LIST_PARAMS),
           auth=False, errors=(400,),
           description="有 q 时返回搜索命中（SearchHitOut，按相关度），"
                       "否则返回最新文章（ArticleOut）。")
def api_articles() -> Any:
    q = (request.args.get("q") or "").strip()
    if len(q) > pages.MAX_QUERY:
        raise ApiError(400, "bad_parameter", "关键词太长", {"q": "最多 100 个字"})
    if not q:
        return _list(None)
    page, per_page = _page_args()
    who = current_user if current_user.is_authenticated else None
    results = pages.search(q, "app", page, per_page, who=who)
    items = [SearchHitOut(id=int(h.doc_id), title=h.title, title_html=str(h.title_html),
                          snippet=str(h.snippet), published_at=h.published_at,
                          url=pages.mobile_url(h.url)) for h in results.hits]
    return {"items": items, "page": page, "per_page": per_page, "total": results.total}


@api.route("/articles/<int:article_id>")
@operation("门户：文章详情（净化后的 HTML 与纯文本、附件）", tags=TAGS, response=ArticleDetailOut,
           auth=False, errors=(404,))
def api_article(article_id: int) -> Any:
    s, viewer = db.session(), _viewer()
    read = service.article_for_page(s, viewer, article_id)
    if read is None:
        raise ApiError(404, "not_found", "没有这篇文章，或它不面向您")
    article = read.article
    prev, nxt = service.neighbours(s, viewer, article)
    out = ArticleDetailOut(
        **_out(article).model_dump(),
        body_html=_APP_ATTACHMENT.sub(lambda m: f'"{attachment_url(int(m[1]))}"',
                                      str(render(article.body_html, ARTICLE))),
        body_text=html_to_text(article.body_html),
        issuer=read.issuer,
        attachments=[AttachmentOut(id=f.id, filename=f.filename, content_type=f.content_type,
                                   size=f.size, url=attachment_url(f.id))
                     for f in (service.attachments(s, article.id) if read.has_files else [])],
        prev_id=prev.id if prev else None, next_id=nxt.id if nxt else None)
    out.views += pending_views(article.id) + 1  # this read and those not yet written included
    count_view(s, article.id)
    s.commit()
    return out


@api.route("/home")
@operation("门户：首页（头条、通知公告、热门文章）", tags=TAGS, response=HomeOut, auth=False)
def api_home() -> Any:
    s, viewer = db.session(), _viewer()
    return HomeOut(headlines=[_out(a) for a in service.headlines(s, viewer)],
                   notices=[_out(a) for a in service.notices(s, viewer)],
                   hot=[_out(a) for a in service.hot(s, viewer)])
