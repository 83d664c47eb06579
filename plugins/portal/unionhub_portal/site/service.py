"""What readers see of sections and articles: every query goes through
:mod:`unionhub_portal.audience`, so the PC portal, the mobile site, the app API, the feeds and
the sitemap cannot disagree about who may read what.

Lists are kept cheap at 100,000 articles: they read one page no deeper than :data:`MAX_PAGE`
pages, and count at most ``MAX_PAGE`` pages of rows instead of counting every matching article
on each request. The list order (pinned first, then newest) is not one any index can deliver
over several sections, so :func:`_window` reads each section along ``ix_portal_article_list``
(section, state, published_at, id) and the pinned articles along their partial index, merges
the keys in Python and loads only the page's rows (without their bodies). The previous/next
links are a row comparison ``(published_at, id) < (…, …)`` on the same index.

An article page runs three statements, each built once per kind of viewer
(:func:`..audience.built_for`): the viewer's sections (``web.current_viewer``), the article
with its issuer's name and a file flag (:func:`article_for_page`), and both neighbours
(:func:`neighbours`); the files only when there are some. Its view is counted in memory
(:mod:`.counter`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Row,
    Select,
    String,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.orm import Session, contains_eager, defer, joinedload

from unionhub.db import UTCDateTime, utcnow
from unionhub.orgs.models import Org
from unionhub.web.pagination import PageMath

from ..audience import (
    Viewer,
    article_clause,
    article_rule_in_section,
    built_for,
    section_clause,
    visible_articles,
)
from ..models import PortalArticle, PortalAttachment, PortalSection, SectionKind

#: Articles per list page (PC and mobile) and the deepest page a list goes to.
PER_PAGE = 20
MAX_PAGE = 50
#: Hot articles: the most read among those published in this window.
HOT_DAYS = 30
#: Slugs are short; a longer path part is no article.
MAX_KEY = 80


@dataclass
class ArticlePage(PageMath):
    """One page of a list. ``total`` is exact up to ``cap`` and ``capped`` says it is more."""

    items: list[PortalArticle] = field(default_factory=list)
    page: int = 1
    per_page: int = PER_PAGE
    total: int = 0
    capped: bool = False
    max_page: int = MAX_PAGE

    @property
    def pages(self) -> int:
        return min(self.max_page, max(1, -(-self.total // self.per_page)))


def readable(viewer: Viewer, now: datetime | None = None) -> Select[tuple[PortalArticle]]:
    """:func:`..audience.visible_articles` with each article's section loaded by the same
    join (pages and the API show the section of every article)."""
    return visible_articles(viewer, now).options(contains_eager(PortalArticle.section))


def list_order() -> tuple[ColumnElement[object], ...]:
    """Pinned first, then the newest, then the highest id (stable across pages)."""
    return (PortalArticle.pinned.desc(), PortalArticle.published_at.desc(),
            PortalArticle.id.desc())


def _newest() -> tuple[ColumnElement[object], ...]:
    return (PortalArticle.published_at.desc(), PortalArticle.id.desc())


def _window(session: Session, viewer: Viewer, section_ids: Sequence[int], offset: int,
            limit: int, now: datetime) -> list[PortalArticle]:
    """Articles ``offset`` … ``offset + limit`` of :func:`list_order` among those ``viewer``
    may read in ``section_ids``, with their sections and without their bodies.

    With ``need = offset + limit``: the pinned articles come first, so the page holds at most
    ``need`` of them, and a non-pinned article among the first ``need`` has fewer than
    ``need`` articles of its section newer than itself. Hence the ``need`` newest of each
    section (one index walk each) plus the ``need`` newest pinned ones (partial index) contain
    the page; their keys are merged here and only the page's rows are loaded — by primary
    key: the audience rule was applied, at the same ``now``, by the query that chose them."""
    need = offset + limit
    ids = list(dict.fromkeys(section_ids))
    cols = (PortalArticle.id, PortalArticle.pinned, PortalArticle.published_at)
    keys = visible_articles(viewer, now).with_only_columns(*cols)
    one_section = keys
    if viewer.sections is not None:
        # the sections were looked up: keep those the viewer may see here, and let each
        # section's query name its section alone
        shown = set(viewer.sections)
        ids = [i for i in ids if i in shown]
        one_section = select(*cols).where(article_rule_in_section(viewer, now))
    if not ids or limit <= 0:
        return []
    found: dict[int, Row[tuple[int, bool, datetime | None]]] = {}
    for section_id in ids:
        for row in session.execute(one_section.where(PortalArticle.section_id == section_id)
                                   .order_by(*_newest()).limit(need)):
            found[row.id] = row
    # ``WHERE pinned`` as written matches the partial index's predicate (models.py)
    for row in session.execute(keys.where(PortalArticle.pinned,
                                          PortalArticle.section_id.in_(ids))
                               .order_by(*_newest()).limit(need)):
        found[row.id] = row
    ranked = sorted(found.values(), reverse=True,
                    key=lambda r: (bool(r.pinned), r.published_at, r.id))[offset:need]
    if not ranked:
        return []
    rows = {a.id: a for a in session.scalars(
        select(PortalArticle).where(PortalArticle.id.in_([r.id for r in ranked]))
        .options(joinedload(PortalArticle.section, innerjoin=True),
                 defer(PortalArticle.body_html)))}
    return [rows[r.id] for r in ranked if r.id in rows]


def _listed_ids(session: Session, viewer: Viewer, section_ids: Sequence[int] | None,
                kind: str | None) -> list[int]:
    """The sections a list reads: ``section_ids`` (every section when None), narrowed to
    those of ``kind``; the audience of each is checked by the article queries."""
    if section_ids is not None and kind is None:
        return list(section_ids)
    stmt = select(PortalSection.id).where(section_clause(viewer))
    if section_ids is not None:
        stmt = stmt.where(PortalSection.id.in_(list(section_ids)))
    if kind is not None:
        stmt = stmt.where(PortalSection.kind == kind)
    return list(session.scalars(stmt.order_by(PortalSection.id)))


# --- sections -------------------------------------------------------------------------------


def section_by_code(session: Session, viewer: Viewer, code: str) -> PortalSection | None:
    """The section with ``code`` when ``viewer`` may see it (else None: a 404, whether it
    exists or not)."""
    if not code or len(code) > 40:
        return None
    return session.scalar(select(PortalSection).where(PortalSection.code == code,
                                                       section_clause(viewer)))


def visible_sections(session: Session, viewer: Viewer) -> list[PortalSection]:
    """Every section ``viewer`` may see whose parents they may see too, in menu order
    (parents before their children)."""
    rows = list(session.scalars(select(PortalSection).where(section_clause(viewer))
                                .order_by(PortalSection.sort, PortalSection.id)))
    by_parent: dict[int | None, list[PortalSection]] = {}
    for s in rows:
        by_parent.setdefault(s.parent_id, []).append(s)
    out: list[PortalSection] = []

    def walk(parent: int | None) -> None:
        for s in by_parent.get(parent, []):
            out.append(s)
            walk(s.id)

    walk(None)
    return out


def children(session: Session, viewer: Viewer, section: PortalSection) -> list[PortalSection]:
    return list(session.scalars(select(PortalSection).where(
        PortalSection.parent_id == section.id, section_clause(viewer))
        .order_by(PortalSection.sort, PortalSection.id)))


def section_parents(session: Session) -> dict[int, int | None]:
    """section id → parent id (the tree is small: one query)."""
    return dict(session.execute(select(PortalSection.id, PortalSection.parent_id)).all())


def subtree_ids(session: Session, section_id: int,
                parent_of: dict[int, int | None] | None = None) -> list[int]:
    """The section and its descendants, walked in Python over :func:`section_parents`; the
    audience of each is checked by the article query itself."""
    if parent_of is None:
        parent_of = section_parents(session)
    kids: dict[int, list[int]] = {}
    for sid, parent in parent_of.items():
        if parent is not None:
            kids.setdefault(parent, []).append(sid)
    out: list[int] = []
    seen: set[int] = set()
    todo = [section_id]
    while todo:
        sid = todo.pop()
        if sid in seen:
            continue
        seen.add(sid)
        out.append(sid)
        todo.extend(kids.get(sid, []))
    return out


# --- lists ----------------------------------------------------------------------------------


def clamp_page(raw: object, max_page: int = MAX_PAGE) -> int:
    """A page number from user input: anything odd is page 1, deep pages stop at the cap."""
    try:
        page = int(str(raw))
    except ValueError:
        return 1
    return max(1, min(page, max_page))


def list_articles(session: Session, viewer: Viewer, *, section_ids: Sequence[int] | None = None,
                  kind: str | None = None, page: int = 1, per_page: int = PER_PAGE,
                  now: datetime | None = None) -> ArticlePage:
    """One page of the articles ``viewer`` may read (in ``section_ids`` / sections of ``kind``
    when given), pinned first then newest."""
    page = max(1, min(page, MAX_PAGE))
    now = now or utcnow()
    ids = _listed_ids(session, viewer, section_ids, kind)
    cap = MAX_PAGE * per_page
    counted = 0
    if ids:
        stmt = visible_articles(viewer, now).where(PortalArticle.section_id.in_(ids))
        counted = session.scalar(select(func.count()).select_from(
            stmt.with_only_columns(PortalArticle.id).limit(cap + 1).subquery())) or 0
    items: list[PortalArticle] = []
    if (page - 1) * per_page < counted:
        items = _window(session, viewer, ids, (page - 1) * per_page, per_page, now)
    return ArticlePage(items, page, per_page, min(int(counted), cap), counted > cap, MAX_PAGE)


def latest(session: Session, viewer: Viewer, *, section_ids: Sequence[int] | None = None,
           kind: str | None = None, limit: int = 8, now: datetime | None = None
           ) -> list[PortalArticle]:
    """The first ``limit`` articles of a list (no count)."""
    ids = _listed_ids(session, viewer, section_ids, kind)
    return _window(session, viewer, ids, 0, limit, now or utcnow())


def headlines(session: Session, viewer: Viewer, limit: int = 5,
              now: datetime | None = None) -> list[PortalArticle]:
    """The carousel: headline articles with a cover, newest first (``WHERE headline`` as
    written matches the partial index ``ix_portal_article_headline``)."""
    return list(session.scalars(
        readable(viewer, now)
        .where(PortalArticle.headline, PortalArticle.cover_id.is_not(None))
        .order_by(*_newest()).limit(limit).options(defer(PortalArticle.body_html))))


def notices(session: Session, viewer: Viewer, limit: int = 8,
            now: datetime | None = None) -> list[PortalArticle]:
    """The latest notices (articles in sections of kind ``notice``)."""
    return latest(session, viewer, kind=SectionKind.NOTICE, limit=limit, now=now)


def hot(session: Session, viewer: Viewer, limit: int = 10,
        now: datetime | None = None) -> list[PortalArticle]:
    """The most read articles among those published in the last :data:`HOT_DAYS` days."""
    now = now or utcnow()
    return list(session.scalars(
        readable(viewer, now)
        .where(PortalArticle.published_at >= now - timedelta(days=HOT_DAYS))
        .order_by(PortalArticle.view_count.desc(), PortalArticle.published_at.desc(),
                  PortalArticle.id.desc()).limit(limit)
        .options(defer(PortalArticle.body_html))))


@dataclass
class HomeBlock:
    section: PortalSection
    articles: list[PortalArticle]


def home_blocks(session: Session, viewer: Viewer, per_block: int = 6,
                now: datetime | None = None) -> list[HomeBlock]:
    """The latest articles of every home section (``on_home``) ``viewer`` may see, with
    their child sections; notices and the sections that only link elsewhere (Q&A, forum,
    discounts, links) have cards of their own on the home page and are left out."""
    now = now or utcnow()
    listed = (SectionKind.NEWS, SectionKind.DOCUMENTS)  # notices have the page's own card
    sections = list(session.scalars(
        select(PortalSection).where(PortalSection.on_home.is_(True), section_clause(viewer),
                                    PortalSection.kind.in_(listed))
        .order_by(PortalSection.sort, PortalSection.id)))
    shown = {s.id for s in sections}
    parent_of = section_parents(session)
    blocks = []
    for section in sections:
        if section.parent_id in shown:
            continue  # its articles are in its parent's block already
        ids = subtree_ids(session, section.id, parent_of)
        blocks.append(HomeBlock(section, latest(session, viewer, section_ids=ids,
                                                limit=per_block, now=now)))
    return blocks


# --- one article ----------------------------------------------------------------------------


def _parse_key(key: str | int) -> tuple[str, int | str] | None:
    """``("id", n)`` for digits, ``("slug", text)`` otherwise; None for a key that names no
    article (empty, too long, an id beyond a database integer)."""
    key = str(key)
    if not key or len(key) > MAX_KEY:
        return None
    if key.isdigit():
        return None if len(key) > 9 else ("id", int(key))
    return "slug", key


def _keyed(stmt: Select[tuple[PortalArticle]], key: str | int
           ) -> Select[tuple[PortalArticle]] | None:
    """``stmt`` narrowed to the article with this id (digits) or slug; None for a key that
    names no article."""
    parsed = _parse_key(key)
    if parsed is None:
        return None
    column = PortalArticle.id if parsed[0] == "id" else PortalArticle.slug
    return stmt.where(column == parsed[1])


#: The values the article page's statements take at execution (:func:`..audience.built_for`).
_NOW = bindparam("now", type_=UTCDateTime())
_AT = bindparam("at", type_=UTCDateTime())
_ARTICLE = bindparam("article_id", type_=Integer())
_SECTION = bindparam("section_id", type_=Integer())


def article_by_key(session: Session, viewer: Viewer, key: str | int,
                   now: datetime | None = None) -> PortalArticle | None:
    """The article with this id (digits) or slug when ``viewer`` may read it now; None
    otherwise — a missing article and a forbidden one look the same."""
    stmt = _keyed(readable(viewer, now), key)
    return None if stmt is None else session.scalar(stmt)


@dataclass
class ArticleRead:
    """An article as its page reads it: the row with its section, the issuing union's name
    and whether it has downloadable files (read with the row, so that the files are only
    queried when there are some)."""

    article: PortalArticle
    issuer: str | None
    has_files: bool


def article_for_page(session: Session, viewer: Viewer, key: str | int,
                     now: datetime | None = None) -> ArticleRead | None:
    """:func:`article_by_key` in one statement with the issuer's name and the file test,
    built once per kind of viewer (:func:`..audience.built_for`).

    With the viewer's sections looked up (a request's viewer), the statement reads the row
    by its key under the live and audience rules only, and the section is tested here
    (``section_id`` among ``viewer.sections``: the same rule, without a 20-value ``IN`` and
    a join for the database to plan); the section itself is then already in the session,
    loaded by the lookup."""
    parsed = _parse_key(key)
    if parsed is None:
        return None
    by, value = parsed

    def build() -> Select[Any]:
        base = (readable(viewer, _NOW) if viewer.sections is None
                else select(PortalArticle).where(article_rule_in_section(viewer, _NOW)))
        keyed = (PortalArticle.id == bindparam("key", type_=Integer()) if by == "id"
                 else PortalArticle.slug == bindparam("key", type_=String()))
        files = exists().where(PortalAttachment.article_id == PortalArticle.id,
                               PortalAttachment.kind == "file")
        return (base.where(keyed).outerjoin(Org, Org.id == PortalArticle.owner_org_id)
                .add_columns(Org.name, files.label("has_files")))

    stmt = built_for(f"portal.article_page.{by}", viewer, build)
    row = session.execute(stmt, {"now": now or utcnow(), "key": value}).first()
    if row is None or (viewer.sections is not None
                       and row[0].section_id not in viewer.sections):
        return None
    return ArticleRead(row[0], row[1], bool(row[2]))


class Neighbour(NamedTuple):
    """A previous/next link: what the page and the API show of it."""

    id: int
    slug: str | None
    title: str


def neighbours(session: Session, viewer: Viewer, article: PortalArticle,
               now: datetime | None = None) -> tuple[Neighbour | None, Neighbour | None]:
    """(previous, next) in the article's section by publication: the next older and the
    next newer article ``viewer`` may read — one statement, the two sides as a ``UNION ALL``
    of two one-row subqueries.

    The keyset is a row comparison, ``(published_at, id) < (:at, :id)``, which PostgreSQL
    answers by walking ``ix_portal_article_list`` from the article; the equivalent
    ``published_at < :at OR (published_at = :at AND id < :id)`` is served by no index there
    and read every newer article of the section. SQLite (≥ 3.15) takes the first bound on
    ``published_at`` it meets in the ``WHERE`` clause as the walk's start, so the keyset
    (with a plain ``published_at <= :at`` for the older side) comes before the audience
    rule's ``published_at <= now``."""
    at = article.published_at
    if at is None:
        return None, None
    if viewer.sections is not None and article.section_id not in viewer.sections:
        return None, None
    stmt = built_for("portal.neighbours", viewer, lambda: _neighbours_statement(viewer))
    found: dict[int, Neighbour] = {
        int(row.newer): Neighbour(row.id, row.slug, row.title)
        for row in session.execute(stmt, {"now": now or utcnow(), "at": at,
                                          "article_id": article.id,
                                          "section_id": article.section_id})}
    return found.get(0), found.get(1)


