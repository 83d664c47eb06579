"""Matching and ranking on a whoosh index with set algebra and cached postings.

Why not ``searcher.search()``: whoosh walks and scores every matching posting in Python
(≈ 10 µs each), so a query of common words — 工会 is in most documents of a union
platform — takes hundreds of milliseconds, and counting hits per type walks them again.
Here each searcher keeps, per term, the set of documents and each document's BM25
contribution (read once, block by block); a query is then a few set operations (matching,
the viewer's access, per-type facet counts) and one pass summing cached contributions over
the candidates. Caches live as long as the searcher, i.e. until the next commit.

Phrases are still verified by whoosh (positions), on the intersection of their words.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from math import log
from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.query import Phrase, Query, Term
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from unionhub.search.query import QueryPlan, Requirement

TEXT_FIELDS = ("title", "body")
FIELD_WEIGHT = {"title": 2.0, "body": 1.0}
K1, B = 1.2, 0.75
BYTE_LENGTH = [byte_to_length(b) for b in range(256)]


class SearcherCache:
    """Everything derived from one searcher (one index version) that queries reuse."""

    def __init__(self, searcher: Searcher, max_terms: int = 4096) -> None:
        self.s = searcher
        self.max_terms = max_terms
        self.n_docs = max(1, searcher.doc_count())
        self._docsets: dict[Any, frozenset[int]] = {}
        self._contrib: dict[tuple[str, str], dict[int, float]] = {}
        self._lengths: dict[str, list[int]] = {}

    # ---- raw postings

    def _weights(self, field: str, text: str) -> dict[int, float]:
        """docnum → term frequency of live documents, read a block at a time."""
        out: dict[int, float] = {}
        for reader, base in self.s.reader().leaf_readers():
            try:
                m = reader.postings(field, text)
            except TermNotFound:
                continue
            raw = getattr(m, "child", m)  # a FilterMatcher (deletions) wraps the leaf
            if hasattr(raw, "_read_ids") and hasattr(raw, "_read_weights"):
                # whoosh 2.7's W3LeafMatcher: whole blocks at C speed, not per posting.
                deleted = getattr(reader, "deleted_docs_set", frozenset())
                while raw.is_active():
                    raw._read_ids()
                    raw._read_weights()
                    pairs = zip(raw._ids, raw._weights, strict=True)
                    if deleted:
                        out.update((base + i, w) for i, w in pairs if i not in deleted)
                    elif base:
                        out.update((base + i, w) for i, w in pairs)
                    else:
                        out.update(pairs)
                    raw._next_block()
            else:  # any other matcher: the public, slower interface
                while m.is_active():
                    out[base + m.id()] = m.weight()
                    m.next()
        return out

    def _lengths_of(self, field: str) -> list[int]:
        """Every document's length in ``field``, read column-wise once per searcher."""
        found = self._lengths.get(field)
        if found is not None:
            return found
        out: list[int] = []
        for reader, base in self.s.reader().leaf_readers():
            del base  # leaf readers come in docnum order
            try:
                col = reader._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
                if getattr(col, "_typecode", None) == "B":  # one byte per document
                    raw = bytes(col._dbfile.get(col._basepos, col._count))
                    raw += bytes([col._default]) * (col._doccount - col._count)
                else:
                    raw = bytes(col)
                out.extend(BYTE_LENGTH[b] for b in raw)
            except (AttributeError, TypeError):
                out.extend(reader.doc_field_length(d, field, 0)
                           for d in range(reader.doc_count_all()))
        self._lengths[field] = out
        return out

    # ---- cached sets and contributions

    def contributions(self, field: str, text: str) -> dict[int, float]:
        """docnum → this term's BM25 score in ``field`` (times the field's weight)."""
        key = (field, text)
        found = self._contrib.get(key)
        if found is not None:
            return found
        tf = self._weights(field, text)
        df = len(tf)
        idf = log(1 + (self.n_docs - df + 0.5) / (df + 0.5))
        avg = self.s.avg_field_length(field, 1.0) or 1.0
        w = FIELD_WEIGHT.get(field, 1.0) * idf * (K1 + 1)
        norm = K1 * (1 - B)
        scale = K1 * B / avg
        lengths = self._lengths_of(field)
        found = {d: w * f / (f + norm + scale * lengths[d]) for d, f in tf.items()}
        if len(self._contrib) >= self.max_terms:
            self._contrib.clear()
        self._contrib[key] = found
        return found

    def term_docs(self, field: str, text: str) -> frozenset[int]:
        return self.docset(("term", field, text),
                           lambda: frozenset(self.contributions(field, text)))

    def docset(self, key: Any, compute: Any) -> frozenset[int]:
        found = self._docsets.get(key)
        if found is None:
            if len(self._docsets) >= self.max_terms:
                self._docsets.clear()
            found = self._docsets[key] = frozenset(compute())
        return found

    def query_docs(self, key: Any, q: Query) -> frozenset[int]:
        if isinstance(q, Term):
            return self.docset(key, lambda: self._weights(q.fieldname, q.text))
        return self.docset(key, lambda: self.s.docs_for_query(q))

    def phrase_docs(self, field: str, leaves: tuple[str, ...]) -> frozenset[int]:
        if len(leaves) == 1:
            return self.term_docs(field, leaves[0])

        def verify() -> set[int]:
            candidates = frozenset.intersection(*(self.term_docs(field, t) for t in leaves))
            if not candidates:
                return set()
            return set(self.s.docs_for_query(Phrase(field, list(leaves)))) & candidates

        return self.docset(("phrase", field, leaves), verify)

    # ---- access

    def allowed(self, tokens: frozenset[str], visible: Mapping[str, tuple[str, ...]],
                doc_types: Sequence[str], tags: Sequence[str] = ()) -> frozenset[int]:
        """Documents carrying one of ``tokens``, of one of ``doc_types`` in a status that
        type shows, with every tag in ``tags``."""
        key = ("allowed", frozenset(tokens), tuple((t, visible.get(t)) for t in doc_types),
               tuple(tags))
        return self.docset(key, lambda: self._allowed(tokens, visible, doc_types, tags))

    def _allowed(self, tokens: Iterable[str], visible: Mapping[str, tuple[str, ...]],
                 doc_types: Sequence[str], tags: Sequence[str]) -> frozenset[int]:
        by_token = [self.query_docs(("acl", t), Term("acl", t)) for t in sorted(tokens)]
        out = frozenset().union(*by_token)
        shown: set[int] = set()
        for t in doc_types:
            if t not in visible:
                continue
            of_type = self.query_docs(("type", t), Term("doc_type", t))
            in_status = frozenset().union(*(self.query_docs(("status", st), Term("status", st))
                                            for st in visible[t]))
            shown |= of_type & in_status
        out &= shown
        for tag in tags:
            out &= self.query_docs(("tag", tag), Term("tags", tag))
        return out

    def type_docs(self, doc_type: str) -> frozenset[int]:
        return self.query_docs(("type", doc_type), Term("doc_type", doc_type))

    # ---- a plan

    def _requirement(self, req: Requirement) -> frozenset[int]:
        out: set[int] = set()
        for f in TEXT_FIELDS:
            if req.word is None:
                out |= self.phrase_docs(f, req.leaves)
                continue
            out |= self.term_docs(f, req.word)
            if req.scattered:
                out |= frozenset.intersection(*(self.term_docs(f, p) for p in req.scattered))
        return frozenset(out)

    def matching(self, plan: QueryPlan) -> frozenset[int]:
        sets = sorted((self._requirement(r) for r in plan.required), key=len)
        return frozenset.intersection(*sets) if sets else frozenset()

    def rank(self, plan: QueryPlan, candidates: Iterable[int], k: int) -> list[tuple[int, float]]:
        """The ``k`` best of ``candidates`` by summed BM25 of the plan's words."""
        terms: dict[tuple[str, str], None] = {}
        for r in plan.required:
            words = (r.word, *r.scattered) if r.word is not None else r.leaves
            for f in TEXT_FIELDS:
                for w in words:
                    if w is not None:
                        terms[(f, w)] = None
        contribs = [self.contributions(f, w) for f, w in terms]
        scored = ((d, sum(c.get(d, 0.0) for c in contribs)) for d in candidates)
        return heapq.nlargest(k, scored, key=lambda ds: (ds[1], ds[0]))
