"""Articles in the core search (tab 文章资讯), with the portal's audience rule as tokens.

A document's access tokens are the effective target of its section and itself
(:func:`..audience.effective_target`), its window is the article's (scheduled and expired
articles are filtered at query time), and its tags are ``section:<code>`` plus
``platform:<p>`` for each platform both the section and the article are on.

The status tells the surfaces apart: ``published`` only when the article is published, on the
PC portal and its section is not hidden — the core search page is the PC one and shows only
that status; ``offsite`` is published but not on PC (the mobile site and the app search ask
for both statuses together with their ``platform:`` tag); ``hidden`` is published in a hidden
section (shown nowhere); anything else is the article's state.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from unionhub.search.types import PUBLISHED, SearchDocument, SearchIndexer
from unionhub.web.richtext import html_to_text

from ..audience import Target, effective_target, platform_tags, target_acl
from ..models import (
    ArticleState,
    PortalArticle,
    PortalArticleGroup,
    PortalSection,
    PortalSectionGroup,
)
from .service import article_path

ARTICLE_DOC = "portal.article"
OFFSITE = "offsite"
HIDDEN = "hidden"
#: What the mobile site and the app may find (with their ``platform:`` tag).
OFF_PC_STATUSES = (PUBLISHED, OFFSITE)
BATCH = 500


def article_status(article: PortalArticle, section: PortalSection,
                   parent: PortalSection | None = None) -> str:
    """The document's status; a hidden parent section hides its sub-sections' articles."""
    if article.state != ArticleState.PUBLISHED:
        return str(article.state)
    if section.hidden or (parent is not None and parent.hidden):
        return HIDDEN
    if "platform:pc" not in _platforms(article, section, parent):
        return OFFSITE
    return PUBLISHED


def _platforms(article: PortalArticle, section: PortalSection,
               parent: PortalSection | None) -> tuple[str, ...]:
    """``platform:<p>`` tags for the platforms the article, its section and the section's
    parent are all on."""
    tags = platform_tags(section, article)
    if parent is not None:
        tags = tuple(t for t in tags if t.removeprefix("platform:") in parent.platforms)
    return tags


def _target(org_id: int | None, paths: dict[int, str], groups: set[int] | None) -> Target:
    if org_id is None:
        return Target(None, None, frozenset(groups) if groups is not None else None)
    return Target(paths[org_id], org_id, frozenset(groups) if groups is not None else None)


def article_document(article: PortalArticle, section: PortalSection, acl: tuple[str, ...],
                     parent: PortalSection | None = None) -> SearchDocument:
    parts = [section.name]
    for value in (article.source, article.author, article.summary):
        if value:
            parts.append(value)
    if article.tag_list:
        parts.append(" ".join(article.tag_list))
    body = " · ".join(parts) + "\n" + html_to_text(article.body_html)
    return SearchDocument(
        doc_id=str(article.id),
        title=article.title,
        url=article_path(article),
        acl=acl,
        body=body[:5000],
        status=article_status(article, section, parent),
        published_at=article.published_at,
        expires_at=article.expires_at,
        updated_at=article.updated_at,
        tags=(f"section:{section.code}", *_platforms(article, section, parent)),
    )


def _documents_for(session: Session, ids: Sequence[int]) -> Iterator[SearchDocument]:
    from unionhub.orgs.models import Org

    articles = list(session.scalars(select(PortalArticle).where(PortalArticle.id.in_(ids))
                                    .order_by(PortalArticle.id)))
    if not articles:
        return
    # the articles' sections and their parents (a parent's audience covers its sub-sections)
    wanted = {a.section_id for a in articles}
    sections = {s.id: s for s in session.scalars(select(PortalSection).where(
        PortalSection.id.in_(wanted)))}
    parent_ids = {s.parent_id for s in sections.values() if s.parent_id is not None}
    if parent_ids - sections.keys():
        sections.update({s.id: s for s in session.scalars(select(PortalSection).where(
            PortalSection.id.in_(parent_ids - sections.keys())))})
    article_groups: dict[int, set[int]] = {}
    for aid, gid in session.execute(select(PortalArticleGroup.article_id,
                                           PortalArticleGroup.group_id)
                                    .where(PortalArticleGroup.article_id.in_(ids))):
        article_groups.setdefault(aid, set()).add(gid)
    section_groups: dict[int, set[int]] = {}
    for sid, gid in session.execute(select(PortalSectionGroup.section_id,
                                           PortalSectionGroup.group_id)
                                    .where(PortalSectionGroup.section_id.in_(sections))):
        section_groups.setdefault(sid, set()).add(gid)
    org_ids = {a.audience_org_id for a in articles} | {s.audience_org_id
                                                       for s in sections.values()}
    org_ids.discard(None)
    paths = dict(session.execute(select(Org.id, Org.path).where(Org.id.in_(org_ids))).all())

    def section_target(section: PortalSection) -> Target:
        # has_groups without rows names nobody, like the SQL rule (no group matches)
        groups = section_groups.get(section.id, set()) if section.has_groups else None
        return _target(section.audience_org_id, paths, groups)

    for article in articles:
        section = sections[article.section_id]
        parent = sections.get(section.parent_id) if section.parent_id is not None else None
        a_groups = article_groups.get(article.id, set()) if article.has_groups else None
        target = effective_target(section_target(section),
                                  _target(article.audience_org_id, paths, a_groups))
        if parent is not None:
            target = effective_target(section_target(parent), target)
        yield article_document(article, section, target_acl(target), parent)


def documents(session: Session, ids: Sequence[str] | None) -> Iterator[SearchDocument]:
    """Every article (``ids`` None) or the listed ones that still exist, in batches."""
    if ids is None:
        wanted = list(session.scalars(select(PortalArticle.id).order_by(PortalArticle.id)))
    else:
        wanted = sorted({int(i) for i in ids if i.isdigit() and len(i) <= 9})
    for start in range(0, len(wanted), BATCH):
        yield from _documents_for(session, wanted[start:start + BATCH])


def count(session: Session) -> int:
    return int(session.scalar(select(func.count(PortalArticle.id))) or 0)


def indexers() -> list[SearchIndexer]:
    return [SearchIndexer(ARTICLE_DOC, "文章资讯", documents, count=count, priority=20)]
