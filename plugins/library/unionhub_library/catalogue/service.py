"""The catalogue's write side: books, their authors, files, covers and state.

Callers pass plain values (a form's fields, a spreadsheet row, an EPUB's metadata);
:func:`.fields.read_book` checks every field first and a :class:`CatalogueError` names each bad one
before anything is written. Nothing here commits: the caller does.

Counts shown on lists are kept on the rows: ``LibraryCategory.book_count`` and
``LibraryAuthor.book_count`` count *active* books (a hidden book counts nowhere). Every change
moves them with set-based ``UPDATE … SET book_count = book_count ± 1``; state and category
changes first lock the book's row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises
writers), and hiding is a conditional ``UPDATE … WHERE state <> 'hidden'``, so two officers
hiding the same book move the counts once. :func:`recount` recomputes them all (repair,
bulk seeding).

Every change queues the book for the search index (:data:`DOC`); the indexer re-reads the row
and leaves hidden books out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from unionhub.i18n import _
from unionhub.search import queue as search_queue
from unionhub.settings import service as settings

from ..models import (
    BookState,
    LibraryAuthor,
    LibraryBook,
    LibraryBookAuthor,
    LibraryCategory,
    LibraryFile,
    Licence,
)
from . import files
from .covers import THUMB_JOB, cover_jpeg
from .credits import Credit, credits_display
from .errors import CatalogueError, IngestError
from .fields import read_book
from .formats import FORMAT_LABELS, Inspected, inspect_file

DOC = "library.book"


def max_upload_bytes() -> int:
    return int(settings.get("library.upload_max_mb")) * 1024 * 1024


# -- counts --------------------------------------------------------------------------------


def _bump_category(session: Session, category_id: int, delta: int) -> None:
    session.execute(update(LibraryCategory).where(LibraryCategory.id == category_id)
                    .values(book_count=LibraryCategory.book_count + delta)
                    .execution_options(synchronize_session=False))


def _bump_authors(session: Session, author_ids: Iterable[int] | Select[Any], delta: int
                  ) -> None:
    ids = author_ids if isinstance(author_ids, Select) else list(author_ids)
    if isinstance(ids, list) and not ids:
        return
    session.execute(update(LibraryAuthor).where(LibraryAuthor.id.in_(ids))
                    .values(book_count=LibraryAuthor.book_count + delta)
                    .execution_options(synchronize_session=False))


def _authors_of(book_id: int) -> Select[Any]:
    return select(LibraryBookAuthor.author_id).where(LibraryBookAuthor.book_id == book_id)


def recount(session: Session) -> None:
    """Recompute every category's and author's count of active books: one set-based
    statement per table. Each counts the active books once (``GROUP BY`` in a derived
    table) and joins the counts to the rows by key (``UPDATE … FROM``, SQLite ≥ 3.33 and
    PostgreSQL); the left join gives 0 to a row with no active book. A correlated
    ``count(*)`` per row instead lets SQLite walk every active book for every author when
    it has no statistics (quadratic: minutes at 20,000 books)."""
    active = LibraryBook.state == BookState.ACTIVE
    per_category = (select(LibraryBook.category_id.label("key"),
                           func.count().label("n"))
                    .where(active).group_by(LibraryBook.category_id).subquery("counted"))
    per_author = (select(LibraryBookAuthor.author_id.label("key"), func.count().label("n"))
                  .join(LibraryBook, LibraryBook.id == LibraryBookAuthor.book_id)
                  .where(active).group_by(LibraryBookAuthor.author_id).subquery("counted"))
    for model, counts in ((LibraryCategory, per_category), (LibraryAuthor, per_author)):
        row = aliased(model, name="row")
        joined = (select(row.id.label("id"), func.coalesce(counts.c.n, 0).label("n"))
                  .outerjoin(counts, counts.c.key == row.id).subquery("fresh"))
        session.execute(update(model).where(model.id == joined.c.id)
                        .values(book_count=joined.c.n)
                        .execution_options(synchronize_session=False))


def _lock(session: Session, book: LibraryBook) -> LibraryBook:
    """Lock the book's row and refresh it (its state and category are current)."""
    locked = session.scalar(select(LibraryBook).where(LibraryBook.id == book.id)
                            .with_for_update().execution_options(populate_existing=True))
    if locked is None:
        raise CatalogueError({"book": _("这本书已不存在")})
    return locked


# -- authors -------------------------------------------------------------------------------


def _author_ids(session: Session, names: Sequence[str]) -> dict[str, int]:
    """Ids of ``names``, creating the missing authors (a concurrent creator of the same
    name wins: its row is used)."""
    found = dict(session.execute(select(LibraryAuthor.name, LibraryAuthor.id)
                                 .where(LibraryAuthor.name.in_(names))).all())
    for name in names:
        if name in found:
            continue
        try:
            with files.begin_nested(session):
                author = LibraryAuthor(name=name, book_count=0)
                session.add(author)
                session.flush()
                found[name] = author.id
        except IntegrityError:
            found[name] = session.scalar(select(LibraryAuthor.id)
                                         .where(LibraryAuthor.name == name))
    return found


