"""Managing the section tree (栏目): parsing and checking the back-office form, adding,
editing, reordering, hiding and deleting sections.

Rules kept here (every caller — the web pages, tests, a future API — goes through them):

* a section's ``code`` is its URL part (``/portal/s/<code>``): lowercase letters, digits, ``-``
  and ``_``, unique, fixed once created (links and feeds point at it);
* the tree has at most two levels: a parent must itself be top-level;
* a ``link`` section needs ``link_url``, either a path on this site (``/library/``) or an
  ``https://`` address — never ``javascript:`` or a protocol-relative ``//host``;
* a section holding articles cannot become a kind that holds none (Q&A, discounts, forum,
  link), nor be deleted; neither can a section with sub-sections;
* the audience (target org, member groups, platforms — at least one) is checked against the
  database; the target org must lie in the officer's scope for managing sections (or be the
  one already saved);
* siblings are renumbered 10, 20, 30 … whenever one moves, so the order is always total and
  stable (ties broken by id are never left behind).

A change of audience, platforms or the hidden flag changes who may see every article of the
section and of its sub-sections (a parent's audience covers them), so those articles are
queued for search re-indexing in the caller's transaction;
every change is audited there too. Bad input raises :class:`SectionError` (field → message)
before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unionhub.access.service import scope_filter
from unionhub.audit.service import record
from unionhub.groups.models import MemberGroup
from unionhub.i18n import _
from unionhub.identity.models import Account
from unionhub.orgs.models import Org
from unionhub.search.queue import enqueue_select

from ..models import PLATFORMS, PortalArticle, PortalSection, PortalSectionGroup, SectionKind

MANAGE = "portal.sections.manage"
DOC_TYPE = "portal.article"
CODE_RE = re.compile(r"^[a-z0-9_-]{1,40}$")
NAME_MAX, DESCRIPTION_MAX, LINK_MAX = 60, 500, 300
SEO_TITLE_MAX, SEO_DESCRIPTION_MAX = 120, 300
SORT_STEP = 10

#: Kinds whose sections hold articles (the others list hotline Q&As, offers, the forum or go
#: to a link).
ARTICLE_KINDS = frozenset({SectionKind.NEWS, SectionKind.NOTICE, SectionKind.DOCUMENTS})

KIND_LABELS: dict[str, str] = {
    SectionKind.NEWS: "新闻列表",
    SectionKind.NOTICE: "通知公告",
    SectionKind.DOCUMENTS: "文件库",
    SectionKind.QA: "热线问答",
    SectionKind.DISCOUNTS: "优惠列表",
    SectionKind.FORUM: "论坛",
    SectionKind.LINK: "链接",
}
PLATFORM_LABELS: dict[str, str] = {"pc": "电脑门户", "mobile": "手机微网站", "app": "App"}


class SectionError(ValueError):
    """Refused input; ``errors`` maps each form field (or ``form``) to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class SectionData:
    """A section as the officer entered it (parsed, not yet checked against the database).
    ``code``, ``kind`` and ``parent_id`` are only read when a section is created (the kind
    also on edit, within the rule above)."""

    name: str
    kind: str
    code: str = ""
    parent_id: int | None = None
    link_url: str | None = None
    description: str | None = None
    seo_title: str | None = None
    seo_description: str | None = None
    on_home: bool = False
    hidden: bool = False
    audience_org_id: int | None = None
    group_ids: list[int] = field(default_factory=list)
    platforms: list[str] = field(default_factory=lambda: list(PLATFORMS))


# -- parsing -----------------------------------------------------------------------------------


def _text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key)
    return "" if value is None else str(value).strip()


def _flag(form: Mapping[str, Any], key: str) -> bool:
    value = form.get(key)
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "y", "yes", "on", "true")


