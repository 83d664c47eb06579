"""Searching the catalogue (the web page and the app API): the core search service, limited
to books and optionally to a class's subtree, with each hit checked against the rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from unionhub.search.acl import viewer_tokens
from unionhub.search.backend import SearchHit, SearchResults
from unionhub.search.service import get_service

from ..models import LibraryBook, LibraryCategory
from . import queries
from .search import BOOK_DOC, category_tag

MAX_QUERY = 100


@dataclass
class BookHit:
    hit: SearchHit
    book: LibraryBook


@dataclass
class BookResults:
    """The search's page (for the pager) and its hits whose books are active now."""

    results: SearchResults
    hits: list[BookHit] = field(default_factory=list)


def query_text(raw: str | None) -> str:
    return " ".join((raw or "").split())[:MAX_QUERY]


def search_books(session: Session, account: Any, q: str, *,
                 category: LibraryCategory | None = None, page: int = 1,
                 per_page: int | None = None) -> BookResults:
    """Books matching ``q`` (title, authors, summary, tags, publisher, ISBN), best first.

    A hit whose book was hidden since it was indexed is left out (the index catches up when
    the queue is applied)."""
    svc = get_service()
    if not q:
        return BookResults(SearchResults(per_page=per_page or svc.per_page))
    tags = (category_tag(category.id),) if category is not None else ()
    results = svc.search(q, viewer_tokens(account), doc_type=BOOK_DOC, page=page,
                         per_page=per_page, tags=tags)
    ids = [int(h.doc_id) for h in results.hits if h.doc_id.isdigit()]
    books = queries.active_books(session, ids)
    hits = [BookHit(h, books[int(h.doc_id)]) for h in results.hits
            if h.doc_id.isdigit() and int(h.doc_id) in books]
    return BookResults(results, hits)
