"""The core's own searchable content: members, for the officers who may view them.

The index is a plain file, so it holds only masked numbers (``138****1234``), never a clear
ID, card or mobile number.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from unionhub.identity.models import Member
from unionhub.identity.numbers import mask_mobile
from unionhub.search.acl import officer_tokens
from unionhub.search.types import SearchDocument, SearchIndexer

MEMBER_TYPE = "core.member"
VIEW = "core.members.view"


def member_document(m: Member) -> SearchDocument:
    parts = [m.org.name, m.status_label]
    if m.mobile:
        parts.append(mask_mobile(m.mobile))
    return SearchDocument(
        doc_id=str(m.id),
        title=m.name,
        body=" · ".join(parts),
        url=f"/office/members/{m.id}",
        acl=officer_tokens(VIEW, m.org.path),
        updated_at=m.updated_at,
    )


def member_documents(session: Session, ids: Sequence[str] | None) -> Iterator[SearchDocument]:
    stmt = select(Member).order_by(Member.id)
    if ids is not None:
        wanted = [int(i) for i in ids if i.isdigit()]
        if not wanted:
            return
        stmt = stmt.where(Member.id.in_(wanted))
    for m in session.scalars(stmt.execution_options(yield_per=1000)):
        yield member_document(m)


def member_count(session: Session) -> int:
    return int(session.scalar(select(func.count(Member.id))) or 0)


CORE_INDEXERS: tuple[SearchIndexer, ...] = (
    SearchIndexer(MEMBER_TYPE, "会员", member_documents, count=member_count, priority=90),
)
