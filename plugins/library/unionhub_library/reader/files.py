"""Which of a book's files the reader opens, how many positions it has and its contents.

A position is a spine index for an EPUB and a 0-based page for a PDF or a TXT, as in
:class:`~unionhub_library.models.LibraryProgress`. Counts and the table of contents come from
``LibraryFile.meta`` (written at ingest), so a reader page does not reopen the file for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unionhub.i18n import _

from .. import storage
from ..models import FileFormat, LibraryBook, LibraryFile

#: The format opened when the reader has no saved progress and asks for none.
PREFERRED = (FileFormat.EPUB, FileFormat.PDF, FileFormat.TXT)
FORMAT_LABELS = {FileFormat.EPUB: "EPUB", FileFormat.PDF: "PDF", FileFormat.TXT: "TXT"}


@dataclass(frozen=True)
class TocItem:
    title: str
    position: int
    fragment: str | None
    level: int


def readable_files(book: LibraryBook) -> list[LibraryFile]:
    """The book's files the reader can show, in :data:`PREFERRED` order."""
    files = {f.format: f for f in book.files}
    return [files[fmt] for fmt in PREFERRED if fmt in files]


def choose(book: LibraryBook, wanted: str | None = None,
           saved: str | None = None) -> LibraryFile | None:
    """The file to open: the format asked for, else the one last read, else the preferred."""
    files = {f.format: f for f in readable_files(book)}
    for fmt in (wanted, saved):
        if fmt and fmt in files:
            return files[fmt]
    return next(iter(files.values()), None)


def path_of(file: LibraryFile) -> Path | None:
    path = storage.path_of("files", file.stored_name)
    return path if path is not None and path.is_file() else None


def spine(file: LibraryFile) -> list[dict[str, Any]]:
    return [s for s in (file.meta or {}).get("spine", []) if isinstance(s, dict)]


def total(file: LibraryFile) -> int:
    """How many positions (chapters or pages) the file has."""
    if file.format == FileFormat.EPUB:
        return len(spine(file))
    pages = (file.meta or {}).get("pages")
    return pages if isinstance(pages, int) and pages > 0 else 0


def position_title(file: LibraryFile, position: int) -> str:
    if file.format == FileFormat.EPUB:
        items = spine(file)
        title = items[position].get("title") if 0 <= position < len(items) else None
        return str(title) if title else _("第 %(n)s 章", n=position + 1)
    return _("第 %(n)s 页", n=position + 1)


def toc(file: LibraryFile) -> list[TocItem]:
    """An EPUB's table of contents with spine positions (entries pointing outside the
    spine are left out); for a book without one, its chapters. PDF and TXT: none."""
    if file.format != FileFormat.EPUB:
        return []
    index = {str(s.get("href")): i for i, s in enumerate(spine(file))}
    out: list[TocItem] = []
    for entry in (file.meta or {}).get("toc", []):
        if not isinstance(entry, dict) or entry.get("href") not in index:
            continue
        level = entry.get("level")
        out.append(TocItem(str(entry.get("title") or "")[:200], index[entry["href"]],
                           entry.get("fragment") or None,
                           level if isinstance(level, int) and 0 < level < 10 else 1))
    if not out:
        out = [TocItem(position_title(file, i), i, None, 1) for i in range(total(file))]
    return out


def percent(position: int, offset: float, count: int) -> float:
    """Through the whole book (0–1): chapters or pages done plus the share of this one."""
    if count <= 0:
        return 0.0
    return round(min(max((position + min(max(offset, 0.0), 1.0)) / count, 0.0), 1.0), 4)
