"""The catalogue on the mobile-app API (``/api/v1/library``): classes, a class's books, an
author's books, new, popular, search and a book's details. Every operation also answers
without a token (the catalogue is public); only active books are ever returned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request, url_for
from flask_login import current_user
from pydantic import BaseModel, Field

from unionhub import db
from unionhub.api import ApiError, Page, QueryParam, operation
from unionhub.api.core import int_arg
from unionhub.search.service import get_service

from ..models import LibraryAuthor, LibraryBook, LibraryCategory
from ..web import api
from . import finder, queries
from .covers import image_url

TAGS = ["library"]
MAX_PER_PAGE = 50


class LibraryCategoryOut(BaseModel):
    id: int
    #: The 中图法 class mark (``I``, ``TP3``).
    code: str
    name: str
    parent_id: int | None
    #: Active books of the class and its sub-classes.
    book_count: int
    children: list[LibraryCategoryOut] = Field(default_factory=list)


class LibraryBookOut(BaseModel):
    id: int
    title: str
    subtitle: str | None
    #: The credited names as shown (``张三、李四 译``).
    authors: str
    publisher: str | None
    year: int | None
    language: str
    category_code: str
    category_name: str
    #: ``open`` (开放阅读) or ``lent`` (借阅, limited copies).
    licence: str
    read_count: int
    created_at: datetime
    #: Versioned image addresses (null when the book has no cover); no token needed.
    cover_url: str | None
    thumb_url: str | None
    #: The book's web page.
    url: str


class LibraryCreditOut(BaseModel):
    id: int
    name: str
    #: 著 / 编 / 译 … as credited.
    role: str | None


class LibraryBookDetailOut(LibraryBookOut):
    isbn: str | None
    tags: list[str]
    summary: str | None
    credits: list[LibraryCreditOut]
    #: Formats of the book's files (``epub``, ``pdf``, ``txt``).
    formats: list[str]
    copies: int
    copies_free: int
    loan_days: int


class LibrarySearchHitOut(BaseModel):
    book: LibraryBookOut
    #: The title and an excerpt with the matched words in ``<b>`` (everything else escaped).
    title_html: str
    snippet: str


LIST_PARAMS = (
    QueryParam("page", {"type": "integer", "minimum": 1, "maximum": queries.MAX_PAGE,
                        "default": 1}, f"页码，从 1 开始（最多 {queries.MAX_PAGE} 页）"),
    QueryParam("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                            "default": 20}, "每页条数"),
)


def _page_args(max_page: int = queries.MAX_PAGE) -> tuple[int, int]:
    return int_arg("page", 1, 1, max_page), int_arg("per_page", 20, 1, MAX_PER_PAGE)


def _book_out(book: LibraryBook, categories: dict[int, LibraryCategory]) -> LibraryBookOut:
    category = categories.get(book.category_id) or book.category
    return LibraryBookOut(
        id=book.id, title=book.title, subtitle=book.subtitle, authors=book.authors_display,
        publisher=book.publisher, year=book.year, language=book.language,
        category_code=category.code, category_name=category.name, licence=book.licence,
        read_count=book.read_count, created_at=book.created_at,
        cover_url=image_url(book, thumb=False), thumb_url=image_url(book, thumb=True),
        url=url_for("library.book", book_id=book.id))


def _books_page(page: queries.BookPage) -> dict[str, Any]:
    cats = queries.category_names(db.session(), (b.category_id for b in page.items))
    return {"items": [_book_out(b, cats) for b in page.items], "page": page.page,
            "per_page": page.per_page, "total": max(page.total, len(page.items))}


def _tree(nodes: list[queries.CategoryNode]) -> list[LibraryCategoryOut]:
    return [LibraryCategoryOut(id=n.category.id, code=n.category.code, name=n.category.name,
                        parent_id=n.category.parent_id, book_count=n.total,
                        children=_tree(n.children)) for n in nodes]


@api.route("/categories")
@operation("图书馆：中图法分类树（含各类及其下级类的图书数）", tags=TAGS,
           response=list[LibraryCategoryOut], auth=False)
def browse_api_categories() -> Any:
    return _tree(queries.category_tree(db.session()))


@api.route("/categories/<code>/books")
@operation("图书馆：某一类（含下级类）的图书，最新在前", tags=TAGS, response=Page[LibraryBookOut],
           params=LIST_PARAMS, auth=False, errors=(400, 404),
           description="total 为该类及其下级类的在架图书数。")
def browse_api_category_books(code: str) -> Any:
    s = db.session()
    found = queries.category_by_code(s, code)
    if found is None:
        raise ApiError(404, "not_found", "没有这个分类")
    page, per_page = _page_args()
    return _books_page(queries.category_books(s, queries.subtree_ids(s, found.id), page,
                                              per_page))


@api.route("/authors/<int:author_id>/books")
@operation("图书馆：某位作者的图书，最近上架在前", tags=TAGS, response=Page[LibraryBookOut],
           params=LIST_PARAMS, auth=False, errors=(400, 404))
def browse_api_author_books(author_id: int) -> Any:
    s = db.session()
    found = s.get(LibraryAuthor, author_id)
    if found is None:
        raise ApiError(404, "not_found", "没有这位作者")
    page, per_page = _page_args()
    return _books_page(queries.author_books(s, found, page, per_page))


@api.route("/books/new")
@operation("图书馆：新书，最新在前", tags=TAGS, response=Page[LibraryBookOut], params=LIST_PARAMS,
           auth=False, errors=(400,))
def browse_api_new() -> Any:
    page, per_page = _page_args()
    return _books_page(queries.new_books(db.session(), page, per_page))


@api.route("/books/popular")
@operation("图书馆：热门图书，阅读最多在前", tags=TAGS, response=Page[LibraryBookOut],
           params=LIST_PARAMS, auth=False, errors=(400,))
def browse_api_popular() -> Any:
    page, per_page = _page_args()
    return _books_page(queries.popular_books(db.session(), page, per_page))


@api.route("/search")
@operation("图书馆：搜索图书（书名、作者、简介、标签、出版社、ISBN）", tags=TAGS,
           response=Page[LibrarySearchHitOut],
           params=(QueryParam("q", {"type": "string", "maxLength": finder.MAX_QUERY},
                              "关键词；用引号搜索整句", required=True),
                   QueryParam("category", {"type": "string", "maxLength": 20},
                              "只搜这一类（中图法类号，含下级类）"),
                   *LIST_PARAMS),
           auth=False, errors=(400, 404),
           description="按相关度排序；total 为命中数。")
def browse_api_search() -> Any:
    raw = request.args.get("q") or ""
    if len(raw) > finder.MAX_QUERY:
        raise ApiError(400, "bad_parameter", "关键词太长", {"q": f"最多 {finder.MAX_QUERY} 个字"})
    q = finder.query_text(raw)
    if not q:
        raise ApiError(400, "bad_parameter", "请输入关键词", {"q": "不能为空"})
    s = db.session()
    code = (request.args.get("category") or "").strip()
    category = queries.category_by_code(s, code) if code else None
    if code and category is None:
        raise ApiError(404, "not_found", "没有这个分类", {"category": "没有这个类号"})
    page, per_page = _page_args(get_service().max_page)
    who = current_user if current_user.is_authenticated else None
    found = finder.search_books(s, who, q, category=category, page=page, per_page=per_page)
    cats = queries.category_names(s, (h.book.category_id for h in found.hits))
    items = [LibrarySearchHitOut(book=_book_out(h.book, cats), title_html=str(h.hit.title_html),
                          snippet=str(h.hit.snippet)) for h in found.hits]
    return {"items": items, "page": page, "per_page": per_page,
            "total": found.results.total}


@api.route("/books/<int:book_id>")
@operation("图书馆：图书详情（元数据、作者、格式、借阅信息）", tags=TAGS,
           response=LibraryBookDetailOut, auth=False, errors=(404,))
def browse_api_book(book_id: int) -> Any:
    s = db.session()
    book = queries.active_book(s, book_id)
    if book is None:
        raise ApiError(404, "not_found", "没有这本书")
    base = _book_out(book, {})
    return LibraryBookDetailOut(
        **base.model_dump(), isbn=book.isbn, tags=book.tag_list, summary=book.summary,
        credits=[LibraryCreditOut(id=c.author_id, name=c.name, role=c.role)
                 for c in queries.credits(s, [book.id])[book.id]],
        formats=sorted({f.format for f in book.files}), copies=book.copies,
        copies_free=book.copies_free, loan_days=book.loan_days)
