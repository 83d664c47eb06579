"""The catalogue's read side: what the public pages, the app API and the home-page blocks
list. Only active books appear here (hidden ones are for the catalogue managers' pages).

Every list is cheap at 200,000 books:

- it reads the page's keys along one index — ``ix_library_book_new`` (state,
  created_at, id), ``ix_library_book_popular`` (state, read_count, id),
  ``ix_library_book_category`` (category_id, state, created_at, id) or
  ``ix_library_book_author_author`` (author_id, book_id) — and stops after the page, and
  the same statement joins just those rows by primary key (the keys are a derived table;
  the page's few rows are put back in the list's order here, so nothing is sorted by the
  database and an offset walks index entries, not rows);
- pages go no deeper than :data:`MAX_PAGE`, so an offset walks at most
  ``MAX_PAGE * per_page`` index entries;
- totals come from the counts kept on the rows (``LibraryCategory.book_count``,
  ``LibraryAuthor.book_count``), never from a ``COUNT(*)``.

A class's page lists the books of the class and of its sub-classes: each class of the
subtree is read along ``ix_library_book_category`` (no sort: the index is in the page's
order) and the keys are merged here, like the portal's section lists.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from unionhub.web.pagination import PageMath

from ..models import BookState, LibraryAuthor, LibraryBook, LibraryBookAuthor, LibraryCategory
from .classes import class_tree

#: Books per list page, and the deepest page a list goes to (beyond it: search).
PER_PAGE = 24
MAX_PAGE = 100
#: Books in each block of the library's home page.
HOME_BLOCK = 12


def active() -> ColumnElement[bool]:
    return LibraryBook.state == BookState.ACTIVE


def clamp_page(raw: Any) -> int:
    """A page number from a query string: 1 … :data:`MAX_PAGE` (junk → 1)."""
    try:
        page = int(raw)
    except (TypeError, ValueError):
        return 1
    return max(1, min(page, MAX_PAGE))


@dataclass
class BookPage(PageMath):
    """One page of a list. ``total`` is the kept count (it may lag the rows a little);
    ``more`` says a row exists after this page, whatever the count says."""

    items: list[LibraryBook] = field(default_factory=list)
    page: int = 1
    per_page: int = PER_PAGE
    total: int = 0
    more: bool = False
    max_page: int = MAX_PAGE

    @property
    def pages(self) -> int:
        by_count = -(-self.total // self.per_page)
        return max(1, min(self.max_page, max(by_count, self.page + (1 if self.more else 0))))

    @property
    def has_next(self) -> bool:
        return self.more and self.page < self.max_page


def _page(session: Session, keys: Sequence[int], page: int, per_page: int,
          total: int) -> BookPage:
    """The page out of ``keys`` (the ids of this page plus, when there is one, the next
    row's), loaded by primary key in the keys' order."""
    more = len(keys) > per_page
    ids = list(keys[:per_page])
    rows = {b.id: b for b in session.scalars(select(LibraryBook).where(
        LibraryBook.id.in_(ids)))} if ids else {}
    items = [rows[i] for i in ids if i in rows]
    return BookPage(items=items, page=page, per_page=per_page, total=total, more=more)


def _joined_page(session: Session, keys: Select[Any], order: Callable[[LibraryBook], Any],
                 page: int, per_page: int, total: int) -> BookPage:
    """The page whose keys ``keys`` selects (an ``id`` column, the page plus one row, in
    the list's order): one statement — the keys as a derived table joined to the rows by
    primary key — and the rows put back in order by ``order`` (descending)."""
    found = keys.subquery("page_keys")
    rows = sorted(session.scalars(select(LibraryBook).join(found, LibraryBook.id == found.c.id)),
                  key=order, reverse=True)
    return BookPage(items=rows[:per_page], page=page, per_page=per_page, total=total,
                    more=len(rows) > per_page)


def _by_new(book: LibraryBook) -> tuple[datetime, int]:
    return book.created_at, book.id


def _by_reads(book: LibraryBook) -> tuple[int, int]:
    return book.read_count, book.id


def _window(page: int, per_page: int) -> tuple[int, int]:
    """(offset, limit): the page plus one row to know whether another page follows."""
    page = max(1, min(page, MAX_PAGE))
    return (page - 1) * per_page, per_page + 1


# --- totals -----------------------------------------------------------------------------------


def active_total(session: Session) -> int:
    """Active books in the catalogue (the sum of the classes' kept counts)."""
    return int(session.scalar(select(func.coalesce(func.sum(LibraryCategory.book_count), 0)))
               or 0)


# --- new and popular --------------------------------------------------------------------------


def new_keys(offset: int, limit: int) -> Select[tuple[int]]:
    """Ids of active books, newest first, along ``ix_library_book_new``."""
    return (select(LibraryBook.id).where(active())
            .order_by(LibraryBook.created_at.desc(), LibraryBook.id.desc())
            .offset(offset).limit(limit))


def popular_keys(offset: int, limit: int) -> Select[tuple[int]]:
    """Ids of active books, most read first, along ``ix_library_book_popular``."""
    return (select(LibraryBook.id).where(active())
            .order_by(LibraryBook.read_count.desc(), LibraryBook.id.desc())
            .offset(offset).limit(limit))


def new_books(session: Session, page: int = 1, per_page: int = PER_PAGE) -> BookPage:
    return _joined_page(session, new_keys(*_window(page, per_page)), _by_new,
                        clamp_page(page), per_page, active_total(session))


def popular_books(session: Session, page: int = 1, per_page: int = PER_PAGE) -> BookPage:
    return _joined_page(session, popular_keys(*_window(page, per_page)), _by_reads,
                        clamp_page(page), per_page, active_total(session))


def latest(session: Session, limit: int = HOME_BLOCK) -> list[LibraryBook]:
    """The newest active books (home page and widgets)."""
    return new_books(session, 1, limit).items


def most_read(session: Session, limit: int = HOME_BLOCK) -> list[LibraryBook]:
    """The most read active books that have been read at all."""
    return [b for b in popular_books(session, 1, limit).items if b.read_count > 0]


# --- classes ------------------------------------------------------------------------------------


@dataclass
class CategoryNode:
    """A class with its sub-classes and the active books of its whole subtree."""

    category: LibraryCategory
    children: list[CategoryNode] = field(default_factory=list)
    total: int = 0


def category_tree(session: Session) -> list[CategoryNode]:
    """Every class, as a tree in class-mark order, with subtree totals (one query: the
    table holds the classes in use, hundreds of rows, not books)."""
    rows = list(session.scalars(select(LibraryCategory).order_by(
        LibraryCategory.sort, LibraryCategory.code)))
    nodes = {c.id: CategoryNode(c, total=c.book_count) for c in rows}
    roots: list[CategoryNode] = []
    for c in rows:
        parent = nodes.get(c.parent_id) if c.parent_id is not None else None
        (parent.children if parent is not None else roots).append(nodes[c.id])

    def add_up(node: CategoryNode, depth: int = 0) -> int:
        if depth < 50:  # a cycle in hand-edited data must not hang a page
            node.total = node.category.book_count + sum(add_up(n, depth + 1)
                                                        for n in node.children)
        return node.total

    for root in roots:
        add_up(root)
    return roots


def category_by_code(session: Session, code: str) -> LibraryCategory | None:
    if not code or len(code) > 20:
        return None
    return session.scalar(select(LibraryCategory).where(LibraryCategory.code == code))


def subtree_ids(session: Session, category_id: int) -> list[int]:
    """The class and every class below it (from the class tree: one small query)."""
    return class_tree(session).subtree_ids(category_id)


def ancestors(session: Session, category: LibraryCategory) -> list[LibraryCategory]:
    """The classes above ``category``, top first (for the breadcrumb)."""
    out: list[LibraryCategory] = []
    parent_id = category.parent_id
    while parent_id is not None and len(out) < 50:
        parent = session.get(LibraryCategory, parent_id)
        if parent is None:
            break
        out.append(parent)
        parent_id = parent.parent_id
    return out[::-1]


def children(session: Session, category_id: int) -> list[LibraryCategory]:
    return list(session.scalars(select(LibraryCategory).where(
        LibraryCategory.parent_id == category_id).order_by(
        LibraryCategory.sort, LibraryCategory.code)))


def category_keys(category_id: int, offset: int, limit: int) -> Select[tuple[datetime, int]]:
    """(created_at, id) of one class's active books, newest first, read from
    ``ix_library_book_category`` alone (it covers both columns)."""
    return (select(LibraryBook.created_at, LibraryBook.id)
            .where(LibraryBook.category_id == category_id, active())
            .order_by(LibraryBook.created_at.desc(), LibraryBook.id.desc())
            .offset(offset).limit(limit))


def category_books(session: Session, category_ids: Sequence[int], page: int = 1,
                   per_page: int = PER_PAGE, total: int | None = None) -> BookPage:
    """Active books of the classes ``category_ids`` (a class and its sub-classes), newest
    first. One class: one index walk with the offset, its rows joined in the same
    statement. Several: the first ``offset + limit`` keys of each class (each walk stops
    there), merged by (created_at, id), then the page's rows. ``total`` (the classes' kept
    counts, when the caller has them from the class tree) saves a query."""
    ids = list(dict.fromkeys(category_ids))
    offset, limit = _window(page, per_page)
    if total is None:
        total = int(session.scalar(
            select(func.coalesce(func.sum(LibraryCategory.book_count), 0))
            .where(LibraryCategory.id.in_(ids))) or 0) if ids else 0
    if len(ids) == 1:
        return _joined_page(session, category_keys(ids[0], offset, limit), _by_new,
                            clamp_page(page), per_page, total)
    walks = [list(session.execute(category_keys(cid, 0, offset + limit))) for cid in ids]
    merged = heapq.merge(*walks, key=lambda r: (r.created_at, r.id), reverse=True)
    keys = [row.id for row in islice(merged, offset, offset + limit)]
    return _page(session, keys, clamp_page(page), per_page, total)


# --- authors ------------------------------------------------------------------------------------


def author_keys(author_id: int, offset: int, limit: int) -> Select[tuple[int]]:
    """Ids of an author's active books, most recently added first: the author's entries of
    ``ix_library_book_author_author`` in descending book id, each checked by primary key."""
    return (select(LibraryBookAuthor.book_id.label("id"))
            .join(LibraryBook, LibraryBook.id == LibraryBookAuthor.book_id)
            .where(LibraryBookAuthor.author_id == author_id, active())
            .order_by(LibraryBookAuthor.book_id.desc())
            .offset(offset).limit(limit))


def author_books(session: Session, author: LibraryAuthor, page: int = 1,
                 per_page: int = PER_PAGE) -> BookPage:
    keys = author_keys(author.id, *_window(page, per_page))
    return _joined_page(session, keys, lambda b: b.id, clamp_page(page), per_page,
                        author.book_count)


@dataclass(frozen=True)
class Credit:
    author_id: int
    name: str
    role: str | None


def credits(session: Session, book_ids: Iterable[int]) -> dict[int, list[Credit]]:
    """Each book's linked authors in credit order (one query for a whole page)."""
    ids = list(set(book_ids))
    out: dict[int, list[Credit]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = session.execute(
        select(LibraryBookAuthor.book_id, LibraryAuthor.id, LibraryAuthor.name,
               LibraryBookAuthor.role)
        .join(LibraryAuthor, LibraryAuthor.id == LibraryBookAuthor.author_id)
        .where(LibraryBookAuthor.book_id.in_(ids))
        .order_by(LibraryBookAuthor.book_id, LibraryBookAuthor.sort, LibraryAuthor.id))
    for book_id, author_id, name, role in rows:
        out[book_id].append(Credit(author_id, name, role))
    return out


# --- one book -----------------------------------------------------------------------------------


def active_book(session: Session, book_id: int) -> LibraryBook | None:
    """An active book by id (None for a hidden or missing one)."""
    book = session.get(LibraryBook, book_id)
    return book if book is not None and book.state == BookState.ACTIVE else None


def active_books(session: Session, ids: Iterable[int]) -> dict[int, LibraryBook]:
    """The active books among ``ids`` (search hits are checked against the rows: a book
    hidden a moment ago is not shown even before the index has caught up)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    return {b.id: b for b in session.scalars(select(LibraryBook).where(
        LibraryBook.id.in_(wanted), active()))}


def category_names(session: Session, ids: Iterable[int]) -> dict[int, LibraryCategory]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    return {c.id: c for c in session.scalars(select(LibraryCategory).where(
        LibraryCategory.id.in_(wanted)))}
