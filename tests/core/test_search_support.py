"""Shared helpers of the search tests (no tests here): an in-memory "notice" indexer and
the wiring of a test app."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from unionhub.search.acl import PUBLIC
from unionhub.search.core_indexers import CORE_INDEXERS
from unionhub.search.service import HOOK, SearchService, init_search
from unionhub.search.types import SearchDocument, SearchIndexer

NOTICE = "test.notice"


@dataclass
class Store:
    """Rows of the fake notice table; ``fail`` makes the indexer raise."""

    docs: dict[str, SearchDocument] = field(default_factory=dict)
    fail: bool = False

    def put(self, doc_id: str, title: str, body: str = "", acl: tuple[str, ...] = (PUBLIC,),
            **kw: Any) -> SearchDocument:
        doc = SearchDocument(doc_id=doc_id, title=title, body=body, url=f"/n/{doc_id}",
                             acl=acl, **kw)
        self.docs[doc_id] = doc
        return doc

    def documents(self, session: Session, ids: Sequence[str] | None
                  ) -> Iterator[SearchDocument]:
        if self.fail:
            raise RuntimeError("indexer broken")
        for doc_id in (ids if ids is not None else list(self.docs)):
            if doc_id in self.docs:
                yield self.docs[doc_id]

    def indexer(self, **kw: Any) -> SearchIndexer:
        base = SearchIndexer(NOTICE, "通知", self.documents,
                             count=lambda _s: len(self.docs), priority=50)
        return replace(base, **kw)


def core_extra(app: Flask) -> list[tuple[str, SearchIndexer]]:
    """The core's indexers, unless the core's hook implementation already provides them."""
    declared = {i.doc_type for _p, i in
                app.extensions["unionhub"].registries.services.get(HOOK, [])}
    return [("core", i) for i in CORE_INDEXERS if i.doc_type not in declared]


def wire(app: Flask, store: Store, **indexer_kw: Any) -> SearchService:
    """What create_app does once search is wired, done by hand: the service with the
    core's indexers and the notice indexer, and the blueprint."""
    from sqlalchemy import delete

    from unionhub import db
    from unionhub.search.models import SearchQueue

    extra = [*core_extra(app), ("test", store.indexer(**indexer_kw))]
    service = init_search(app, extra_indexers=extra)
    if "search" not in app.blueprints:
        from unionhub.search.views import search_bp

        app.register_blueprint(search_bp)
    # Start from an empty queue: building the test world queued its members' documents.
    db.session().execute(delete(SearchQueue))
    db.session().commit()
    return service


def rebuild_all(app: Flask) -> int:
    from unionhub.search.service import rebuild

    return rebuild(app)


def titles(results: Any) -> list[str]:
    return [h.title for h in results.hits]
