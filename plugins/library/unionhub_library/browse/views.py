"""The public catalogue (``/library/…``): home, classes, a class, an author, new and popular
books, a book's page and the search. Anyone may browse, visitors included; only active
books are listed, and a hidden book's page is a 404 except for catalogue managers."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, render_template, request, url_for
from flask_login import current_user
from jinja2 import TemplateNotFound

from unionhub import db
from unionhub.i18n import _

from ..access import can_see
from ..models import BookState, LibraryAuthor, LibraryBook
from ..web import bp
from . import finder, queries
from .cards import Card, book_cards
from .classes import class_tree
from .pagecache import cached_list

LOANS_ACTIONS = "library/loans/_book_actions.html"
#: Search hits per page.
SEARCH_PER_PAGE = 20


def set_head(description: str | None, canonical: str | None = None) -> None:
    """The page's meta description and canonical link (rendered by ``widgets.head_tags``)."""
    text = " ".join((description or "").split())
    g.library_head = {"description": text[:160], "canonical": canonical or ""}


def _template_exists(name: str) -> bool:
    try:
        current_app.jinja_env.get_template(name)
    except TemplateNotFound:
        return False
    return True


def _page() -> int:
    return queries.clamp_page(request.args.get("page", 1))


@bp.route("/")
def home() -> Any:
    s = db.session()
    set_head(_("数字图书馆：在电脑、手机和平板上阅读电子书，按中图法分类浏览新书与热门图书。"),
             url_for("library.home", _external=True))
    return render_template(
        "library/browse/home.html", active_tab="home",
        new=queries.latest(s), popular=queries.most_read(s),
        tree=queries.category_tree(s), total=queries.active_total(s))


@bp.route("/categories")
def categories() -> Any:
    set_head(_("按中国图书馆分类法（中图法）浏览数字图书馆的全部图书。"),
             url_for("library.categories", _external=True))
    return render_template("library/browse/categories.html", active_tab="categories",
                           tree=queries.category_tree(db.session()))


def _cards(page: queries.BookPage) -> list[Card]:
    """The page's books ready to print, their credits read in one query."""
    s = db.session()
    return book_cards(page.items, queries.credits(s, (b.id for b in page.items)))


@bp.route("/c/<code>")
def category(code: str) -> Any:
    s = db.session()
    tree = class_tree(s)
    found = tree.get(code)
    if found is None:
        abort(404)

    def render() -> tuple[str, list[int]]:
        page = queries.category_books(s, tree.subtree_ids(found.id), _page(),
                                      total=found.total)
        set_head(f"{found.code} {found.name}", url_for("library.category", code=found.code,
                                                       _external=True))
        return render_template(
            "library/browse/category.html", active_tab="categories", category=found,
            parents=tree.ancestors(found.id), subclasses=tree.children(found.id),
            page=page, cards=_cards(page)), [b.id for b in page.items]

    return cached_list(("class", tree.generation), render)


@bp.route("/author/<int:author_id>")
def author(author_id: int) -> Any:
    s = db.session()
    found = s.get(LibraryAuthor, author_id)
    if found is None:
        abort(404)

    def render() -> tuple[str, list[int]]:
        page = queries.author_books(s, found, _page())
        set_head(found.name, url_for("library.author", author_id=found.id, _external=True))
        return render_template("library/browse/author.html", active_tab="", author=found,
                               page=page, cards=_cards(page)), [b.id for b in page.items]

    return cached_list(("author", found.name, found.book_count), render)


@bp.route("/new")
def new_books() -> Any:
    s = db.session()

    def render() -> tuple[str, list[int]]:
        page = queries.new_books(s, _page())
        set_head(_("数字图书馆新上架的图书。"), url_for("library.new_books", _external=True))
        return render_template("library/browse/list.html", active_tab="new",
                               heading=_("新书上架"), page=page,
                               cards=_cards(page)), [b.id for b in page.items]

    return cached_list(("class", class_tree(s).generation), render)


@bp.route("/popular")
def popular() -> Any:
    s = db.session()

    def render() -> tuple[str, list[int]]:
        page = queries.popular_books(s, _page())
        set_head(_("数字图书馆里读者最多的图书。"), url_for("library.popular", _external=True))
        return render_template("library/browse/list.html", active_tab="popular",
                               heading=_("热门图书"), show_reads=True, page=page,
                               cards=_cards(page)), [b.id for b in page.items]

    return cached_list(("class", class_tree(s).generation), render)


@bp.route("/book/<int:book_id>")
def book(book_id: int) -> Any:
    s = db.session()
    found = s.get(LibraryBook, book_id)
    if found is None or not can_see(current_user, found):
        abort(404)
    category = found.category
    set_head(found.summary or f"{found.title} {found.authors_display}",
             url_for("library.book", book_id=found.id, _external=True))
    return render_template(
        "library/browse/book.html", active_tab="", book=found,
        credits=queries.credits(s, [found.id])[found.id],
        category=category, parents=queries.ancestors(s, category),
        formats=sorted({f.format for f in found.files}),
        hidden=found.state != BookState.ACTIVE,
        # the loans box, when there is one, shows the free copies itself (reserved ones too)
        copies_elsewhere=_template_exists(LOANS_ACTIONS))


@bp.route("/search")
def search() -> Any:
    s = db.session()
    q = finder.query_text(request.args.get("q"))
    code = (request.args.get("category") or "").strip()
    chosen = queries.category_by_code(s, code) if code else None
    account = current_user if current_user.is_authenticated else None
    found = finder.search_books(s, account, q, category=chosen, page=_page(),
                                per_page=SEARCH_PER_PAGE)
    return render_template(
        "library/browse/search.html", active_tab="search", q=q, category=chosen,
        tops=[n.category for n in queries.category_tree(s)], found=found,
        results=found.results, credits=queries.credits(s, (h.book.id for h in found.hits)))
