"""The OPDS 1.2 catalogue under ``/library/opds/`` for e-reader apps.

Every feed needs an app token over HTTP Basic (or a signed-in browser session); the
OpenSearch description is public (it names no book). Acquisition feeds are paginated with
``first``/``previous``/``next`` links; every feed links ``start``, ``self``, ``search`` (the
OpenSearch description and a ``{searchTerms}`` template) and the reader's loans as their
``shelf``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, abort, g, request
from lxml import etree

from unionhub import db
from unionhub.i18n import _
from unionhub.web import id_arg

from ..models import BookState, LibraryBook, LibraryCategory, LibraryShelf
from ..web import bp
from . import atom, queries, urls
from .auth import challenge, request_account
from .entries import Viewer, book_document, book_entry

NO_STORE = "private, no-store"
#: The query parameters of the feeds (search text, page, parent class).
QUERY_ARGS = ("q", "page", "parent")


def opds_view(view: Callable[..., Response]) -> Callable[..., Response]:
    """Resolve the viewer (app token or session) into ``g.opds_viewer``, or answer 401."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        account = request_account(request)
        if account is None:
            return challenge()
        g.opds_viewer = Viewer.of(account)
        return view(*args, **kwargs)

    return wrapper


def xml_response(body: bytes, mimetype: str, status: int = 200) -> Response:
    resp = Response(body, status=status, content_type=mimetype)
    resp.headers["Cache-Control"] = NO_STORE
    resp.headers["Vary"] = "Authorization, Cookie"
    return resp


def _viewer() -> Viewer:
    viewer: Viewer = g.opds_viewer
    return viewer


def _self_url(**overrides: Any) -> str:
    """This feed's address with ``overrides`` (only the query parameters the feeds read are
    kept: others could clash with ``url_for``'s own keywords)."""
    query = {k: v for k, v in request.args.items() if k in QUERY_ARGS}
    args = {**(request.view_args or {}), **query, **overrides}
    return urls.external(request.endpoint or "library.opds_root", **args)


def _feed(title: str, kind: str, key: str, up: str | None = None) -> atom.Feed:
    """A feed with the links every OPDS feed carries."""
    feed = atom.Feed(id_=urls.urn("feed", key), title=title, kind=kind,
                     author=_("数字图书馆"), author_uri=urls.external("library.home"))
    feed.link("self", _self_url(), kind)
    feed.link("start", urls.external("library.opds_root"), atom.NAVIGATION)
    if up:
        feed.link("up", up, atom.NAVIGATION)
    feed.link("search", urls.external("library.opds_opensearch"), atom.OPENSEARCH_TYPE,
              title=_("搜索图书"))
    feed.link("search", urls.external("library.opds_search") + "?q={searchTerms}",
              atom.ACQUISITION, title=_("搜索图书"))
    feed.link(atom.REL_SHELF, urls.external("library.opds_loans"), atom.ACQUISITION,
              title=_("我的借阅"))
    return feed


def _nav_entry(feed: atom.Feed, key: str, title: str, text: str, rel: str, href: str,
               kind: str, count: int | None = None) -> None:
    el = feed.entry(id_=urls.urn("feed", key), title=title, updated=None)
    atom.sub(el, atom.ATOM, "content", text, type="text")
    atom.link(el, rel, href, kind, thr_count=count)