def _values(form: Mapping[str, Any], key: str) -> list[str]:
    getlist = getattr(form, "getlist", None)
    if getlist is not None:
        return [str(v).strip() for v in getlist(key)]
    raw = form.get(key)
    if raw is None:
        return []
    items = raw if isinstance(raw, list | tuple) else [raw]
    return [str(v).strip() for v in items]


def _limited(form: Mapping[str, Any], key: str, label: str, limit: int,
             errors: dict[str, str]) -> str | None:
    value = _text(form, key)
    if len(value) > limit:
        errors[key] = _("%(field)s不能超过 %(max)s 个字", field=label, max=limit)
    return value or None


def link_problem(url: str) -> str | None:
    """Why ``url`` cannot be a link section's target (None: fine). Accepted: a path on this
    site (``/library/``) or an ``https://`` address with a host."""
    if not url:
        return _("链接栏目须填写链接地址")
    if len(url) > LINK_MAX:
        return _("链接地址不能超过 %(max)s 个字符", max=LINK_MAX)
    if any(c.isspace() or ord(c) < 32 or c == "\\" for c in url):
        return _("链接地址不能包含空格、反斜杠或控制字符")
    if url.startswith("/"):
        if url.startswith("//"):
            return _("本站路径须以单个“/”开头，例如 /library/")
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() == "https" and parts.netloc and not parts.username:
        return None
    return _("链接地址须是本站路径（以“/”开头，例如 /library/）或以 https:// 开头的网址")


def parse(form: Mapping[str, Any], *, creating: bool) -> SectionData:
    """Read the section form (a ``MultiDict`` or a plain mapping). Raises
    :class:`SectionError` with a message for every bad field."""
    errors: dict[str, str] = {}
    code = _text(form, "code")
    if creating:
        if not code:
            errors["code"] = _("请填写栏目代码")
        elif not CODE_RE.match(code):
            errors["code"] = _("栏目代码只能包含小写字母、数字、“-”和“_”，不超过 40 个字符")
    name = _text(form, "name")
    if not name:
        errors["name"] = _("请填写栏目名称")
    elif len(name) > NAME_MAX:
        errors["name"] = _("栏目名称不能超过 %(max)s 个字", max=NAME_MAX)
    kind = _text(form, "kind")
    if kind not in KIND_LABELS:
        errors["kind"] = _("请选择栏目类型")
    parent_id: int | None = None
    raw_parent = _text(form, "parent_id")
    if creating and raw_parent:
        if not raw_parent.isdigit():
            errors["parent_id"] = _("上级栏目的取值无效")
        else:
            parent_id = int(raw_parent)
    link_url: str | None = None
    if kind == SectionKind.LINK:
        link_url = _text(form, "link_url")
        problem = link_problem(link_url)
        if problem:
            errors["link_url"] = problem
    description = _limited(form, "description", _("栏目简介"), DESCRIPTION_MAX, errors)
    seo_title = _limited(form, "seo_title", _("SEO 标题"), SEO_TITLE_MAX, errors)
    seo_description = _limited(form, "seo_description", _("SEO 描述"), SEO_DESCRIPTION_MAX,
                               errors)
    audience_org_id: int | None = None
    raw_org = _text(form, "audience_org_id")
    if raw_org:
        if not raw_org.isdigit():
            errors["audience_org_id"] = _("面向工会的取值无效")
        else:
            audience_org_id = int(raw_org)
    group_ids: list[int] = []
    for raw in _values(form, "group_ids"):
        if not raw:
            continue
        if not raw.isdigit():
            errors["group_ids"] = _("会员群体的取值无效")
            break
        if int(raw) not in group_ids:
            group_ids.append(int(raw))
    platforms = [p for p in PLATFORMS if p in _values(form, "platforms")]
    if not platforms:
        errors["platforms"] = _("请至少选择一个发布平台")
    if errors:
        raise SectionError(errors)
    return SectionData(
        name=name, kind=kind, code=code, parent_id=parent_id, link_url=link_url,
        description=description, seo_title=seo_title, seo_description=seo_description,
        on_home=_flag(form, "on_home"), hidden=_flag(form, "hidden"),
        audience_org_id=audience_org_id, group_ids=group_ids, platforms=platforms)


