"""Attachments of requests and documents.

Files are stored by content under ``<instance>/oa/files/<sha256[:2]>/<sha256>`` (the same file
attached twice is stored once; a file left by a rolled-back upload is harmless and reused).
Only office documents, PDF/OFD and images are accepted: the extension must be on the allow
list, the browser's content type must fit it, and the first bytes must be that format's —
so a renamed executable or HTML page is refused. The name shown is sanitised (no path, no
control characters); the stored path never comes from it.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, send_file
from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.db import utcnow
from unionhub.i18n import _
from unionhub.identity.models import Account

from .engine import EngineError, _record, _viewable
from .models import OaAttachment, RequestState

OWNERS = ("request", "document")
OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
ZIP = (b"PK\x03\x04",)
GENERIC = frozenset({"", "application/octet-stream", "binary/octet-stream"})
ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed"})
MAX_NAME = 200
DEFAULT_MAX_MB = 20


@dataclass(frozen=True)
class FileType:
    content_type: str
    magic: tuple[bytes, ...]
    aliases: frozenset[str] = frozenset()


_DOCX = "application/vnd.openxmlformats-officedocument."
ALLOWED: dict[str, FileType] = {
    "pdf": FileType("application/pdf", (b"%PDF-",), frozenset({"application/x-pdf"})),
    "ofd": FileType("application/ofd", ZIP, ZIP_TYPES),
    "doc": FileType("application/msword", OLE),
    "xls": FileType("application/vnd.ms-excel", OLE,
                    frozenset({"application/excel", "application/x-excel",
                               "application/x-msexcel"})),
    "ppt": FileType("application/vnd.ms-powerpoint", OLE),
    "wps": FileType("application/vnd.ms-works", OLE, frozenset({"application/kswps",
                                                                "application/wps-office.wps"})),
    "docx": FileType(_DOCX + "wordprocessingml.document", ZIP, ZIP_TYPES),
    "xlsx": FileType(_DOCX + "spreadsheetml.sheet", ZIP, ZIP_TYPES),
    "pptx": FileType(_DOCX + "presentationml.presentation", ZIP, ZIP_TYPES),
    "odt": FileType("application/vnd.oasis.opendocument.text", ZIP, ZIP_TYPES),
    "ods": FileType("application/vnd.oasis.opendocument.spreadsheet", ZIP, ZIP_TYPES),
    "odp": FileType("application/vnd.oasis.opendocument.presentation", ZIP, ZIP_TYPES),
    "png": FileType("image/png", (b"\x89PNG\r\n\x1a\n",), frozenset({"image/x-png"})),
    "jpg": FileType("image/jpeg", (b"\xff\xd8\xff",), frozenset({"image/pjpeg", "image/jpg"})),
    "jpeg": FileType("image/jpeg", (b"\xff\xd8\xff",), frozenset({"image/pjpeg", "image/jpg"})),
    "gif": FileType("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": FileType("image/webp", (b"RIFF",)),
}
ACCEPT = ",".join(f".{ext}" for ext in ALLOWED)
"""For ``<input type=file accept=…>``."""


def max_bytes() -> int:
    """The size limit (setting ``oa.attachment_max_mb``)."""
    from unionhub.settings import service as settings

    try:
        mb = int(settings.get("oa.attachment_max_mb") or DEFAULT_MAX_MB)
    except (KeyError, TypeError, ValueError):
        mb = DEFAULT_MAX_MB
    return max(mb, 1) * 1024 * 1024


def clean_filename(name: str) -> tuple[str, str]:
    """(a safe display name, its lower-case extension) for an uploaded file's name."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = " ".join(name.split()).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = ext.lower()
    stem = stem.strip(" .") or _("附件")
    room = MAX_NAME - (len(ext) + 1 if ext else 0)
    return (f"{stem[:room]}.{ext}" if ext else stem[:room]), ext


def _refuse(message: str) -> EngineError:
    return EngineError(message, {"file": message})


