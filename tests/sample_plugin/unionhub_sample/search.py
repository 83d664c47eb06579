"""The sample's search documents: each note visible to its author's own org subtree."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.identity.models import Member
from unionhub.search.acl import org_token
from unionhub.search.types import SearchDocument
from unionhub_sample.models import SampleNote


def documents(session: Session, ids: Sequence[str] | None) -> Iterator[SearchDocument]:
    stmt = select(SampleNote, Member).join(Member, Member.id == SampleNote.member_id)
    if ids is not None:
        stmt = stmt.where(SampleNote.id.in_([int(i) for i in ids]))
    for note, member in session.execute(stmt):
        yield SearchDocument(doc_id=str(note.id), title=note.text[:50], body=note.text,
                             url="/sample/", acl=(org_token(member.org_id),))
