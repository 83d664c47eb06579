"""Exactly one index writer: changes are queued in the database, one process applies them.

Any process (a web request, a job, an import) calls :func:`enqueue` in the transaction that
changes the content, so the queue and the data commit or roll back together. The writer
(:func:`process_queue`, run by a periodic job) holds the index's exclusive lock, reads a
batch, re-reads the current rows through the indexers and writes them in one commit, then
deletes exactly the queue rows it read. Re-reading makes every entry idempotent: an entry
applied twice, or applied after a rebuild, changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import Select, String, cast, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from unionhub.db import UTCDateTime, get_db, utcnow
from unionhub.search.models import SearchQueue
from unionhub.search.types import SearchDocument

if TYPE_CHECKING:
    from unionhub.search.service import SearchService

log = logging.getLogger(__name__)
OPS = ("upsert", "delete")


def enqueue(session: Session, doc_type: str, ids: Iterable[int | str],
            op: str = "upsert") -> int:
    """Queue index updates; they are committed (or not) with the caller's transaction."""
    if op not in OPS:
        raise ValueError(f"op must be one of {OPS}, not {op!r}")
    rows = [SearchQueue(doc_type=doc_type, doc_id=str(i), op=op) for i in ids]
    session.add_all(rows)
    return len(rows)


def enqueue_select(session: Session, doc_type: str, ids: Select[Any],
                   op: str = "upsert") -> None:
    """Queue every id the one-column SELECT ``ids`` returns, in one INSERT … SELECT — for
    set-based changes (imports, moving an org subtree) that never load the rows."""
    if op not in OPS:
        raise ValueError(f"op must be one of {OPS}, not {op!r}")
    id_col = next(iter(ids.subquery().c))
    rows = select(literal(doc_type, String), cast(id_col, String), literal(op, String),
                  literal(utcnow(), UTCDateTime()))
    session.execute(insert(SearchQueue).from_select(
        ["doc_type", "doc_id", "op", "enqueued_at"], rows))


@dataclass
class QueueRun:
    processed: int = 0
    upserted: int = 0
    deleted: int = 0
    failed: int = 0
    #: False when another writer held the lock (nothing was done).
    acquired: bool = True


def pending(session: Session) -> int:
    """Queued updates not yet applied (for status pages and tests)."""
    return int(session.scalar(select(func.count(SearchQueue.id))) or 0)


def process_queue(app: Flask, batch: int = 500, timeout: float = 0.0,
                  max_batches: int | None = None) -> QueueRun:
    """Apply queued changes until the queue is empty (or ``max_batches``). Returns at once
    with ``acquired=False`` when another writer holds the lock (``timeout`` seconds)."""
    from unionhub.search.service import get_service

    service = get_service(app)
    run = QueueRun()
    with service.backend.exclusive(timeout) as acquired:
        if not acquired:
            run.acquired = False
            return run
        with app.app_context(), get_db(app).factory() as session:
            last_id = 0
            batches = 0
            while max_batches is None or batches < max_batches:
                rows = [tuple(r) for r in session.execute(
                    select(SearchQueue.id, SearchQueue.doc_type, SearchQueue.doc_id,
                           SearchQueue.op)
                    .where(SearchQueue.id > last_id).order_by(SearchQueue.id).limit(batch))]
                if not rows:
                    break
                batches += 1
                last_id = rows[-1][0]
                done_ids = _apply_batch(service, session, rows, run)
                if done_ids:
                    session.execute(delete(SearchQueue).where(SearchQueue.id.in_(done_ids)))
                session.commit()
    return run


def _apply_batch(service: SearchService, session: Session,
                 rows: list[tuple[int, str, str, str]], run: QueueRun) -> list[int]:
    """Index one batch; return the ids of the queue rows that were applied."""
    latest: dict[tuple[str, str], str] = {}
    for _id, doc_type, doc_id, op in rows:
        latest[(doc_type, doc_id)] = op
    upserts: list[tuple[str, SearchDocument]] = []
    deletes: list[tuple[str, str]] = []
    failed_types: set[str] = set()
    by_type: dict[str, list[str]] = {}
    for (doc_type, doc_id), op in latest.items():
        if op == "delete" or doc_type not in service.indexers:
            deletes.append((doc_type, doc_id))
        else:
            by_type.setdefault(doc_type, []).append(doc_id)
    for doc_type, ids in by_type.items():
        try:
            found = {d.doc_id: d for d in service.indexers[doc_type].documents(session, ids)}
        except Exception:
            log.exception("search indexer %s failed; its entries stay queued", doc_type)
            session.rollback()
            failed_types.add(doc_type)
            continue
        for doc_id in ids:
            if doc_id in found:
                upserts.append((doc_type, found[doc_id]))
            else:
                deletes.append((doc_type, doc_id))
    service.backend.apply(upserts, deletes)
    applied = [row_id for row_id, doc_type, _d, _o in rows if doc_type not in failed_types]
    run.processed += len(applied)
    run.upserted += len(upserts)
    run.deleted += len(deletes)
    run.failed += len(rows) - len(applied)
    return applied
