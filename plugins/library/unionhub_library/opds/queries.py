"""What the feeds list: the browse feature's lists (new, popular, a class and its
sub-classes, search — the same index walks and page limits as the web pages) plus the
viewer's loans and shelves, each page asking for one row more to know whether another
follows. Hidden books never appear, whoever asks: the feeds are not the catalogue
manager's tool."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from unionhub.search.service import get_service

from ..browse import finder
from ..browse import queries as browse
from ..models import (
    BookState,
    HoldState,
    LibraryBook,
    LibraryCategory,
    LibraryFile,
    LibraryHold,
    LibraryLoan,
    LibraryShelf,
    LibraryShelfItem,
    Licence,
    LoanState,
)

PER_PAGE = browse.PER_PAGE
MAX_PAGE = browse.MAX_PAGE


@dataclass
class BookPage:
    books: list[LibraryBook]
    page: int
    per_page: int
    has_next: bool
    #: Known for search results only (``opensearch:totalResults``).
    total: int | None = None


def per_page() -> int:
    return int(current_app.config.get("LIBRARY_OPDS_PER_PAGE", PER_PAGE))


def page_number(raw: str | None) -> int:
    """``?page=`` as a page number: 1 when missing or malformed, at most :data:`MAX_PAGE`."""
    return browse.clamp_page(raw)


def _from_browse(page: browse.BookPage) -> BookPage:
    return BookPage(page.items, page.page, page.per_page, page.has_next)


def new_books(session: Session, page: int) -> BookPage:
    return _from_browse(browse.new_books(session, page, per_page()))


def popular_books(session: Session, page: int) -> BookPage:
    return _from_browse(browse.popular_books(session, page, per_page()))


def category_books(session: Session, category_id: int, page: int) -> BookPage:
    """The class's books and its sub-classes', newest first (as on the web page)."""
    ids = browse.subtree_ids(session, category_id)
    return _from_browse(browse.category_books(session, ids, page, per_page()))


def search(session: Session, account: Any, text: str, page: int) -> BookPage:
    """Books matching ``text`` through the core search service as ``account`` sees them,
    best first; a hit whose book has been hidden since it was indexed is dropped."""
    size = per_page()
    found = finder.search_books(session, account, finder.query_text(text), page=page,
                                per_page=size)
    results = found.results
    # the service stops at its deepest page: no ``next`` that would return the same page
    has_next = results.has_next and results.page < get_service().max_page
    return BookPage([h.book for h in found.hits], results.page, size, has_next,
                    total=results.total)


def _active() -> Select[tuple[LibraryBook]]:
    return select(LibraryBook).where(LibraryBook.state == BookState.ACTIVE)


def loan_books(account_id: int) -> Select[tuple[LibraryBook]]:
    """The account's borrowed titles, latest loan first."""
    return _active().join(LibraryLoan, LibraryLoan.book_id == LibraryBook.id).where(
        LibraryLoan.account_id == account_id, LibraryLoan.state == LoanState.ACTIVE,
    ).order_by(LibraryLoan.borrowed_at.desc(), LibraryLoan.id.desc())


def shelf_books(shelf_id: int) -> Select[tuple[LibraryBook]]:
    return _active().join(LibraryShelfItem, LibraryShelfItem.book_id == LibraryBook.id).where(
        LibraryShelfItem.shelf_id == shelf_id,
    ).order_by(LibraryShelfItem.added_at.desc(), LibraryBook.id.desc())


def page_of(session: Session, stmt: Select[tuple[LibraryBook]], page: int) -> BookPage:
    size = per_page()
    rows = list(session.scalars(stmt.limit(size + 1).offset((page - 1) * size)))
    return BookPage(rows[:size], page, size, len(rows) > size and page < MAX_PAGE)


def category_nodes(session: Session, parent_id: int | None) -> list[browse.CategoryNode]:
    """The top-level classes (``parent_id`` None) or a class's sub-classes, each with the
    active books of its subtree; ``[]`` for an unknown class."""
    level = browse.category_tree(session)
    if parent_id is None:
        return level
    stack = list(level)
    while stack:
        node = stack.pop()
        if node.category.id == parent_id:
            return node.children
        stack.extend(node.children)
    return []


def shelves(session: Session, account_id: int) -> list[LibraryShelf]:
    return list(session.scalars(select(LibraryShelf).where(
        LibraryShelf.account_id == account_id).order_by(LibraryShelf.created_at,
                                                        LibraryShelf.id)))


@dataclass
class EntryData:
    """What the entries of one page need beyond the book rows, loaded in one query each."""

    authors: dict[int, list[str]] = field(default_factory=dict)
    #: book id → [(format, size)] in a stable order
    files: dict[int, list[tuple[str, int]]] = field(default_factory=dict)
    categories: dict[int, LibraryCategory] = field(default_factory=dict)
    #: book id → the viewer's active loan
    loans: dict[int, LibraryLoan] = field(default_factory=dict)
    #: book id → the viewer's place on the waiting list (waiting or notified)
    holds: dict[int, LibraryHold] = field(default_factory=dict)


def entry_data(session: Session, account_id: int, books: Sequence[LibraryBook]) -> EntryData:
    data = EntryData()
    ids = [b.id for b in books]
    if not ids:
        return data
    data.authors = {book_id: [c.name for c in credits]
                    for book_id, credits in browse.credits(session, ids).items() if credits}
    for book_id, fmt, size in session.execute(
            select(LibraryFile.book_id, LibraryFile.format, LibraryFile.size)
            .where(LibraryFile.book_id.in_(ids)).order_by(LibraryFile.book_id, LibraryFile.id)):
        data.files.setdefault(book_id, []).append((fmt, size))
    data.categories = browse.category_names(session, (b.category_id for b in books))
    data.loans = {loan.book_id: loan for loan in session.scalars(
        select(LibraryLoan).where(LibraryLoan.account_id == account_id,
                                  LibraryLoan.book_id.in_(ids),
                                  LibraryLoan.state == LoanState.ACTIVE))}
    lent = [b.id for b in books if b.licence == Licence.LENT]
    if lent:
        data.holds = {hold.book_id: hold for hold in session.scalars(
            select(LibraryHold).where(LibraryHold.account_id == account_id,
                                      LibraryHold.book_id.in_(lent),
                                      LibraryHold.state.in_((HoldState.WAITING,
                                                             HoldState.NOTIFIED))))}
    return data