# -- reading -----------------------------------------------------------------------------------


def ordered_tree(session: Session) -> list[tuple[PortalSection, list[PortalSection]]]:
    """Every section as (top-level section, its children), in menu order."""
    rows = list(session.scalars(select(PortalSection)
                                .order_by(PortalSection.sort, PortalSection.id)))
    children: dict[int, list[PortalSection]] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row)
    return [(row, children.get(row.id, [])) for row in rows if row.parent_id is None]


def article_counts(session: Session) -> dict[int, int]:
    """Articles per section (every state)."""
    return {sid: int(n) for sid, n in session.execute(
        select(PortalArticle.section_id, func.count()).group_by(PortalArticle.section_id))}


def group_ids_of(session: Session, section_id: int) -> list[int]:
    return list(session.scalars(select(PortalSectionGroup.group_id)
                                .where(PortalSectionGroup.section_id == section_id)
                                .order_by(PortalSectionGroup.group_id)))


def groups_by_section(session: Session) -> dict[int, list[str]]:
    """Names of the member groups each section targets."""
    out: dict[int, list[str]] = {}
    for sid, name in session.execute(
            select(PortalSectionGroup.section_id, MemberGroup.name)
            .join(MemberGroup, MemberGroup.id == PortalSectionGroup.group_id)
            .order_by(MemberGroup.name)):
        out.setdefault(sid, []).append(name)
    return out


def org_choices(session: Session, account: Account, keep: int | None = None) -> list[Org]:
    """Orgs the officer may target (their scope for managing sections), plus ``keep`` (the
    one already saved), in tree order."""
    clause = scope_filter(account, MANAGE, Org.path)
    if keep is not None:
        clause = or_(clause, Org.id == keep)
    return list(session.scalars(select(Org).where(clause).order_by(Org.path)))


def group_choices(session: Session) -> list[MemberGroup]:
    return list(session.scalars(select(MemberGroup).order_by(MemberGroup.name)))


def parent_choices(session: Session) -> list[PortalSection]:
    """Top-level sections (a new section may go under one of them)."""
    return list(session.scalars(select(PortalSection).where(PortalSection.parent_id.is_(None))
                                .order_by(PortalSection.sort, PortalSection.id)))


def form_values(section: PortalSection | None, group_ids: Iterable[int] = ()) -> dict[str, Any]:
    """The form's initial values (a new section: a news list on every platform)."""
    if section is None:
        return {"kind": SectionKind.NEWS, "platforms": list(PLATFORMS), "group_ids": []}
    return {"code": section.code, "name": section.name, "kind": section.kind,
            "parent_id": section.parent_id or "", "link_url": section.link_url or "",
            "description": section.description or "", "seo_title": section.seo_title or "",
            "seo_description": section.seo_description or "", "on_home": section.on_home,
            "hidden": section.hidden, "audience_org_id": section.audience_org_id or "",
            "group_ids": list(group_ids), "platforms": list(section.platforms)}


# -- checks ------------------------------------------------------------------------------------


def _check_audience(session: Session, account: Account, data: SectionData,
                    section: PortalSection | None, errors: dict[str, str]) -> None:
    if data.audience_org_id is not None:
        org = session.get(Org, data.audience_org_id)
        kept = section is not None and section.audience_org_id == data.audience_org_id
        if org is None:
            errors["audience_org_id"] = _("所选工会不存在")
        elif not kept and not session.scalar(select(Org.id).where(
                Org.id == org.id, scope_filter(account, MANAGE, Org.path))):
            errors["audience_org_id"] = _("「%(name)s」不在您的管理范围内，不能作为面向工会",
                                          name=org.name)
    if data.group_ids:
        found = set(session.scalars(select(MemberGroup.id)
                                    .where(MemberGroup.id.in_(data.group_ids))))
        if len(found) != len(data.group_ids):
            errors["group_ids"] = _("所选会员群体不存在")