def _neighbours_statement(viewer: Viewer) -> CompoundSelect[Any]:
    """The statement of :func:`neighbours`, for viewers like ``viewer``. With the sections
    looked up, both sides are in the article's section, which the viewer may see (checked
    by the caller): the section rule is left out."""
    visible = (article_clause(viewer, _NOW) if viewer.sections is None
               else article_rule_in_section(viewer, _NOW))
    key = tuple_(PortalArticle.published_at, PortalArticle.id)

    def side(newer: int, keyset: ColumnElement[bool], *order: ColumnElement[object]
             ) -> Select[Any]:
        stmt = select(PortalArticle.id, PortalArticle.slug, PortalArticle.title,
                      literal_column(str(newer)).label("newer"))
        if viewer.sections is None:  # the section rule is then evaluated on the join
            stmt = stmt.join(PortalSection, PortalSection.id == PortalArticle.section_id)
        return (stmt.where(keyset, PortalArticle.section_id == _SECTION)
                .where(visible).order_by(*order).limit(1))

    older = side(0, and_(PortalArticle.published_at <= _AT, key < tuple_(_AT, _ARTICLE)),
                 *_newest())
    newer = side(1, key > tuple_(_AT, _ARTICLE), PortalArticle.published_at.asc(),
                 PortalArticle.id.asc())
    return union_all(older.subquery().select(), newer.subquery().select())


