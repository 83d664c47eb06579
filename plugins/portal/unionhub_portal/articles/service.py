"""Articles in the back office: who may edit which, the edit form's checks, saving with a
revision per save, revision diffs and restore.

Callers pass the acting account and plain values (a ``Mapping`` of form fields, lists for
``groups`` and ``platforms``); nothing here reads the request. A form is checked field by field
first and an :class:`ArticleError` names every bad field before anything is written, so a
refused save leaves the article as it was. Officers see and edit only articles whose owner org
lies in a subtree where they hold :data:`EDIT` — always as SQL (:func:`scoped_articles`).

Two officers editing the same article: the form carries the revision it was loaded at; a save
whose revision is no longer the current one is refused (:class:`StaleError`), and the bump of
``revision`` is a conditional ``UPDATE … WHERE revision = :seen`` so that two saves racing past
the check cannot both win. Every change queues the article for search (:data:`DOC`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import ColumnElement, Select, delete, exists, func, select, update
from sqlalchemy.orm import Session

from unionhub.access.service import scope_filter
from unionhub.db import utcnow
from unionhub.groups.models import MemberGroup
from unionhub.i18n import _
from unionhub.orgs.models import Org
from unionhub.search import queue as search_queue
from unionhub.web.fields import FieldReader
from unionhub.web.formatting import SHANGHAI, local_time
from unionhub.web.richtext import ARTICLE, clean_typed, html_to_text, render

from ..models import (
    PLATFORMS,
    ArticleState,
    PortalArticle,
    PortalArticleGroup,
    PortalRevision,
    PortalSection,
    SectionKind,
)

EDIT = "portal.content.edit"
PUBLISH = "portal.content.publish"
DOC = "portal.article"

#: Section kinds that hold articles (the others list hotline Q&As, the forum, offers or a link).
ARTICLE_KINDS = (SectionKind.NEWS, SectionKind.NOTICE, SectionKind.DOCUMENTS)
SLUG_RE = re.compile(r"^[a-z0-9-]+$")
TAG_SPLIT = re.compile(r"[,，、;；\s]+")
MAX_BODY = 200_000
MAX_TAG = 20

STATE_LABELS: Mapping[str, str] = {
    ArticleState.DRAFT: "草稿", ArticleState.PENDING: "待审核",
    ArticleState.PUBLISHED: "已发布", ArticleState.OFFLINE: "已下线"}
PLATFORM_LABELS: Mapping[str, str] = {"pc": "门户网站", "mobile": "微网站", "app": "App"}
#: Labels of the fields a revision records, in the order a diff lists them.
FIELD_LABELS: Mapping[str, str] = {
    "title": "标题", "summary": "摘要", "section_id": "栏目", "slug": "网址别名", "tags": "标签",
    "source": "来源", "author": "作者", "cover_id": "封面", "audience_org_id": "面向工会",
    "groups": "会员群体", "platforms": "发布平台", "published_at": "发布时间",
    "expires_at": "下线时间", "headline": "头条", "pinned": "置顶", "seo_title": "SEO 标题",
    "seo_description": "SEO 描述", "seo_keywords": "SEO 关键词"}
META_KEYS = tuple(k for k in FIELD_LABELS if k not in ("title", "summary"))


class ArticleError(ValueError):
    """Refused input or action: ``errors`` maps each bad field (or ``"state"``) to a message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class StaleError(ArticleError):
    """The form was loaded at an older revision: someone else saved in between."""

    def __init__(self, current: int) -> None:
        super().__init__({"revision": _(
            "这篇文章在您打开后已被他人修改（当前为第 %(n)s 版），为避免覆盖，本次修改未保存。"
            "请刷新页面，在最新版本上重新修改。", n=current)})
        self.current = current


# -- scope ---------------------------------------------------------------------------------


def scope_clause(account: Any, permission: str = EDIT) -> ColumnElement[bool]:
    """True for articles whose owner org lies where ``account`` holds ``permission`` (the
    query must join :class:`Org` on ``owner_org_id``; see :func:`scoped_articles`)."""
    return scope_filter(account, permission, Org.path)


