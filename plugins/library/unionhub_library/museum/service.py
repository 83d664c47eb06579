"""The museum's rules: who sees what, and every change to exhibitions, sections and items.

- A **published** exhibition, its items and their media are public (no sign-in).
- A draft is seen only by holders of ``library.museum.manage`` on the exhibition's owner org
  (a grant at that org or at an ancestor), who also manage it. Everyone else gets a 404, so a
  draft's existence is not revealed.
- Officers' lists and look-ups filter by scope in SQL (:func:`scope`); a record outside the
  officer's subtree is "not found".

Every change queues the affected items for search indexing in the same transaction (the
document's audience depends on the exhibition being published). Deleting returns the stored
media names; the caller removes the files once the transaction has committed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, selectinload

from unionhub.access import service as access
from unionhub.orgs.models import Org
from unionhub.search.queue import enqueue, enqueue_select

from ..models import MuseumExhibition, MuseumItem, MuseumSection

MANAGE = "library.museum.manage"
DOC_TYPE = "library.museum_item"
KINDS = ("image", "video", "audio", "text")
KIND_LABELS = {"image": "图片", "video": "视频", "audio": "音频", "text": "文字"}
#: Path segments under /library/museum/ that an exhibition's slug may not take.
RESERVED_SLUGS = frozenset({"item", "items", "search", "media", "admin", "static", "new"})
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$")
SORT_STEP = 10


class MuseumError(Exception):
    """Refused input: ``errors`` maps each bad field (or ``form``) to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


# --- who sees and manages ------------------------------------------------------------------


def scope(account: Any) -> ColumnElement[bool]:
    """True for exhibitions (joined to their owner :class:`Org`) that ``account`` manages."""
    return access.scope_filter(account, MANAGE, Org.path)


def can_manage(session: Session, account: Any, exhibition: MuseumExhibition) -> bool:
    if account is None or getattr(account, "is_anonymous", True):
        return False
    org = session.get(Org, exhibition.owner_org_id)
    return org is not None and access.can(account, MANAGE, org)


def visible(session: Session, account: Any, exhibition: MuseumExhibition) -> bool:
    """The exhibition may be shown to ``account`` (published, or a draft they manage)."""
    return exhibition.published or can_manage(session, account, exhibition)


def managed_exhibitions(account: Any) -> Select[tuple[MuseumExhibition]]:
    """The exhibitions ``account`` manages, newest first (for the officers' list)."""
    return (select(MuseumExhibition)
            .join(Org, Org.id == MuseumExhibition.owner_org_id)
            .where(scope(account))
            .order_by(MuseumExhibition.sort, MuseumExhibition.id.desc()))


def managed_exhibition(session: Session, account: Any, exhibition_id: int
                       ) -> MuseumExhibition | None:
    return session.scalar(select(MuseumExhibition).options(_whole())
                          .join(Org, Org.id == MuseumExhibition.owner_org_id)
                          .where(MuseumExhibition.id == exhibition_id, scope(account)))


def managed_section(session: Session, account: Any, section_id: int) -> MuseumSection | None:
    return session.scalar(select(MuseumSection)
                          .join(MuseumExhibition,
                                MuseumExhibition.id == MuseumSection.exhibition_id)
                          .join(Org, Org.id == MuseumExhibition.owner_org_id)
                          .where(MuseumSection.id == section_id, scope(account)))


def managed_item(session: Session, account: Any, item_id: int) -> MuseumItem | None:
    return session.scalar(select(MuseumItem)
                          .join(MuseumSection, MuseumSection.id == MuseumItem.section_id)
                          .join(MuseumExhibition,
                                MuseumExhibition.id == MuseumSection.exhibition_id)
                          .join(Org, Org.id == MuseumExhibition.owner_org_id)
                          .where(MuseumItem.id == item_id, scope(account)))


def owner_choices(session: Session, account: Any) -> list[Org]:
    """Orgs an officer may make an exhibition's owner (where they manage the museum)."""
    return list(session.scalars(select(Org).where(scope(account)).order_by(Org.path)))


# --- reading ------------------------------------------------------------------------------


def published(session: Session) -> list[MuseumExhibition]:
    return list(session.scalars(select(MuseumExhibition)
                                .where(MuseumExhibition.published.is_(True))
                                .order_by(MuseumExhibition.sort, MuseumExhibition.id.desc())))


def _whole() -> Any:
    """Load an exhibition's sections and their items with it (two more queries, not one
    per section)."""
    return selectinload(MuseumExhibition.sections).selectinload(MuseumSection.items)


def by_slug(session: Session, slug: str) -> MuseumExhibition | None:
    return session.scalar(select(MuseumExhibition).options(_whole())
                          .where(MuseumExhibition.slug == slug))


