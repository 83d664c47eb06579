"""Downloading a book's file whole — for the web page and the app API alike.

Only for an account :func:`~unionhub_library.access.can_download` allows (role
``library.download`` and, for a lent title, an active loan). Every delivered download is
written to the core audit log (``library.book.download``) in its own transaction with the
reader's union, so officers can see who took which file. The response names the file after
the book's title (``Content-Disposition`` with an RFC 5987 UTF-8 name) and is never sniffed
or cached by shared caches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Response, request, send_file
from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub import db
from unionhub.audit import service as audit
from unionhub.i18n import _
from unionhub.identity.models import MemberStatus

from .. import storage
from ..access import can_download, can_see
from ..models import FileFormat, LibraryBook, LibraryFile

AUDIT_ACTION = "library.book.download"
MIMETYPES = {FileFormat.EPUB: "application/epub+zip", FileFormat.PDF: "application/pdf",
             FileFormat.TXT: "text/plain; charset=utf-8"}
#: Characters no file system or browser likes in a name, and control characters.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


class DownloadRefused(Exception):
    """``status`` 404 (no such book or file: nothing revealed) or 403 (``reason`` says why)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Download:
    book: LibraryBook
    file: LibraryFile


def file_name(book: LibraryBook, fmt: str) -> str:
    """``<title>.<fmt>``, without path separators or control characters."""
    title = " ".join(_UNSAFE.sub(" ", book.title or "").split())[:120].strip(". ")
    return f"{title or f'book-{book.id}'}.{fmt}"


def check(session: Session, account: Any, book_id: int, fmt: str) -> Download:
    """The file ``account`` may download, or :class:`DownloadRefused`."""
    book = session.get(LibraryBook, book_id)
    if book is None or not can_see(account, book) or fmt not in MIMETYPES:
        raise DownloadRefused(404, _("没有这本书或这种格式的文件"))
    file = session.scalar(select(LibraryFile).where(LibraryFile.book_id == book.id,
                                                    LibraryFile.format == fmt))
    if file is None:
        raise DownloadRefused(404, _("没有这本书或这种格式的文件"))
    if not can_download(session, account, book):
        from unionhub.access import service as access

        if not access.can(account, "library.download"):
            raise DownloadRefused(403, _("您没有下载电子书文件的权限，请在线阅读"))
        raise DownloadRefused(403, _("这本书需要先借阅，借阅期间才可以下载"))
    return Download(book, file)


def _org_path(account: Any) -> str | None:
    member = getattr(account, "member", None)
    if member is None or member.status != MemberStatus.ACTIVE:
        return None
    return str(member.org.path)


def send(download: Download, account: Any, channel: str) -> Response:
    """The file as an attachment; audited when the whole file or its first bytes go out
    (a client resuming in ranges is not audited again for each range)."""
    path = storage.path_of("files", download.file.stored_name)
    if path is None or not path.is_file():
        raise DownloadRefused(404, _("文件暂时无法下载，请联系图书管理员"))
    fmt = download.file.format
    resp = send_file(path, mimetype=MIMETYPES[FileFormat(fmt)], as_attachment=True,
                     download_name=file_name(download.book, fmt), conditional=True, max_age=0)
    first_part = resp.status_code == 206 and request.range is not None \
        and request.range.ranges[0][0] == 0
    if resp.status_code == 200 or first_part:
        s = db.session()
        audit.record(AUDIT_ACTION, target_type="library_book", target_id=download.book.id,
                     org_path=_org_path(account), actor=account, session=s,
                     details={"format": fmt, "file_id": download.file.id,
                              "title": download.book.title[:100], "channel": channel})
        s.commit()
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.cache_control.private = True
    resp.cache_control.public = False
    resp.cache_control.no_store = True
    return resp
