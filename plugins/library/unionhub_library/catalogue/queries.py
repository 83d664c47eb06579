"""The catalogue's back-office reads: what an officer may manage (always as SQL), the
filtered book list, choices for the forms."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from unionhub.access.service import scope_filter
from unionhub.orgs.models import Org

from ..models import LibraryAuthor, LibraryBook, LibraryBookAuthor, LibraryCategory, LibraryFile
from .credits import Credit, credits_display
from .fields import LICENCE_LABELS, STATE_LABELS
from .formats import FORMAT_LABELS
from .isbn import IsbnError, normalise_isbn

MANAGE = "library.catalogue.manage"


def scoped_books(account: Any) -> Select[tuple[LibraryBook]]:
    """``SELECT`` of the books ``account`` may manage (owner org in a subtree where it holds
    :data:`MANAGE`), as one SQL clause."""
    return (select(LibraryBook).join(Org, Org.id == LibraryBook.owner_org_id)
            .where(scope_filter(account, MANAGE, Org.path)))


def scoped_book(session: Session, account: Any, book_id: int) -> LibraryBook | None:
    """One book ``account`` may manage, else None (the caller answers 404)."""
    return session.scalar(scoped_books(account).where(LibraryBook.id == book_id))


def org_choices(session: Session, account: Any) -> list[Org]:
    """The orgs ``account`` may file books under, in tree order."""
    return list(session.scalars(select(Org).where(scope_filter(account, MANAGE, Org.path))
                                .order_by(Org.path)))


def org_in_scope(session: Session, account: Any, org_id: int) -> bool:
    return session.scalar(select(Org.id).where(
        Org.id == org_id, scope_filter(account, MANAGE, Org.path))) is not None


def categories(session: Session) -> list[LibraryCategory]:
    """Every class, in class-mark order (top-level classes and their sub-classes)."""
    return list(session.scalars(select(LibraryCategory)
                                .order_by(LibraryCategory.code, LibraryCategory.id)))


def category_by_code(session: Session, code: str) -> LibraryCategory | None:
    """The class of a class mark: the exact one, else the longest known prefix
    (``I247.5`` → ``I247`` if present, else ``I``)."""
    code = code.strip().upper()
    if not code:
        return None
    prefixes = [code[:n] for n in range(len(code), 0, -1)]
    rows = session.scalars(select(LibraryCategory).where(LibraryCategory.code.in_(prefixes)))
    found = {c.code: c for c in rows}
    return next((found[p] for p in prefixes if p in found), None)


def credits_of(session: Session, book_id: int) -> list[Credit]:
    """The book's credits in order (for the edit form)."""
    rows = session.execute(
        select(LibraryAuthor.name, LibraryBookAuthor.role)
        .join(LibraryBookAuthor, LibraryBookAuthor.author_id == LibraryAuthor.id)
        .where(LibraryBookAuthor.book_id == book_id)
        .order_by(LibraryBookAuthor.sort, LibraryAuthor.id))
    out: list[Credit] = []
    for name, role in rows:
        for one in (role or "").split("、") or [""]:
            out.append(Credit(name, one or None))
    return out


def list_books(account: Any, *, q: str = "", category_id: int | None = None, state: str = "",
               licence: str = "", fmt: str = "") -> Select[tuple[LibraryBook]]:
    """The back-office list: the account's scope, filtered, newest first."""
    stmt = scoped_books(account)
    if category_id is not None:
        stmt = stmt.where(LibraryBook.category_id == category_id)
    if state in STATE_LABELS:
        stmt = stmt.where(LibraryBook.state == state)
    if licence in LICENCE_LABELS:
        stmt = stmt.where(LibraryBook.licence == licence)
    if fmt in FORMAT_LABELS:
        stmt = stmt.where(select(LibraryFile.id).where(
            LibraryFile.book_id == LibraryBook.id, LibraryFile.format == fmt).exists())
    if q:
        digits = re.sub(r"[\s-]", "", q)
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        clauses = [LibraryBook.title.ilike(pattern, escape="\\"),
                   LibraryBook.authors_display.ilike(pattern, escape="\\")]
        if digits.isdigit() and len(digits) in (10, 13):
            with contextlib.suppress(IsbnError):
                clauses.append(LibraryBook.isbn == normalise_isbn(digits))
        stmt = stmt.where(or_(*clauses))
    return stmt.order_by(LibraryBook.created_at.desc(), LibraryBook.id.desc())


def formats_of(session: Session, book_ids: Sequence[int]) -> dict[int, list[str]]:
    """Book id → its file formats (one query for a page of books)."""
    out: dict[int, list[str]] = {i: [] for i in book_ids}
    if book_ids:
        for book_id, fmt in session.execute(
                select(LibraryFile.book_id, LibraryFile.format)
                .where(LibraryFile.book_id.in_(book_ids))
                .order_by(LibraryFile.book_id, LibraryFile.format)):
            out[book_id].append(fmt)
    return out


def form_values(session: Session, book: LibraryBook) -> dict[str, str]:
    """A book's fields as the edit form shows them."""
    credits = credits_of(session, book.id)
    return {
        "title": book.title, "subtitle": book.subtitle or "",
        "authors": credits_display(credits), "publisher": book.publisher or "",
        "year": str(book.year or ""), "isbn": book.isbn or "", "language": book.language,
        "category_id": str(book.category_id), "tags": "，".join(book.tag_list),
        "summary": book.summary or "", "licence": book.licence, "copies": str(book.copies),
        "loan_days": str(book.loan_days), "owner_org_id": str(book.owner_org_id)}
