"""The one audience rule of the portal, used by every surface: section and article lists, article
pages, attachments, search, RSS/Atom feeds, the sitemap, the mobile site and the app API.

A section or article is shown to a viewer on a platform when

* it is on that platform (``on_pc`` / ``on_mobile`` / ``on_app``);
* its target org (``audience_org_id``) is NULL, or is the viewer's org or one of its ancestors
  (the viewer lies in the targeted subtree) — an anonymous visitor sees only untargeted content;
* it names no member groups, or the viewer is in one of them;

and an article additionally when it is live (published, ``published_at`` passed, not expired)
and its section is shown (not hidden, and the same rule holds for the section and for the
section's parent).

Everything here is SQL (one query per list, no row-by-row checks); :func:`article_acl` states
the same rule as search access tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select
from sqlalchemy.orm import Session, aliased

from unionhub.db import utcnow
from unionhub.groups.models import MemberGroupMember
from unionhub.identity.models import MemberStatus
from unionhub.search import acl

from .models import (
    ArticleState,
    PortalArticle,
    PortalArticleGroup,
    PortalSection,
    PortalSectionGroup,
)

Platform = Literal["pc", "mobile", "app"]
S = TypeVar("S")


@dataclass(frozen=True)
class Viewer:
    """Who is looking, from where (built once per request)."""

    platform: Platform = "pc"
    #: The member's org and its ancestors (empty: anonymous, or not an active member).
    org_ids: tuple[int, ...] = ()
    groups: frozenset[int] = field(default_factory=frozenset)
    account_id: int | None = None
    member_id: int | None = None
    #: The sections this viewer may see, when already looked up for the request
    #: (:func:`with_sections`): article queries then test ``section_id IN (…)`` instead of
    #: evaluating the section rule on every row. ``None``: not looked up.
    sections: tuple[int, ...] | None = None

    @property
    def anonymous(self) -> bool:
        return not self.org_ids

    @classmethod
    def of(cls, session: Session, account: Any, platform: Platform = "pc") -> Viewer:
        """The viewer for a Flask-Login user or API account (``None``/anonymous allowed)."""
        if account is None or getattr(account, "is_anonymous", True) or not account.is_active:
            return cls(platform)
        member = account.member
        if member is None or member.status != MemberStatus.ACTIVE:
            return cls(platform, account_id=account.id)
        groups = frozenset(session.scalars(select(MemberGroupMember.group_id).where(
            MemberGroupMember.member_id == member.id)))
        return cls(platform, tuple(member.org.ancestor_ids), groups, account.id, member.id)


def _audience(model: Any, viewer: Viewer, owner: Any, group: Any) -> ColumnElement[bool]:
    """The platform, org and group conditions on ``model`` (a section or article entity,
    possibly aliased); ``owner`` and ``group`` are the columns of its group-row table."""
    platform = getattr(model, f"on_{viewer.platform}").is_(True)
    if viewer.anonymous:
        return and_(platform, model.audience_org_id.is_(None), model.has_groups.is_(False))
    org = or_(model.audience_org_id.is_(None), model.audience_org_id.in_(viewer.org_ids))
    in_group: ColumnElement[bool] = (
        exists(select(owner).where(owner == model.id, group.in_(viewer.groups)))
        if viewer.groups else false())
    return and_(platform, org, or_(model.has_groups.is_(False), in_group))


#: The parent section in :func:`section_clause` — one alias for the process: building an alias
#: per call cost more Python than the rest of an article page's queries.
_PARENT = aliased(PortalSection, name="parent_section")


def _section_itself(section: Any, viewer: Viewer) -> ColumnElement[bool]:
    return and_(section.hidden.is_(False), _audience(section, viewer, PortalSectionGroup.section_id,
                                                      PortalSectionGroup.group_id))


def section_clause(viewer: Viewer) -> ColumnElement[bool]:
    """True for sections ``viewer`` may see: not hidden, audience matching — and the same for
    the parent section, so hiding or targeting a section covers its sub-sections (the tree
    has two levels)."""
    return and_(_section_itself(PortalSection, viewer),
                or_(PortalSection.parent_id.is_(None),
                    PortalSection.parent_id.in_(
                        select(_PARENT.id).where(_section_itself(_PARENT, viewer)))))


def live_clause(now: datetime | ColumnElement[datetime] | None = None) -> ColumnElement[bool]:
    """True for articles that are live at ``now`` (published, not before nor after their
    window); ``now`` may be a bind parameter (a statement built once, see
    :func:`built_for`)."""
    if now is None:
        now = utcnow()
    return and_(PortalArticle.state == ArticleState.PUBLISHED,
                PortalArticle.published_at.is_not(None), PortalArticle.published_at <= now,
                or_(PortalArticle.expires_at.is_(None), PortalArticle.expires_at > now))


def with_sections(session: Session, viewer: Viewer) -> Viewer:
    """``viewer`` with the ids of the sections it may see (one query on the small section
    table, then every article query of the request uses them)."""
    ids = tuple(session.scalars(select(PortalSection.id).where(section_clause(viewer))
                                .order_by(PortalSection.id)))
    return replace(viewer, sections=ids)


def article_clause(viewer: Viewer, now: datetime | ColumnElement[datetime] | None = None
                   ) -> ColumnElement[bool]:
    """True for articles ``viewer`` may read now; the query must join :class:`PortalSection`
    (see :func:`visible_articles`)."""
    in_sections = (section_clause(viewer) if viewer.sections is None
                   else PortalArticle.section_id.in_(viewer.sections))
    return and_(article_rule_in_section(viewer, now), in_sections)


def article_rule_in_section(viewer: Viewer,
                            now: datetime | ColumnElement[datetime] | None = None
                            ) -> ColumnElement[bool]:
    """:func:`article_clause` without the section rule, for a query that names its one
    section itself (``section_id = :id``), among the ``viewer.sections`` looked up: a second
    condition on ``section_id`` (``IN (…)``) leads SQLite's planner away from the list
    index."""
    return and_(live_clause(now), _audience(PortalArticle, viewer, PortalArticleGroup.article_id,
                                            PortalArticleGroup.group_id))


def visible_articles(viewer: Viewer, now: datetime | ColumnElement[datetime] | None = None
                     ) -> Select[tuple[PortalArticle]]:
    """``SELECT`` of the articles ``viewer`` may read now (add filters and ordering)."""
    return (select(PortalArticle)
            .join(PortalSection, PortalSection.id == PortalArticle.section_id)
            .where(article_clause(viewer, now)))


#: Statements built once per kind of viewer (see :func:`built_for`); at most this many.
BUILT_MAX = 256
_BUILT: dict[tuple[Hashable, ...], Any] = {}


def built_for(name: str, viewer: Viewer, build: Callable[[], S]) -> S:
    """The statement ``name`` for viewers like ``viewer``, built by ``build`` the first time
    and then reused — neither the expression nor SQLAlchemy's cache key is rebuilt on every
    request. ``build`` takes every value that varies between requests (the time, the key…)
    as a bind parameter; what it takes from the viewer is what the key holds (platform, org
    path, groups, looked-up sections). When full, the store starts over."""
    key = (name, viewer.platform, viewer.org_ids, viewer.groups, viewer.sections)
    found: S | None = _BUILT.get(key)
    if found is None:
        if len(_BUILT) >= BUILT_MAX:
            _BUILT.clear()
        found = _BUILT[key] = build()
    return found


def can_read(session: Session, article_id: int, viewer: Viewer,
             now: datetime | None = None) -> bool:
    """The same rule for one article (its page, its attachments)."""
    query = visible_articles(viewer, now).where(PortalArticle.id == article_id)
    return session.scalar(select(exists(query.with_only_columns(PortalArticle.id)))) is True


def can_see_section(session: Session, section_id: int, viewer: Viewer) -> bool:
    return session.scalar(select(exists().where(
        PortalSection.id == section_id, section_clause(viewer)))) is True


# --- the rule as search access tokens -------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """An effective audience: org ids (ancestors-or-self of a path, deepest wins) and groups."""

    org_path: str | None  # the targeted org's path, None = every org
    org_id: int | None
    groups: frozenset[int] | None  # None = no group restriction
    nobody: bool = False


def effective_target(section: Target, article: Target) -> Target:
    """Both the section's and the article's audience apply: the deeper org subtree (disjoint
    subtrees: nobody), the common groups (none in common: nobody)."""
    if section.nobody or article.nobody:
        return Target(None, None, None, nobody=True)
    org_path, org_id = section.org_path, section.org_id
    if article.org_path is not None:
        if org_path is None or article.org_path.startswith(org_path):
            org_path, org_id = article.org_path, article.org_id
        elif not org_path.startswith(article.org_path):
            return Target(None, None, None, nobody=True)
    groups = section.groups
    if article.groups is not None:
        groups = article.groups if groups is None else groups & article.groups
    if groups is not None and not groups:
        return Target(None, None, None, nobody=True)
    return Target(org_path, org_id, groups)


def target_acl(target: Target) -> tuple[str, ...]:
    """Search access tokens for an effective target (see :mod:`unionhub.search.acl`)."""
    if target.nobody:
        return ("nobody",)
    if target.org_id is not None and target.groups:
        return acl.audience(acl.org_group_token(target.org_id, g)
                            for g in sorted(target.groups))
    if target.org_id is not None:
        return (acl.org_token(target.org_id),)
    if target.groups:
        return acl.audience(acl.group_token(g) for g in sorted(target.groups))
    return (acl.PUBLIC,)


def platform_tags(section: PortalSection, article: PortalArticle) -> tuple[str, ...]:
    """``platform:<p>`` for each platform both the section and the article are on."""
    return tuple(f"platform:{p}" for p in section.platforms if p in article.platforms)


__all__ = [
    "Platform", "Target", "Viewer", "article_clause", "article_rule_in_section", "built_for",
    "can_read", "can_see_section", "effective_target", "live_clause", "platform_tags",
    "section_clause", "target_acl", "visible_articles", "with_sections",
]
