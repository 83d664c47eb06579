"""Ingest: one uploaded book file → a catalogued book (or one more file of a book).

The file is checked first (:func:`.formats.inspect_file`: format, hostile-zip bounds, XML
without entities, PDF readable and not encrypted, TXT decodable), then the book is created,
its file and cover stored and its thumbnail queued — all inside one savepoint that also takes
back the stored files when anything fails, so a refused file leaves no row and no file.

Metadata comes from the file (an EPUB's Dublin Core: title, creators, publisher, date,
language, ISBN, description, subjects; a PDF's document info) and is overridden field by field
by ``overrides`` from the upload form or the bulk-import spreadsheet. The file's own values are
taken leniently (too long → cut, invalid language or year → dropped) since the uploader cannot
fix them; the overrides are checked strictly, as the uploader typed them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from ..models import LibraryBook, Licence
from . import files
from .credits import parse_credits, split_tags
from .errors import CatalogueError, IngestError
from .fields import (
    LANGUAGE,
    MAX_AUTHOR,
    MAX_AUTHORS,
    MAX_PUBLISHER,
    MAX_SUMMARY,
    MAX_TAG,
    MAX_TAGS_TEXT,
    MAX_TITLE,
)
from .formats import inspect_file
from .service import (
    attach_file,
    create_book,
    max_upload_bytes,
    queue_thumbnail,
    refuse_duplicate_file,
    try_file_cover,
    update_book,
)

__all__ = ["IngestError", "ingest_bytes"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clip(text: str | None, limit: int) -> str | None:
    if not text:
        return None
    text = _CONTROL.sub("", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or None


def file_values(found: Mapping[str, Any], current_year: int) -> dict[str, Any]:
    """A file's own metadata made acceptable: what cannot be kept is cut or dropped."""
    out: dict[str, Any] = {}
    if title := _clip(" ".join(str(found.get("title") or "").split()), MAX_TITLE):
        out["title"] = title
    names = [c for c in parse_credits([str(a) for a in found.get("authors") or []])
             if len(c.name) <= MAX_AUTHOR][:MAX_AUTHORS]
    if names:
        out["authors"] = names
    if publisher := _clip(found.get("publisher"), MAX_PUBLISHER):
        out["publisher"] = publisher
    year = found.get("year")
    if isinstance(year, int) and 1000 <= year <= current_year + 1:
        out["year"] = year
    language = str(found.get("language") or "").strip()
    if LANGUAGE.match(language) and len(language) <= 16:
        out["language"] = language
    if found.get("isbn"):
        out["isbn"] = found["isbn"]
    if summary := _clip(found.get("summary"), MAX_SUMMARY):
        out["summary"] = summary
    tags: list[str] = []
    for tag in split_tags([_CONTROL.sub("", str(t)) for t in found.get("tags") or []]):
        if len(tag) <= MAX_TAG and len(",".join([*tags, tag])) <= MAX_TAGS_TEXT:
            tags.append(tag)
    if tags:
        out["tags"] = tags
    return out


def _given(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != ()


def _stem(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rpartition(".")[0] if "." in base else base


def ingest_bytes(session: Session, data: bytes, filename: str, *, owner_org_id: int,
                 account_id: int | None, category_id: int | None = None,
                 overrides: Mapping[str, Any] | None = None, licence: str = Licence.OPEN,
                 copies: int = 0, into: LibraryBook | None = None) -> LibraryBook:
    """Check ``data`` (named ``filename``) and catalogue it; returns the book.

    Without ``into`` a new active book is created, owned by ``owner_org_id``, with the
    file's metadata overridden by ``overrides`` (book fields as in
    :func:`.fields.read_book`: ``title``, ``authors``, ``isbn`` …; ``category_id``,
    ``licence`` and ``copies`` fall back to the arguments). With ``into`` the file is added
    to that book and only the given overrides change it. The file's cover becomes the
    book's cover when the book has none; its thumbnail is queued. The caller commits.

    Raises :class:`IngestError` (``errors`` by field, ``file`` for the file itself) and then
    nothing is stored: no row, no file on disk.
    """
    from datetime import date

    inspected = inspect_file(data, filename, max_upload_bytes())
    refuse_duplicate_file(session, data)
    given = {k: v for k, v in (overrides or {}).items() if _given(v)}
    try:
        with files.savepoint(session):
            if into is None:
                values: dict[str, Any] = {
                    "title": _stem(filename)[:MAX_TITLE],
                    **file_values(inspected.book, date.today().year),
                    "category_id": category_id, "licence": licence, "copies": copies,
                    **given}
                book = create_book(session, values, owner_org_id=owner_org_id,
                                   account_id=account_id)
            else:
                book = into
                if given:
                    update_book(session, book, given, partial=True)
            attach_file(session, book, data, filename, inspected)
            cover_set = not book.cover_name and try_file_cover(session, book, inspected)
    except IngestError:
        raise
    except CatalogueError as exc:
        raise IngestError(exc.errors) from None
    if cover_set:
        queue_thumbnail(session, book)
    return book
