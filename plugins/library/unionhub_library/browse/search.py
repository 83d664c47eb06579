"""Books in the core search (tab 图书): title, authors, summary, tags, publisher and ISBN,
segmented by the core's Chinese analyzer like every other document.

The catalogue is public, so an active book's document is readable by everyone (``public``);
a hidden book yields no document at all, so a queued update of a book just hidden deletes it
from the index. Each document carries ``category:<id>`` for its class and every class above
it: a search limited to a class finds the books of its sub-classes too.

The catalogue service queues an update (:func:`queue_books`) in the transaction of every
edit, upload, hiding or deletion; the core's writer applies the queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from unionhub.search.acl import PUBLIC
from unionhub.search.queue import enqueue
from unionhub.search.types import SearchDocument, SearchIndexer

from ..models import BookState, LibraryAuthor, LibraryBook, LibraryBookAuthor, LibraryCategory

BOOK_DOC = "library.book"
BATCH = 500
#: The searchable text is bounded (a summary can be long).
MAX_BODY = 5000


def category_tag(category_id: int) -> str:
    return f"category:{int(category_id)}"


def queue_books(session: Session, book_ids: Iterable[int]) -> int:
    """Queue the books for re-indexing (committed with the caller's transaction)."""
    return enqueue(session, BOOK_DOC, sorted(set(book_ids)))


def book_path(book_id: int) -> str:
    """The book's page (a path: the search page adds nothing to it)."""
    return f"/library/book/{book_id}"


def _lineage(parents: dict[int, int | None], category_id: int) -> list[int]:
    """The class and the classes above it."""
    out: list[int] = []
    current: int | None = category_id
    while current is not None and current not in out and len(out) < 50:
        out.append(current)
        current = parents.get(current)
    return out


def book_document(book: LibraryBook, authors: Sequence[str],
                  lineage: Sequence[int]) -> SearchDocument:
    # the summary first (a hit's excerpt is its start unless the match is further on), cut
    # so that the credits always stay searchable
    names = [book.authors_display, *(a for a in authors if a not in book.authors_display)]
    credits = " · ".join(c for c in (" ".join(n for n in names if n), book.publisher,
                                     " ".join(book.tag_list), book.isbn) if c)
    summary = (book.summary or "")[:max(0, MAX_BODY - len(credits) - 1)]
    body = "\n".join(p for p in (summary, credits) if p)
    title = f"{book.title}：{book.subtitle}" if book.subtitle else book.title
    return SearchDocument(
        doc_id=str(book.id),
        title=title,
        url=book_path(book.id),
        acl=(PUBLIC,),
        body=body,
        updated_at=book.updated_at,
        tags=tuple(category_tag(c) for c in lineage),
    )


def _documents_for(session: Session, ids: Sequence[int],
                   parents: dict[int, int | None]) -> Iterator[SearchDocument]:
    books = list(session.scalars(select(LibraryBook).where(
        LibraryBook.id.in_(ids), LibraryBook.state == BookState.ACTIVE)
        .order_by(LibraryBook.id)))
    if not books:
        return
    authors: dict[int, list[str]] = {}
    for book_id, name in session.execute(
            select(LibraryBookAuthor.book_id, LibraryAuthor.name)
            .join(LibraryAuthor, LibraryAuthor.id == LibraryBookAuthor.author_id)
            .where(LibraryBookAuthor.book_id.in_([b.id for b in books]))
            .order_by(LibraryBookAuthor.book_id, LibraryBookAuthor.sort)):
        authors.setdefault(book_id, []).append(name)
    for book in books:
        yield book_document(book, authors.get(book.id, []), _lineage(parents, book.category_id))


def documents(session: Session, ids: Sequence[str] | None) -> Iterator[SearchDocument]:
    """Every active book (``ids`` None: read in id order, :data:`BATCH` at a time) or the
    listed ones that are still active."""
    parents: dict[int, int | None] = {
        cid: parent for cid, parent in session.execute(
            select(LibraryCategory.id, LibraryCategory.parent_id))}
    if ids is not None:
        wanted = sorted({int(i) for i in ids if i.isdigit() and len(i) <= 12})
        for start in range(0, len(wanted), BATCH):
            yield from _documents_for(session, wanted[start:start + BATCH], parents)
        return
    last = 0
    while True:
        batch = list(session.scalars(select(LibraryBook.id).where(
            LibraryBook.id > last, LibraryBook.state == BookState.ACTIVE)
            .order_by(LibraryBook.id).limit(BATCH)))
        if not batch:
            return
        last = batch[-1]
        yield from _documents_for(session, batch, parents)


def count(session: Session) -> int:
    return int(session.scalar(select(func.count(LibraryBook.id)).where(
        LibraryBook.state == BookState.ACTIVE)) or 0)


def indexers() -> list[SearchIndexer]:
    return [SearchIndexer(BOOK_DOC, "图书", documents, count=count, priority=40)]