def check_file(filename: str, data: bytes, content_type: str | None) -> tuple[str, FileType]:
    """The clean name and type of an upload, or :class:`EngineError` saying what is wrong."""
    name, ext = clean_filename(filename)
    if not data:
        raise _refuse(_("文件“%(name)s”是空的", name=name))
    limit = max_bytes()
    if len(data) > limit:
        raise _refuse(_("文件“%(name)s”超过 %(mb)s MB 的上限", name=name,
                        mb=limit // (1024 * 1024)))
    ftype = ALLOWED.get(ext)
    if ftype is None:
        raise _refuse(_("不支持的文件类型“%(name)s”：只能上传 PDF、OFD、Office/WPS 文档和图片",
                        name=name))
    declared = (content_type or "").split(";", 1)[0].strip().lower()
    if declared not in GENERIC and declared != ftype.content_type \
            and declared not in ftype.aliases:
        raise _refuse(_("文件“%(name)s”的类型（%(type)s）与扩展名不符", name=name,
                        type=declared))
    if not any(data.startswith(m) for m in ftype.magic) or (
            ext == "webp" and data[8:12] != b"WEBP"):
        raise _refuse(_("文件“%(name)s”的内容不是 .%(ext)s 文件", name=name, ext=ext))
    return name, ftype


def path_of(app: Flask, attachment: OaAttachment) -> Path:
    """Where the attachment's bytes are."""
    sha = attachment.sha256
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise ValueError(f"not a sha256: {sha!r}")
    return Path(app.instance_path) / "oa" / "files" / sha[:2] / sha


def _store(sha: str, data: bytes) -> None:
    target = Path(current_app.instance_path) / "oa" / "files" / sha[:2] / sha
    if target.exists() and target.stat().st_size == len(data):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{sha}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def add(s: Session, account: Account, owner: str, owner_id: int, filename: str, data: bytes,
        content_type: str | None) -> OaAttachment:
    """Attach a file to a request (anyone who may see it, while it runs; recorded in its
    trail) or to a document (the documents feature checks who may)."""
    if owner not in OWNERS:
        raise ValueError(f"unknown attachment owner {owner!r}")
    request = None
    if owner == "request":
        request = _viewable(s, account, owner_id)
        if request.state != RequestState.RUNNING:
            raise _refuse(_("审批已经结束，不能再上传附件"))
    name, ftype = check_file(filename, data, content_type)
    sha = hashlib.sha256(data).hexdigest()
    _store(sha, data)
    att = OaAttachment(owner=owner, owner_id=owner_id, filename=name,
                       content_type=ftype.content_type, size=len(data), sha256=sha,
                       uploaded_by=account.id, created_at=utcnow())
    s.add(att)
    s.flush()
    if request is not None:
        _record(s, request, "attach", account.id, attachment=att.id, filename=name)
        s.flush()
    return att


def list_for(s: Session, owner: str, owner_id: int) -> list[OaAttachment]:
    return list(s.scalars(select(OaAttachment).where(
        OaAttachment.owner == owner, OaAttachment.owner_id == owner_id)
        .order_by(OaAttachment.id)))


def find(s: Session, owner: str, owner_id: int, attachment_id: int) -> OaAttachment | None:
    """The attachment ``attachment_id`` if it belongs to that owner (for download links)."""
    return s.scalar(select(OaAttachment).where(
        OaAttachment.id == attachment_id, OaAttachment.owner == owner,
        OaAttachment.owner_id == owner_id))


def describe(att: OaAttachment) -> dict[str, Any]:
    return {"id": att.id, "filename": att.filename, "content_type": att.content_type,
            "size": att.size}


__all__ = ["ACCEPT", "ALLOWED", "add", "check_file", "clean_filename", "describe", "find",
           "list_for", "max_bytes", "path_of"]


#: Types shown in the browser; everything else is downloaded as a file.
INLINE_IMAGES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def send(s: Session, owner: str, owner_id: int, attachment_id: int) -> Response:
    """The file of one attachment of a request or document the caller already may see (404
    when it is not that owner's), never sniffed, never cached by shared caches."""
    att = find(s, owner, owner_id, attachment_id) if 0 < attachment_id < 2**31 else None
    if att is None:
        abort(404)
    path = path_of(current_app, att)
    if not path.is_file():
        abort(404)
    image = att.content_type in INLINE_IMAGES
    response = send_file(path, mimetype=att.content_type if image else
                         "application/octet-stream", as_attachment=not image,
                         download_name=att.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