def _raise(errors: dict[str, str]) -> None:
    if errors:
        raise SectionError(errors)


def _article_count(session: Session, section_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(PortalArticle)
                              .where(PortalArticle.section_id == section_id)) or 0)


def _child_count(session: Session, section_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(PortalSection)
                              .where(PortalSection.parent_id == section_id)) or 0)


# -- changes -----------------------------------------------------------------------------------


def _columns(data: SectionData) -> dict[str, Any]:
    return {"name": data.name, "kind": data.kind, "link_url": data.link_url,
            "description": data.description, "seo_title": data.seo_title,
            "seo_description": data.seo_description, "on_home": data.on_home,
            "hidden": data.hidden, "audience_org_id": data.audience_org_id,
            "has_groups": bool(data.group_ids),
            **{f"on_{p}": p in data.platforms for p in PLATFORMS}}


def _save_groups(session: Session, section_id: int, group_ids: list[int]) -> None:
    session.execute(delete(PortalSectionGroup).where(PortalSectionGroup.section_id == section_id))
    session.add_all(PortalSectionGroup(section_id=section_id, group_id=g) for g in group_ids)


def reindex_articles(session: Session, section_id: int) -> None:
    """Queue every article of the section and of its sub-sections for search re-indexing
    (same transaction): the search tokens and status of an article follow its section's
    parent too."""
    children = select(PortalSection.id).where(PortalSection.parent_id == section_id)
    enqueue_select(session, DOC_TYPE, select(PortalArticle.id).where(
        or_(PortalArticle.section_id == section_id, PortalArticle.section_id.in_(children))))


def _audit(action: str, section: PortalSection, account: Account, session: Session,
           details: dict[str, Any]) -> None:
    record(action, target_type="portal_section", target_id=section.id, actor=account,
           session=session, details={"code": section.code, **details})


def create(session: Session, account: Account, data: SectionData) -> PortalSection:
    """A new section, last among its siblings."""
    errors: dict[str, str] = {}
    if session.scalar(select(PortalSection.id).where(PortalSection.code == data.code)):
        errors["code"] = _("栏目代码「%(code)s」已被使用", code=data.code)
    if data.parent_id is not None:
        parent = session.get(PortalSection, data.parent_id)
        if parent is None:
            errors["parent_id"] = _("上级栏目不存在")
        elif parent.parent_id is not None:
            errors["parent_id"] = _("栏目最多两级：「%(name)s」已是二级栏目，不能再添加下级",
                                    name=parent.name)
    _check_audience(session, account, data, None, errors)
    _raise(errors)
    last = session.scalar(select(func.max(PortalSection.sort)).where(
        PortalSection.parent_id.is_(None) if data.parent_id is None
        else PortalSection.parent_id == data.parent_id))
    section = PortalSection(code=data.code, parent_id=data.parent_id,
                            sort=(last or 0) + SORT_STEP, **_columns(data))
    try:
        with session.begin_nested():
            session.add(section)
            session.flush()
    except IntegrityError as exc:  # the same code saved a moment ago by someone else
        raise SectionError({"code": _("栏目代码「%(code)s」已被使用", code=data.code)}) from exc
    _save_groups(session, section.id, data.group_ids)
    session.flush()
    _audit("portal.section.create", section, account, session,
           {"name": data.name, "kind": data.kind, "parent_id": data.parent_id,
            "audience_org_id": data.audience_org_id, "groups": data.group_ids,
            "platforms": data.platforms, "hidden": data.hidden})
    return section


