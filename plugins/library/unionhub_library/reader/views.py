"""The web reader (``/library/read/…``), its resources, progress saving and the shelves pages
(``/library/shelves…``), plus the pieces other pages show: the book page's actions, the
library home's "继续阅读", the "我的" panel and the member dashboard widget.

The reader is one responsive page for phone and desktop: an EPUB chapter rendered on the server
(:mod:`.render`), a PDF page as its own one-page PDF with its text beside it, or a TXT page.
Nothing of a book leaves the server except through these views, each asking
:func:`unionhub_library.access.can_read`: a visitor gets 401 (pages send them to sign in), a
member who may not read the book 403.

Font size and night mode are the reader's own choice on each device: ``reader.js`` keeps them
in ``localStorage``; the server stores neither.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from markupsafe import Markup

from unionhub import db
from unionhub.i18n import _
from unionhub.web import id_arg
from unionhub.web.pagination import paginate
from unionhub.web.urls import safe_next

from .. import access
from ..epub import EpubBook, EpubError
from ..models import FileFormat, LibraryBook, Licence, ShelfKind
from ..web import bp
from . import files, pages, render, service

TEMPLATES = "library/reader"
RESOURCE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
TABS = ("reading", "shelves", "history")


# -- helpers -----------------------------------------------------------------------------------


def web_links(book_id: int) -> render.Links:
    """Where a rendered chapter's links point on the web reader."""
    chapter_base = url_for("library.read_at", book_id=book_id, pos=0)[:-1]
    resource_base = url_for("library.reader_resource", book_id=book_id, res="x")[:-1]
    return render.Links(resource_base=resource_base, chapter_base=chapter_base)


def _book(book_id: int) -> LibraryBook:
    book = db.session().get(LibraryBook, book_id)
    if book is None or not access.can_see(current_user, book):
        abort(404)
    return book


def _may_read(book: LibraryBook) -> None:
    """401 for a visitor, 403 for an account that may not read ``book`` now."""
    if not current_user.is_authenticated:
        abort(401)
    if not access.can_read(db.session(), current_user, book):
        abort(403)


def _device() -> str | None:
    return service.device_label(request.form.get("device") or request.args.get("device"),
                                request.headers.get("User-Agent"))


def _refused(book: LibraryBook) -> Any:
    """The page shown instead of the reader when the account may not read ``book``."""
    needs_loan = (book.licence == Licence.LENT and service.may_use(current_user))
    return render_template(f"{TEMPLATES}/refused.html", book=book, needs_loan=needs_loan), 403


def _no_store(resp: Response) -> Response:
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _sandboxed(resp: Response, etag: str, max_age: int = 3600) -> Response:
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = RESOURCE_CSP
    resp.cache_control.private = True
    resp.cache_control.public = False
    resp.cache_control.max_age = max_age
    resp.set_etag(etag)
    return resp.make_conditional(request)


# -- reading -----------------------------------------------------------------------------------


@bp.route("/read/<int:book_id>")
@login_required
def read(book_id: int) -> Any:
    """Open a book where the reader left it (on any device)."""
    book = _book(book_id)
    if not access.can_read(db.session(), current_user, book):
        return _refused(book)
    saved = service.progress_of(db.session(), current_user.id, book.id)
    file = files.choose(book, request.args.get("format"), saved.format if saved else None)
    if file is None:
        abort(404)
    position = saved.position if saved is not None and saved.format == file.format else 0
    page = request.args.get("page", "")
    if page.isdigit() and len(page) < 10:  # 跳页 (1-based)
        position = int(page) - 1
    position = min(max(position, 0), max(files.total(file) - 1, 0))
    args = {"format": file.format} if request.args.get("format") else {}
    return redirect(url_for("library.read_at", book_id=book.id, pos=position, **args))