def item_in_context(session: Session, item_id: int
                    ) -> tuple[MuseumItem, MuseumSection, MuseumExhibition] | None:
    row = session.execute(
        select(MuseumItem, MuseumSection, MuseumExhibition)
        .join(MuseumSection, MuseumSection.id == MuseumItem.section_id)
        .join(MuseumExhibition, MuseumExhibition.id == MuseumSection.exhibition_id)
        .where(MuseumItem.id == item_id)).first()
    return (row[0], row[1], row[2]) if row else None


def _ordered_items(exhibition_ids: Sequence[int]) -> Select[Any]:
    return (select(MuseumItem.id, MuseumSection.exhibition_id, MuseumItem.kind,
                   MuseumItem.media_name)
            .join(MuseumSection, MuseumSection.id == MuseumItem.section_id)
            .where(MuseumSection.exhibition_id.in_(exhibition_ids))
            .order_by(MuseumSection.sort, MuseumSection.id, MuseumItem.sort, MuseumItem.id))


def sequence(session: Session, exhibition_id: int) -> list[int]:
    """The exhibition's item ids in visiting order (section by section)."""
    return [row[0] for row in session.execute(_ordered_items([exhibition_id]))]


def neighbours(session: Session, exhibition_id: int, item_id: int
               ) -> tuple[MuseumItem | None, MuseumItem | None, int, int]:
    """(previous, next, position from 1, count) of an item within its exhibition."""
    ids = sequence(session, exhibition_id)
    at = ids.index(item_id)
    prev_id = ids[at - 1] if at > 0 else None
    next_id = ids[at + 1] if at + 1 < len(ids) else None
    wanted = [i for i in (prev_id, next_id) if i is not None]
    found = {i.id: i for i in session.scalars(select(MuseumItem)
                                              .where(MuseumItem.id.in_(wanted)))}
    return (found.get(prev_id) if prev_id else None, found.get(next_id) if next_id else None,
            at + 1, len(ids))


def covers(session: Session, exhibitions: Sequence[MuseumExhibition]) -> dict[int, int]:
    """Exhibition id → the image item shown as its cover: the chosen one when it is still
    an image of the exhibition, else its first image."""
    ids = [e.id for e in exhibitions]
    if not ids:
        return {}
    first: dict[int, int] = {}
    images: dict[int, set[int]] = {}
    counts: dict[int, int] = {}
    for item_id, exhibition_id, kind, media in session.execute(_ordered_items(ids)):
        counts[exhibition_id] = counts.get(exhibition_id, 0) + 1
        if kind == "image" and media:
            images.setdefault(exhibition_id, set()).add(item_id)
            first.setdefault(exhibition_id, item_id)
    out: dict[int, int] = {}
    for e in exhibitions:
        if e.cover_item_id is not None and e.cover_item_id in images.get(e.id, set()):
            out[e.id] = e.cover_item_id
        elif e.id in first:
            out[e.id] = first[e.id]
    return out


def item_counts(session: Session, exhibition_ids: Sequence[int]) -> dict[int, int]:
    if not exhibition_ids:
        return {}
    return {eid: int(n) for eid, n in session.execute(
        select(MuseumSection.exhibition_id, func.count(MuseumItem.id))
        .join(MuseumItem, MuseumItem.section_id == MuseumSection.id)
        .where(MuseumSection.exhibition_id.in_(exhibition_ids))
        .group_by(MuseumSection.exhibition_id))}


# --- search -------------------------------------------------------------------------------


def reindex_items(session: Session, item_ids: Sequence[int]) -> None:
    if item_ids:
        enqueue(session, DOC_TYPE, item_ids)


def reindex_exhibition(session: Session, exhibition_id: int) -> None:
    enqueue_select(session, DOC_TYPE, select(MuseumItem.id)
                   .join(MuseumSection, MuseumSection.id == MuseumItem.section_id)
                   .where(MuseumSection.exhibition_id == exhibition_id))


def reindex_section(session: Session, section_id: int) -> None:
    enqueue_select(session, DOC_TYPE, select(MuseumItem.id)
                   .where(MuseumItem.section_id == section_id))


# --- exhibitions --------------------------------------------------------------------------


def free_slug(session: Session, slug: str, exhibition_id: int | None = None) -> bool:
    taken = session.scalar(select(MuseumExhibition.id).where(MuseumExhibition.slug == slug))
    return taken is None or taken == exhibition_id


def new_slug(session: Session) -> str:
    while True:
        slug = f"expo-{secrets.token_hex(3)}"
        if free_slug(session, slug):
            return slug


def create_exhibition(session: Session, data: dict[str, Any]) -> MuseumExhibition:
    """A new draft exhibition from checked form ``data``."""
    exhibition = MuseumExhibition(published=False, **data)
    if not exhibition.slug:
        exhibition.slug = new_slug(session)
    session.add(exhibition)
    session.flush()
    return exhibition