def _acquisition_feed(title: str, key: str, page: queries.BookPage,
                      up: str | None = None) -> Response:
    feed = _feed(title, atom.ACQUISITION, key, up=up or urls.external("library.opds_root"))
    if page.page > 1 or page.has_next:
        feed.link("first", _self_url(page=1), atom.ACQUISITION)
    if page.page > 1:
        feed.link("previous", _self_url(page=page.page - 1), atom.ACQUISITION)
    if page.has_next:
        feed.link("next", _self_url(page=page.page + 1), atom.ACQUISITION)
    if page.total is not None:
        atom.sub(feed.root, atom.OPENSEARCH, "totalResults", page.total)
        atom.sub(feed.root, atom.OPENSEARCH, "itemsPerPage", page.per_page)
        atom.sub(feed.root, atom.OPENSEARCH, "startIndex", (page.page - 1) * page.per_page + 1)
    viewer = _viewer()
    data = queries.entry_data(db.session(), viewer.account.id, page.books)
    scheme = urls.external("library.categories")
    for book in page.books:
        book_entry(feed, book, data, viewer, scheme)
    return xml_response(feed.to_bytes(), atom.ACQUISITION)


def _page() -> int:
    return queries.page_number(request.args.get("page"))


@bp.route("/opds/")
@opds_view
def opds_root() -> Response:
    feed = _feed(_("数字图书馆"), atom.NAVIGATION, "root")
    acq, nav = atom.ACQUISITION, atom.NAVIGATION
    _nav_entry(feed, "new", _("新书"), _("最近上架的图书"), atom.REL_NEW,
               urls.external("library.opds_new"), acq)
    _nav_entry(feed, "popular", _("热门"), _("读者最多的图书"), atom.REL_POPULAR,
               urls.external("library.opds_popular"), acq)
    _nav_entry(feed, "categories", _("分类"), _("按中国图书馆分类法浏览"), "subsection",
               urls.external("library.opds_categories"), nav)
    _nav_entry(feed, "loans", _("我的借阅"), _("正在借阅的图书"), atom.REL_SHELF,
               urls.external("library.opds_loans"), acq)
    _nav_entry(feed, "shelves", _("我的书架"), _("想读、在读、读过和自建书架"), "subsection",
               urls.external("library.opds_shelves"), nav)
    return xml_response(feed.to_bytes(), atom.NAVIGATION)


@bp.route("/opds/new")
@opds_view
def opds_new() -> Response:
    return _acquisition_feed(_("新书"), "new", queries.new_books(db.session(), _page()))


@bp.route("/opds/popular")
@opds_view
def opds_popular() -> Response:
    return _acquisition_feed(_("热门"), "popular", queries.popular_books(db.session(), _page()))


@bp.route("/opds/categories")
@opds_view
def opds_categories() -> Response:
    """The top-level classes, or the sub-classes of ``?parent=`` (led by an entry for all
    the books of the parent class)."""
    s = db.session()
    raw = request.args.get("parent", "")
    parent_id = id_arg(raw)
    parent = s.get(LibraryCategory, parent_id) if parent_id is not None else None
    if raw and parent is None:
        abort(404)
    if parent is None:
        title, up = _("分类"), urls.external("library.opds_root")
    else:
        title, up = f"{parent.code} {parent.name}", _categories_url(parent.parent_id)
    feed = _feed(title, atom.NAVIGATION, f"categories:{raw}", up=up)
    nodes = queries.category_nodes(s, parent.id if parent is not None else None)
    if parent is not None:
        total = parent.book_count + sum(n.total for n in nodes)
        _nav_entry(feed, f"category:{parent.id}", _("本类全部图书"), title, "subsection",
                   urls.external("library.opds_category", category_id=parent.id),
                   atom.ACQUISITION, count=total)
    for node in nodes:
        cat = node.category
        label, text = f"{cat.code} {cat.name}", _("%(n)s 种图书", n=node.total)
        if node.children:
            _nav_entry(feed, f"categories:{cat.id}", label, text, "subsection",
                       _categories_url(cat.id), atom.NAVIGATION, count=node.total)
        else:
            _nav_entry(feed, f"category:{cat.id}", label, text, "subsection",
                       urls.external("library.opds_category", category_id=cat.id),
                       atom.ACQUISITION, count=node.total)
    return xml_response(feed.to_bytes(), atom.NAVIGATION)


def _categories_url(parent_id: int | None) -> str:
    if parent_id is None:
        return urls.external("library.opds_categories")
    return urls.external("library.opds_categories", parent=parent_id)