def scoped_articles(account: Any, permission: str = EDIT) -> Select[tuple[PortalArticle]]:
    """``SELECT`` of the articles ``account`` may work on with ``permission``."""
    return (select(PortalArticle).join(Org, Org.id == PortalArticle.owner_org_id)
            .where(scope_clause(account, permission)))


def scoped_article(session: Session, account: Any, article_id: int,
                   permission: str = EDIT) -> PortalArticle | None:
    """One article ``account`` may work on, else None (the caller answers 404)."""
    return session.scalar(scoped_articles(account, permission)
                          .where(PortalArticle.id == article_id))


def may(session: Session, account: Any, article: PortalArticle, permission: str) -> bool:
    """Whether ``account`` holds ``permission`` over ``article``'s owner org."""
    return session.scalar(select(exists(
        scoped_articles(account, permission).where(PortalArticle.id == article.id)
        .with_only_columns(PortalArticle.id)))) is True


def org_choices(session: Session, account: Any, extra_ids: Iterable[int | None] = ()
                ) -> list[Org]:
    """Orgs ``account`` may own or target articles for (its :data:`EDIT` subtrees) plus
    ``extra_ids`` (those the article already names), in tree order."""
    clause: ColumnElement[bool] = scope_filter(account, EDIT, Org.path)
    extra = [i for i in extra_ids if i is not None]
    if extra:
        clause = clause | Org.id.in_(extra)
    return list(session.scalars(select(Org).where(clause).order_by(Org.path)))


def _in_scope(session: Session, account: Any, org_id: int) -> bool:
    return session.scalar(select(exists().where(
        Org.id == org_id, scope_filter(account, EDIT, Org.path)))) is True


def article_sections(session: Session) -> list[PortalSection]:
    """Sections an article may be put in, in menu order."""
    return list(session.scalars(select(PortalSection)
                                .where(PortalSection.kind.in_(ARTICLE_KINDS))
                                .order_by(PortalSection.sort, PortalSection.id)))


def group_choices(session: Session) -> list[MemberGroup]:
    return list(session.scalars(select(MemberGroup).order_by(MemberGroup.name)))


def list_articles(account: Any, *, section_id: int | None = None, state: str = "",
                  q: str = "") -> Select[tuple[PortalArticle]]:
    """The back-office list: the account's scope, filtered, pinned first, newest first."""
    stmt = scoped_articles(account)
    if section_id is not None:
        stmt = stmt.where(PortalArticle.section_id == section_id)
    if state in STATE_LABELS:
        stmt = stmt.where(PortalArticle.state == state)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(PortalArticle.title.ilike(f"%{escaped}%", escape="\\"))
    return stmt.order_by(PortalArticle.updated_at.desc(), PortalArticle.id.desc())


def state_counts(session: Session, account: Any, section_id: int | None = None
                 ) -> dict[str, int]:
    """Articles per state in the account's scope (one grouped query)."""
    stmt = (select(PortalArticle.state, func.count())
            .join(Org, Org.id == PortalArticle.owner_org_id)
            .where(scope_clause(account)).group_by(PortalArticle.state))
    if section_id is not None:
        stmt = stmt.where(PortalArticle.section_id == section_id)
    return {state: int(n) for state, n in session.execute(stmt)}


def pending_by_section(session: Session, account: Any) -> list[tuple[PortalSection, int]]:
    """(section, pending articles) for the review queue, sections with any pending only."""
    rows = session.execute(
        select(PortalSection, func.count(PortalArticle.id))
        .join(PortalArticle, PortalArticle.section_id == PortalSection.id)
        .join(Org, Org.id == PortalArticle.owner_org_id)
        .where(PortalArticle.state == ArticleState.PENDING, scope_clause(account))
        .group_by(PortalSection.id).order_by(PortalSection.sort, PortalSection.id))
    return [(section, int(n)) for section, n in rows]


# -- the form ------------------------------------------------------------------------------


