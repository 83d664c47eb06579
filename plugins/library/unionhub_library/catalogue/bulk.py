"""Bulk import: a zip of book files plus a metadata spreadsheet, run as a tracked job.

The officer uploads the zip and the spreadsheet (XLSX or CSV, UTF-8 or GBK; or the
spreadsheet inside the zip, at its top level). :func:`start` checks both at once — the zip's
directory against hostile-zip bounds (entry count, sizes, ratio, no path escapes: the EPUB
reader's own checks) and the spreadsheet's header — keeps them in the library's ``tmp``
area and submits job :data:`IMPORT_JOB`.

The job (:func:`import_job`) ingests one row at a time, each in its own transaction: a good
row lands, a bad row is reported in the job's result as (row, column, reason) and leaves
nothing behind. Rows naming the same ISBN as a book created earlier in the same import add
their file to that book (the EPUB and the PDF of one title). Importing the same zip twice adds
nothing: every file already catalogued is reported as such.
"""

from __future__ import annotations

import logging
import posixpath
import re
import secrets
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from unionhub.i18n import _
from unionhub.imports.reader import FileRejected, iter_rows

from .. import storage
from ..epub import EpubError, Limits, check_zip, read_bounded
from ..models import LibraryBook
from .errors import CatalogueError, IngestError
from .formats import format_of
from .isbn import IsbnError, normalise_isbn

log = logging.getLogger(__name__)

IMPORT_JOB = "library.catalogue_import"
MAX_ENTRIES = 2000
MAX_ROWS = 2000
MAX_TOTAL_BYTES = 8 * 1024 * 1024 * 1024
MAX_ZIP_BYTES = 4 * 1024 * 1024 * 1024
MAX_SHEET_BYTES = 10 * 1024 * 1024
#: Problems kept in the job's result (the counts are always complete).
MAX_REPORTED = 1000

FILE_COLUMN = "文件名"
#: Spreadsheet column → book field.
COLUMNS: Mapping[str, str] = {
    "书名": "title", "副书名": "subtitle", "作者": "authors", "出版社": "publisher",
    "出版年": "year", "ISBN": "isbn", "语种": "language", "分类号": "category_id",
    "标签": "tags", "简介": "summary", "授权方式": "licence", "授权方式(开放/借阅)": "licence",
    "授权方式（开放/借阅）": "licence", "复本数": "copies"}
#: Book field → the column named in a row's error.
FIELD_COLUMNS: Mapping[str, str] = {
    "file": FILE_COLUMN, "title": "书名", "subtitle": "副书名", "authors": "作者",
    "publisher": "出版社", "year": "出版年", "isbn": "ISBN", "language": "语种",
    "category_id": "分类号", "tags": "标签", "summary": "简介", "licence": "授权方式",
    "copies": "复本数", "loan_days": "借期", "cover": "封面", "book": FILE_COLUMN}
SHEET_SUFFIXES = (".xlsx", ".csv")
_YEAR = re.compile(r"^\s*(\d{4})(?:\D.*)?$")


class BulkError(ValueError):
    """The upload as a whole is refused (before any job); ``str(e)`` says why."""


def zip_limits(max_file_bytes: int) -> Limits:
    return Limits(max_entries=MAX_ENTRIES, max_entry_bytes=max_file_bytes,
                  max_total_bytes=MAX_TOTAL_BYTES, max_ratio=200)


