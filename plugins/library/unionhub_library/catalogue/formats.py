"""What the catalogue accepts as a book file, and what it learns from one.

:func:`inspect_file` is pure (no database, no storage): it decides the format from the
extension, checks the content really is that format, and returns the file's metadata for
:class:`~unionhub_library.models.LibraryFile` plus what the file says about the book. Every
file is treated as hostile: EPUBs go through :mod:`unionhub_library.epub` (bounded zip, no
path escapes, no XML entities), PDFs through pypdf (a file pypdf cannot read or that is
encrypted is refused), TXT must decode as UTF-8 or GB18030 with no binary control bytes.

The web reader shows a TXT page by page with :func:`txt_pages`; the page count stored at
ingest (``meta["pages"]``) is computed by the same function, so both always agree.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from unionhub.i18n import _

from ..epub import EpubBook, EpubError, Limits
from ..models import FileFormat
from .errors import IngestError

log = logging.getLogger(__name__)

#: Characters on one page of a TXT book in the web reader (and in ``meta["pages"]``).
TXT_PAGE_CHARS = 2000
#: A page break is moved back to the last line end within this share of the page.
_BREAK_WINDOW = TXT_PAGE_CHARS // 4
#: Control characters that never occur in a text file (tab, line ends and form feed do).
_BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
EXTENSIONS = {"epub": FileFormat.EPUB, "pdf": FileFormat.PDF, "txt": FileFormat.TXT}
FORMAT_LABELS = {FileFormat.EPUB: "EPUB", FileFormat.PDF: "PDF", FileFormat.TXT: "TXT"}
ACCEPT = ".epub,.pdf,.txt"


@dataclass
class Inspected:
    """One checked book file."""

    format: str
    #: What ``LibraryFile.meta`` keeps.
    meta: dict[str, Any]
    #: What the file says about the book (keys of the catalogue's book fields: ``title``,
    #: ``authors``, ``publisher``, ``year``, ``language``, ``isbn``, ``summary``, ``tags``).
    book: dict[str, Any] = field(default_factory=dict)
    #: The cover image found in the file (bytes, media type), not yet validated.
    cover: tuple[bytes, str] | None = None


def format_of(filename: str) -> str | None:
    """The format named by ``filename``'s extension, or None."""
    ext = filename.rpartition(".")[2].lower() if "." in filename else ""
    return EXTENSIONS.get(ext)


# -- TXT -----------------------------------------------------------------------------------