@bp.route("/read/<int:book_id>/<int:pos>")
@login_required
def read_at(book_id: int, pos: int) -> Any:
    """One chapter (EPUB) or page (PDF, TXT) of a book."""
    s = db.session()
    book = _book(book_id)
    if not access.can_read(s, current_user, book):
        return _refused(book)
    saved = service.progress_of(s, current_user.id, book.id)
    file = files.choose(book, request.args.get("format"), saved.format if saved else None)
    path = files.path_of(file) if file is not None else None
    if file is None or path is None:
        abort(404)
    count = files.total(file)
    if pos >= count:
        abort(404)
    content: dict[str, Any] = {}
    try:
        if file.format == FileFormat.EPUB:
            content["chapter"] = render.chapter(path, file.stored_name, pos, web_links(book.id))
        elif file.format == FileFormat.PDF:
            content["page_text"] = pages.pdf_text(path, pos)
        else:
            content["page_text"] = pages.txt_page(path, file.stored_name,
                                                  (file.meta or {}).get("encoding"), pos)
    except (render.RenderError, pages.PageError) as exc:
        content["error"] = str(exc)
    resume = saved if saved is not None and saved.format == file.format \
        and saved.position == pos else None
    resume_offset = resume.offset if resume is not None else 0.0
    # Where and when this place was last saved, before this visit saves it again.
    last = {"device": resume.device, "at": resume.updated_at} if resume is not None else None
    device = _device()
    if "error" not in content:
        # Opening a chapter or page is where the reader is now, on every device (the
        # script then only adds the scroll position).
        service.save_progress(s, current_user, book, file, position=pos,
                              offset=resume_offset, device=device)
    service.record_read(s, current_user, book, device)
    service.mark_reading(s, current_user, book)
    s.commit()
    fmt_arg = {"format": file.format} if request.args.get("format") else {}

    def at(p: int) -> str:
        return url_for("library.read_at", book_id=book.id, pos=p, **fmt_arg)

    return _no_store(Response(render_template(
        f"{TEMPLATES}/read.html", book=book, file=file, pos=pos, count=count,
        title=files.position_title(file, pos), toc=files.toc(file),
        prev_url=at(pos - 1) if pos > 0 else None,
        next_url=at(pos + 1) if pos + 1 < count else None, at=at,
        percent=files.percent(pos, resume_offset, count), resume_offset=resume_offset,
        last=last, formats=files.readable_files(book),
        format_labels=files.FORMAT_LABELS, **content)))


@bp.route("/read/<int:book_id>/res/<path:res>")
def reader_resource(book_id: int, res: str) -> Any:
    """An image or a (cleaned, scoped) stylesheet of an EPUB — only manifest items."""
    book = _book(book_id)
    _may_read(book)
    return epub_resource(book, res)


def epub_resource(book: LibraryBook, res: str) -> Response:
    """The resource response shared with the app API (the caller checked the reader)."""
    file = next((f for f in book.files if f.format == FileFormat.EPUB), None)
    path = files.path_of(file) if file is not None else None
    if file is None or path is None:
        abort(404)
    try:
        with EpubBook.open(path) as epub:
            media_type = epub.media_type(res)
            if media_type in render.STYLE_TYPES:
                body: bytes = render.stylesheet(epub, res).encode("utf-8")
                mimetype = "text/css; charset=utf-8"
            elif media_type in render.IMAGE_TYPES:
                body, mimetype = epub.read(res), str(media_type)
            else:
                abort(404)
    except EpubError:
        abort(404)
    resp = Response(body, mimetype=mimetype)
    return _sandboxed(resp, f"{file.stored_name}:{quote(res)}")


@bp.route("/read/<int:book_id>/pdf/<int:page>")
def reader_pdf_page(book_id: int, page: int) -> Any:
    """One page of a PDF book as a PDF of its own (never the whole file)."""
    book = _book(book_id)
    _may_read(book)
    return pdf_page_response(book, page)


def pdf_page_response(book: LibraryBook, page: int) -> Response:
    file = next((f for f in book.files if f.format == FileFormat.PDF), None)
    path = files.path_of(file) if file is not None else None
    if file is None or path is None or page >= files.total(file):
        abort(404)
    try:
        data = pages.pdf_page(path, page)
    except pages.PageError:
        abort(404)
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="page-{page + 1}.pdf"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    # No sandbox here: a sandboxed document may not run the browser's PDF viewer.
    resp.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'self'"
    resp.cache_control.private = True
    resp.cache_control.max_age = 3600
    resp.set_etag(f"{file.stored_name}:{page}")
    return resp.make_conditional(request)


@bp.route("/read/<int:book_id>/progress", methods=["POST"])
def reader_progress(book_id: int) -> Any:
    """Save where the reader is (``reader.js``; form-encoded with the CSRF token)."""
    if not current_user.is_authenticated:
        return jsonify(error={"code": "unauthorized", "message": _("请先登录")}), 401
    s = db.session()
    book = _book(book_id)
    file = files.choose(book, request.form.get("format"))
    if file is None or file.format != request.form.get("format"):
        return jsonify(error={"code": "invalid", "message": _("这本书没有这种格式的文件"),
                              "fields": {"format": _("这本书没有这种格式的文件")}}), 422
    try:
        row = service.save_progress(s, current_user, book, file,
                                    position=request.form.get("position"),
                                    offset=request.form.get("offset", "0"), device=_device())
    except service.ReaderError as exc:
        s.rollback()
        body: dict[str, Any] = {"code": "invalid" if exc.status == 422 else "forbidden",
                                "message": exc.message}
        if exc.field:
            body["fields"] = {exc.field: exc.message}
        return jsonify(error=body), exc.status
    s.commit()
    return jsonify(position=row.position, offset=row.offset, percent=row.percent,
                   device=row.device, updated_at=row.updated_at.isoformat())