def add_views(session: Session, counts: Mapping[int, int]) -> None:
    """Add ``counts`` (article id → views) to the articles, one additive ``UPDATE`` per
    article (no read-modify-write: concurrent writers all count), in id order (two writers
    lock the rows in the same order). ``updated_at`` is kept: a view is not an edit. The
    caller commits."""
    rows = [{"article": aid, "n": n} for aid, n in sorted(counts.items()) if n]
    if not rows:
        return
    table = PortalArticle.__table__
    session.connection().execute(
        update(table).where(table.c.id == bindparam("article"))
        .values(view_count=table.c.view_count + bindparam("n"),
                updated_at=table.c.updated_at), rows)


def attachments(session: Session, article_id: int) -> list[PortalAttachment]:
    """The article's downloadable files (images are shown in the body)."""
    return list(session.scalars(select(PortalAttachment).where(
        PortalAttachment.article_id == article_id, PortalAttachment.kind == "file")
        .order_by(PortalAttachment.id)))


def attachment_counts(session: Session, article_ids: Iterable[int]) -> dict[int, int]:
    ids = list(article_ids)
    if not ids:
        return {}
    return {aid: int(n) for aid, n in session.execute(
        select(PortalAttachment.article_id, func.count())
        .where(PortalAttachment.article_id.in_(ids), PortalAttachment.kind == "file")
        .group_by(PortalAttachment.article_id))}


