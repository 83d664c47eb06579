"""Images and files attached to an article.

An upload is accepted when its extension is one of :data:`TYPES` **and** its first bytes are
what that type starts with (Office documents: the OLE2 header, or a ZIP holding the part that
makes it a Word, Excel or PowerPoint file; text: valid UTF-8 or GB18030 without control
characters), within the ``portal.attachment_max_mb`` setting. Files live under
``<instance>/portal/attachments/`` with a random name and are served only through
``/portal/attachments/<id>`` to those who may read the article (see :mod:`.views`), so a name
is never a capability.
"""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from unionhub.i18n import _
from unionhub.settings import service as settings

from ..models import PortalArticle, PortalAttachment
from .service import ArticleError, editable_problem, set_cover, touch_search

#: extension → (kind, content type)
TYPES: dict[str, tuple[str, str]] = {
    "png": ("image", "image/png"), "jpg": ("image", "image/jpeg"),
    "jpeg": ("image", "image/jpeg"), "gif": ("image", "image/gif"),
    "webp": ("image", "image/webp"),
    "pdf": ("file", "application/pdf"),
    "doc": ("file", "application/msword"),
    "docx": ("file", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xls": ("file", "application/vnd.ms-excel"),
    "xlsx": ("file", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "ppt": ("file", "application/vnd.ms-powerpoint"),
    "pptx": ("file",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    "zip": ("file", "application/zip"),
    "txt": ("file", "text/plain; charset=utf-8"),
}
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The part an Office Open XML package of each type must hold.
OOXML_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml",
              "pptx": "ppt/presentation.xml"}
STORED_NAME = re.compile(r"^[0-9a-f]{32}\.[a-z]{3,4}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
ACCEPT = ",".join(f".{ext}" for ext in TYPES)


def max_bytes() -> int:
    return int(settings.get("portal.attachment_max_mb")) * 1024 * 1024


def _zip_names(data: bytes) -> set[str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return set(z.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None


def _is_text(data: bytes) -> bool:
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return not _CONTROL.search(text)
    return False


def sniff(ext: str, data: bytes) -> bool:
    """Whether ``data`` really is a file of type ``ext`` (by its magic bytes)."""
    if ext == "png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in ("jpg", "jpeg"):
        return data.startswith(b"\xff\xd8\xff")
    if ext == "gif":
        return data[:6] in (b"GIF87a", b"GIF89a")
    if ext == "webp":
        return len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if ext == "pdf":
        return data.startswith(b"%PDF-")
    if ext in ("doc", "xls", "ppt"):
        return data.startswith(OLE2)
    if ext in OOXML_PART:
        names = _zip_names(data) if data.startswith(b"PK\x03\x04") else None
        return names is not None and OOXML_PART[ext] in names
    if ext == "zip":
        return data.startswith((b"PK\x03\x04", b"PK\x05\x06")) and _zip_names(data) is not None
    if ext == "txt":
        return _is_text(data)
    return False


def clean_filename(name: str) -> str:
    """The uploaded file's own name (no folders, no control characters, at most 200)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base)
                   if unicodedata.category(c)[0] != "C").strip().strip(".")
    if len(base) > 200:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 199 - len(ext)] + dot + ext) if dot and len(ext) <= 10 else base[:200]
    return base


def folder() -> Path:
    return Path(current_app.instance_path) / "portal" / "attachments"


def path_of(attachment: PortalAttachment) -> Path | None:
    """Where an attachment's file lives (None for a stored name this module never makes)."""
    if not STORED_NAME.match(attachment.stored_name):
        return None
    return folder() / attachment.stored_name


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def add(session: Session, account: Any, article: PortalArticle, upload: Upload
        ) -> PortalAttachment:
    """Check and store one upload; :class:`ArticleError` (``file``) names what is wrong."""
    problem = editable_problem(session, account, article)
    if problem:
        raise ArticleError({"state": problem})
    filename = clean_filename(upload.filename)
    ext = filename.rpartition(".")[2].lower() if "." in filename else ""
    if not filename or ext not in TYPES:
        raise ArticleError({"file": _(
            "不支持的文件类型：只能上传图片（PNG、JPEG、GIF、WebP）或 PDF、Word、Excel、"
            "PowerPoint、ZIP、TXT 文件")})
    if not upload.data:
        raise ArticleError({"file": _("文件“%(name)s”是空的", name=filename)})
    limit = max_bytes()
    if len(upload.data) > limit:
        raise ArticleError({"file": _("文件“%(name)s”超过 %(mb)s MB 的上限", name=filename,
                                      mb=limit // (1024 * 1024))})
    if not sniff(ext, upload.data):
        raise ArticleError({"file": _(
            "文件“%(name)s”的内容与扩展名 .%(ext)s 不符，未上传", name=filename, ext=ext)})
    kind, content_type = TYPES[ext]
    stored = f"{secrets.token_hex(16)}.{ext}"
    target = folder()
    target.mkdir(parents=True, exist_ok=True)
    (target / stored).write_bytes(upload.data)
    attachment = PortalAttachment(
        article_id=article.id, kind=kind, filename=filename, stored_name=stored,
        content_type=content_type, size=len(upload.data),
        sha256=hashlib.sha256(upload.data).hexdigest(), created_by=getattr(account, "id", None))
    session.add(attachment)
    session.flush()
    touch_search(session, [article.id])
    return attachment


def of_article(session: Session, article_id: int) -> list[PortalAttachment]:
    return list(session.scalars(select(PortalAttachment)
                                .where(PortalAttachment.article_id == article_id)
                                .order_by(PortalAttachment.kind.desc(), PortalAttachment.id)))


def make_cover(session: Session, account: Any, article: PortalArticle,
               attachment: PortalAttachment, seen: int) -> None:
    """Use an image of the article as its cover (a new revision)."""
    if attachment.article_id != article.id or attachment.kind != "image":
        raise ArticleError({"file": _("只有本文的图片可以设为封面")})
    set_cover(session, account, article, attachment.id, seen, _("设置封面"))


def remove(session: Session, account: Any, article: PortalArticle,
           attachment: PortalAttachment, seen: int) -> Path | None:
    """Delete an attachment (clearing the cover when it was the cover: a new revision).
    Returns the file to delete once the transaction has committed."""
    problem = editable_problem(session, account, article)
    if problem:
        raise ArticleError({"state": problem})
    if article.cover_id == attachment.id:
        set_cover(session, account, article, None, seen, _("删除封面图片"))
    path = path_of(attachment)
    session.delete(attachment)
    session.flush()
    touch_search(session, [article.id])
    return path


def count_download(session: Session, attachment_id: int) -> None:
    """One more download, counted in SQL (concurrent downloads all count)."""
    session.execute(update(PortalAttachment).where(PortalAttachment.id == attachment_id)
                    .values(downloads=PortalAttachment.downloads + 1)
                    .execution_options(synchronize_session=False))


def downloads_total(session: Session, article_id: int) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(PortalAttachment.downloads), 0))
                              .where(PortalAttachment.article_id == article_id)) or 0)