def update(session: Session, account: Account, section: PortalSection,
           data: SectionData) -> PortalSection:
    """Edit name, kind, link, description, SEO, home-page block, hidden flag and audience."""
    errors: dict[str, str] = {}
    if data.kind != section.kind and data.kind not in ARTICLE_KINDS:
        count = _article_count(session, section.id)
        if count:
            errors["kind"] = _(
                "本栏目有 %(n)s 篇文章，只能改为新闻列表、通知公告或文件库类型；"
                "请先将文章移到其他栏目", n=count)
    _check_audience(session, account, data, section, errors)
    _raise(errors)
    values = _columns(data)
    before = {k: getattr(section, k) for k in values}
    before["groups"] = group_ids_of(session, section.id)
    after = {**values, "groups": sorted(data.group_ids)}
    changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not changed:
        return section
    for key, value in values.items():
        setattr(section, key, value)
    if "groups" in changed:
        _save_groups(session, section.id, data.group_ids)
    session.flush()
    audience_keys = {"audience_org_id", "has_groups", "groups", "hidden",
                     *(f"on_{p}" for p in PLATFORMS)}
    if audience_keys & changed.keys():
        reindex_articles(session, section.id)
    _audit("portal.section.update", section, account, session, {"changed": changed})
    return section


def set_hidden(session: Session, account: Account, section: PortalSection, hidden: bool) -> bool:
    """Hide or show a section; False when it already was so (nothing done)."""
    if section.hidden == hidden:
        return False
    section.hidden = hidden
    session.flush()
    reindex_articles(session, section.id)
    _audit("portal.section.hide" if hidden else "portal.section.show", section, account,
           session, {})
    return True


def siblings(session: Session, section: PortalSection) -> list[PortalSection]:
    """The section and its siblings in order (locked for update where the database can)."""
    parent = (PortalSection.parent_id.is_(None) if section.parent_id is None
              else PortalSection.parent_id == section.parent_id)
    return list(session.scalars(select(PortalSection).where(parent)
                                .order_by(PortalSection.sort, PortalSection.id)
                                .with_for_update()))


def move(session: Session, account: Account, section: PortalSection, direction: str) -> bool:
    """Move a section one place up or down among its siblings, renumbering them all; False
    when it is already first (up) or last (down)."""
    if direction not in ("up", "down"):
        raise SectionError({"form": _("移动方向无效")})
    rows = siblings(session, section)
    index = next(i for i, row in enumerate(rows) if row.id == section.id)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(rows):
        return False
    rows[index], rows[other] = rows[other], rows[index]
    for position, row in enumerate(rows, start=1):
        row.sort = position * SORT_STEP
    session.flush()
    _audit("portal.section.move", section, account, session,
           {"direction": direction, "order": [row.code for row in rows]})
    return True


def delete_section(session: Session, account: Account, section: PortalSection) -> None:
    """Delete an empty section. Refused while it has articles or sub-sections, or while other
    content (a forum board, hotline Q&As …) still points at it."""
    articles, children = _article_count(session, section.id), _child_count(session, section.id)
    if articles:
        raise SectionError({"form": _(
            "栏目「%(name)s」还有 %(n)s 篇文章（含草稿和已下线的），不能删除；"
            "可以先将文章移到其他栏目，或者隐藏本栏目", name=section.name, n=articles)})
    if children:
        raise SectionError({"form": _(
            "栏目「%(name)s」还有 %(n)s 个下级栏目，不能删除；请先删除或处理下级栏目",
            name=section.name, n=children)})
    section_id = section.id
    snapshot = {"code": section.code, "name": section.name, "kind": section.kind,
                "parent_id": section.parent_id}
    try:
        with session.begin_nested():
            session.execute(delete(PortalSectionGroup)
                            .where(PortalSectionGroup.section_id == section.id))
            session.delete(section)
            session.flush()
    except IntegrityError as exc:
        raise SectionError({"form": _(
            "栏目「%(name)s」仍被其他内容（如论坛版块、热线问答）使用，不能删除；可以隐藏本栏目",
            name=snapshot["name"])}) from exc
    record("portal.section.delete", target_type="portal_section", target_id=section_id,
           actor=account, session=session, details=snapshot)