def org_names(session: Session, org_ids: Iterable[int]) -> dict[int, str]:
    """Names of the issuing unions of a list."""
    ids = sorted(set(org_ids))
    if not ids:
        return {}
    return dict(session.execute(select(Org.id, Org.name).where(Org.id.in_(ids))).all())


def article_path(article: PortalArticle, mobile: bool = False) -> str:
    """The friendly path of an article (its slug when it has one)."""
    return f"/portal/{'m/' if mobile else ''}a/{article.slug or article.id}"


def section_path(section: PortalSection, mobile: bool = False) -> str:
    return f"/portal/{'m/' if mobile else ''}s/{section.code}"


def redirect_target(section: PortalSection, mobile: bool = False) -> str | None:
    """Where a section that shows no article list goes (Q&A, forum, link); None for the
    listing kinds. A link goes only to a local path or an https URL, and never with a
    backslash, whitespace or a control character in it (browsers drop tabs and newlines and
    read a backslash as a slash, which would turn ``/\\host`` into another site)."""
    prefix = "/portal/m" if mobile else "/portal"
    if section.kind == SectionKind.QA:
        return f"{prefix}/hotline"
    if section.kind == SectionKind.FORUM:
        return f"{prefix}/forum"
    if section.kind == SectionKind.LINK:
        url = (section.link_url or "").strip()
        clean = not any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\" for c in url)
        if clean and ((url.startswith("/") and not url.startswith("//"))
                      or url.startswith("https://")):
            return url
        return f"{prefix}/"
    return None
