"""The library's and the museum's tables (every table named ``library_*``).

People are accounts (``account.id``): members read, but so may officers; statistics keep the
reader's union (``org_id``) as it was at the moment of reading, so that a member who moves
later does not move last year's figures.

Counts shown on lists (``read_count``, ``book_count``, ``copies_out``) are kept on the rows
and changed by conditional ``UPDATE``s: a category or popularity page at 200,000 books reads an
index, never a ``COUNT(*)`` per row.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from unionhub.db import Base, UTCDateTime, utcnow


class Licence(StrEnum):
    OPEN = "open"  # 开放阅读: anyone allowed to read may read, no loan
    LENT = "lent"  # 借阅: a limited number of concurrent copies


class BookState(StrEnum):
    ACTIVE = "active"  # in the catalogue
    HIDDEN = "hidden"  # taken out of lists, search and OPDS (loans still return)


class FileFormat(StrEnum):
    EPUB = "epub"
    PDF = "pdf"
    TXT = "txt"


class LoanState(StrEnum):
    ACTIVE = "active"
    RETURNED = "returned"  # by the reader
    EXPIRED = "expired"  # returned automatically at the end of the loan


class HoldState(StrEnum):
    WAITING = "waiting"
    NOTIFIED = "notified"  # a copy was free; the reader was told and may borrow it
    FULFILLED = "fulfilled"  # borrowed
    CANCELLED = "cancelled"


class ShelfKind(StrEnum):
    WANT = "want"  # 想读
    READING = "reading"  # 在读
    FINISHED = "finished"  # 读过
    CUSTOM = "custom"  # the reader's own shelves


class LibraryCategory(Base):
    """A class of the Chinese Library Classification (中图法); the 22 top-level classes are
    seeded by the first migration, sub-classes may be added (``parent_id``)."""

    __tablename__ = "library_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The class mark: ``A`` … ``Z`` at the top level, ``TP3`` below.
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("library_category.id", ondelete="RESTRICT"), index=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    #: Active books in this class (kept by the catalogue service).
    book_count: Mapped[int] = mapped_column(Integer, default=0)


class LibraryAuthor(Base):
    """A person or body credited on books; its page lists their books (paginated)."""

    __tablename__ = "library_author"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    #: Active books credited (kept by the catalogue service).
    book_count: Mapped[int] = mapped_column(Integer, default=0)


class LibraryBook(Base):
    """A title in the catalogue (its files are :class:`LibraryFile` rows)."""

    __tablename__ = "library_book"
    # The browse pages walk these indexes in order and stop after one page: by category and
    # newest first, newest overall, most read.
    __table_args__ = (
        Index("ix_library_book_category", "category_id", "state", "created_at", "id"),
        Index("ix_library_book_new", "state", "created_at", "id"),
        Index("ix_library_book_popular", "state", "read_count", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    subtitle: Mapped[str | None] = mapped_column(String(300))
    #: The credited names as shown ("张三、李四 译"); the links are in ``library_book_author``.
    authors_display: Mapped[str] = mapped_column(String(300), default="")
    publisher: Mapped[str | None] = mapped_column(String(200))
    year: Mapped[int | None] = mapped_column(Integer)
    #: ISBN-13 without hyphens (an ISBN-10 is converted); checked digit; unique when present.
    isbn: Mapped[str | None] = mapped_column(String(13), unique=True)
    #: BCP 47 (``zh``, ``zh-CN``, ``en``).
    language: Mapped[str] = mapped_column(String(16), default="zh")
    category_id: Mapped[int] = mapped_column(
        ForeignKey("library_category.id", ondelete="RESTRICT"))
    #: Comma-separated.
    tags: Mapped[str | None] = mapped_column(String(300))
    #: Plain text (an EPUB's HTML description is reduced to text on ingest).
    summary: Mapped[str | None] = mapped_column(Text)
    #: Stored names (32 hex + extension) under the library's ``covers/`` directory; the
    #: thumbnail is made by a background job after the cover arrives.
    cover_name: Mapped[str | None] = mapped_column(String(48))
    thumb_name: Mapped[str | None] = mapped_column(String(48))
    licence: Mapped[str] = mapped_column(String(8), default=Licence.OPEN)
    #: Concurrent copies of a ``lent`` title; ``copies_out`` is changed only by a conditional
    #: ``UPDATE … WHERE copies_out < copies`` (never read-then-write).
    copies: Mapped[int] = mapped_column(Integer, default=0)
    copies_out: Mapped[int] = mapped_column(Integer, default=0)
    loan_days: Mapped[int] = mapped_column(Integer, default=14)
    state: Mapped[str] = mapped_column(String(8), default=BookState.ACTIVE)
    #: Distinct (reader, day) reads, for the popular list.
    read_count: Mapped[int] = mapped_column(Integer, default=0)
    #: The union that added it (officers of its subtree manage it).
    owner_org_id: Mapped[int] = mapped_column(
        ForeignKey("org.id", ondelete="RESTRICT"), index=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    category: Mapped[LibraryCategory] = relationship()
    files: Mapped[list[LibraryFile]] = relationship(
        back_populates="book", order_by="LibraryFile.id", cascade="all, delete-orphan")

    @property
    def tag_list(self) -> list[str]:
        return [t.strip() for t in (self.tags or "").split(",") if t.strip()]

    @property
    def copies_free(self) -> int:
        return max(self.copies - self.copies_out, 0)


class LibraryBookAuthor(Base):
    __tablename__ = "library_book_author"
    # The author page: one author's books, newest first.
    __table_args__ = (Index("ix_library_book_author_author", "author_id", "book_id"),)

    book_id: Mapped[int] = mapped_column(
        ForeignKey("library_book.id", ondelete="CASCADE"), primary_key=True)
    author_id: Mapped[int] = mapped_column(
        ForeignKey("library_author.id", ondelete="CASCADE"), primary_key=True)
    #: 著 / 编 / 译 …, as credited.
    role: Mapped[str | None] = mapped_column(String(16))
    sort: Mapped[int] = mapped_column(Integer, default=0)


class LibraryFile(Base):
    """One file of a book (at most one per format).

    ``meta`` keeps what reading needs without reopening the file's metadata: for an EPUB
    ``{"spine": [{"href", "title"}…], "toc": [{"title", "href", "level"}…], "opf_dir": …}``,
    for a PDF ``{"pages": n}``, for a TXT ``{"pages": n, "encoding": …}``.
    """

    __tablename__ = "library_file"
    __table_args__ = (UniqueConstraint("book_id", "format"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("library_book.id", ondelete="CASCADE"))
    format: Mapped[str] = mapped_column(String(8))
    #: 32 hex + extension under the library's ``files/`` directory (never the upload's name).
    stored_name: Mapped[str] = mapped_column(String(48), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    book: Mapped[LibraryBook] = relationship(back_populates="files")


class LibraryProgress(Base):
    """Where a reader is in a book: one row per (account, book), overwritten by every save
    from any device (the latest save wins; the device and moment are kept)."""

    __tablename__ = "library_progress"
    __table_args__ = (UniqueConstraint("account_id", "book_id"),
                      Index("ix_library_progress_recent", "account_id", "updated_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    book_id: Mapped[int] = mapped_column(
        ForeignKey("library_book.id", ondelete="CASCADE"), index=True)
    format: Mapped[str] = mapped_column(String(8))
    #: EPUB: spine index; PDF and TXT: page (0-based).
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: Scroll fraction inside the chapter or page (0–1).
    offset: Mapped[float] = mapped_column(default=0.0)
    #: Through the whole book (0–1), for "读到 37%".
    percent: Mapped[float] = mapped_column(default=0.0)
    device: Mapped[str | None] = mapped_column(String(60))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LibraryRead(Base):
    """A read for the statistics and the history: one row per (account, book, day)."""

    __tablename__ = "library_read"
    __table_args__ = (UniqueConstraint("account_id", "book_id", "read_on"),
                      Index("ix_library_read_day", "read_on", "org_id"),
                      Index("ix_library_read_history", "account_id", "last_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    book_id: Mapped[int] = mapped_column(
        ForeignKey("library_book.id", ondelete="CASCADE"), index=True)
    #: The reader's union at the moment of reading (NULL for an account with no member).
    org_id: Mapped[int | None] = mapped_column(ForeignKey("org.id", ondelete="SET NULL"))
    read_on: Mapped[date] = mapped_column(Date)
    device: Mapped[str | None] = mapped_column(String(60))
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LibraryShelf(Base):
    """A personal shelf; the three standard ones are made on first use."""

    __tablename__ = "library_shelf"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default=ShelfKind.CUSTOM)
    name: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LibraryShelfItem(Base):
    __tablename__ = "library_shelf_item"

    shelf_id: Mapped[int] = mapped_column(
        ForeignKey("library_shelf.id", ondelete="CASCADE"), primary_key=True)
    book_id: Mapped[int] = mapped_column(
        ForeignKey("library_book.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LibraryLoan(Base):
    """A borrowed copy of a ``lent`` title. At most one active loan per (account, book),
    enforced by a partial unique index."""

    __tablename__ = "library_loan"
    __table_args__ = (
        Index("uq_library_loan_active", "account_id", "book_id", unique=True,
              sqlite_where=text("state = 'active'"), postgresql_where=text("state = 'active'")),
        Index("ix_library_loan_due", "state", "due_at"),
        Index("ix_library_loan_book", "book_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("library_book.id", ondelete="CASCADE"))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("org.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(10), default=LoanState.ACTIVE)
    borrowed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    book: Mapped[LibraryBook] = relationship()


class LibraryHold(Base):
    """A place on a title's waiting list (served first come, first served)."""

    __tablename__ = "library_hold"
    __table_args__ = (
        Index("uq_library_hold_open", "account_id", "book_id", unique=True,
              sqlite_where=text("state IN ('waiting', 'notified')"),
              postgresql_where=text("state IN ('waiting', 'notified')")),
        Index("ix_library_hold_queue", "book_id", "state", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("library_book.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(10), default=HoldState.WAITING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A notified reader keeps the copy reserved until then.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    book: Mapped[LibraryBook] = relationship()


class LibraryAppToken(Base):
    """A per-member token for e-reader apps (OPDS over HTTP Basic: the username is the
    token's prefix, the password the token). Only the SHA-256 is stored; shown once."""

    __tablename__ = "library_app_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MuseumExhibition(Base):
    """A digital-museum exhibition (展览): sections (展厅/单元) of items (展品)."""

    __tablename__ = "library_museum_exhibition"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    subtitle: Mapped[str | None] = mapped_column(String(200))
    #: Sanitised HTML (:data:`unionhub.web.richtext.ARTICLE`).
    intro_html: Mapped[str] = mapped_column(Text, default="")
    #: An item's media used as the exhibition's cover.
    cover_item_id: Mapped[int | None] = mapped_column(Integer)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    owner_org_id: Mapped[int] = mapped_column(
        ForeignKey("org.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    sections: Mapped[list[MuseumSection]] = relationship(
        back_populates="exhibition", order_by="(MuseumSection.sort, MuseumSection.id)",
        cascade="all, delete-orphan")


class MuseumSection(Base):
    __tablename__ = "library_museum_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    exhibition_id: Mapped[int] = mapped_column(
        ForeignKey("library_museum_exhibition.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    intro_html: Mapped[str] = mapped_column(Text, default="")
    sort: Mapped[int] = mapped_column(Integer, default=0)

    exhibition: Mapped[MuseumExhibition] = relationship(back_populates="sections")
    items: Mapped[list[MuseumItem]] = relationship(
        back_populates="section", order_by="(MuseumItem.sort, MuseumItem.id)",
        cascade="all, delete-orphan")


class MuseumItem(Base):
    """An exhibit: an image, a video, an audio recording or a text, with Dublin Core-style
    metadata (``dc``: creator, date, description, subject, source, rights, format,
    identifier, coverage, …)."""

    __tablename__ = "library_museum_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("library_museum_section.id", ondelete="CASCADE"), index=True)
    #: image / video / audio / text
    kind: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    dc: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Sanitised HTML: the label text, or the whole exhibit for ``text``.
    body_html: Mapped[str] = mapped_column(Text, default="")
    #: 32 hex + extension under the museum's ``media/`` directory.
    media_name: Mapped[str | None] = mapped_column(String(48))
    media_type: Mapped[str | None] = mapped_column(String(60))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    sort: Mapped[int] = mapped_column(Integer, default=0)

    section: Mapped[MuseumSection] = relationship(back_populates="items")


MODELS = (LibraryCategory, LibraryAuthor, LibraryBook, LibraryBookAuthor, LibraryFile,
          LibraryProgress, LibraryRead, LibraryShelf, LibraryShelfItem, LibraryLoan,
          LibraryHold, LibraryAppToken, MuseumExhibition, MuseumSection, MuseumItem)
