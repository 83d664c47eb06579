"""The entries of a book list (class, author, new, popular pages), prepared in Python so the
template only prints them.

A list page shows 24 books; rendering each through macros that call ``url_for`` and ``_()``
per book cost more than the page's queries. Here the addresses are built once per page
(``url_for`` with a marker id, then the id put in its place — the same strings ``url_for``
gives) and each label is translated once per page; the template then prints plain values
(still escaped by Jinja)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import url_for

from unionhub.i18n import _

from ..models import LibraryBook, Licence
from .covers import image_name, version
from .queries import Credit

#: An id no book has, put in an address and replaced by each book's id.
MARK = 987654321987


def _around(endpoint: str, **values: Any) -> tuple[str, str]:
    """(before, after) the id in ``endpoint``'s address."""
    before, after = url_for(endpoint, **values).split(str(MARK), 1)
    return before, after


def truncate(text: str, length: int, end: str = "…") -> str:
    """Jinja's ``truncate(length, True, end, 0)``: cut mid-word, ``end`` included."""
    return text if len(text) <= length else text[:length - len(end)] + end


@dataclass(frozen=True)
class CreditLink:
    href: str
    name: str
    role: str | None


@dataclass(frozen=True)
class Card:
    """One book of a list, ready to print."""

    id: int
    href: str
    title: str
    subtitle: str | None
    image: str | None
    image_alt: str
    no_cover: str
    credits: tuple[CreditLink, ...]
    authors_display: str
    publisher: str | None
    year: int | None
    summary: str | None
    lent: bool
    licence_label: str
    copies: str
    reads: str


class CardMaker:
    """Builds the cards of one page (addresses and labels computed once)."""

    def __init__(self) -> None:
        self.book = _around("library.book", book_id=MARK)
        self.author = _around("library.author", author_id=MARK)
        self.thumb = _around("library.thumb", book_id=MARK, v="v")
        self.alt = _("《%(t)s》封面")
        self.lent = _("借阅")
        self.open = _("开放阅读")
        self.copies = _("共 %(n)s 册，可借 %(f)s 册")
        self.reads = _("阅读 %(n)s 次")

    def image(self, book: LibraryBook) -> str | None:
        """``library_image_url(book)`` (the thumbnail's versioned address)."""
        name = image_name(book, True)
        if not name:
            return None
        before, after = self.thumb
        # the marker address ends in "v=v": the version takes the last "v"'s place
        return f"{before}{book.id}{after[:-1]}{quote(version(name), safe='')}"

    def card(self, book: LibraryBook, credits: Sequence[Credit]) -> Card:
        lent = book.licence == Licence.LENT
        return Card(
            id=book.id, href=f"{self.book[0]}{book.id}{self.book[1]}", title=book.title,
            subtitle=book.subtitle, image=self.image(book),
            image_alt=self.alt % {"t": book.title}, no_cover=truncate(book.title, 20),
            credits=tuple(CreditLink(f"{self.author[0]}{c.author_id}{self.author[1]}",
                                     c.name, c.role) for c in credits),
            authors_display=book.authors_display, publisher=book.publisher, year=book.year,
            summary=truncate(book.summary, 90) if book.summary else None, lent=lent,
            licence_label=self.lent if lent else self.open,
            copies=self.copies % {"n": book.copies, "f": book.copies_free} if lent else "",
            reads=self.reads % {"n": book.read_count})


def book_cards(books: Iterable[LibraryBook], credits: Mapping[int, Sequence[Credit]]
               ) -> list[Card]:
    """The cards of a list page, in the page's order."""
    maker = CardMaker()
    return [maker.card(b, credits.get(b.id, ())) for b in books]
