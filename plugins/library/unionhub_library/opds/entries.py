"""A book as an OPDS acquisition entry, with the links the viewer's rights allow.

The rules are :mod:`unionhub_library.access`'s, decided once per page rather than with a
query per book: a file link (``http://opds-spec.org/acquisition``) only when the viewer may
download the book (``library.read`` and ``library.download``, and a loan for a lent title);
a ``…/acquisition/borrow`` link for a lent title the reader has not borrowed, with the
copies and availability.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from unionhub.access import service as access

from ..models import HoldState, LibraryBook, LibraryHold, LibraryLoan, Licence
from . import atom, urls
from .queries import EntryData

READ = "library.read"
DOWNLOAD = "library.download"
SUMMARY_MAX = 400
MEDIA_TYPES = {"epub": "application/epub+zip", "pdf": "application/pdf", "txt": "text/plain"}
IMAGE_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
               "webp": "image/webp", "gif": "image/gif"}


@dataclass(frozen=True)
class Viewer:
    """The account reading the feed and what it may do anywhere (cached per request)."""

    account: Any
    may_read: bool
    may_download: bool

    @classmethod
    def of(cls, account: Any) -> Viewer:
        return cls(account, access.can(account, READ), access.can(account, DOWNLOAD))


@dataclass(frozen=True)
class Rights:
    download: bool
    borrow: bool


def rights(viewer: Viewer, book: LibraryBook, loan: LibraryLoan | None) -> Rights:
    """The same answer as ``access.can_download`` for an active book, plus whether the
    viewer may borrow it."""
    has_title = book.licence == Licence.OPEN or loan is not None
    return Rights(download=viewer.may_read and viewer.may_download and has_title,
                  borrow=viewer.may_read and book.licence == Licence.LENT and loan is None)


def _image_type(stored_name: str | None) -> str | None:
    if not stored_name:
        return None
    return IMAGE_TYPES.get(stored_name.rpartition(".")[2].lower(), "image/jpeg")


def _summary(el: etree._Element, text: str | None) -> None:
    text = (text or "").strip()
    if not text:
        return
    if len(text) <= SUMMARY_MAX:
        atom.sub(el, atom.ATOM, "summary", text, type="text")
        return
    atom.sub(el, atom.ATOM, "summary", text[:SUMMARY_MAX].rstrip() + "…", type="text")
    atom.sub(el, atom.ATOM, "content", text, type="text")


def _metadata(el: etree._Element, book: LibraryBook, data: EntryData,
              scheme: str) -> None:
    names = data.authors.get(book.id) or ([book.authors_display]
                                          if book.authors_display.strip() else [])
    for name in names:
        atom.sub(atom.sub(el, atom.ATOM, "author"), atom.ATOM, "name", name)
    if book.language:
        atom.sub(el, atom.DC, "language", book.language)
    if book.isbn:
        atom.sub(el, atom.DC, "identifier", f"urn:isbn:{book.isbn}")
    if book.publisher:
        atom.sub(el, atom.DC, "publisher", book.publisher)
    if book.year:
        atom.sub(el, atom.DC, "issued", f"{book.year:04d}")
    category = data.categories.get(book.category_id)
    if category is not None:
        atom.sub(el, atom.ATOM, "category", scheme=scheme, term=category.code,
                 label=category.name)
    for tag in book.tag_list:
        atom.sub(el, atom.ATOM, "category", term=tag, label=tag)
    _summary(el, book.summary)


def _availability(el: etree._Element, book: LibraryBook, loan: LibraryLoan | None,
                  hold: LibraryHold | None = None) -> None:
    """``opds:availability`` (and ``opds:copies``) of a lent title for this reader: on
    loan until the due date, a copy ``ready`` for them until the reservation lapses,
    ``reserved`` while they wait, else whether a copy is free now."""
    if loan is not None:
        atom.sub(el, atom.OPDS, "availability", status="available",
                 since=atom.timestamp(loan.borrowed_at), until=atom.timestamp(loan.due_at))
        return
    if hold is not None and hold.state == HoldState.NOTIFIED:
        atom.sub(el, atom.OPDS, "availability", status="ready",
                 since=atom.timestamp(hold.notified_at or hold.created_at),
                 until=atom.timestamp(hold.expires_at) if hold.expires_at else None)
    elif hold is not None:
        atom.sub(el, atom.OPDS, "availability", status="reserved",
                 since=atom.timestamp(hold.created_at))
    else:
        atom.sub(el, atom.OPDS, "availability",
                 status="available" if book.copies_free > 0 else "unavailable")
    atom.sub(el, atom.OPDS, "copies", total=book.copies, available=book.copies_free)


def _acquisition(el: etree._Element, book: LibraryBook, data: EntryData,
                 viewer: Viewer) -> None:
    loan = data.loans.get(book.id)
    allowed = rights(viewer, book, loan)
    files = data.files.get(book.id, [])
    if allowed.download:
        for fmt, size in files:
            link = atom.link(el, atom.REL_ACQUISITION, urls.download(book.id, fmt),
                             MEDIA_TYPES.get(fmt, "application/octet-stream"), length=size)
            if book.licence == Licence.LENT:
                _availability(link, book, loan)
    if allowed.borrow:
        link = atom.link(el, atom.REL_BORROW, urls.external("library.opds_borrow",
                                                            book_id=book.id), atom.ENTRY)
        for fmt, _size in files:
            atom.sub(link, atom.OPDS, "indirectAcquisition",
                     type=MEDIA_TYPES.get(fmt, "application/octet-stream"))
        _availability(link, book, None, data.holds.get(book.id))


def write_book(el: etree._Element, book: LibraryBook, data: EntryData, viewer: Viewer,
               scheme: str) -> None:
    """Fill ``el`` (an ``<entry>`` with its head written) with the book's metadata and links."""
    _metadata(el, book, data, scheme)
    page = urls.book_page(book.id)
    atom.link(el, "alternate", page, "text/html", title=book.title)
    cover, thumbnail = urls.cover(book), urls.thumbnail(book)
    if cover:
        atom.link(el, atom.REL_IMAGE, cover, _image_type(book.cover_name))
    if thumbnail:
        atom.link(el, atom.REL_THUMBNAIL, thumbnail,
                  _image_type(book.thumb_name or book.cover_name))
    # the complete catalogue entry (OPDS 1.2 §8.2): also what a borrow returns
    atom.link(el, "alternate", urls.external("library.opds_book", book_id=book.id), atom.ENTRY,
              title=book.title)
    _acquisition(el, book, data, viewer)


def book_entry(feed: atom.Feed, book: LibraryBook, data: EntryData, viewer: Viewer,
               scheme: str) -> etree._Element:
    el = feed.entry(id_=urls.urn("book", book.id), title=_title(book),
                    updated=book.updated_at)
    write_book(el, book, data, viewer, scheme)
    return el


def book_document(book: LibraryBook, data: EntryData, viewer: Viewer, scheme: str) -> bytes:
    el = atom.standalone_entry(id_=urls.urn("book", book.id), title=_title(book),
                               updated=book.updated_at)
    write_book(el, book, data, viewer, scheme)
    return atom.serialize(el)


def _title(book: LibraryBook) -> str:
    return f"{book.title}：{book.subtitle}" if book.subtitle else book.title
