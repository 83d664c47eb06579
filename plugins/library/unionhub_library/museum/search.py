"""Museum items in the core search (doc type ``library.museum_item``, tab 数字博物馆).

A document carries the item's title, its Dublin Core description, subject, creator and
coverage, the exhibition's and section's titles and the item's text. An item of a published
exhibition is ``published`` and public; an item of a draft gets the status ``draft`` (never
shown by the search) and, should a status filter ever let drafts through, only the museum
managers of the owner org as its audience.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from unionhub.orgs.models import Org
from unionhub.search import acl
from unionhub.search.types import PUBLISHED, SearchDocument, SearchIndexer
from unionhub.web.richtext import html_to_text

from ..models import MuseumExhibition, MuseumItem, MuseumSection
from .service import DOC_TYPE, MANAGE

DRAFT = "draft"
BATCH = 500
BODY_MAX = 8000
#: DC elements that are searched, in the order they enter the body.
SEARCHED = ("creator", "subject", "coverage", "date", "description")


def item_document(item: MuseumItem, section: MuseumSection, exhibition: MuseumExhibition,
                  owner_path: str) -> SearchDocument:
    meta = item.dc or {}
    parts = [exhibition.title, section.title]
    parts += [str(meta[k]) for k in SEARCHED if meta.get(k)]
    body = " · ".join(parts) + "\n" + html_to_text(item.body_html)
    live = exhibition.published
    return SearchDocument(
        doc_id=str(item.id),
        title=item.title,
        url=f"/library/museum/item/{item.id}",
        acl=(acl.PUBLIC,) if live else acl.officer_tokens(MANAGE, owner_path),
        body=body[:BODY_MAX],
        status=PUBLISHED if live else DRAFT,
        updated_at=exhibition.updated_at,
        tags=(f"exhibition:{exhibition.id}", f"kind:{item.kind}"),
    )


def documents(session: Session, ids: Sequence[str] | None) -> Iterator[SearchDocument]:
    """Every item (``ids`` None) or those of ``ids`` that still exist, in batches."""
    if ids is None:
        wanted = list(session.scalars(select(MuseumItem.id).order_by(MuseumItem.id)))
    else:
        wanted = sorted({int(i) for i in ids if i.isdigit() and len(i) <= 9})
    for start in range(0, len(wanted), BATCH):
        rows = session.execute(
            select(MuseumItem, MuseumSection, MuseumExhibition, Org.path)
            .join(MuseumSection, MuseumSection.id == MuseumItem.section_id)
            .join(MuseumExhibition, MuseumExhibition.id == MuseumSection.exhibition_id)
            .join(Org, Org.id == MuseumExhibition.owner_org_id)
            .where(MuseumItem.id.in_(wanted[start:start + BATCH]))
            .order_by(MuseumItem.id))
        for item, section, exhibition, path in rows:
            yield item_document(item, section, exhibition, path)


def count(session: Session) -> int:
    return int(session.scalar(select(func.count(MuseumItem.id))) or 0)


def indexers() -> list[SearchIndexer]:
    return [SearchIndexer(DOC_TYPE, "数字博物馆", documents, count=count, priority=75)]