def parse_local(value: str) -> datetime:
    """A date-time typed in Beijing time (``2026-03-01T09:30`` or ``2026-03-01 09:30``), as an
    aware UTC datetime; ValueError when it is not one."""
    moment = datetime.fromisoformat(value.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(UTC)


def local_input(value: datetime | None) -> str:
    """A stored moment as the value of a ``datetime-local`` input (Beijing time)."""
    return local_time(value, "%Y-%m-%dT%H:%M") if value else ""


class _Fields(FieldReader):
    """The article form's readers (on top of the core's)."""

    error = ArticleError

    def text(self, key: str, label: str, *, max_len: int, required: bool = False) -> str | None:
        value = self.raw(key)
        if "\x00" in value:
            self.fail(key, _("%(field)s含有不允许的字符", field=_(label)))
            return None
        if required and not value:
            self.fail(key, _("请填写%(field)s", field=_(label)))
        elif len(value) > max_len:
            self.fail(key, _("%(field)s不能超过 %(n)s 个字", field=_(label), n=max_len))
        return value or None

    def ident(self, key: str, label: str, *, required: bool = False) -> int | None:
        value = self.raw(key)
        if not value:
            if required:
                self.fail(key, _("请选择%(field)s", field=_(label)))
            return None
        if not value.isdigit() or len(value) > 9:
            self.fail(key, _("%(field)s选择有误", field=_(label)))
            return None
        return int(value)

    def moment(self, key: str, label: str, keep: datetime | None = None) -> datetime | None:
        """A Beijing date-time; ``keep`` (the stored value) when the form shows it unchanged,
        so that its seconds survive a save."""
        value = self.raw(key)
        if not value:
            return None
        if keep is not None and value == local_input(keep):
            return keep
        try:
            return parse_local(value)
        except ValueError:
            self.fail(key, _("%(field)s应为日期时间，如 2026-03-01 09:30", field=_(label)))
            return None

    def flag(self, key: str) -> bool:
        return self.raw(key).lower() in ("1", "on", "true", "yes", "y")


@dataclass
class ArticleInput:
    """A checked form: the article's column values, its groups and the form's revision."""

    values: dict[str, Any]
    groups: list[int] = field(default_factory=list)
    revision: int | None = None


def parse(session: Session, account: Any, data: Mapping[str, Any],
          existing: PortalArticle | None = None) -> ArticleInput:
    """Check an article form; raises :class:`ArticleError` naming every bad field. Orgs must lie
    in ``account``'s :data:`EDIT` scope (those the article already names may be kept)."""
    f = _Fields(data)
    v: dict[str, Any] = {
        "title": f.text("title", "标题", max_len=200, required=True),
        "summary": f.text("summary", "摘要", max_len=500),
        "source": f.text("source", "来源", max_len=100),
        "author": f.text("author", "作者", max_len=60),
        "seo_title": f.text("seo_title", "SEO 标题", max_len=120),
        "seo_description": f.text("seo_description", "SEO 描述", max_len=300),
        "seo_keywords": f.text("seo_keywords", "SEO 关键词", max_len=200),
        "headline": f.flag("headline"),
        "pinned": f.flag("pinned"),
        "needs_signoff": f.flag("needs_signoff"),
    }
    raw_body = f.raw("body")
    if len(raw_body) > MAX_BODY:
        f.fail("body", _("正文不能超过 %(n)s 个字符", n=MAX_BODY))
    v["body_html"] = clean_typed(raw_body[:MAX_BODY], ARTICLE)

    section_id = f.ident("section_id", "栏目", required=True)
    if section_id is not None:
        kind = session.scalar(select(PortalSection.kind).where(PortalSection.id == section_id))
        if kind is None:
            f.fail("section_id", _("所选栏目不存在"))
        elif kind not in ARTICLE_KINDS:
            f.fail("section_id", _("该栏目不发布文章（链接、论坛、问答或优惠栏目），请另选栏目"))
    v["section_id"] = section_id

    slug = f.raw("slug").lower() or None
    if slug is not None:
        if len(slug) > 80 or not SLUG_RE.match(slug):
            f.fail("slug", _("网址别名只能使用小写字母、数字和连字符，最多 80 个字符"))
        elif slug.isdigit():
            f.fail("slug", _("网址别名不能全是数字（会与文章编号混淆）"))
        elif session.scalar(select(exists().where(
                PortalArticle.slug == slug,
                PortalArticle.id != (existing.id if existing else -1)))):
            f.fail("slug", _("网址别名“%(slug)s”已被其他文章使用", slug=slug))
    v["slug"] = slug

    v["tags"] = _tags(f)

    owner = f.ident("owner_org_id", "发布单位", required=True)
    if owner is not None and not (existing is not None and owner == existing.owner_org_id) \
            and not _in_scope(session, account, owner):
        f.fail("owner_org_id", _("只能以您负责的工会（含下级）名义发布"))
    v["owner_org_id"] = owner
    audience = f.ident("audience_org_id", "面向工会")
    if audience is not None and not (existing is not None
                                     and audience == existing.audience_org_id) \
            and not _in_scope(session, account, audience):
        f.fail("audience_org_id", _("面向工会只能选择您负责的工会（含下级）"))
    v["audience_org_id"] = audience

    groups = f.ids("groups", "会员群体")
    if groups:
        found = set(session.scalars(select(MemberGroup.id).where(MemberGroup.id.in_(groups))))
        if found != set(groups):
            f.fail("groups", _("所选会员群体不存在"))
    v["has_groups"] = bool(groups)

    platforms = f.many("platforms")
    if not platforms:
        f.fail("platforms", _("请至少选择一个发布平台"))
    elif not set(platforms) <= set(PLATFORMS):
        f.fail("platforms", _("%(field)s选择有误", field=_("发布平台")))
    for p in PLATFORMS:
        v[f"on_{p}"] = p in platforms

    published_at = f.moment("published_at", "发布时间",
                            keep=existing.published_at if existing else None)
    expires_at = f.moment("expires_at", "下线时间", keep=existing.expires_at if existing else None)
    if expires_at is not None:
        if published_at is not None and expires_at <= published_at:
            f.fail("expires_at", _("下线时间应晚于发布时间"))
        elif published_at is None and expires_at <= utcnow() \
                and not (existing is not None and expires_at == existing.expires_at):
            f.fail("expires_at", _("下线时间应晚于现在"))
    v["published_at"], v["expires_at"] = published_at, expires_at

    revision = None
    if existing is not None:
        raw_revision = f.raw("revision")
        if not raw_revision.isdigit() or len(raw_revision) > 9:
            f.fail("revision", _("表单缺少版本号，请刷新页面后重新修改"))
        else:
            revision = int(raw_revision)
    f.done()
    return ArticleInput(v, groups, revision)


def _tags(f: _Fields) -> str | None:
    seen: list[str] = []
    for tag in TAG_SPLIT.split(f.raw("tags")):
        if tag and tag not in seen:
            if len(tag) > MAX_TAG:
                f.fail("tags", _("每个标签不能超过 %(n)s 个字", n=MAX_TAG))
            seen.append(tag)
    joined = ",".join(seen)
    if len(joined) > 200:
        f.fail("tags", _("%(field)s不能超过 %(n)s 个字", field=_("标签"), n=200))
    return joined or None


def form_values(session: Session, article: PortalArticle) -> dict[str, Any]:
    """The edit form's values for an article as it is now."""
    groups = group_ids(session, article.id)
    return {
        "title": article.title, "summary": article.summary or "", "body": article.body_html,
        "section_id": str(article.section_id), "slug": article.slug or "",
        "tags": "，".join(article.tag_list), "source": article.source or "",
        "author": article.author or "", "owner_org_id": str(article.owner_org_id),
        "audience_org_id": str(article.audience_org_id or ""),
        "groups": [str(g) for g in groups], "platforms": list(article.platforms),
        "published_at": local_input(article.published_at),
        "expires_at": local_input(article.expires_at),
        "headline": article.headline, "pinned": article.pinned,
        "needs_signoff": article.needs_signoff, "seo_title": article.seo_title or "",
        "seo_description": article.seo_description or "",
        "seo_keywords": article.seo_keywords or "", "revision": str(article.revision)}


# -- saving --------------------------------------------------------------------------------


def group_ids(session: Session, article_id: int) -> list[int]:
    return sorted(session.scalars(select(PortalArticleGroup.group_id).where(
        PortalArticleGroup.article_id == article_id)))


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def snapshot(article: PortalArticle | Mapping[str, Any], groups: Sequence[int],
             cover_id: int | None = None) -> dict[str, Any]:
    """What a revision records of an article (or of its column values ``article`` with the
    cover ``cover_id``): title, summary, body and ``meta``."""
    if isinstance(article, PortalArticle):
        cover_id = article.cover_id
        article = {k: getattr(article, k) for k in SNAPSHOT_COLUMNS}
    a = article
    meta = {
        "section_id": a["section_id"], "slug": a["slug"], "tags": a["tags"],
        "source": a["source"], "author": a["author"], "cover_id": cover_id,
        "audience_org_id": a["audience_org_id"], "groups": sorted(groups),
        "platforms": [p for p in PLATFORMS if a[f"on_{p}"]],
        "published_at": _iso(a["published_at"]), "expires_at": _iso(a["expires_at"]),
        "headline": bool(a["headline"]), "pinned": bool(a["pinned"]),
        "seo_title": a["seo_title"], "seo_description": a["seo_description"],
        "seo_keywords": a["seo_keywords"]}
    return {"title": a["title"], "summary": a["summary"], "body_html": a["body_html"] or "",
            "meta": meta}


#: The columns :func:`snapshot` reads.
SNAPSHOT_COLUMNS = ("title", "summary", "body_html", "section_id", "slug", "tags", "source",
                    "author", "audience_org_id", "on_pc", "on_mobile", "on_app",
                    "published_at", "expires_at", "headline", "pinned", "seo_title",
                    "seo_description", "seo_keywords")


def _add_revision(session: Session, article: PortalArticle, groups: Sequence[int],
                  actor: Any, note: str) -> PortalRevision:
    snap = snapshot(article, groups)
    rev = PortalRevision(article_id=article.id, number=article.revision, title=snap["title"],
                         summary=snap["summary"], body_html=snap["body_html"],
                         meta=snap["meta"], note=note[:200],
                         created_by=getattr(actor, "id", None))
    session.add(rev)
    return rev


def _bump(session: Session, article: PortalArticle, seen: int) -> None:
    """Take the next revision number, unless someone else already took it (:class:`StaleError`):
    ``UPDATE … SET revision = revision + 1 WHERE id = :id AND revision = :seen``."""
    result = session.execute(
        update(PortalArticle)
        .where(PortalArticle.id == article.id, PortalArticle.revision == seen)
        .values(revision=PortalArticle.revision + 1)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.expire(article, ["revision"])
        raise StaleError(article.revision)
    article.revision = seen + 1
    session.flush()


def _set_groups(session: Session, article_id: int, groups: Sequence[int]) -> None:
    session.execute(delete(PortalArticleGroup).where(PortalArticleGroup.article_id == article_id))
    session.add_all(PortalArticleGroup(article_id=article_id, group_id=g) for g in groups)


def create(session: Session, account: Any, data: Mapping[str, Any]) -> PortalArticle:
    """A new draft from a form, with its first revision."""
    inp = parse(session, account, data)
    values = dict(inp.values)
    article = PortalArticle(state=ArticleState.DRAFT, revision=1,
                            created_by=getattr(account, "id", None),
                            updated_by=getattr(account, "id", None), **values)
    session.add(article)
    session.flush()
    _set_groups(session, article.id, inp.groups)
    _add_revision(session, article, inp.groups, account, _("新建"))
    search_queue.enqueue(session, DOC, [article.id])
    return article


def editable_problem(session: Session, account: Any, article: PortalArticle) -> str | None:
    """Why ``account`` may not change ``article``'s content now, or None. Pending and published
    articles are changed only by those who may publish them; a running sign-off freezes the
    article until the approval engine decides."""
    if article.state == ArticleState.PENDING and article.approval_ref:
        return _("文章正在签批中，签批结束前不能修改")
    if article.state in (ArticleState.PENDING, ArticleState.PUBLISHED) \
            and not may(session, account, article, PUBLISH):
        return _("待审核和已发布的文章只能由有发布权限的人员修改")
    return None


def update_article(session: Session, account: Any, article: PortalArticle,
                   data: Mapping[str, Any], note: str = "") -> bool:
    """Save a form over ``article``; returns False when nothing changed. Refuses a stale form
    (:class:`StaleError`) and makes a revision for every change."""
    problem = editable_problem(session, account, article)
    if problem:
        raise ArticleError({"state": problem})
    inp = parse(session, account, data, existing=article)
    if inp.revision != article.revision:
        raise StaleError(article.revision)
    before = snapshot(article, group_ids(session, article.id))
    values = dict(inp.values)
    after = snapshot({k: values[k] for k in SNAPSHOT_COLUMNS}, inp.groups, article.cover_id)
    if before == after and values["owner_org_id"] == article.owner_org_id \
            and values["needs_signoff"] == article.needs_signoff:
        return False
    _bump(session, article, article.revision)
    for key, value in values.items():
        setattr(article, key, value)
    article.updated_by = getattr(account, "id", None)
    _set_groups(session, article.id, inp.groups)
    _add_revision(session, article, inp.groups, account, note or _("修改"))
    search_queue.enqueue(session, DOC, [article.id])
    return True


def set_cover(session: Session, account: Any, article: PortalArticle, cover_id: int | None,
              seen: int, note: str) -> None:
    """Change only the cover (a revision like any save; :class:`StaleError` when ``seen`` is
    not the current revision)."""
    problem = editable_problem(session, account, article)
    if problem:
        raise ArticleError({"state": problem})
    if seen != article.revision:
        raise StaleError(article.revision)
    if article.cover_id == cover_id:
        return
    _bump(session, article, seen)
    article.cover_id = cover_id
    article.updated_by = getattr(account, "id", None)
    _add_revision(session, article, group_ids(session, article.id), account, note)
    search_queue.enqueue(session, DOC, [article.id])


# -- revisions -----------------------------------------------------------------------------


def revisions(session: Session, article_id: int) -> list[PortalRevision]:
    return list(session.scalars(select(PortalRevision)
                                .where(PortalRevision.article_id == article_id)
                                .order_by(PortalRevision.number.desc())))


def revision(session: Session, article_id: int, number: int) -> PortalRevision | None:
    return session.scalar(select(PortalRevision).where(
        PortalRevision.article_id == article_id, PortalRevision.number == number))


def restore_data(session: Session, article: PortalArticle, rev: PortalRevision
                 ) -> dict[str, Any]:
    """The edit form's values that bring ``rev`` back (the publication time stays as it is:
    the workflow owns it)."""
    meta = rev.meta or {}

    def moment(key: str) -> str:
        raw = meta.get(key)
        return local_input(datetime.fromisoformat(raw)) if raw else ""

    return {
        "title": rev.title, "summary": rev.summary or "", "body": rev.body_html,
        "section_id": str(meta.get("section_id") or ""), "slug": meta.get("slug") or "",
        "tags": meta.get("tags") or "", "source": meta.get("source") or "",
        "author": meta.get("author") or "", "owner_org_id": str(article.owner_org_id),
        "audience_org_id": str(meta.get("audience_org_id") or ""),
        "groups": [str(g) for g in meta.get("groups") or []],
        "platforms": list(meta.get("platforms") or []),
        "published_at": local_input(article.published_at), "expires_at": moment("expires_at"),
        "headline": "1" if meta.get("headline") else "",
        "pinned": "1" if meta.get("pinned") else "",
        "needs_signoff": "1" if article.needs_signoff else "",
        "seo_title": meta.get("seo_title") or "",
        "seo_description": meta.get("seo_description") or "",
        "seo_keywords": meta.get("seo_keywords") or "", "revision": str(article.revision)}


def restore(session: Session, account: Any, article: PortalArticle, number: int,
            seen: int) -> bool:
    """Bring revision ``number`` back as a new revision (checked like a form: a slug taken
    since, a section that no longer holds articles … are refused with the reason). The cover
    comes back too when its attachment still exists."""
    rev = revision(session, article.id, number)
    if rev is None:
        raise ArticleError({"revision": _("没有第 %(n)s 版", n=number)})
    data = {**restore_data(session, article, rev), "revision": str(seen)}
    changed = update_article(session, account, article, data, note=_("恢复第 %(n)s 版", n=number))
    cover = (rev.meta or {}).get("cover_id")
    if cover != article.cover_id and _cover_exists(session, article.id, cover):
        set_cover(session, account, article, cover, article.revision,
                  _("恢复第 %(n)s 版", n=number))
        changed = True
    return changed


def _cover_exists(session: Session, article_id: int, cover_id: int | None) -> bool:
    if cover_id is None:
        return True
    from ..models import PortalAttachment

    return session.scalar(select(exists().where(
        PortalAttachment.id == cover_id, PortalAttachment.article_id == article_id,
        PortalAttachment.kind == "image"))) is True


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class Diff:
    """Two revisions compared: the changed fields and the body's lines (``op`` is ``" "``,
    ``"-"``, ``"+"`` or ``"@"`` for a hunk header)."""

    old: PortalRevision
    new: PortalRevision
    fields: list[FieldChange]
    body: list[tuple[str, str]]

    @property
    def empty(self) -> bool:
        return not self.fields and not self.body


def _describe(session: Session, key: str, value: Any) -> str:
    """A recorded value as people read it (names instead of ids, local times)."""
    if value is None or value == "" or value == []:
        return "—"
    if key == "section_id":
        return session.scalar(select(PortalSection.name).where(PortalSection.id == value)) \
            or f"#{value}"
    if key == "audience_org_id":
        return session.scalar(select(Org.name).where(Org.id == value)) or f"#{value}"
    if key == "groups":
        names = dict(session.execute(select(MemberGroup.id, MemberGroup.name)
                                     .where(MemberGroup.id.in_(value))).tuples())
        return "、".join(names.get(g, f"#{g}") for g in value)
    if key == "platforms":
        return "、".join(_(PLATFORM_LABELS.get(p, p)) for p in value)
    if key in ("published_at", "expires_at"):
        return local_time(datetime.fromisoformat(value))
    if key == "cover_id":
        return _("附件 #%(id)s", id=value)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return str(value)


def _lines(body_html: str) -> list[str]:
    return html_to_text(body_html).splitlines()


def diff(session: Session, old: PortalRevision, new: PortalRevision) -> Diff:
    """What changed from ``old`` to ``new``: the fields, and the body's text line by line
    (its markup line by line when only the markup changed)."""
    changes: list[FieldChange] = []
    for key, label in FIELD_LABELS.items():
        if key in ("title", "summary"):
            a, b = getattr(old, key), getattr(new, key)
        else:
            a, b = (old.meta or {}).get(key), (new.meta or {}).get(key)
        if (a or None) != (b or None):
            changes.append(FieldChange(_(label), _describe(session, key, a),
                                       _describe(session, key, b)))
    a_lines, b_lines = _lines(old.body_html), _lines(new.body_html)
    if a_lines == b_lines and old.body_html != new.body_html:
        a_lines = _markup_lines(old.body_html)
        b_lines = _markup_lines(new.body_html)
    body: list[tuple[str, str]] = []
    for line in difflib.unified_diff(a_lines, b_lines, lineterm="", n=2):
        if line.startswith(("---", "+++")):
            continue
        body.append(("@", line) if line.startswith("@@") else (line[:1], line[1:]))
    return Diff(old, new, changes, body)


def _markup_lines(body_html: str) -> list[str]:
    return [part for part in re.split(r"(?=<(?:p|div|h\d|li|tr|table|figure|img|br)\b)",
                                      body_html) if part.strip()]


def render_body(article: PortalArticle | PortalRevision) -> Markup:
    """The body as safe markup for a page: sanitised again with the current policy."""
    return render(article.body_html, ARTICLE)


def touch_search(session: Session, article_ids: Iterable[int]) -> None:
    search_queue.enqueue(session, DOC, list(article_ids))