@bp.route("/opds/category/<int:category_id>")
@opds_view
def opds_category(category_id: int) -> Response:
    """A class's books and its sub-classes', newest first."""
    s = db.session()
    cat = s.get(LibraryCategory, category_id)
    if cat is None:
        abort(404)
    page = queries.category_books(s, cat.id, _page())
    return _acquisition_feed(f"{cat.code} {cat.name}", f"category:{cat.id}", page,
                             up=_categories_url(cat.parent_id))


@bp.route("/opds/search")
@opds_view
def opds_search() -> Response:
    text = request.args.get("q", "").strip()[:100]
    page = queries.search(db.session(), _viewer().account, text, _page())
    title = _("搜索：%(q)s", q=text) if text else _("搜索图书")
    return _acquisition_feed(title, f"search:{text}", page)


@bp.route("/opds/loans")
@opds_view
def opds_loans() -> Response:
    viewer = _viewer()
    page = queries.page_of(db.session(), queries.loan_books(viewer.account.id), _page())
    return _acquisition_feed(_("我的借阅"), f"loans:{viewer.account.id}", page)


@bp.route("/opds/shelves")
@opds_view
def opds_shelves() -> Response:
    account_id = _viewer().account.id
    feed = _feed(_("我的书架"), atom.NAVIGATION, f"shelves:{account_id}",
                 up=urls.external("library.opds_root"))
    for shelf in queries.shelves(db.session(), account_id):
        _nav_entry(feed, f"shelf:{shelf.id}", shelf.name, _("书架“%(name)s”中的图书",
                                                             name=shelf.name),
                   "subsection", urls.external("library.opds_shelf", shelf_id=shelf.id),
                   atom.ACQUISITION)
    return xml_response(feed.to_bytes(), atom.NAVIGATION)


@bp.route("/opds/shelf/<int:shelf_id>")
@opds_view
def opds_shelf(shelf_id: int) -> Response:
    s = db.session()
    shelf = s.get(LibraryShelf, shelf_id)
    if shelf is None or shelf.account_id != _viewer().account.id:
        abort(404)
    page = queries.page_of(s, queries.shelf_books(shelf.id), _page())
    return _acquisition_feed(shelf.name, f"shelf:{shelf.id}", page,
                             up=urls.external("library.opds_shelves"))


def active_book(book_id: int) -> LibraryBook:
    book = db.session().get(LibraryBook, book_id)
    if book is None or book.state != BookState.ACTIVE:
        abort(404)
    return book


def entry_response(book: LibraryBook, status: int = 200) -> Response:
    viewer = _viewer()
    data = queries.entry_data(db.session(), viewer.account.id, [book])
    body = book_document(book, data, viewer, urls.external("library.categories"))
    return xml_response(body, atom.ENTRY, status)


@bp.route("/opds/book/<int:book_id>")
@opds_view
def opds_book(book_id: int) -> Response:
    """The complete entry of one book."""
    return entry_response(active_book(book_id))


@bp.route("/opds/opensearch.xml")
def opds_opensearch() -> Response:
    """The OpenSearch description (public: apps fetch it before they authenticate)."""
    root = etree.Element(f"{{{atom.OPENSEARCH}}}OpenSearchDescription",
                         nsmap={None: atom.OPENSEARCH})
    for tag, text in (("ShortName", _("数字图书馆")), ("Description", _("搜索书名、作者、简介")),
                      ("InputEncoding", "UTF-8"), ("OutputEncoding", "UTF-8")):
        atom.sub(root, atom.OPENSEARCH, tag, text)
    atom.sub(root, atom.OPENSEARCH, "Url", type=atom.ACQUISITION,
             template=urls.external("library.opds_search") + "?q={searchTerms}")
    resp = Response(atom.serialize(root), content_type=atom.OPENSEARCH_TYPE)
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp
