"""The whoosh implementation of :class:`~unionhub.search.backend.SearchBackend`.

On disk (``root`` = ``<instance>/search`` by default)::

    write.lock          flock()ed by the one writer (queue runs and rebuilds)
    CURRENT             name of the live generation, replaced atomically (os.replace)
    gen-<time>-<rand>/  a whoosh index; a rebuild writes a new one, swaps CURRENT, and
                        deletes the others

Readers open the live index once and keep one searcher per thread, reopened only when
CURRENT changes or a commit made it stale (whoosh segments are mmapped compound files, so a
searcher on a deleted generation keeps working until it is replaced). Each searcher carries a
:class:`~unionhub.search.whoosh_rank.SearcherCache`: matching, access filtering, facet
counts and ranking run on cached document sets rather than through ``Searcher.search``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoosh import fields, index
from whoosh.index import LockError
from whoosh.query import DateRange, Or, Query
from whoosh.searching import Searcher

from unionhub.search import highlight
from unionhub.search.analysis import ChineseWordAnalyzer
from unionhub.search.backend import (
    Progress,
    SearchHit,
    SearchRequest,
    SearchResults,
)
from unionhub.search.query import plan
from unionhub.search.types import SearchDocument
from unionhub.search.whoosh_rank import SearcherCache

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1)
NEVER = datetime(9999, 1, 1)
#: Top hits re-ranked so that the query's words adjacent and in order come first.
RESCORE_WINDOW = 50


def make_schema(analyzer: Any = None) -> fields.Schema:
    """The index schema; ``analyzer`` is replaceable for the benchmark's baseline."""
    an = analyzer if analyzer is not None else ChineseWordAnalyzer()
    return fields.Schema(
        key=fields.ID(stored=True, unique=True),
        doc_type=fields.ID(stored=True, sortable=True),
        doc_id=fields.ID(stored=True),
        title=fields.TEXT(analyzer=an, stored=True, field_boost=2.0),
        body=fields.TEXT(analyzer=an, stored=True),
        url=fields.STORED(),
        acl=fields.KEYWORD(lowercase=False, commas=False),
        status=fields.ID(),
        tags=fields.KEYWORD(lowercase=False, commas=False),
        published_at=fields.DATETIME(stored=True),
        expires_at=fields.DATETIME(),
        updated_at=fields.DATETIME(stored=True),
    )


def _naive_utc(when: datetime | None, default: datetime) -> datetime:
    if when is None:
        return default
    return when.astimezone(UTC).replace(tzinfo=None)


def _aware(when: Any) -> datetime | None:
    if not isinstance(when, datetime) or when in (EPOCH, NEVER):
        return None
    return when.replace(tzinfo=UTC)


def doc_key(doc_type: str, doc_id: str) -> str:
    return f"{doc_type}:{doc_id}"


def to_fields(doc_type: str, doc: SearchDocument) -> dict[str, Any]:
    return {
        "key": doc_key(doc_type, doc.doc_id),
        "doc_type": doc_type,
        "doc_id": doc.doc_id,
        "title": doc.title,
        "body": doc.body,
        "url": doc.url,
        "acl": " ".join(doc.acl),
        "status": doc.status,
        "tags": " ".join(doc.tags),
        "published_at": _naive_utc(doc.published_at, EPOCH),
        "expires_at": _naive_utc(doc.expires_at, NEVER),
        "updated_at": _naive_utc(doc.updated_at, EPOCH),
    }


# --------------------------------------------------------------------------- queries


def out_of_window(now: datetime) -> Query:
    """Documents not yet published or already expired at ``now`` — usually few, so cheap
    to subtract (dates are checked when reading, not by a sweeper)."""
    at = _naive_utc(now, EPOCH)
    return Or([DateRange("published_at", at, None, startexcl=True),
               DateRange("expires_at", None, at)])


def adjacent(text: str, leaves: tuple[str, ...]) -> bool:
    """``leaves`` occur in ``text`` next to each other, in order."""
    return bool(highlight.match_ranges(text, [leaves]))


# --------------------------------------------------------------------------- backend


class WhooshBackend:
    def __init__(self, root: str | os.PathLike[str], writer_timeout: float = 10.0,
                 writer_retries: int = 3, limitmb: int = 128, rebuild_procs: int = 1) -> None:
        self.root = Path(root)
        self.writer_timeout = writer_timeout
        self.writer_retries = writer_retries
        self.limitmb = limitmb
        #: Full rebuilds index in this many processes (whoosh's MpWriter, fork): each
        #: writes its own segments, kept as they are (no final merge).
        self.rebuild_procs = max(1, rebuild_procs)
        self._indexes: dict[str, index.Index] = {}
        self._open_lock = threading.Lock()
        self._local = threading.local()

    # ---- files and generations

    @property
    def pointer(self) -> Path:
        return self.root / "CURRENT"

    def current_generation(self) -> str | None:
        try:
            return self.pointer.read_text(encoding="ascii").strip() or None
        except FileNotFoundError:
            return None

    def generations(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and p.name.startswith("gen-"))

    def _new_generation(self) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        path = self.root / f"gen-{stamp}-{secrets.token_hex(3)}"
        path.mkdir(parents=True)
        return path

    def _swap(self, generation: str) -> None:
        tmp = self.root / f".CURRENT.{secrets.token_hex(4)}"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(generation + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.pointer)
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _drop_others(self, keep: str) -> None:
        for name in self.generations():
            if name != keep:
                shutil.rmtree(self.root / name, ignore_errors=True)
                with self._open_lock:
                    self._indexes.pop(name, None)

    def _ensure(self) -> str:
        """The live generation, creating an empty index on first use."""
        gen = self.current_generation()
        if gen is not None:
            return gen
        with self.exclusive(self.writer_timeout) as ok:
            gen = self.current_generation()
            if gen is not None:
                return gen
            if not ok:
                raise LockError("search index is being created by another process")
            path = self._new_generation()
            index.create_in(str(path), make_schema())
            self._swap(path.name)
            return path.name

    def _index(self, generation: str) -> index.Index:
        with self._open_lock:
            ix = self._indexes.get(generation)
            if ix is None:
                ix = index.open_dir(str(self.root / generation))
                self._indexes[generation] = ix
            return ix

    # ---- the single writer

    @contextlib.contextmanager
    def exclusive(self, timeout: float = 0.0) -> Iterator[bool]:
        """flock() on ``write.lock``: one holder across processes and threads (each call
        opens its own file description). Re-entrant within the holding thread."""
        if getattr(self._local, "holding", False):
            yield True
            return
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / "write.lock", os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        held = False
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    held = self._local.holding = True
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        break
                    time.sleep(0.05)
            yield held
        finally:
            if held:
                self._local.holding = False
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _writer(self, ix: index.Index, **kwargs: Any) -> Any:
        """``ix.writer(timeout=…)`` with a few retries — never AsyncWriter, which retries
        forever in a thread and loses its buffer if the process exits."""
        for attempt in range(self.writer_retries):
            try:
                return ix.writer(timeout=self.writer_timeout, **kwargs)
            except LockError:
                if attempt == self.writer_retries - 1:
                    raise
                log.warning("search index writer busy; retrying")
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    def apply(self, upserts: Iterable[tuple[str, SearchDocument]],
              deletes: Iterable[tuple[str, str]]) -> None:
        ix = self._index(self._ensure())
        w = self._writer(ix)
        try:
            for doc_type, doc_id in deletes:
                w.delete_by_term("key", doc_key(doc_type, doc_id))
            for doc_type, doc in upserts:
                w.update_document(**to_fields(doc_type, doc))
        except BaseException:
            w.cancel()
            raise
        w.commit()

    def rebuild(self, sources: Iterable[tuple[str, Iterable[SearchDocument]]],
                replace: set[str] | None = None, progress: Progress | None = None) -> int:
        old = self._ensure() if replace is not None else self.current_generation()
        path = self._new_generation()
        written = 0
        try:
            if replace is None or old is None:
                ix = index.create_in(str(path), make_schema())
            else:
                for f in (self.root / old).iterdir():
                    if f.is_file() and not f.name.endswith("WRITELOCK"):
                        shutil.copy2(f, path / f.name)
                ix = index.open_dir(str(path))
            parallel = (
                {"procs": self.rebuild_procs, "multisegment": True}
                if self.rebuild_procs > 1 and (replace is None or old is None) else {})
            w = self._writer(ix, limitmb=self.limitmb, **parallel)
            try:
                for t in sorted(replace or ()):
                    w.delete_by_term("doc_type", t)
                for doc_type, docs in sources:
                    for doc in docs:
                        w.add_document(**to_fields(doc_type, doc))
                        written += 1
                        if progress is not None:
                            progress(1)
            except BaseException:
                w.cancel()
                raise
            w.commit()
            ix.close()
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        self._swap(path.name)
        self._drop_others(path.name)
        return written

    # ---- reading

    def searcher(self) -> Searcher:
        """This thread's searcher on the live index, reopened only when it changed."""
        gen = self._ensure()
        local = self._local
        s: Searcher | None = getattr(local, "searcher", None)
        if s is not None and getattr(local, "generation", None) == gen and s.up_to_date():
            return s
        if s is not None:
            s.close()
        local.searcher = self._index(gen).searcher()
        local.generation = gen
        local.cache = SearcherCache(local.searcher)
        return local.searcher

    def doc_count(self) -> int:
        return int(self.searcher().doc_count())

    def search(self, request: SearchRequest) -> SearchResults:
        """Match, filter and count with cached document sets; rank the survivors by BM25;
        re-rank the top ``RESCORE_WINDOW`` so the words adjacent and in order come first."""
        result = SearchResults(page=request.page, per_page=request.per_page)
        p = plan(request.text)
        if p.empty or not request.visible:
            return result
        self.searcher()
        cache: SearcherCache = self._local.cache
        matched = cache.matching(p)
        if matched:
            matched &= cache.allowed(request.tokens, request.visible, list(request.visible),
                                     request.tags)
        if matched:
            matched -= set(cache.s.docs_for_query(out_of_window(request.now)))
        result.facets = {t: len(matched & cache.type_docs(t)) for t in request.visible}
        if request.doc_type:
            matched &= cache.type_docs(request.doc_type)
        result.total = len(matched)
        start = (request.page - 1) * request.per_page
        limit = request.page * request.per_page
        if start >= result.total:
            return result
        ranked = cache.rank(p, matched, max(limit, RESCORE_WINDOW) if p.boosts else limit)
        if p.boosts:
            stored = {d: cache.s.stored_fields(d) for d, _score in ranked[:RESCORE_WINDOW]}
            ranked[:RESCORE_WINDOW] = sorted(ranked[:RESCORE_WINDOW], key=lambda ds: not any(
                adjacent(stored[ds[0]]["title"], b) or adjacent(stored[ds[0]]["body"], b)
                for b in p.boosts))
        seqs = p.highlight_sequences()
        for docnum, score in ranked[start:limit]:
            stored = cache.s.stored_fields(docnum)
            result.hits.append(SearchHit(
                doc_type=stored["doc_type"],
                doc_id=stored["doc_id"],
                title=stored["title"],
                url=stored["url"],
                title_html=highlight.title_html(stored["title"], seqs),
                snippet=highlight.snippet(stored.get("body", ""), seqs),
                score=float(score),
                published_at=_aware(stored.get("published_at")),
                updated_at=_aware(stored.get("updated_at")),
            ))
        return result

    def close(self) -> None:
        s = getattr(self._local, "searcher", None)
        if s is not None:
            s.close()
            self._local.searcher = None
        with self._open_lock:
            for ix in self._indexes.values():
                ix.close()
            self._indexes.clear()