def open_zip(path: Path, max_file_bytes: int) -> zipfile.ZipFile:
    """Open and check the outer zip; :class:`BulkError` when it is hostile or broken."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise BulkError(_("图书压缩包不是有效的 ZIP 文件")) from None
    try:
        check_zip(zf, zip_limits(max_file_bytes))
    except EpubError as exc:
        zf.close()
        raise BulkError(_("图书压缩包被拒绝：%(why)s", why=str(exc))) from None
    return zf


def _save_upload(upload: FileStorage, target: Path, limit: int, what: str) -> None:
    """Stream an upload to ``target``, refusing more than ``limit`` bytes."""
    written = 0
    with target.open("wb") as out:
        while chunk := upload.stream.read(1 << 20):
            written += len(chunk)
            if written > limit:
                raise BulkError(_("%(what)s超过 %(mb)s MB 的上限", what=what,
                                  mb=limit // (1024 * 1024)))
            out.write(chunk)
    if not written:
        raise BulkError(_("%(what)s是空的", what=what))


def _sheet_in_zip(zf: zipfile.ZipFile) -> str | None:
    found = [i.filename for i in zf.infolist() if not i.is_dir() and "/" not in i.filename
             and posixpath.splitext(i.filename)[1].lower() in SHEET_SUFFIXES]
    if len(found) > 1:
        raise BulkError(_("压缩包顶层有多个表格文件，请只放一个，或单独上传元数据表格"))
    return found[0] if found else None


def _check_sheet(path: Path) -> None:
    try:
        _table, rows = iter_rows(path, (FILE_COLUMN,), tuple(COLUMNS))
        count = sum(1 for _row in islice(rows, MAX_ROWS + 1))
    except FileRejected as exc:
        raise BulkError(_("元数据表格被拒绝：%(why)s", why=str(exc))) from None
    except (UnicodeDecodeError, ValueError, OSError):
        raise BulkError(_("无法读取元数据表格，请检查文件是否损坏")) from None
    if count > MAX_ROWS:
        raise BulkError(_("表格最多 %(n)s 行图书，请分批导入", n=MAX_ROWS))
    if not count:
        raise BulkError(_("元数据表格中没有图书行"))


@dataclass(frozen=True)
class Defaults:
    """What rows leave empty: owner union, class, licence, copies."""

    owner_org_id: int
    category_id: int | None
    licence: str
    copies: int


def start(session: Session, *, zip_upload: FileStorage | None, sheet_upload: FileStorage | None,
          defaults: Defaults, account_id: int, max_file_bytes: int) -> int:
    """Check the uploads, keep them and submit the import job (dispatched when the caller
    commits); returns the job id. :class:`BulkError` when the upload is refused."""
    from unionhub.jobs import service as jobs

    if zip_upload is None or not (zip_upload.filename or "").lower().endswith(".zip"):
        raise BulkError(_("请选择图书压缩包（ZIP 文件）"))
    folder = storage.area("tmp") / f"import-{secrets.token_hex(12)}"
    folder.mkdir()
    try:
        _save_upload(zip_upload, folder / "books.zip", MAX_ZIP_BYTES, _("图书压缩包"))
        with open_zip(folder / "books.zip", max_file_bytes) as zf:
            inner = _sheet_in_zip(zf)
            if sheet_upload is not None and sheet_upload.filename:
                suffix = Path(sheet_upload.filename).suffix.lower()
                if suffix not in SHEET_SUFFIXES:
                    raise BulkError(_("元数据表格只支持 XLSX 或 CSV 文件"))
                sheet = folder / f"sheet{suffix}"
                _save_upload(sheet_upload, sheet, MAX_SHEET_BYTES, _("元数据表格"))
            elif inner is not None:
                sheet = folder / f"sheet{posixpath.splitext(inner)[1].lower()}"
                try:
                    sheet.write_bytes(read_bounded(zf, inner, MAX_SHEET_BYTES))
                except EpubError as exc:
                    raise BulkError(str(exc)) from None
            else:
                raise BulkError(_("请上传元数据表格（XLSX 或 CSV），或把它放在压缩包顶层"))
        _check_sheet(sheet)
        job = jobs.submit(IMPORT_JOB, {
            "folder": folder.name, "sheet": sheet.name, "owner_org_id": defaults.owner_org_id,
            "category_id": defaults.category_id, "licence": defaults.licence,
            "copies": defaults.copies, "account_id": account_id,
            "zip_name": (zip_upload.filename or "")[-200:]},
            session=session, owner_id=account_id, org_id=defaults.owner_org_id)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return job.id


# -- the job -------------------------------------------------------------------------------


@dataclass
class _Entries:
    """The zip's book files, found by full path or (when unique) by file name."""

    paths: set[str]
    by_base: dict[str, list[str]]

    @classmethod
    def of(cls, zf: zipfile.ZipFile) -> _Entries:
        paths = {i.filename for i in zf.infolist() if not i.is_dir()}
        by_base: dict[str, list[str]] = {}
        for p in sorted(paths):
            by_base.setdefault(posixpath.basename(p), []).append(p)
        return cls(paths, by_base)

    def find(self, name: str) -> str:
        wanted = name.strip().replace("\\", "/")
        while wanted.startswith(("./", "/")):
            wanted = wanted.removeprefix(".").lstrip("/")
        if wanted in self.paths:
            return wanted
        matches = self.by_base.get(posixpath.basename(wanted), [])
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise IngestError.file(_("压缩包中有多个名为“%(name)s”的文件，请写出完整路径",
                                     name=wanted[-80:]))
        raise IngestError.file(_("压缩包中没有文件“%(name)s”", name=wanted[-80:]))