def update_exhibition(session: Session, exhibition: MuseumExhibition,
                      data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key == "slug" and not value:
            continue
        setattr(exhibition, key, value)
    session.flush()
    reindex_exhibition(session, exhibition.id)


def set_published(session: Session, exhibition: MuseumExhibition, published: bool) -> None:
    exhibition.published = published
    session.flush()
    reindex_exhibition(session, exhibition.id)


def media_names(session: Session, stmt: Select[Any]) -> list[str]:
    return [n for n in session.scalars(stmt) if n]


def delete_exhibition(session: Session, exhibition: MuseumExhibition) -> list[str]:
    """Delete it with its sections and items; returns the media names to remove."""
    ids = sequence(session, exhibition.id)
    names = media_names(session, select(MuseumItem.media_name).where(MuseumItem.id.in_(ids)))
    reindex_items(session, ids)
    session.delete(exhibition)
    session.flush()
    return names


def set_cover(session: Session, exhibition: MuseumExhibition, item: MuseumItem) -> None:
    exhibition.cover_item_id = item.id
    session.flush()


# --- sections -----------------------------------------------------------------------------


def _next_sort(session: Session, column: Any, where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.max(column)).where(where)) or 0) + SORT_STEP


def add_section(session: Session, exhibition: MuseumExhibition,
                data: dict[str, Any]) -> MuseumSection:
    section = MuseumSection(
        exhibition_id=exhibition.id,
        sort=_next_sort(session, MuseumSection.sort,
                        MuseumSection.exhibition_id == exhibition.id), **data)
    session.add(section)
    session.flush()
    return section


def update_section(session: Session, section: MuseumSection, data: dict[str, Any]) -> None:
    for key, value in data.items():
        setattr(section, key, value)
    session.flush()
    reindex_section(session, section.id)


def delete_section(session: Session, section: MuseumSection) -> list[str]:
    ids = list(session.scalars(select(MuseumItem.id).where(MuseumItem.section_id == section.id)))
    names = media_names(session, select(MuseumItem.media_name)
                        .where(MuseumItem.section_id == section.id))
    reindex_items(session, ids)
    session.delete(section)
    session.flush()
    return names


def _move(rows: list[Any], target: Any, direction: str) -> bool:
    """Swap ``target`` with its neighbour in ``rows`` (ordered) and renumber their sorts."""
    at = next(i for i, r in enumerate(rows) if r.id == target.id)
    to = at - 1 if direction == "up" else at + 1 if direction == "down" else at
    if to == at or not 0 <= to < len(rows):
        return False
    rows[at], rows[to] = rows[to], rows[at]
    for index, row in enumerate(rows):
        row.sort = (index + 1) * SORT_STEP
    return True


def move_section(session: Session, section: MuseumSection, direction: str) -> bool:
    """Move one place up or down; False when it already is first or last."""
    rows = list(session.scalars(select(MuseumSection)
                                .where(MuseumSection.exhibition_id == section.exhibition_id)
                                .order_by(MuseumSection.sort, MuseumSection.id)))
    moved = _move(rows, section, direction)
    session.flush()
    return moved


# --- items --------------------------------------------------------------------------------


def add_item(session: Session, section: MuseumSection, data: dict[str, Any],
             media: Any | None = None) -> MuseumItem:
    """A new item (``media`` a :class:`.media.StoredMedia` for image, video and audio)."""
    item = MuseumItem(section_id=section.id,
                      sort=_next_sort(session, MuseumItem.sort,
                                      MuseumItem.section_id == section.id), **data)
    if media is not None:
        _attach(item, media)
    session.add(item)
    session.flush()
    reindex_items(session, [item.id])
    return item


def _attach(item: MuseumItem, media: Any) -> None:
    item.media_name = media.name
    item.media_type = media.media_type
    item.width = media.width
    item.height = media.height


def update_item(session: Session, item: MuseumItem, data: dict[str, Any],
                media: Any | None = None) -> str | None:
    """Apply checked ``data`` (and a replacement file); returns the replaced media name."""
    old = None
    section_id = data.pop("section_id", item.section_id)
    if section_id != item.section_id:
        item.section_id = section_id
        item.sort = _next_sort(session, MuseumItem.sort, MuseumItem.section_id == section_id)
    for key, value in data.items():
        setattr(item, key, value)
    if media is not None:
        old = item.media_name
        _attach(item, media)
    session.flush()
    reindex_items(session, [item.id])
    return old


def delete_item(session: Session, item: MuseumItem) -> str | None:
    name = item.media_name
    exhibition = session.get(MuseumExhibition, item.section.exhibition_id)
    if exhibition is not None and exhibition.cover_item_id == item.id:
        exhibition.cover_item_id = None
    reindex_items(session, [item.id])
    session.delete(item)
    session.flush()
    return name


def move_item(session: Session, item: MuseumItem, direction: str) -> bool:
    rows = list(session.scalars(select(MuseumItem)
                                .where(MuseumItem.section_id == item.section_id)
                                .order_by(MuseumItem.sort, MuseumItem.id)))
    moved = _move(rows, item, direction)
    session.flush()
    return moved
