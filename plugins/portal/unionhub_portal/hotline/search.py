"""Published hotline Q&As in the core search (doc type ``portal.hotline``, tab 职工热线).

Only the redacted, officer-approved text (``public_*``) is indexed, and a document is
``published`` only while the question is; a closed (withdrawn) or not yet published question
yields a document with its state as status, which the search never shows. Published Q&As are
public (the same as the ``/portal/hotline`` list) on every platform.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from unionhub.search import acl
from unionhub.search.types import PUBLISHED, SearchDocument, SearchIndexer

from .models import HotlineState, PortalHotlineQuestion
from .service import DOC_TYPE, category_label

BATCH = 500
PLATFORM_TAGS = ("platform:pc", "platform:mobile", "platform:app")


def question_document(q: PortalHotlineQuestion) -> SearchDocument:
    live = q.state == HotlineState.PUBLISHED
    title = (q.public_subject if live else None) or f"hotline-{q.id}"
    body = (f"{category_label(q.category)}\n{q.public_question or ''}\n{q.public_answer or ''}"
            if live else "")
    return SearchDocument(
        doc_id=str(q.id), title=title, url=f"/portal/hotline/{q.id}", acl=(acl.PUBLIC,),
        body=body[:8000], status=PUBLISHED if live else str(q.state),
        published_at=q.published_at if live else None, updated_at=q.updated_at,
        tags=(f"category:{q.category}", *PLATFORM_TAGS))


def documents(session: Session, ids: Sequence[str] | None) -> Iterator[SearchDocument]:
    """Every question (``ids`` None) or those of ``ids`` that still exist."""
    Q = PortalHotlineQuestion
    if ids is None:
        wanted = list(session.scalars(select(Q.id).order_by(Q.id)))
    else:
        wanted = sorted({int(i) for i in ids if i.isdigit() and len(i) <= 9})
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start:start + BATCH]
        yield from (question_document(q) for q in session.scalars(
            select(Q).where(Q.id.in_(chunk)).order_by(Q.id)))


def count(session: Session) -> int:
    return int(session.scalar(select(func.count(PortalHotlineQuestion.id))) or 0)


def indexers() -> list[SearchIndexer]:
    return [SearchIndexer(DOC_TYPE, "职工热线", documents, count=count, priority=55)]
