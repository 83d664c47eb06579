"""The catalogue's back office (``/library/admin/…``, permission ``library.catalogue.manage``).

Officers reach only books owned by unions in their subtree — the list filters in SQL and a
book outside the scope answers 404 (its existence is not confirmed). Every write checks the
form's CSRF token; a refused change shows its reasons and leaves the book as it was.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import or_, select
from werkzeug.datastructures import FileStorage

from unionhub import db
from unionhub.access.service import require, scope_filter
from unionhub.i18n import _
from unionhub.jobs.models import Job
from unionhub.orgs.models import Org
from unionhub.web import id_arg
from unionhub.web.pagination import paginate

from .. import storage
from ..models import BookState, LibraryBook, LibraryCategory, Licence
from ..web import MANAGE, bp
from . import queries
from .bulk import IMPORT_JOB, MAX_ROWS, BulkError, Defaults, start
from .covers import COVER_MAX_BYTES
from .errors import CatalogueError
from .fields import BOOK_FIELDS, FIELD_LABELS, LICENCE_LABELS, STATE_LABELS
from .formats import ACCEPT, FORMAT_LABELS
from .ingest import ingest_bytes
from .service import add_file, max_upload_bytes, set_cover, set_state, update_book

#: Upload-form fields that override what the file says (empty → keep the file's value).
OVERRIDE_FIELDS = ("title", "subtitle", "authors", "publisher", "year", "isbn", "language",
                   "tags", "summary", "licence", "copies", "loan_days")
SAMPLE_ROW = {"文件名": "红楼梦.epub", "书名": "红楼梦", "作者": "曹雪芹、高鹗 著",
              "出版社": "人民文学出版社", "出版年": "1982", "ISBN": "9787020002207",
              "分类号": "I", "标签": "古典文学，小说", "简介": "中国古典长篇小说。",
              "授权方式": "开放", "复本数": "0"}
SAMPLE_COLUMNS = ("文件名", "书名", "作者", "出版社", "出版年", "ISBN", "分类号", "标签", "简介",
                  "授权方式", "复本数")


def _checked_form() -> None:
    if not FlaskForm().validate_on_submit():
        abort(400)


def _book_or_404(book_id: int) -> LibraryBook:
    book = queries.scoped_book(db.session(), current_user, book_id)
    if book is None:
        abort(404)
    return book


def _read_upload(upload: FileStorage | None, limit: int, field: str) -> tuple[bytes, str]:
    """An upload's bytes (at most ``limit`` + 1 are read) and name, or a field error."""
    if upload is None or not upload.filename:
        raise CatalogueError({field: _("请选择文件")})
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise CatalogueError({field: _("文件“%(name)s”超过 %(mb)s MB 的上限",
                                       name=upload.filename[-80:], mb=limit // (1024 * 1024))})
    return data, upload.filename


def _owner_org(value: str, errors: dict[str, str]) -> int | None:
    if value.isdigit() and len(value) <= 9 and queries.org_in_scope(
            db.session(), current_user, int(value)):
        return int(value)
    errors["owner_org_id"] = _("请选择您有权管理的工会")
    return None


def _choices() -> dict[str, Any]:
    s = db.session()
    categories = queries.categories(s)
    return {"categories": categories, "category_map": {c.id: c for c in categories},
            "orgs": queries.org_choices(s, current_user),
            "licence_labels": LICENCE_LABELS, "state_labels": STATE_LABELS,
            "format_labels": FORMAT_LABELS, "field_labels": FIELD_LABELS}


# -- the list --------------------------------------------------------------------------------


@bp.route("/admin/books")
@login_required
def admin_books() -> Any:
    require(MANAGE)
    s = db.session()
    q = request.args.get("q", "").strip()[:100]
    state = request.args.get("state", "")
    licence = request.args.get("licence", "")
    fmt = request.args.get("format", "")
    category_id = id_arg(request.args.get("category"))
    page = paginate(queries.list_books(current_user, q=q, category_id=category_id,
                                       state=state, licence=licence, fmt=fmt))
    return render_template(
        "library/catalogue/list.html", page=page, q=q, state=state, licence=licence, fmt=fmt,
        category_id=category_id, formats=queries.formats_of(s, [b.id for b in page.items]),
        **_choices())


# -- one book ----------------------------------------------------------------------------------


def _upload_page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    return render_template("library/catalogue/upload.html", values=values, errors=errors,
                           form=FlaskForm(), accept=ACCEPT,
                           max_mb=max_upload_bytes() // (1024 * 1024), **_choices()), status


@bp.route("/admin/books/upload", methods=["GET", "POST"])
@login_required
def admin_book_upload() -> Any:
    require(MANAGE)
    s = db.session()
    if request.method == "GET":
        orgs = queries.org_choices(s, current_user)
        return _upload_page({"owner_org_id": str(orgs[0].id) if orgs else "",
                             "licence": Licence.OPEN, "copies": "0", "loan_days": "14"}, {})
    _checked_form()
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    errors: dict[str, str] = {}
    owner = _owner_org(values.get("owner_org_id", ""), errors)
    category = values.get("category_id", "")
    if not category.isdigit():
        errors["category_id"] = _("请选择分类")
    try:
        data, filename = _read_upload(request.files.get("file"), max_upload_bytes(), "file")
    except CatalogueError as exc:
        errors.update(exc.errors)
    if errors or owner is None:
        return _upload_page(values, errors, 422)
    overrides = {k: values[k] for k in OVERRIDE_FIELDS if values.get(k, "").strip()}
    cover = request.files.get("cover")
    try:
        book = ingest_bytes(s, data, filename, owner_org_id=owner, account_id=current_user.id,
                            category_id=int(category), overrides=overrides)
        if cover is not None and cover.filename:
            cover_data, _name = _read_upload(cover, COVER_MAX_BYTES, "cover")
            set_cover(s, book, cover_data)
    except CatalogueError as exc:
        s.rollback()
        return _upload_page(values, exc.errors, 422)
    s.commit()
    flash(_("已上架《%(title)s》", title=book.title), "success")
    return redirect(url_for(".admin_book", book_id=book.id))


def _edit_page(book: LibraryBook, values: dict[str, str], errors: dict[str, str],
               status: int = 200) -> Any:
    files = sorted(book.files, key=lambda f: f.format)
    return render_template(
        "library/catalogue/edit.html", book=book, values=values, errors=errors,
        form=FlaskForm(), files=files, accept=ACCEPT,
        max_mb=max_upload_bytes() // (1024 * 1024),
        missing_formats=[f for f in FORMAT_LABELS if f not in {x.format for x in files}],
        **_choices()), status


@bp.route("/admin/books/<int:book_id>", methods=["GET", "POST"])
@login_required
def admin_book(book_id: int) -> Any:
    require(MANAGE)
    s = db.session()
    book = _book_or_404(book_id)
    if request.method == "GET":
        return _edit_page(book, queries.form_values(s, book), {})
    _checked_form()
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    errors: dict[str, str] = {}
    owner = _owner_org(values.get("owner_org_id", ""), errors)
    if owner is None:
        return _edit_page(book, values, errors, 422)
    try:
        update_book(s, book, {k: values.get(k, "") for k in BOOK_FIELDS}, owner_org_id=owner)
    except CatalogueError as exc:
        s.rollback()
        return _edit_page(_book_or_404(book_id), values, exc.errors, 422)
    s.commit()
    flash(_("已保存"), "success")
    return redirect(url_for(".admin_book", book_id=book_id))


@bp.route("/admin/books/<int:book_id>/state", methods=["POST"])
@login_required
def admin_book_state(book_id: int) -> Any:
    require(MANAGE)
    _checked_form()
    s = db.session()
    book = _book_or_404(book_id)
    action = request.form.get("action", "")
    if action not in ("hide", "show"):
        abort(400)
    changed = set_state(s, book, BookState.HIDDEN if action == "hide" else BookState.ACTIVE)
    s.commit()
    if changed:
        flash(_("已下架，读者将看不到这本书") if action == "hide" else _("已重新上架"), "success")
    else:
        flash(_("状态没有变化"), "info")
    return redirect(url_for(".admin_book", book_id=book_id))


@bp.route("/admin/books/<int:book_id>/cover", methods=["POST"])
@login_required
def admin_book_cover(book_id: int) -> Any:
    require(MANAGE)
    _checked_form()
    s = db.session()
    book = _book_or_404(book_id)
    try:
        data, _name = _read_upload(request.files.get("cover"), COVER_MAX_BYTES, "cover")
        set_cover(s, book, data)
    except CatalogueError as exc:
        s.rollback()
        for message in exc.errors.values():
            flash(message, "error")
        return redirect(url_for(".admin_book", book_id=book_id) + "#cover")
    s.commit()
    flash(_("封面已更新，缩略图稍后生成"), "success")
    return redirect(url_for(".admin_book", book_id=book_id) + "#cover")


@bp.route("/admin/books/<int:book_id>/cover.jpg")
@login_required
def admin_book_cover_image(book_id: int) -> Any:
    """The stored cover (or, with ``?thumb=1``, its thumbnail) for the back office."""
    require(MANAGE)
    book = _book_or_404(book_id)
    thumb = request.args.get("thumb") == "1"
    path = storage.path_of("thumbs" if thumb else "covers",
                           book.thumb_name if thumb else book.cover_name)
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/jpeg", conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/admin/books/<int:book_id>/files", methods=["POST"])
@login_required
def admin_book_file(book_id: int) -> Any:
    require(MANAGE)
    _checked_form()
    s = db.session()
    book = _book_or_404(book_id)
    try:
        data, filename = _read_upload(request.files.get("file"), max_upload_bytes(), "file")
        row = add_file(s, book, data, filename, replace=request.form.get("replace") == "1")
    except CatalogueError as exc:
        s.rollback()
        for message in exc.errors.values():
            flash(message, "error")
        return redirect(url_for(".admin_book", book_id=book_id) + "#files")
    s.commit()
    flash(_("已添加 %(fmt)s 文件", fmt=FORMAT_LABELS[row.format]), "success")
    return redirect(url_for(".admin_book", book_id=book_id) + "#files")


# -- bulk import -------------------------------------------------------------------------------


def _import_jobs() -> Any:
    """Import jobs the officer may see: their own and those of unions in their scope."""
    in_scope = Job.org_id.in_(select(Org.id).where(scope_filter(current_user, MANAGE, Org.path)))
    return select(Job).where(Job.kind == IMPORT_JOB,
                             or_(Job.owner_id == current_user.id, in_scope))


def _import_page(values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    recent = db.session().scalars(_import_jobs().order_by(Job.id.desc()).limit(10)).all()
    return render_template(
        "library/catalogue/import.html", values=values, errors=errors, form=FlaskForm(),
        recent=recent, columns=SAMPLE_COLUMNS, max_rows=MAX_ROWS,
        max_mb=max_upload_bytes() // (1024 * 1024), **_choices()), status


@bp.route("/admin/import", methods=["GET", "POST"])
@login_required
def admin_import() -> Any:
    require(MANAGE)
    s = db.session()
    if request.method == "GET":
        orgs = queries.org_choices(s, current_user)
        return _import_page({"owner_org_id": str(orgs[0].id) if orgs else "",
                             "licence": Licence.OPEN, "copies": "0"}, {})
    _checked_form()
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    errors: dict[str, str] = {}
    owner = _owner_org(values.get("owner_org_id", ""), errors)
    category = values.get("category_id", "")
    licence = values.get("licence", Licence.OPEN)
    copies = values.get("copies", "0").strip() or "0"
    if category and (not category.isdigit() or len(category) > 9
                     or s.get(LibraryCategory, int(category)) is None):
        errors["category_id"] = _("所选分类不存在")
    if licence not in LICENCE_LABELS:
        errors["licence"] = _("请选择授权方式")
    if not copies.isdigit() or int(copies) > 9999:
        errors["copies"] = _("复本数应为 0 到 9999 的整数")
    elif licence == Licence.LENT and int(copies) < 1:
        errors["copies"] = _("借阅图书的复本数至少为 1")
    if errors or owner is None:
        return _import_page(values, errors, 422)
    defaults = Defaults(owner_org_id=owner,
                        category_id=int(category) if category.isdigit() else None,
                        licence=licence, copies=int(copies))
    try:
        job_id = start(s, zip_upload=request.files.get("zip"),
                       sheet_upload=request.files.get("sheet"), defaults=defaults,
                       account_id=current_user.id, max_file_bytes=max_upload_bytes())
    except BulkError as exc:
        s.rollback()
        return _import_page(values, {"zip": str(exc)}, 422)
    s.commit()
    flash(_("已开始导入，逐行处理：合格的行会入库，有问题的行会在结果中列出"), "success")
    return redirect(url_for(".admin_import_job", job_id=job_id))


@bp.route("/admin/import/<int:job_id>")
@login_required
def admin_import_job(job_id: int) -> Any:
    require(MANAGE)
    job = db.session().scalar(_import_jobs().where(Job.id == job_id))
    if job is None:
        abort(404)
    return render_template("library/catalogue/import_job.html", job=job,
                           result=job.result or {})


@bp.route("/admin/import/template.csv")
@login_required
def admin_import_template() -> Any:
    """A CSV with the columns (UTF-8 with BOM, so Excel shows the Chinese)."""
    require(MANAGE)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SAMPLE_COLUMNS)
    writer.writerow([SAMPLE_ROW[c] for c in SAMPLE_COLUMNS])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": "attachment; filename=library-import.csv"})