def decode_txt(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """``data`` as text with ``\\n`` line ends, and the encoding used (``utf-8`` or
    ``gb18030``, which reads GBK and GB2312 too). With ``encoding`` given (as stored in
    ``meta``), only that one is tried. :class:`IngestError` when it is not text."""
    candidates = (encoding,) if encoding else ("utf-8", "gb18030")
    for enc in candidates:
        try:
            text = data.decode("utf-8-sig" if enc == "utf-8" else enc)
        except (UnicodeDecodeError, LookupError):
            continue
        if _BINARY.search(text):
            raise IngestError.file(_("TXT 文件含有二进制内容，不是纯文本文件"))
        return text.replace("\r\n", "\n").replace("\r", "\n"), enc or "utf-8"
    raise IngestError.file(_("无法识别 TXT 文件的编码（支持 UTF-8 与 GBK/GB18030）"))


def txt_pages(text: str) -> list[str]:
    """``text`` cut into pages of at most :data:`TXT_PAGE_CHARS` characters, each break
    moved back to a line end when there is one in the last quarter of the page. Empty (or
    blank) text has no pages."""
    if not text.strip():
        return []
    pages: list[str] = []
    start, n = 0, len(text)
    while start < n:
        end = min(start + TXT_PAGE_CHARS, n)
        if end < n:
            cut = text.rfind("\n", end - _BREAK_WINDOW, end)
            if cut > start:
                end = cut + 1
        pages.append(text[start:end])
        start = end
    return pages


def _inspect_txt(data: bytes) -> Inspected:
    text, encoding = decode_txt(data)
    pages = txt_pages(text)
    if not pages:
        raise IngestError.file(_("TXT 文件没有文字内容"))
    return Inspected(FileFormat.TXT, {"pages": len(pages), "encoding": encoding})


# -- PDF -----------------------------------------------------------------------------------


def _inspect_pdf(data: bytes) -> Inspected:
    if b"%PDF-" not in data[:1024]:
        raise IngestError.file(_("文件不是有效的 PDF（缺少 PDF 文件头）"))
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
        info = None if encrypted else reader.metadata
    # pypdf raises many kinds of exception on a broken file (its own, KeyError, ValueError,
    # RecursionError …): any of them means the same thing to the user.
    except Exception as exc:
        log.info("PDF refused: %s: %s", exc.__class__.__name__, exc)
        raise IngestError.file(_("PDF 文件已损坏，无法读取")) from None
    if encrypted:
        raise IngestError.file(_("PDF 文件已加密（设置了密码），请上传未加密的版本"))
    if pages < 1:
        raise IngestError.file(_("PDF 文件没有页面"))
    book: dict[str, Any] = {}
    try:
        if info is not None and info.title and str(info.title).strip():
            book["title"] = str(info.title).strip()[:300]
        if info is not None and info.author and str(info.author).strip():
            book["authors"] = [str(info.author).strip()[:120]]
    except Exception:
        book = {}
    return Inspected(FileFormat.PDF, {"pages": pages}, book)


# -- EPUB ----------------------------------------------------------------------------------


def epub_limits(max_bytes: int) -> Limits:
    """The EPUB zip bounds for a file of at most ``max_bytes``."""
    base = Limits()
    return Limits(max_entries=base.max_entries,
                  max_entry_bytes=min(base.max_entry_bytes, max(max_bytes * 4, 1 << 20)),
                  max_total_bytes=min(base.max_total_bytes, max(max_bytes * 8, 8 << 20)),
                  max_ratio=base.max_ratio)


def _inspect_epub(data: bytes, limits: Limits) -> Inspected:
    try:
        with EpubBook.open(data, limits) as book:
            meta = book.meta
            cover = book.cover()
            file_meta = book.file_meta()
    except EpubError as exc:
        raise IngestError.file(str(exc)) from None
    info: dict[str, Any] = {
        "title": meta.title, "authors": list(meta.authors), "publisher": meta.publisher,
        "year": meta.year, "language": meta.language, "isbn": meta.isbn,
        "summary": meta.description, "tags": list(meta.subjects)}
    return Inspected(FileFormat.EPUB, file_meta,
                     {k: v for k, v in info.items() if v not in (None, "", [])}, cover)


def inspect_file(data: bytes, filename: str, max_bytes: int) -> Inspected:
    """Check one uploaded book file; :class:`IngestError` says what is wrong with it."""
    fmt = format_of(filename)
    if fmt is None:
        raise IngestError.file(_("不支持的文件类型“%(name)s”：只能上传 EPUB、PDF 或 TXT 文件",
                                 name=filename[-80:]))
    if not data:
        raise IngestError.file(_("文件“%(name)s”是空的", name=filename[-80:]))
    if len(data) > max_bytes:
        raise IngestError.file(_("文件“%(name)s”超过 %(mb)s MB 的上限", name=filename[-80:],
                                 mb=max_bytes // (1024 * 1024)))
    if fmt == FileFormat.EPUB:
        if not data.startswith(b"PK\x03\x04"):
            raise IngestError.file(_("文件不是有效的 EPUB（无法作为 ZIP 打开）"))
        return _inspect_epub(data, epub_limits(max_bytes))
    if fmt == FileFormat.PDF:
        return _inspect_pdf(data)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise IngestError.file(_("不支持 UTF-16 编码的 TXT 文件，请另存为 UTF-8"))
    return _inspect_txt(data)