def row_overrides(session: Session, row: Mapping[str, str]) -> dict[str, Any]:
    """A spreadsheet row's book fields (only the filled cells)."""
    from .queries import category_by_code

    out: dict[str, Any] = {}
    for column, key in COLUMNS.items():
        value = (row.get(column) or "").strip()
        if not value:
            continue
        if key == "category_id":
            category = category_by_code(session, value)
            if category is None:
                raise IngestError({"category_id": _("分类号“%(code)s”不在中图法分类中",
                                                    code=value[:20])})
            value = str(category.id)
        elif key == "year" and (m := _YEAR.match(value)):
            value = m.group(1)
        out[key] = value
    return out


def _problem(line: int, filename: str, error: CatalogueError) -> list[dict[str, Any]]:
    return [{"row": line, "file": filename[-120:],
             "field": FIELD_COLUMNS.get(field, field), "reason": reason}
            for field, reason in error.errors.items()]


def _isbn_of(overrides: Mapping[str, Any]) -> str | None:
    try:
        return normalise_isbn(str(overrides["isbn"])) if overrides.get("isbn") else None
    except IsbnError:
        return None


def import_job(ctx: Any) -> dict[str, Any]:
    """Job ``library.catalogue_import``: ingest every row; returns the per-row report."""
    from unionhub import db

    from .ingest import ingest_bytes
    from .service import max_upload_bytes

    p = ctx.params
    folder = storage.area("tmp") / str(p["folder"])
    if not re.fullmatch(r"import-[0-9a-f]{24}", folder.name) or not folder.is_dir():
        return {"rows": 0, "imported": [], "errors": [], "warnings": [],
                "failure": _("导入文件已不存在（任务可能已运行过）")}
    s = db.session()
    max_bytes = max_upload_bytes()
    imported: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    counts = {"rows": 0, "imported": 0, "failed": 0}
    by_isbn: dict[str, int] = {}
    try:
        with open_zip(folder / "books.zip", max_bytes) as zf:
            entries = _Entries.of(zf)
            _table, row_iter = iter_rows(folder / str(p["sheet"]), (FILE_COLUMN,),
                                         tuple(COLUMNS))
            rows = [r for _i, r in zip(range(MAX_ROWS), row_iter, strict=False)]
            listed: set[str] = set()
            for done, (line, row) in enumerate(rows):
                ctx.counts.update(counts)
                ctx.progress(done, len(rows), _("第 %(line)s 行", line=line))
                counts["rows"] += 1
                name = row.get(FILE_COLUMN, "")
                try:
                    if not name:
                        raise IngestError.file(_("文件名为空"))
                    entry = entries.find(name)
                    listed.add(entry)
                    if format_of(entry) is None:
                        raise IngestError.file(_("“%(name)s”不是 EPUB、PDF 或 TXT 文件",
                                                 name=entry[-80:]))
                    overrides = row_overrides(s, row)
                    try:
                        data = read_bounded(zf, entry, max_bytes)
                    except EpubError as exc:
                        raise IngestError.file(str(exc)) from None
                    isbn = _isbn_of(overrides)
                    into = s.get(LibraryBook, by_isbn[isbn]) if isbn in by_isbn else None
                    book = ingest_bytes(
                        s, data, posixpath.basename(entry),
                        owner_org_id=int(p["owner_org_id"]), account_id=p.get("account_id"),
                        category_id=p.get("category_id"), overrides=overrides,
                        licence=str(p.get("licence") or "open"),
                        copies=int(p.get("copies") or 0), into=into)
                    s.commit()
                except CatalogueError as exc:
                    s.rollback()
                    counts["failed"] += 1
                    if len(problems) < MAX_REPORTED:
                        problems.extend(_problem(line, name, exc))
                    continue
                # One file must not stop the others, whatever goes wrong with it.
                except Exception as exc:
                    s.rollback()
                    log.exception("library import: row %s failed", line)
                    counts["failed"] += 1
                    if len(problems) < MAX_REPORTED:
                        problems.extend(_problem(line, name, CatalogueError({"file": _(
                            "处理这一行时出错（%(kind)s），未导入", kind=exc.__class__.__name__)})))
                    continue
                counts["imported"] += 1
                if book.isbn:
                    by_isbn.setdefault(book.isbn, book.id)
                if len(imported) < MAX_REPORTED:
                    imported.append({"row": line, "book_id": book.id, "title": book.title,
                                     "file": entry[-120:]})
            unlisted = sorted(e for e in entries.paths - listed
                              if format_of(e) is not None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ctx.counts.update(counts)
    warnings = [_("压缩包中的文件未在表格中列出，未导入：%(name)s", name=n[-120:])
                for n in unlisted[:100]]
    return {**counts, "imported_books": imported, "errors": problems, "warnings": warnings,
            "zip_name": p.get("zip_name")}
