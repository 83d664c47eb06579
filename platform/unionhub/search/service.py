"""The search service: indexers from every plugin, one backend, permission-filtered queries.

``init_search(app)`` is called once at start-up; ``app.extensions["search"]`` then holds the
:class:`SearchService`. Queries always go through :meth:`SearchService.search`, which binds
them to the viewer's access tokens — there is no unfiltered search.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from unionhub.db import get_db, utcnow
from unionhub.plugins.discovery import PluginError
from unionhub.search import analysis
from unionhub.search.acl import viewer_tokens
from unionhub.search.backend import SearchBackend, SearchBusy, SearchRequest, SearchResults
from unionhub.search.types import SearchIndexer

HOOK = "unionhub_search_indexers"
DEFAULTS: dict[str, Any] = {
    "SEARCH_DIR": None,  # default: <instance>/search
    "SEARCH_PER_PAGE": 10,
    "SEARCH_MAX_PAGE": 50,
    "SEARCH_WRITER_TIMEOUT": 10.0,
    "SEARCH_REBUILD_LOCK_TIMEOUT": 60.0,
    "SEARCH_QUEUE_BATCH": 500,
    #: Processes for a full rebuild (whoosh forks them); 1 = in the calling process.
    "SEARCH_REBUILD_PROCS": min(2, os.cpu_count() or 1),
}


def validate(indexers: Iterable[tuple[str, SearchIndexer]]) -> dict[str, SearchIndexer]:
    """Indexers by doc_type, in tab order; each namespaced by its plugin, no duplicates."""
    out: dict[str, SearchIndexer] = {}
    for plugin, indexer in indexers:
        if not isinstance(indexer, SearchIndexer):
            raise PluginError(f"插件 {plugin}: {HOOK} returned {type(indexer).__name__}, "
                              "expected SearchIndexer")
        if indexer.plugin != plugin:
            raise PluginError(f"插件 {plugin}: search doc_type {indexer.doc_type!r} must "
                              f"start with {plugin + '.'!r}")
        if indexer.doc_type in out:
            raise PluginError(f"插件 {plugin}: duplicate search doc_type {indexer.doc_type}")
        out[indexer.doc_type] = indexer
    return dict(sorted(out.items(), key=lambda kv: (kv[1].priority, kv[0])))


class SearchService:
    def __init__(self, indexers: dict[str, SearchIndexer], backend: SearchBackend,
                 per_page: int = 10, max_page: int = 50) -> None:
        self.indexers = indexers
        self.backend = backend
        self.per_page = per_page
        self.max_page = max_page

    def labels(self) -> dict[str, str]:
        return {t: i.label for t, i in self.indexers.items()}

    def search(self, text: str, tokens: frozenset[str], *, doc_type: str | None = None,
               page: int = 1, per_page: int | None = None,
               tags: Sequence[str] = (),
               statuses: Mapping[str, tuple[str, ...]] | None = None) -> SearchResults:
        """Hits ``tokens`` may see: published, in their window, of a registered type.

        ``statuses`` overrides the visible statuses of some doc_types for this query (the
        others keep their indexer's ``visible_statuses``): a surface that is not the general
        search page — a plugin's mobile site or app API — may find documents its indexer keeps
        off that page, e.g. ``{"portal.article": ("published", "offsite")}`` together with a
        ``platform:mobile`` tag. Unknown doc_types and empty tuples are ignored; the access
        tokens and the publication window still apply.
        """
        per_page = max(1, min(per_page or self.per_page, 100))
        page = max(1, min(page, self.max_page))
        if doc_type is not None and doc_type not in self.indexers:
            doc_type = None
        visible = {t: i.visible_statuses for t, i in self.indexers.items()}
        for t, wanted in (statuses or {}).items():
            if t in visible and wanted:
                visible[t] = tuple(wanted)
        request = SearchRequest(
            text=text.strip(),
            tokens=tokens,
            visible=visible,
            now=utcnow(),
            doc_type=doc_type,
            page=page,
            per_page=per_page,
            tags=tuple(tags),
        )
        return self.backend.search(request)

    def search_as(self, account: Any, text: str, **kwargs: Any) -> SearchResults:
        """Search as ``account`` (None or anonymous: public documents only)."""
        return self.search(text, viewer_tokens(account), **kwargs)


def get_service(app: Flask | None = None) -> SearchService:
    service: SearchService = (app or current_app).extensions["search"]
    return service


def search_dir(app: Flask) -> Path:
    return Path(app.config.get("SEARCH_DIR") or os.path.join(app.instance_path, "search"))


def init_search(app: Flask, extra_indexers: Iterable[tuple[str, SearchIndexer]] = (),
                backend: SearchBackend | None = None) -> SearchService:
    """Validate the plugins' indexers and set up the service (no index I/O yet).

    Indexers come from the ``unionhub_search_indexers`` service registry (the core's among
    them); ``extra_indexers`` adds more (tests). jieba's cache goes in the index directory.
    """
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    reg = app.extensions["unionhub"].registries
    declared = list(reg.services.get(HOOK, []))
    indexers = validate([*declared, *extra_indexers])
    root = search_dir(app)
    analysis.configure(cache_dir=root)
    if backend is None:
        from unionhub.search.whoosh_backend import WhooshBackend

        backend = WhooshBackend(root, writer_timeout=float(app.config["SEARCH_WRITER_TIMEOUT"]),
                                rebuild_procs=int(app.config["SEARCH_REBUILD_PROCS"]))
    service = SearchService(indexers, backend, per_page=int(app.config["SEARCH_PER_PAGE"]),
                            max_page=int(app.config["SEARCH_MAX_PAGE"]))
    app.extensions["search"] = service
    return service


def rebuild(app: Flask, doc_types: Sequence[str] | None = None,
            progress: Callable[[int], None] | None = None,
            on_total: Callable[[int], None] | None = None) -> int:
    """Re-index everything (or ``doc_types``) into a new index and swap it in.

    Holds the writer lock throughout, so queue runs wait; changes committed meanwhile stay
    queued and are applied after the swap. ``on_total`` gets the expected document count
    (from the indexers' ``count``) before writing starts.
    """
    service = get_service(app)
    if doc_types:
        unknown = [t for t in doc_types if t not in service.indexers]
        if unknown:
            raise KeyError(f"unknown search type(s): {', '.join(unknown)}")
    chosen = [service.indexers[t] for t in (doc_types or service.indexers)]
    with service.backend.exclusive(float(app.config["SEARCH_REBUILD_LOCK_TIMEOUT"])) as ok:
        if not ok:
            raise SearchBusy("another process is writing the search index")
        with app.app_context(), get_db(app).factory() as session:
            if on_total is not None:
                on_total(sum(i.count(session) for i in chosen if i.count is not None))
            sources = ((i.doc_type, i.documents(session, None)) for i in chosen)
            return service.backend.rebuild(
                sources, replace=set(doc_types) if doc_types else None, progress=progress)