# -- shelves -----------------------------------------------------------------------------------


def _require_reader() -> None:
    if not service.may_use(current_user):
        abort(403)


@bp.route("/shelves")
@login_required
def shelves() -> Any:
    """我的书架: reading now (with percent), the shelves, the history."""
    _require_reader()
    s = db.session()
    tab = request.args.get("tab", "reading")
    tab = tab if tab in TABS else "reading"
    shelf_rows = service.shelves(s, current_user)
    s.commit()  # the standard shelves, made on first use
    page = None
    if tab == "reading":
        page = paginate(service.current_reading(current_user), scalars=False)
    elif tab == "history":
        page = paginate(service.history(current_user), scalars=False)
    return render_template(f"{TEMPLATES}/shelves.html", active_tab="shelves", tab=tab,
                           shelf_rows=shelf_rows, page=page, shelf_label=service.shelf_label,
                           errors={}, values={})


@bp.route("/shelves/<int:shelf_id>")
@login_required
def reader_shelf(shelf_id: int) -> Any:
    _require_reader()
    s = db.session()
    shelf = service.shelf_of(s, current_user.id, shelf_id)
    if shelf is None:
        abort(404)
    page = paginate(service.shelf_books(current_user, shelf.id))
    return render_template(f"{TEMPLATES}/shelf.html", active_tab="shelves", shelf=shelf,
                           page=page, shelf_label=service.shelf_label,
                           custom=shelf.kind == ShelfKind.CUSTOM, errors={})


def _shelf_failed(exc: service.ReaderError, template: str, **ctx: Any) -> Any:
    db.session().rollback()
    if exc.status == 404:
        abort(404)
    if exc.status == 403:
        abort(403)
    return render_template(template, errors={exc.field or "form": exc.message}, **ctx), 422


@bp.route("/shelves/new", methods=["POST"])
@login_required
def reader_shelf_new() -> Any:
    _require_reader()
    s = db.session()
    name = request.form.get("name", "")
    try:
        shelf = service.create_shelf(s, current_user, name)
    except service.ReaderError as exc:
        s.rollback()
        return _shelf_failed(exc, f"{TEMPLATES}/shelves.html", active_tab="shelves",
                             tab="shelves", shelf_rows=service.shelves(s, current_user),
                             page=None, shelf_label=service.shelf_label,
                             values={"name": name})
    s.commit()
    flash(_("已新建书架“%(name)s”", name=shelf.name), "success")
    return redirect(url_for("library.shelves", tab="shelves"))


@bp.route("/shelves/<int:shelf_id>/rename", methods=["POST"])
@login_required
def reader_shelf_rename(shelf_id: int) -> Any:
    _require_reader()
    s = db.session()
    shelf = service.shelf_of(s, current_user.id, shelf_id)
    if shelf is None:
        abort(404)
    try:
        service.rename_shelf(s, current_user, shelf, request.form.get("name", ""))
    except service.ReaderError as exc:
        s.rollback()
        shelf = service.shelf_of(s, current_user.id, shelf_id)
        return _shelf_failed(exc, f"{TEMPLATES}/shelf.html", active_tab="shelves",
                             shelf=shelf, page=paginate(service.shelf_books(current_user,
                                                                            shelf_id)),
                             shelf_label=service.shelf_label, custom=True)
    s.commit()
    flash(_("书架已改名为“%(name)s”", name=shelf.name), "success")
    return redirect(url_for("library.reader_shelf", shelf_id=shelf.id))


@bp.route("/shelves/<int:shelf_id>/delete", methods=["POST"])
@login_required
def reader_shelf_delete(shelf_id: int) -> Any:
    _require_reader()
    s = db.session()
    shelf = service.shelf_of(s, current_user.id, shelf_id)
    if shelf is None:
        abort(404)
    name = shelf.name
    try:
        service.delete_shelf(s, current_user, shelf)
    except service.ReaderError as exc:
        s.rollback()
        flash(exc.message, "error")
        return redirect(url_for("library.reader_shelf", shelf_id=shelf_id))
    s.commit()
    flash(_("已删除书架“%(name)s”", name=name), "success")
    return redirect(url_for("library.shelves", tab="shelves"))