def _link_authors(session: Session, book: LibraryBook, credits: Sequence[Credit]) -> set[int]:
    """Replace the book's credits; returns the author ids now linked."""
    roles: dict[str, list[str]] = {}
    for credit in credits:
        have = roles.setdefault(credit.name, [])
        if credit.role and credit.role not in have:
            have.append(credit.role)
    ids = _author_ids(session, list(roles))
    session.execute(delete(LibraryBookAuthor).where(LibraryBookAuthor.book_id == book.id)
                    .execution_options(synchronize_session=False))
    if roles:
        session.execute(insert(LibraryBookAuthor), [
            {"book_id": book.id, "author_id": ids[name],
             "role": ("、".join(rs))[:16] or None, "sort": i}
            for i, (name, rs) in enumerate(roles.items())])
    book.authors_display = credits_display(credits)[:300]
    return set(ids.values())


# -- books ---------------------------------------------------------------------------------


def _isbn_taken(session: Session, isbn: str, book_id: int | None = None) -> None:
    stmt = select(LibraryBook.id, LibraryBook.title).where(LibraryBook.isbn == isbn)
    if book_id is not None:
        stmt = stmt.where(LibraryBook.id != book_id)
    other = session.execute(stmt).first()
    if other is not None:
        raise CatalogueError({"isbn": _(
            "ISBN %(isbn)s 已被馆藏图书《%(title)s》（编号 %(id)s）使用，同一 ISBN 只能登记一次",
            isbn=isbn, title=other.title, id=other.id)})


def _category_exists(session: Session, category_id: int) -> None:
    if session.get(LibraryCategory, category_id) is None:
        raise CatalogueError({"category_id": _("所选分类不存在")})


def _save(session: Session, change: Callable[[], None], isbn: str | None) -> None:
    """Apply ``change`` and flush inside a savepoint, turning a lost race on the unique
    ISBN into the same clear message as the check before it."""
    try:
        with files.begin_nested(session):
            change()
            session.flush()
    except IntegrityError:
        if isbn:
            _isbn_taken(session, isbn)
            raise CatalogueError({"isbn": _("ISBN %(isbn)s 已被其他图书使用", isbn=isbn)}) \
                from None
        raise


def create_book(session: Session, values: Mapping[str, Any], *, owner_org_id: int,
                account_id: int | None) -> LibraryBook:
    """Add an active book (fields as :func:`read_book` reads them)."""
    v = read_book(values)
    _category_exists(session, v["category_id"])
    if v["isbn"]:
        _isbn_taken(session, v["isbn"])
    credits = v.pop("authors")
    book = LibraryBook(**v, owner_org_id=owner_org_id, created_by=account_id,
                       state=BookState.ACTIVE, copies_out=0, read_count=0, authors_display="")
    _save(session, lambda: session.add(book), v["isbn"])
    author_ids = _link_authors(session, book, credits)
    _bump_category(session, book.category_id, +1)
    _bump_authors(session, author_ids, +1)
    touch_search(session, [book.id])
    return book


def update_book(session: Session, book: LibraryBook, values: Mapping[str, Any], *,
                partial: bool = False, owner_org_id: int | None = None) -> LibraryBook:
    """Change a book's fields (all of them, or with ``partial`` those in ``values``),
    moving the counts when an active book changes class or credits."""
    v = read_book(values, partial=partial)
    book = _lock(session, book)
    if v.get("category_id") is not None and v["category_id"] != book.category_id:
        _category_exists(session, v["category_id"])
    if v.get("isbn"):
        _isbn_taken(session, v["isbn"], book.id)
    if v.get("licence", book.licence) == Licence.LENT:
        copies = v.get("copies", book.copies)
        if copies < 1:
            raise CatalogueError({"copies": _("借阅图书的复本数至少为 1")})
        if copies < book.copies_out:
            raise CatalogueError({"copies": _("复本数不能少于当前借出的 %(n)s 册",
                                              n=book.copies_out)})
    active = book.state == BookState.ACTIVE
    credits = v.pop("authors", None)
    old_category = book.category_id

    def change() -> None:
        for key, value in v.items():
            setattr(book, key, value)
        if owner_org_id is not None:
            book.owner_org_id = owner_org_id

    _save(session, change, v.get("isbn"))
    if active and book.category_id != old_category:
        _bump_category(session, old_category, -1)
        _bump_category(session, book.category_id, +1)
    if credits is not None:
        before = set(session.scalars(_authors_of(book.id)))
        after = _link_authors(session, book, credits)
        if active:
            _bump_authors(session, before - after, -1)
            _bump_authors(session, after - before, +1)
    touch_search(session, [book.id])
    return book


def set_state(session: Session, book: LibraryBook, state: str) -> bool:
    """Hide (``hidden``) or put back (``active``) a book; returns whether it changed. The
    counts move only for the request that actually changed the state."""
    if state not in (BookState.ACTIVE, BookState.HIDDEN):
        raise CatalogueError({"state": _("未知的状态")})
    book = _lock(session, book)
    changed = session.execute(
        update(LibraryBook).where(LibraryBook.id == book.id, LibraryBook.state != state)
        .values(state=state).execution_options(synchronize_session=False)).rowcount
    if not changed:
        return False
    delta = +1 if state == BookState.ACTIVE else -1
    _bump_category(session, book.category_id, delta)
    _bump_authors(session, _authors_of(book.id), delta)
    session.expire(book, ["state", "updated_at"])
    touch_search(session, [book.id])
    return True


