"""The reader on the mobile-app API (``/api/v1/library``): a book's contents, one chapter or
page, the book's images and stylesheets, progress (shared with the web reader, so a book
begun on the phone resumes on the PC), shelves and the reading history.

Chapter HTML is sanitised exactly as on the web; its image and stylesheet addresses point at
``/api/v1/library/books/{id}/res/…``, which answers to the same bearer token (send the
``Authorization`` header when loading them), and its links to other chapters at
``/api/v1/library/books/{id}/content/{position}``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import g, request, url_for
from flask_login import current_user
from pydantic import BaseModel, Field

from unionhub import db
from unionhub.api import PAGE_PARAMS, ApiError, Page, QueryParam, operation
from unionhub.api.core import page_args
from unionhub.api.models import ApiToken

from .. import access
from ..models import FileFormat, LibraryBook, LibraryFile, LibraryProgress, Licence
from ..web import api
from . import files, pages, render, service

TAGS = ["library"]
FORMAT_PARAM = QueryParam("format", {"type": "string", "enum": list(files.PREFERRED)},
                          "打开哪种格式（默认：上次阅读的格式，否则 EPUB、PDF、TXT 中有的第一种）")


class ReaderBookOut(BaseModel):
    id: int
    title: str
    authors: str
    #: A versioned thumbnail address (no token needed), null without a cover.
    thumb_url: str | None


class ReaderProgressOut(BaseModel):
    book_id: int
    format: str
    #: EPUB: the chapter (spine index); PDF and TXT: the page; 0-based.
    position: int
    #: Scroll fraction inside the chapter or page (0–1).
    offset: float
    #: Through the whole book (0–1).
    percent: float
    device: str | None
    updated_at: datetime


class ReaderProgressIn(BaseModel):
    format: str = Field(description="epub、pdf 或 txt（所读文件的格式）")
    position: int = Field(description="章（EPUB，从 0 起）或页（PDF、TXT，从 0 起）")
    offset: float = Field(0.0, description="章或页内的滚动位置，0 到 1")
    device: str | None = Field(None, max_length=60,
                               description="设备名称（默认为登录令牌的设备名）")


class ReaderTocItemOut(BaseModel):
    title: str
    position: int
    #: The anchor inside the chapter (``bk-`` + the book's id), if any.
    fragment: str | None
    level: int


class ReaderTocOut(BaseModel):
    book_id: int
    format: str
    #: Every format the book can be read in.
    formats: list[str]
    #: Chapters (EPUB) or pages (PDF, TXT).
    total: int
    toc: list[ReaderTocItemOut]
    progress: ReaderProgressOut | None


class ReaderContentOut(BaseModel):
    book_id: int
    format: str
    position: int
    total: int
    title: str
    #: EPUB: the chapter as sanitised HTML (show it inside an element of class
    #: ``reader-content``: the stylesheets are scoped to it).
    html: str | None
    #: Book stylesheet addresses (cleaned and scoped; bearer token needed).
    stylesheets: list[str]
    #: The chapter's own styles, cleaned and scoped.
    css: str
    #: PDF and TXT: the page's text (PDF: as extracted; empty for a scanned page).
    text: str | None
    #: PDF: the page as a one-page PDF (bearer token needed).
    page_pdf_url: str | None
    prev: int | None
    next: int | None


class ReaderReadingOut(BaseModel):
    book: ReaderBookOut
    progress: ReaderProgressOut


class ReaderHistoryOut(BaseModel):
    book: ReaderBookOut
    #: The day read (Asia/Shanghai).
    read_on: date
    device: str | None
    last_at: datetime


class ReaderShelfOut(BaseModel):
    id: int
    #: ``want`` (想读), ``reading`` (在读), ``finished`` (读过) or ``custom``.
    kind: str
    name: str
    #: Books on it the reader may see.
    count: int


class ReaderShelfIn(BaseModel):
    name: str = Field(description=f"书架名称，1–{service.SHELF_NAME_MAX} 个字")


# -- helpers -----------------------------------------------------------------------------------


def _book_out(book: LibraryBook) -> ReaderBookOut:
    from ..browse.covers import image_url

    return ReaderBookOut(id=book.id, title=book.title, authors=book.authors_display,
                         thumb_url=image_url(book, True))


def _progress_out(row: LibraryProgress) -> ReaderProgressOut:
    return ReaderProgressOut(book_id=row.book_id, format=row.format, position=row.position,
                             offset=row.offset, percent=row.percent, device=row.device,
                             updated_at=row.updated_at)


def _reader() -> None:
    if not service.may_use(current_user):
        raise ApiError(403, "forbidden", "您没有使用数字图书馆阅读功能的权限")


def _book(book_id: int) -> LibraryBook:
    book = db.session().get(LibraryBook, book_id)
    if book is None or not access.can_see(current_user, book):
        raise ApiError(404, "not_found", "没有这本书")
    return book


def _readable(book_id: int) -> LibraryBook:
    _reader()
    book = _book(book_id)
    if not access.can_read(db.session(), current_user, book):
        if book.licence == Licence.LENT:
            raise ApiError(403, "loan_required", "这本书需要借阅后才能阅读")
        raise ApiError(403, "forbidden", "您现在不能阅读这本书")
    return book


def _file(book: LibraryBook, fmt: str | None = None) -> LibraryFile:
    if fmt is not None and fmt not in files.PREFERRED:
        raise ApiError(400, "bad_parameter", "format 应为 epub、pdf 或 txt",
                       {"format": "应为 epub、pdf 或 txt"})
    saved = service.progress_of(db.session(), current_user.id, book.id)
    file = files.choose(book, fmt, saved.format if saved else None)
    if file is None or (fmt is not None and file.format != fmt) or files.path_of(file) is None:
        raise ApiError(404, "not_found", "这本书没有可阅读的文件")
    return file


def _device() -> str | None:
    token_id = g.get("api_token_id")
    token = db.session().get(ApiToken, token_id) if token_id else None
    return service.device_label(token.device if token else None,
                                request.headers.get("User-Agent"))


def _links(book_id: int) -> render.Links:
    chapter_base = url_for("library_api.api_reader_content", book_id=book_id, pos=0)[:-1]
    resource_base = url_for("library_api.api_reader_resource", book_id=book_id, res="x")[:-1]
    return render.Links(resource_base=resource_base, chapter_base=chapter_base)


def _rows_page(stmt: Any, to_item: Any) -> dict[str, Any]:
    """:func:`unionhub.api.paginate` for selects of several entities."""
    from sqlalchemy import func, select

    page, per_page = page_args()
    s = db.session()
    total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = s.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": [to_item(*r) for r in rows], "page": page, "per_page": per_page,
            "total": total}


# -- contents ----------------------------------------------------------------------------------


@api.route("/books/<int:book_id>/toc")
@operation("图书馆：目录与阅读进度", tags=TAGS, response=ReaderTocOut, params=(FORMAT_PARAM,),
           errors=(403, 404),
           description="EPUB 为目录（position 为章序号）；PDF 与 TXT 只有页数（total）。"
                       "借阅许可的图书需在借阅期内（否则 403 loan_required）。")
def api_reader_toc(book_id: int) -> Any:
    book = _readable(book_id)
    file = _file(book, request.args.get("format"))
    saved = service.progress_of(db.session(), current_user.id, book.id)
    return ReaderTocOut(
        book_id=book.id, format=file.format, formats=[f.format for f in
                                                      files.readable_files(book)],
        total=files.total(file),
        toc=[ReaderTocItemOut(title=t.title, position=t.position,
                              fragment=render.PREFIX + t.fragment if t.fragment else None,
                              level=t.level) for t in files.toc(file)],
        progress=_progress_out(saved) if saved is not None else None)


@api.route("/books/<int:book_id>/content/<int:pos>")
@operation("图书馆：一章或一页的内容", tags=TAGS, response=ReaderContentOut,
           params=(FORMAT_PARAM,), errors=(403, 404),
           description="EPUB：该章经过净化的 HTML，图片与样式表地址需携带同一令牌获取；"
                       "PDF：该页文字与单页 PDF 地址；TXT：该页文字。"
                       "每位读者每本书每天计一次阅读。")
def api_reader_content(book_id: int, pos: int) -> Any:
    book = _readable(book_id)
    file = _file(book, request.args.get("format"))
    path = files.path_of(file)
    count = files.total(file)
    if path is None or pos >= count:
        raise ApiError(404, "not_found", "没有这一章（页）")
    html = text = pdf_url = None
    stylesheets: list[str] = []
    css = ""
    try:
        if file.format == FileFormat.EPUB:
            chapter = render.chapter(path, file.stored_name, pos, _links(book.id))
            html, stylesheets, css = chapter.html, list(chapter.stylesheets), chapter.css
        elif file.format == FileFormat.PDF:
            text = pages.pdf_text(path, pos)
            pdf_url = url_for("library_api.api_reader_pdf_page", book_id=book.id, page=pos)
        else:
            text = pages.txt_page(path, file.stored_name, (file.meta or {}).get("encoding"),
                                  pos)
    except (render.RenderError, pages.PageError) as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    s = db.session()
    service.record_read(s, current_user, book, _device())
    service.mark_reading(s, current_user, book)
    s.commit()
    return ReaderContentOut(
        book_id=book.id, format=file.format, position=pos, total=count,
        title=files.position_title(file, pos), html=html, stylesheets=stylesheets, css=css,
        text=text, page_pdf_url=pdf_url, prev=pos - 1 if pos > 0 else None,
        next=pos + 1 if pos + 1 < count else None)


@api.route("/books/<int:book_id>/res/<path:res>")
@operation("图书馆：EPUB 中的图片或样式表", tags=TAGS, response=bytes, errors=(403, 404),
           description="只提供书中清单（manifest）里的图片与样式表；样式表已净化并限定在 "
                       ".reader-content 之内。")
def api_reader_resource(book_id: int, res: str) -> Any:
    from .views import epub_resource

    return epub_resource(_readable(book_id), res)


@api.route("/books/<int:book_id>/pdf/<int:page>")
@operation("图书馆：PDF 的一页（单页 PDF）", tags=TAGS, response=bytes, errors=(403, 404),
           description="page 从 0 起。整本文件不经此接口提供。")
def api_reader_pdf_page(book_id: int, page: int) -> Any:
    from .views import pdf_page_response

    return pdf_page_response(_readable(book_id), page)


# -- progress ----------------------------------------------------------------------------------


@api.route("/books/<int:book_id>/progress")
@operation("图书馆：一本书的阅读进度", tags=TAGS, response=ReaderProgressOut, errors=(403, 404),
           description="任一设备最后保存的位置；没有进度时 404。")
def api_reader_progress_get(book_id: int) -> Any:
    _reader()
    book = _book(book_id)
    row = service.progress_of(db.session(), current_user.id, book.id)
    if row is None:
        raise ApiError(404, "not_found", "还没有这本书的阅读进度")
    return _progress_out(row)


@api.route("/books/<int:book_id>/progress", methods=["PUT"])
@operation("图书馆：保存阅读进度", tags=TAGS, body=ReaderProgressIn,
           response=ReaderProgressOut, errors=(403, 404, 422),
           description="以最后一次保存为准（记录设备与时间）；percent 由服务器按位置计算。")
def api_reader_progress_put(book_id: int, data: ReaderProgressIn) -> Any:
    book = _readable(book_id)
    if data.format not in files.PREFERRED:
        raise ApiError(422, "invalid", "请求参数有误", {"format": "应为 epub、pdf 或 txt"})
    file = _file(book, data.format)
    s = db.session()
    device = service.device_label(data.device) or _device()
    try:
        row = service.save_progress(s, current_user, book, file, position=data.position,
                                    offset=data.offset, device=device)
    except service.ReaderError as exc:
        s.rollback()
        raise ApiError(exc.status, "invalid" if exc.status == 422 else "forbidden",
                       exc.message, {exc.field: exc.message} if exc.field else None) from None
    s.commit()
    return _progress_out(row)


@api.route("/reading")
@operation("图书馆：在读的书（含进度）", tags=TAGS, response=Page[ReaderReadingOut],
           params=PAGE_PARAMS, errors=(400, 403))
def api_reader_reading() -> Any:
    _reader()
    return _rows_page(service.current_reading(current_user),
                      lambda p, b: ReaderReadingOut(book=_book_out(b),
                                                    progress=_progress_out(p)))


@api.route("/history")
@operation("图书馆：阅读历史", tags=TAGS, response=Page[ReaderHistoryOut], params=PAGE_PARAMS,
           errors=(400, 403), description="每本书每天一条，最近读的在前。")
def api_reader_history() -> Any:
    _reader()
    return _rows_page(service.history(current_user),
                      lambda r, b: ReaderHistoryOut(book=_book_out(b), read_on=r.read_on,
                                                    device=r.device, last_at=r.last_at))


# -- shelves -----------------------------------------------------------------------------------


def _shelf_out(shelf: Any, count: int) -> ReaderShelfOut:
    return ReaderShelfOut(id=shelf.id, kind=shelf.kind, name=service.shelf_label(shelf),
                          count=count)


def _my_shelf(shelf_id: int) -> Any:
    shelf = service.shelf_of(db.session(), current_user.id, shelf_id)
    if shelf is None:
        raise ApiError(404, "not_found", "没有这个书架")
    return shelf


def _shelf_action(action: Any) -> Any:
    s = db.session()
    try:
        result = action(s)
    except service.ReaderError as exc:
        s.rollback()
        code = {403: "forbidden", 404: "not_found"}.get(exc.status, "invalid")
        raise ApiError(exc.status, code, exc.message,
                       {exc.field: exc.message} if exc.field else None) from None
    s.commit()
    return result


@api.route("/shelves")
@operation("图书馆：我的书架", tags=TAGS, response=list[ReaderShelfOut], errors=(403,),
           description="想读、在读、读过三个系统书架（首次使用时创建）在前，其后为自建书架。")
def api_reader_shelves() -> Any:
    _reader()
    s = db.session()
    rows = service.shelves(s, current_user)
    s.commit()
    return [_shelf_out(shelf, n) for shelf, n in rows]


@api.route("/shelves", methods=["POST"])
@operation("图书馆：新建书架", tags=TAGS, body=ReaderShelfIn, response=ReaderShelfOut,
           status=201, errors=(403, 422))
def api_reader_shelf_create(data: ReaderShelfIn) -> Any:
    _reader()
    shelf = _shelf_action(lambda s: service.create_shelf(s, current_user, data.name))
    return _shelf_out(shelf, 0)


@api.route("/shelves/<int:shelf_id>", methods=["PATCH"])
@operation("图书馆：书架改名", tags=TAGS, body=ReaderShelfIn, response=ReaderShelfOut,
           errors=(403, 404, 422), description="系统书架不能改名。")
def api_reader_shelf_rename(shelf_id: int, data: ReaderShelfIn) -> Any:
    _reader()
    shelf = _my_shelf(shelf_id)
    _shelf_action(lambda s: service.rename_shelf(s, current_user, shelf, data.name))
    count = dict((sh.id, n) for sh, n in service.shelves(db.session(), current_user))
    return _shelf_out(shelf, count.get(shelf.id, 0))


@api.route("/shelves/<int:shelf_id>", methods=["DELETE"])
@operation("图书馆：删除书架", tags=TAGS, errors=(403, 404, 422),
           description="只能删除自建书架；书架上的书不受影响。")
def api_reader_shelf_delete(shelf_id: int) -> Any:
    _reader()
    shelf = _my_shelf(shelf_id)
    _shelf_action(lambda s: service.delete_shelf(s, current_user, shelf))
    return None


@api.route("/shelves/<int:shelf_id>/books")
@operation("图书馆：书架上的书", tags=TAGS, response=Page[ReaderBookOut], params=PAGE_PARAMS,
           errors=(400, 403, 404))
def api_reader_shelf_books(shelf_id: int) -> Any:
    _reader()
    shelf = _my_shelf(shelf_id)
    return _rows_page(service.shelf_books(current_user, shelf.id), _book_out)


@api.route("/shelves/<int:shelf_id>/books/<int:book_id>", methods=["PUT"])
@operation("图书馆：把书放上书架", tags=TAGS, errors=(403, 404),
           description="放入想读、在读或读过时，会从另外两个系统书架上移出。")
def api_reader_shelf_add(shelf_id: int, book_id: int) -> Any:
    _reader()
    shelf = _my_shelf(shelf_id)
    book = _book(book_id)
    _shelf_action(lambda s: service.add_book(s, current_user, shelf, book))
    return None


@api.route("/shelves/<int:shelf_id>/books/<int:book_id>", methods=["DELETE"])
@operation("图书馆：从书架上移出", tags=TAGS, errors=(403, 404))
def api_reader_shelf_remove(shelf_id: int, book_id: int) -> Any:
    _reader()
    shelf = _my_shelf(shelf_id)
    _shelf_action(lambda s: service.remove_book(s, current_user, shelf, book_id))
    return None