@bp.route("/shelves/put", methods=["POST"])
@login_required
def reader_shelve() -> Any:
    """Put a book on a shelf or take it off (``op`` = ``add`` | ``remove``). ``shelf`` is a
    shelf id or a standard shelf's kind (``want``, ``reading``, ``finished``: made on first
    use)."""
    _require_reader()
    s = db.session()
    back = safe_next(request.form.get("next"), "library.shelves")
    raw_shelf = request.form.get("shelf", "")
    book_id = id_arg(request.form.get("book_id"))
    if book_id is None:
        abort(404)
    book = s.get(LibraryBook, book_id)
    shelf_id = id_arg(raw_shelf)
    if raw_shelf in service.STANDARD:
        shelf = service.ensure_standard(s, current_user.id)[raw_shelf]
    elif shelf_id is not None:
        shelf = service.shelf_of(s, current_user.id, shelf_id)
    else:
        flash(_("请选择书架"), "error")
        return redirect(back)
    if shelf is None or book is None:
        abort(404)
    try:
        if request.form.get("op") == "remove":
            service.remove_book(s, current_user, shelf, book.id)
            message = _("已从“%(shelf)s”移出", shelf=service.shelf_label(shelf))
        else:
            service.add_book(s, current_user, shelf, book)
            message = _("已放入“%(shelf)s”", shelf=service.shelf_label(shelf))
    except service.ReaderError as exc:
        s.rollback()
        flash(exc.message, "error")
        return redirect(back)
    s.commit()
    flash(message, "success")
    return redirect(back)


# -- pieces for other pages --------------------------------------------------------------------


def book_state(book: LibraryBook) -> dict[str, Any]:
    """What the book page's reader actions need (``reader_book_state`` in templates). Reads
    only: the standard shelves are made when a book is first put on one."""
    s = db.session()
    state: dict[str, Any] = {"signed_in": current_user.is_authenticated, "can_read": False,
                             "needs_loan": False, "may_shelve": False, "progress": None,
                             "standard": [], "custom": [],
                             "has_files": bool(files.readable_files(book))}
    if not current_user.is_authenticated:
        return state
    state["can_read"] = access.can_read(s, current_user, book)
    state["needs_loan"] = (book.licence == Licence.LENT and not state["can_read"]
                           and service.may_use(current_user))
    if not service.may_use(current_user):
        return state
    state["may_shelve"] = True
    state["progress"] = service.progress_of(s, current_user.id, book.id)
    on = service.book_shelf_ids(s, current_user.id, book.id)
    mine = service.own_shelves(s, current_user.id)
    by_kind = {sh.kind: sh for sh in mine if sh.kind in service.STANDARD}
    state["standard"] = [(kind, _(label), kind in by_kind and by_kind[kind].id in on)
                         for kind, label in service.STANDARD.items()]
    state["custom"] = [(str(sh.id), sh.name, sh.id in on) for sh in mine
                       if sh.kind == ShelfKind.CUSTOM]
    return state


def recent(limit: int = 6) -> list[tuple[Any, LibraryBook]]:
    """The signed-in reader's latest books with progress (``reader_recent``)."""
    if not service.may_use(current_user):
        return []
    stmt = service.current_reading(current_user).limit(limit)
    return [(p, b) for p, b in db.session().execute(stmt).all()]


def percent_text(value: float | None) -> str:
    return f"{int((value or 0) * 100)}%"


@bp.context_processor
def _reader_context() -> dict[str, Any]:
    return {"reader_book_state": book_state, "reader_recent": recent,
            "reader_percent": percent_text}


def reading_panel(member: Any = None, account: Any = None, **_kw: Any) -> Markup | None:
    """在读 on "我的": the latest books with progress."""
    if account is None or not service.may_use(account):
        return None
    rows = db.session().execute(service.current_reading(account).limit(3)).all()
    return Markup(render_template(f"{TEMPLATES}/_panel.html", rows=rows,
                                  reader_percent=percent_text))


def continue_widget(**_kw: Any) -> Markup | None:
    """继续阅读 on the member home (nothing when the member has not started a book)."""
    if not service.may_use(current_user):
        return None
    rows = db.session().execute(service.current_reading(current_user).limit(3)).all()
    if not rows:
        return None
    return Markup(render_template(f"{TEMPLATES}/_panel.html", rows=rows,
                                  reader_percent=percent_text))
