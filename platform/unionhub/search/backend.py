"""The interface between the search service and an index implementation.

Whoosh (:mod:`unionhub.search.whoosh_backend`) is the only implementation; a PostgreSQL
full-text backend for multi-node deployments would implement the same protocol. Writes
happen only inside ``exclusive()`` — the service guarantees one writer at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from markupsafe import Markup

from unionhub.search.types import SearchDocument
from unionhub.web.pagination import PageMath

#: ``progress(n)``: n more documents written.
Progress = Callable[[int], None]


class SearchBusy(RuntimeError):
    """Another process holds the index writer lock."""


@dataclass(frozen=True)
class SearchRequest:
    """One query, already bound to a viewer and to what the viewer may see."""

    text: str
    #: The viewer's access tokens; a document must carry one of them.
    tokens: frozenset[str]
    #: doc_type → statuses a viewer may see (types not listed never show).
    visible: Mapping[str, tuple[str, ...]]
    now: datetime
    #: Restrict the hits (not the facets) to one doc_type.
    doc_type: str | None = None
    page: int = 1
    per_page: int = 10
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearchHit:
    doc_type: str
    doc_id: str
    title: str
    url: str
    #: Title and a body excerpt with the matches in ``<b>``; everything else escaped.
    title_html: Markup
    snippet: Markup
    score: float
    published_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class SearchResults(PageMath):
    total: int = 0
    #: Hits per doc_type for the whole query (every visible type, zero included).
    facets: dict[str, int] = field(default_factory=dict)
    hits: list[SearchHit] = field(default_factory=list)
    page: int = 1
    per_page: int = 10


class SearchBackend(Protocol):
    def exclusive(self, timeout: float = 0.0) -> AbstractContextManager[bool]:
        """Hold the single-writer lock (across processes); yields False on timeout."""
        ...

    def apply(self, upserts: Iterable[tuple[str, SearchDocument]],
              deletes: Iterable[tuple[str, str]]) -> None:
        """Write (doc_type, document) upserts and (doc_type, doc_id) deletions in one
        commit. Only inside ``exclusive()``."""
        ...

    def rebuild(self, sources: Iterable[tuple[str, Iterable[SearchDocument]]],
                replace: set[str] | None = None, progress: Progress | None = None) -> int:
        """Build a new index from ``sources`` and swap it in atomically. ``replace`` =
        None rebuilds everything; a set of doc_types keeps the other types' documents.
        Only inside ``exclusive()``. Returns the number of documents written."""
        ...

    def search(self, request: SearchRequest) -> SearchResults: ...

    def doc_count(self) -> int: ...

    def close(self) -> None: ...

