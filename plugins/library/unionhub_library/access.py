"""Who may read or download a book — the one place every surface (web reader, app API, OPDS,
file downloads) asks.

- Anyone may browse the catalogue of active books (titles, covers, summaries).
- Reading needs ``library.read``; a ``lent`` title also needs an active loan of the reader.
- Downloading a file needs ``library.download`` (off for members by default) and, for a
  ``lent`` title, an active loan as well.
- Hidden books are visible to catalogue managers only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.access import service as access
from unionhub.db import utcnow

from .models import BookState, LibraryBook, LibraryLoan, Licence, LoanState

READ = "library.read"
DOWNLOAD = "library.download"
MANAGE = "library.catalogue.manage"


def _signed_in(account: Any) -> bool:
    return account is not None and not getattr(account, "is_anonymous", True)


def active_loan(session: Session, account_id: int, book_id: int) -> LibraryLoan | None:
    """The reader's loan of the book, unless it has ended (an overdue loan is over at once,
    before the return job gets to it)."""
    return session.scalar(select(LibraryLoan).where(
        LibraryLoan.account_id == account_id, LibraryLoan.book_id == book_id,
        LibraryLoan.state == LoanState.ACTIVE, LibraryLoan.due_at > utcnow()))


def can_see(account: Any, book: LibraryBook) -> bool:
    """The book's catalogue entry may be shown."""
    return book.state == BookState.ACTIVE or (_signed_in(account)
                                              and access.can(account, MANAGE))


def can_read(session: Session, account: Any, book: LibraryBook) -> bool:
    """``account`` may open ``book`` in the reader now."""
    if not _signed_in(account) or not access.can(account, READ) or not can_see(account, book):
        return False
    if book.licence == Licence.OPEN:
        return True
    return active_loan(session, account.id, book.id) is not None


def can_download(session: Session, account: Any, book: LibraryBook) -> bool:
    """``account`` may fetch ``book``'s files whole."""
    return can_read(session, account, book) and access.can(account, DOWNLOAD)