def touch_search(session: Session, book_ids: Iterable[int]) -> None:
    """Queue books for (re)indexing, committed with the caller's transaction."""
    search_queue.enqueue(session, DOC, list(book_ids))


# -- files ---------------------------------------------------------------------------------


def find_duplicate_file(session: Session, sha256: str) -> tuple[int, str] | None:
    """(book id, title) of the book already holding a file with this content."""
    row = session.execute(select(LibraryBook.id, LibraryBook.title)
                          .join(LibraryFile, LibraryFile.book_id == LibraryBook.id)
                          .where(LibraryFile.sha256 == sha256).limit(1)).first()
    return (row.id, row.title) if row else None


def refuse_duplicate_file(session: Session, data: bytes) -> str:
    """The SHA-256 of ``data``; :class:`IngestError` when that file is already catalogued
    (importing the same file twice adds nothing)."""
    digest = hashlib.sha256(data).hexdigest()
    duplicate = find_duplicate_file(session, digest)
    if duplicate is not None:
        raise IngestError.file(_("这个文件已在馆藏中：《%(title)s》（编号 %(id)s）",
                                 title=duplicate[1], id=duplicate[0]))
    return digest


def attach_file(session: Session, book: LibraryBook, data: bytes, filename: str,
                inspected: Inspected, *, replace: bool = False) -> LibraryFile:
    """Store an already inspected file as the book's file of its format."""
    digest = refuse_duplicate_file(session, data)
    existing = session.scalar(select(LibraryFile).where(
        LibraryFile.book_id == book.id, LibraryFile.format == inspected.format))
    if existing is not None and not replace:
        raise IngestError.file(_("这本书已有 %(fmt)s 文件；每种格式只能有一个文件",
                                 fmt=FORMAT_LABELS[inspected.format]))
    stored = files.store(session, "files", inspected.format, data)
    original = (filename.replace("\\", "/").rsplit("/", 1)[-1].strip() or "book")[-255:]
    if existing is not None:
        files.delete_after_commit(session, "files", existing.stored_name)
        existing.stored_name, existing.original_name = stored, original
        existing.size, existing.sha256, existing.meta = len(data), digest, inspected.meta
        row = existing
    else:
        row = LibraryFile(book_id=book.id, format=inspected.format, stored_name=stored,
                          original_name=original, size=len(data), sha256=digest,
                          meta=inspected.meta)
        session.add(row)
    session.flush()
    touch_search(session, [book.id])
    return row


def add_file(session: Session, book: LibraryBook, data: bytes, filename: str, *,
             replace: bool = False, use_cover: bool = True) -> LibraryFile:
    """Check and add a file in another format to ``book`` (``replace`` swaps the file of
    that format). When the book has no cover yet and the file holds one, it becomes the
    cover. :class:`IngestError` when refused; nothing is stored then."""
    inspected = inspect_file(data, filename, max_upload_bytes())
    with files.savepoint(session):
        row = attach_file(session, book, data, filename, inspected, replace=replace)
        cover_set = use_cover and not book.cover_name and try_file_cover(session, book,
                                                                          inspected)
    if cover_set:
        queue_thumbnail(session, book)
    return row


# -- covers --------------------------------------------------------------------------------


def store_cover(session: Session, book: LibraryBook, data: bytes) -> str:
    """Check, re-encode and store ``data`` as the book's cover (the old cover and thumbnail
    are deleted once this commits). The thumbnail is queued by :func:`queue_thumbnail`."""
    jpeg = cover_jpeg(data)
    name = files.store(session, "covers", "jpg", jpeg)
    files.delete_after_commit(session, "covers", book.cover_name)
    files.delete_after_commit(session, "thumbs", book.thumb_name)
    book.cover_name, book.thumb_name = name, None
    session.flush()
    touch_search(session, [book.id])
    return name


def try_file_cover(session: Session, book: LibraryBook, inspected: Inspected) -> bool:
    """Use the cover found in a book file when it is an acceptable image (a file whose
    cover is broken is still accepted, without a cover)."""
    if inspected.cover is None:
        return False
    try:
        store_cover(session, book, inspected.cover[0])
    except CatalogueError:
        return False
    return True


def queue_thumbnail(session: Session, book: LibraryBook) -> None:
    """Queue the thumbnail job for the book's current cover (once per cover)."""
    from unionhub.jobs import service as jobs

    if book.cover_name:
        jobs.submit(THUMB_JOB, {"book_id": book.id}, session=session,
                    dedup_key=f"library.thumb:{book.cover_name}")


def set_cover(session: Session, book: LibraryBook, data: bytes) -> str:
    """Replace the book's cover with an uploaded image and queue its thumbnail."""
    with files.savepoint(session):
        name = store_cover(session, book, data)
    queue_thumbnail(session, book)
    return name


