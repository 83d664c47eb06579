"""Issued documents in the core search (type ``oa.document``); drafts are never indexed.

A document's audience mirrors :func:`.service.visible` with the core's access tokens: the
drafting side holds ``officer:oa.use:<org>`` for the drafting org or an ancestor (a grant
there covers it — :func:`~unionhub.search.acl.officer_tokens` of the org's path), and a
recipient officer holds the token of the org of their grant, so the document carries one
token per recipient org and, for a recipient with its subtree, per org below it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from unionhub.orgs.models import Org
from unionhub.search.acl import audience, officer_tokens
from unionhub.search.types import SearchDocument, SearchIndexer
from unionhub.web import id_arg
from unionhub.web.richtext import html_to_text

from .models import DocState, OaDocRecipient, OaDocument
from .service import SEARCH_TYPE, USE, detail_path

BATCH = 200
#: The searchable text is bounded (a document can be long).
MAX_TEXT = 20_000


def doc_type_tag(doc_type: str) -> str:
    return f"doctype:{doc_type}"


def _token(org_id: int) -> str:
    """The token of officers holding ``oa.use`` through a grant at exactly ``org_id``."""
    return officer_tokens(USE, f"/{int(org_id)}/")[0]


class _Subtrees:
    """Org ids of a subtree by its root's path, read once per path per call."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cache: dict[str, list[int]] = {}

    def ids(self, path: str) -> list[int]:
        if path not in self.cache:
            self.cache[path] = list(self.session.scalars(
                select(Org.id).where(Org.path.like(path + "%")).order_by(Org.id)))
        return self.cache[path]


def _documents_for(session: Session, ids: Sequence[int],
                   subtrees: _Subtrees) -> Iterator[SearchDocument]:
    docs = list(session.scalars(select(OaDocument).where(
        OaDocument.id.in_(ids), OaDocument.state == DocState.ISSUED).order_by(OaDocument.id)))
    if not docs:
        return
    orgs = {oid: name for oid, name in session.execute(
        select(Org.id, Org.name).where(Org.id.in_({d.org_id for d in docs})))}
    sent: dict[int, list[tuple[int, str, bool]]] = {}
    for doc_id, org_id, path, subtree in session.execute(
            select(OaDocRecipient.document_id, Org.id, Org.path,
                   OaDocRecipient.include_subtree)
            .join(Org, Org.id == OaDocRecipient.org_id)
            .where(OaDocRecipient.document_id.in_([d.id for d in docs]))):
        sent.setdefault(doc_id, []).append((org_id, path, bool(subtree)))
    for doc in docs:
        reached: list[int] = []
        for org_id, path, subtree in sent.get(doc.id, []):
            reached.extend(subtrees.ids(path) if subtree else [org_id])
        parts = [doc.number or "", orgs.get(doc.org_id, ""), doc.type_label,
                 html_to_text(doc.body)[:MAX_TEXT]]
        yield SearchDocument(
            doc_id=str(doc.id),
            title=doc.title,
            url=detail_path(doc.id),
            acl=audience(officer_tokens(USE, doc.org_path), [_token(i) for i in reached]),
            body="\n".join(p for p in parts if p),
            updated_at=doc.issued_at or doc.updated_at,
            tags=(doc_type_tag(doc.doc_type),),
        )


def documents(session: Session, ids: Sequence[str] | None) -> Iterator[SearchDocument]:
    """Every issued document (``ids`` None) or those of ``ids`` that are issued."""
    subtrees = _Subtrees(session)
    if ids is not None:
        wanted = sorted({i for i in (id_arg(raw) for raw in ids) if i})
        for start in range(0, len(wanted), BATCH):
            yield from _documents_for(session, wanted[start:start + BATCH], subtrees)
        return
    last = 0
    while True:
        batch = list(session.scalars(select(OaDocument.id).where(
            OaDocument.id > last, OaDocument.state == DocState.ISSUED)
            .order_by(OaDocument.id).limit(BATCH)))
        if not batch:
            return
        last = batch[-1]
        yield from _documents_for(session, batch, subtrees)


def count(session: Session) -> int:
    return int(session.scalar(select(func.count(OaDocument.id)).where(
        OaDocument.state == DocState.ISSUED)) or 0)


def indexers() -> list[SearchIndexer]:
    return [SearchIndexer(SEARCH_TYPE, "公文", documents, count=count, priority=60)]


def search_visible(session: Session, account: Any, q: str, page: int = 1,
                   per_page: int = 20) -> tuple[Any, list[tuple[Any, OaDocument]]]:
    """The core search limited to documents, each hit checked against :func:`visible` now
    (a hit indexed before a change is dropped until the index catches up)."""
    from unionhub.search.acl import viewer_tokens
    from unionhub.search.service import get_service

    from .service import visible

    results = get_service().search(q, viewer_tokens(account, session), doc_type=SEARCH_TYPE,
                                   page=page, per_page=per_page)
    ids = [i for i in (id_arg(h.doc_id) for h in results.hits) if i]
    found = {d.id: d for d in session.scalars(select(OaDocument).where(
        OaDocument.id.in_(ids), visible(account)))} if ids else {}
    hits = [(h, found[i]) for h in results.hits if (i := id_arg(h.doc_id)) in found]
    return results, hits


__all__ = ["count", "documents", "indexers", "search_visible"]
