"""Official documents: drafting, approval, issue with a number and a distribution list, who may
see a document, and read receipts.

A document's life: draft → reviewing (an approval engine's request runs) → approved → issued;
a rejected approval sends it back to draft with the approver's opinion. Without an approval
engine (or without a workflow for ``oa.document``) a submitted draft is approved at once, and
an officer holding ``oa.docs.issue`` over the drafting org issues it.

Who sees a document (all in SQL, :func:`visible`): the drafting org's officers — accounts
holding ``oa.use`` on its org (a grant at the org or above, as :func:`scope_filter` says) —
at every stage; once issued, also every account holding ``oa.use`` through a grant *at* a
recipient org, or at an org below it when the recipient includes its subtree.

Every transition is a conditional ``UPDATE … WHERE state = …``: two officers acting at once
cannot both move a document, and a decision delivered twice changes nothing the second time.

Numbers (文号) start with the issuing org's 机关代字, the per-org setting ``oa.doc_prefix``:
the root (the city federation) uses the site-wide value, every other org must have its own
(:func:`prefix_for`; :func:`set_prefix` writes it) — an inherited 京工 would print the city's
numbers for a district. The number text is unique in the database as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from unionhub import approvals
from unionhub import notify as notify_service
from unionhub.access.models import RoleGrant
from unionhub.access.service import can, roles_with, scope_filter
from unionhub.audit import service as audit
from unionhub.contrib import ApprovalDecision, ApprovalRequest
from unionhub.db import utcnow
from unionhub.i18n import _
from unionhub.identity.models import Account
from unionhub.notify.service import dialect_insert
from unionhub.orgs.models import Org
from unionhub.search.queue import enqueue
from unionhub.settings import service as settings
from unionhub.settings.models import SettingValue
from unionhub.web import id_arg
from unionhub.web.formatting import SHANGHAI
from unionhub.web.richtext import ARTICLE, clean_typed

from .models import (
    DOC_TYPES,
    SECRECY_LABELS,
    URGENCY_LABELS,
    DocState,
    OaDocReceipt,
    OaDocRecipient,
    OaDocument,
)
from .numbers import format_number, next_seq

USE = "oa.use"
DRAFT_PERM = "oa.docs.draft"
ISSUE_PERM = "oa.docs.issue"
#: The approval kind and the search type of documents.
KIND = "oa.document"
SEARCH_TYPE = "oa.document"
NOTICE = "oa.document"
PREFIX_SETTING = "oa.doc_prefix"

MAX_TITLE = 200
MAX_BODY = 200_000
MAX_OPINION = 2000
MAX_RECIPIENTS = 500
#: A 机关代字 (京工, 朝工 …): short enough that every number fits its column.
MAX_PREFIX = 20

DRAFT, REVIEWING = DocState.DRAFT, DocState.REVIEWING
APPROVED, ISSUED = DocState.APPROVED, DocState.ISSUED


class DocumentError(ValueError):
    """A refused change: ``errors`` maps a form field to why; nothing was written."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = dict(errors)


def detail_path(doc_id: int) -> str:
    """The document's page (``oa.document_detail``), usable outside a request."""
    return f"/oa/documents/{int(doc_id)}"


# -- who may see what --------------------------------------------------------------------------


def _active(account: Any) -> bool:
    return account is not None and not getattr(account, "is_anonymous", True) \
        and bool(account.is_active)


def recipient_clause(account: Any, doc_id: Any = OaDocument.id) -> ColumnElement[bool]:
    """True for documents whose distribution list reaches one of ``account``'s ``oa.use``
    grants: a grant at a recipient org, or below one that includes its subtree. (Issued or
    not: combine with the state.)"""
    if not _active(account):
        return false()
    recipient_org = aliased(Org)
    grant_org = aliased(Org)
    return (
        select(literal(1))
        .select_from(OaDocRecipient)
        .join(recipient_org, recipient_org.id == OaDocRecipient.org_id)
        .join(RoleGrant, and_(RoleGrant.account_id == account.id,
                              RoleGrant.role.in_(roles_with(USE))))
        .join(grant_org, grant_org.id == RoleGrant.org_id)
        .where(OaDocRecipient.document_id == doc_id,
               or_(RoleGrant.org_id == OaDocRecipient.org_id,
                   and_(OaDocRecipient.include_subtree.is_(True),
                        grant_org.path.like(recipient_org.path.concat("%")))))
        .exists())


def received_clause(account: Any) -> ColumnElement[bool]:
    """Issued documents sent to ``account`` (the 收文 tab)."""
    return and_(OaDocument.state == ISSUED, recipient_clause(account))


def drafting_clause(account: Any) -> ColumnElement[bool]:
    """Documents of orgs where ``account`` holds ``oa.use`` (drafts included)."""
    return scope_filter(account, USE, OaDocument.org_path)


def visible(account: Any) -> ColumnElement[bool]:
    """Every document ``account`` may open."""
    if not _active(account):
        return false()
    return or_(drafting_clause(account), received_clause(account))


def get_visible(session: Session, account: Any, doc_id: int) -> OaDocument | None:
    """The document if ``account`` may see it (None: missing or not theirs — the same)."""
    return session.scalar(select(OaDocument).where(OaDocument.id == doc_id, visible(account)))


def _org(session: Session, org_id: int) -> Org:
    org = session.get(Org, org_id)
    if org is None:  # pragma: no cover - org_id is a RESTRICT foreign key
        raise DocumentError({"org_id": _("发文单位不存在")})
    return org


def may_edit(session: Session, account: Any, doc: OaDocument) -> bool:
    """A draft whose org ``account`` may draft for."""
    return doc.state == DRAFT and _active(account) and can(account, DRAFT_PERM,
                                                           _org(session, doc.org_id))


def may_issue(session: Session, account: Any, doc: OaDocument) -> bool:
    """An approved document whose org ``account`` may issue for."""
    return doc.state == APPROVED and _active(account) and can(account, ISSUE_PERM,
                                                              _org(session, doc.org_id))


def may_see_receipts(session: Session, account: Any, doc: OaDocument) -> bool:
    """The drafting side (``oa.use`` over the drafting org) follows who has read it."""
    return doc.state == ISSUED and _active(account) and can(account, USE,
                                                            _org(session, doc.org_id))


def draft_orgs(session: Session, account: Any) -> list[Org]:
    """The orgs ``account`` drafts for: those where it holds a role with ``oa.docs.draft``."""
    if not _active(account):
        return []
    return list(session.scalars(
        select(Org).where(Org.id.in_(
            select(RoleGrant.org_id).where(RoleGrant.account_id == account.id,
                                           RoleGrant.role.in_(roles_with(DRAFT_PERM)))))
        .order_by(Org.path)))


@dataclass
class Choices:
    """The issue form's orgs: ``truncated`` when more orgs matched than are listed (the form
    says so and offers the search box); ``query`` the search it was narrowed by."""

    orgs: list[Org]
    truncated: bool
    query: str = ""


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def recipient_choices(session: Session, account: Any, query: str = "",
                      limit: int = MAX_RECIPIENTS, keep: Iterable[int] = ()) -> Choices:
    """Orgs ``account`` may send documents to (its ``oa.docs.issue`` scope), tree order, at
    most ``limit``; narrowed to names or codes containing ``query`` when given. Orgs in
    ``keep`` (those already ticked on a re-shown form) are listed whatever the query."""
    text = " ".join(str(query or "").split())[:50]
    stmt = select(Org).where(scope_filter(account, ISSUE_PERM, Org.path))
    if text:
        pattern = _like(text)
        match = or_(Org.name.ilike(pattern, escape="\\"), Org.code.ilike(pattern, escape="\\"))
        kept = [int(i) for i in keep]
        stmt = stmt.where(or_(match, Org.id.in_(kept)) if kept else match)
    orgs = list(session.scalars(stmt.order_by(Org.path).limit(limit + 1)))
    return Choices(orgs[:limit], len(orgs) > limit, text)


# -- lists -------------------------------------------------------------------------------------


def received_query(account: Any) -> Select[Any]:
    """(document, read_at) of the documents sent to ``account``: unread first, then newest."""
    return (select(OaDocument, OaDocReceipt.read_at)
            .outerjoin(OaDocReceipt, and_(OaDocReceipt.document_id == OaDocument.id,
                                          OaDocReceipt.account_id == account.id))
            .where(received_clause(account))
            .order_by(OaDocReceipt.id.is_(None).desc(), OaDocument.issued_at.desc(),
                      OaDocument.id.desc()))


def unread_count(session: Session, account: Any) -> int:
    """Documents sent to ``account`` that it has not opened yet."""
    if not _active(account):
        return 0
    read = select(OaDocReceipt.document_id).where(OaDocReceipt.account_id == account.id)
    return int(session.scalar(
        select(func.count()).select_from(OaDocument)
        .where(received_clause(account), OaDocument.id.not_in(read))) or 0)


def issued_query(account: Any) -> Select[Any]:
    """Documents issued by orgs in ``account``'s ``oa.use`` scope (the 发文 tab)."""
    return (select(OaDocument)
            .where(OaDocument.state == ISSUED, drafting_clause(account))
            .order_by(OaDocument.issued_at.desc(), OaDocument.id.desc()))


def drafts_query(account: Any) -> Select[Any]:
    """Documents not issued yet, of orgs in ``account``'s scope (the 草稿 tab)."""
    return (select(OaDocument)
            .where(OaDocument.state != ISSUED, drafting_clause(account))
            .order_by(OaDocument.updated_at.desc(), OaDocument.id.desc()))


# -- drafting ----------------------------------------------------------------------------------


def _clean(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The stored form of a draft's fields, and the errors by field."""
    errors: dict[str, str] = {}
    doc_type = str(values.get("doc_type") or "")
    if doc_type not in DOC_TYPES:
        errors["doc_type"] = _("请选择文种")
    title = " ".join(str(values.get("title") or "").split())
    if not title:
        errors["title"] = _("请填写标题")
    elif len(title) > MAX_TITLE:
        errors["title"] = _("标题不能超过 %(n)s 个字（现有 %(len)s 个字）", n=MAX_TITLE,
                            len=len(title))
    raw_body = str(values.get("body") or "")
    if len(raw_body) > MAX_BODY:
        errors["body"] = _("正文不能超过 %(n)s 个字符", n=MAX_BODY)
    body = clean_typed(raw_body, ARTICLE) if "body" not in errors else ""
    if not body and "body" not in errors:
        errors["body"] = _("请填写正文")
    urgency = str(values.get("urgency") or "")
    if urgency and urgency not in URGENCY_LABELS:
        errors["urgency"] = _("紧急程度无效")
    secrecy = str(values.get("secrecy") or "")
    if secrecy and secrecy not in SECRECY_LABELS:
        errors["secrecy"] = _("密级无效")
    return ({"doc_type": doc_type, "title": title, "body": body, "urgency": urgency,
             "secrecy": secrecy}, errors)


def create(session: Session, account: Any, values: Mapping[str, Any]) -> OaDocument:
    """A new draft of ``values["org_id"]`` (one of :func:`draft_orgs`)."""
    fields, errors = _clean(values)
    org_id = id_arg(str(values.get("org_id") or ""))
    orgs = {o.id: o for o in draft_orgs(session, account)}
    org = orgs.get(org_id) if org_id else None
    if org is None:
        errors["org_id"] = _("请选择您可以起草公文的单位")
    if errors or org is None:
        raise DocumentError(errors)
    now = utcnow()
    doc = OaDocument(org_id=org.id, org_path=org.path, state=DRAFT,
                     created_by=account.id, created_at=now, updated_at=now, **fields)
    session.add(doc)
    session.flush()
    return doc


def _move(session: Session, doc: OaDocument, from_states: Sequence[str],
          *where: ColumnElement[bool], **values: Any) -> None:
    """Move ``doc`` with one conditional UPDATE; refuses when it moved meanwhile."""
    moved = session.execute(
        update(OaDocument)
        .where(OaDocument.id == doc.id, OaDocument.state.in_(from_states), *where)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    session.refresh(doc)
    if moved != 1:
        raise DocumentError({"state": _("公文状态已改变（现为“%(state)s”），请刷新后再操作",
                                        state=_(doc.state_label))})


def update_draft(session: Session, account: Any, doc: OaDocument,
                 values: Mapping[str, Any]) -> None:
    """Save a draft's fields (only while it is a draft)."""
    if not may_edit(session, account, doc):
        raise DocumentError({"state": _("只能修改您有权起草的草稿")})
    fields, errors = _clean(values)
    if errors:
        raise DocumentError(errors)
    _move(session, doc, (DRAFT,), **fields)


def submit(session: Session, account: Any, doc: OaDocument) -> str | None:
    """Send a draft for approval. Returns the engine's reference, or None when no engine
    takes ``oa.document`` — the document is then approved at once."""
    if not may_edit(session, account, doc):
        raise DocumentError({"state": _("只能提交您有权起草的草稿")})
    # Reviewing before the engine is asked: an engine that decides at once (no step
    # applies) finds the document waiting for its decision.
    _move(session, doc, (DRAFT,), state=REVIEWING, approval_ref=None, opinion=None)
    org = _org(session, doc.org_id)
    try:
        ref = approvals.start(ApprovalRequest(
            KIND, doc.id, doc.title, doc.org_id, account.id, url=detail_path(doc.id),
            fields={"文种": doc.type_label, "拟稿单位": org.name}))
    except approvals.ApprovalError as exc:  # e.g. a step with nobody to approve it
        raise DocumentError({"state": _("无法提交审批：%(why)s", why=str(exc))}) from exc
    if ref is None:
        _move(session, doc, (REVIEWING,), state=APPROVED)
        return None
    session.execute(update(OaDocument).where(OaDocument.id == doc.id)
                    .values(approval_ref=ref).execution_options(synchronize_session=False))
    session.refresh(doc)
    return ref


def on_decided(session: Session, decision: ApprovalDecision) -> None:
    """An approval of a document ended (registered with the engine's hooks for
    ``oa.document``): approved → approved (ready to issue); rejected → back to draft with the
    approver's opinion. Idempotent: a document no longer waiting for ``decision.ref`` is left
    as it is."""
    if decision.kind != KIND:
        return
    try:
        doc_id = int(decision.subject_id)
    except (TypeError, ValueError):
        return
    waiting = or_(OaDocument.approval_ref.is_(None), OaDocument.approval_ref == decision.ref)
    stmt = (update(OaDocument)
            .where(OaDocument.id == doc_id, OaDocument.state == REVIEWING, waiting)
            .execution_options(synchronize_session=False))
    if decision.approved:
        values: dict[str, Any] = {"state": APPROVED, "approval_ref": decision.ref,
                                  "opinion": None}
    else:
        opinion = (decision.opinion or "").strip()[:MAX_OPINION] or _("审批未通过")
        values = {"state": DRAFT, "approval_ref": decision.ref, "opinion": opinion}
    session.execute(stmt.values(updated_at=utcnow(), **values))
    doc = session.get(OaDocument, doc_id)
    if doc is not None:
        session.refresh(doc)


# -- issue -------------------------------------------------------------------------------------


def own_prefix(session: Session, org: Org) -> str | None:
    """The 机关代字 set for ``org`` itself (its own per-org override of ``oa.doc_prefix``),
    None when it has none — :func:`settings.get` would give an ancestor's value instead."""
    raw = session.scalar(select(SettingValue.value).where(
        SettingValue.key == PREFIX_SETTING, SettingValue.org_id == org.id))
    text = str(settings.coerce(settings.spec(PREFIX_SETTING), raw) or "").strip() \
        if raw is not None else ""
    return text or None


def prefix_for(session: Session, org: Org) -> str:
    """The 机关代字 numbers of ``org`` start with. The root (the city federation) uses the
    site-wide value (or its own override); every other org must have one of its own — an
    inherited prefix would give two orgs the same 文号 text (京工发〔2026〕1号 twice).
    Raises :class:`DocumentError` when there is none."""
    prefix = own_prefix(session, org)
    if prefix is None and org.parent_id is None:
        prefix = str(settings.get(PREFIX_SETTING, org.id) or "").strip() or None
    if prefix is None:
        raise DocumentError({"prefix": _("本单位尚未设置公文机关代字，请管理员在 设置 中为本单位"
                                         "设置后再编号")})
    return prefix


def set_prefix(session: Session, org: Org, prefix: str) -> str:
    """Set ``org``'s own 机关代字 (the core's per-org setting ``oa.doc_prefix``, written
    through the settings service in the caller's transaction; not committed). An empty
    ``prefix`` removes the org's own value. Raises :class:`DocumentError` for a prefix
    with spaces or longer than :data:`MAX_PREFIX`."""
    text = str(prefix or "").strip()
    if not text:
        settings.clear(PREFIX_SETTING, org.id)
        session.flush()
        return ""
    if len(text) > MAX_PREFIX or any(ch.isspace() for ch in text):
        raise DocumentError({"prefix": _("公文机关代字应为不超过 %(n)s 个字、不含空格的文字",
                                         n=MAX_PREFIX)})
    settings.put(PREFIX_SETTING, text, org.id)
    session.flush()
    return text


def _number_taken(number: str) -> DocumentError:
    return DocumentError({"prefix": _("文号“%(number)s”已被使用（可能与其他单位的公文机关代字"
                                      "相同），请管理员检查本单位的公文机关代字设置",
                                      number=number)})


def _recipients(session: Session, account: Any,
                chosen: Iterable[tuple[int, bool]]) -> dict[int, bool]:
    """The distribution list by org id, each in the issuer's scope."""
    wanted: dict[int, bool] = {}
    for org_id, subtree in chosen:
        wanted[int(org_id)] = wanted.get(int(org_id), False) or bool(subtree)
    if not wanted:
        raise DocumentError({"recipients": _("请至少选择一个主送单位")})
    if len(wanted) > MAX_RECIPIENTS:
        raise DocumentError({"recipients": _("主送单位不能超过 %(n)s 个", n=MAX_RECIPIENTS)})
    allowed = set(session.scalars(select(Org.id).where(
        Org.id.in_(list(wanted)), scope_filter(account, ISSUE_PERM, Org.path))))
    refused = sorted(set(wanted) - allowed)
    if refused:
        raise DocumentError({"recipients": _("所选单位（编号 %(ids)s）不在您的发文范围内",
                                             ids="、".join(str(i) for i in refused[:10]))})
    return wanted


def issue(session: Session, account: Any, doc: OaDocument,
          recipients: Iterable[tuple[int, bool]], *, now: datetime | None = None) -> str:
    """Number an approved document, send it to ``recipients`` ((org id, include subtree)
    pairs in the issuer's scope), notify their officers and queue it for search. Returns the
    number. Everything happens in the caller's transaction: rolled back, the number is free
    again."""
    if not may_issue(session, account, doc):
        raise DocumentError({"state": _("只有审批通过、且您有权下发的公文才能编号下发")})
    wanted = _recipients(session, account, recipients)
    prefix = prefix_for(session, _org(session, doc.org_id))
    now = now or utcnow()
    year = now.astimezone(SHANGHAI).year
    # Claim the document first: a second issuer of the same document stops here without
    # taking a number.
    _move(session, doc, (APPROVED,), state=ISSUED, issued_by=account.id, issued_at=now,
          year=year)
    seq = next_seq(session, doc.org_id, year, doc.doc_type)
    number = format_number(prefix, doc.doc_type, year, seq)
    # The same text for two documents (two orgs given the same prefix, a counter set back):
    # refused with a message; the unique constraint on the text is the last guard.
    if session.scalar(select(OaDocument.id).where(OaDocument.number == number).limit(1)):
        raise _number_taken(number)
    try:
        session.execute(update(OaDocument).where(OaDocument.id == doc.id)
                        .values(seq=seq, number=number)
                        .execution_options(synchronize_session=False))
    except IntegrityError as exc:  # a concurrent issuer took the same text meanwhile
        raise _number_taken(number) from exc
    session.add_all(OaDocRecipient(document_id=doc.id, org_id=org_id, include_subtree=sub)
                    for org_id, sub in sorted(wanted.items()))
    session.flush()
    session.refresh(doc)
    org = _org(session, doc.org_id)
    notify_service.send(
        session, NOTICE,
        select(Account.member_id).where(Account.id.in_(recipient_officers(doc.id)),
                                        Account.member_id.is_not(None),
                                        Account.is_active.is_(True)),
        {"doc_id": doc.id, "title": doc.title, "number": number, "org": org.name,
         "url": detail_path(doc.id)},
        f"document-{doc.id}", created_by=account.id)
    enqueue(session, SEARCH_TYPE, [doc.id])
    audit.record("oa.document.issue", target_type="oa_document", target_id=doc.id,
                 org_path=doc.org_path, actor=account, session=session,
                 details={"number": number, "title": doc.title,
                          "recipients": [[o, s] for o, s in sorted(wanted.items())]})
    return number


# -- recipients and receipts -------------------------------------------------------------------


def recipient_officers(doc_id: int, permission: str = USE) -> Select[Any]:
    """Account ids of the officers a document was sent to: a grant of a role carrying
    ``permission`` at a recipient org, or below it when the recipient includes its subtree."""
    recipient_org = aliased(Org)
    grant_org = aliased(Org)
    return (select(RoleGrant.account_id)
            .select_from(OaDocRecipient)
            .join(recipient_org, recipient_org.id == OaDocRecipient.org_id)
            .join(grant_org, or_(grant_org.id == recipient_org.id,
                                 and_(OaDocRecipient.include_subtree.is_(True),
                                      grant_org.path.like(recipient_org.path.concat("%")))))
            .join(RoleGrant, RoleGrant.org_id == grant_org.id)
            .where(OaDocRecipient.document_id == doc_id,
                   RoleGrant.role.in_(roles_with(permission))))


def mark_read(session: Session, account: Any, doc: OaDocument) -> bool:
    """Record that a recipient officer opened an issued document (the first time only).
    Returns whether a receipt was written."""
    if doc.state != ISSUED or not _active(account):
        return False
    if not session.scalar(select(recipient_clause(account, literal(doc.id)))):
        return False
    written = session.execute(
        dialect_insert(session, OaDocReceipt)
        .values(document_id=doc.id, account_id=account.id, read_at=utcnow())
        .on_conflict_do_nothing(index_elements=["document_id", "account_id"])).rowcount
    return bool(written)


def receipt_of(session: Session, account: Any, doc_id: int) -> datetime | None:
    """When ``account`` first opened the document (None: never)."""
    return session.scalar(select(OaDocReceipt.read_at).where(
        OaDocReceipt.document_id == doc_id, OaDocReceipt.account_id == account.id))


@dataclass
class Reader:
    account_id: int
    name: str
    org_name: str
    read_at: datetime | None


@dataclass
class RecipientReceipts:
    """One org on the distribution list with its officers, read and unread."""

    org: Org
    include_subtree: bool
    read: list[Reader] = field(default_factory=list)
    unread: list[Reader] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.read) + len(self.unread)


def recipients_of(session: Session, doc_id: int) -> list[tuple[Org, bool]]:
    """The distribution list: (org, include subtree), tree order."""
    return [(org, sub) for org, sub in session.execute(
        select(Org, OaDocRecipient.include_subtree)
        .join(OaDocRecipient, OaDocRecipient.org_id == Org.id)
        .where(OaDocRecipient.document_id == doc_id).order_by(Org.path))]


def receipts(session: Session, doc: OaDocument) -> list[RecipientReceipts]:
    """Per recipient org, its officers (accounts with a grant carrying ``oa.use`` at the org
    or, with its subtree, below it) who have opened the document and who have not — the
    officers in one query. An officer reached through several recipients (朝阳 with its
    subtree and 电控 below it) is listed once, under the most specific one (the deepest
    recipient org that reaches one of its grants), so the groups add up to distinct
    officers."""
    out = {org.id: RecipientReceipts(org, sub) for org, sub in recipients_of(session, doc.id)}
    recipient_org = aliased(Org)
    grant_org = aliased(Org)
    rows = session.execute(
        select(OaDocRecipient.org_id, recipient_org.depth, recipient_org.path, Account.id,
               Account.display_name, func.min(grant_org.name), OaDocReceipt.read_at)
        .select_from(OaDocRecipient)
        .join(recipient_org, recipient_org.id == OaDocRecipient.org_id)
        .join(grant_org, or_(grant_org.id == recipient_org.id,
                             and_(OaDocRecipient.include_subtree.is_(True),
                                  grant_org.path.like(recipient_org.path.concat("%")))))
        .join(RoleGrant, RoleGrant.org_id == grant_org.id)
        .join(Account, Account.id == RoleGrant.account_id)
        .outerjoin(OaDocReceipt, and_(OaDocReceipt.document_id == OaDocRecipient.document_id,
                                      OaDocReceipt.account_id == Account.id))
        .where(OaDocRecipient.document_id == doc.id, RoleGrant.role.in_(roles_with(USE)),
               Account.is_active.is_(True))
        .group_by(OaDocRecipient.org_id, recipient_org.depth, recipient_org.path, Account.id,
                  Account.display_name, OaDocReceipt.read_at)
        .order_by(OaDocRecipient.org_id, OaDocReceipt.read_at, Account.display_name)).all()
    # each account's deepest recipient org (ties: the first in tree order)
    best: dict[int, tuple[int, str, int]] = {}
    for org_id, depth, path, account_id, *_rest in rows:
        rank = (-int(depth or 0), str(path), int(org_id))
        if account_id not in best or rank < best[account_id]:
            best[account_id] = rank
    for org_id, _depth, _path, account_id, name, org_name, read_at in rows:
        entry = out.get(org_id)
        if entry is None or best[account_id][2] != org_id:
            continue
        reader = Reader(account_id, name, org_name, read_at)
        (entry.read if read_at is not None else entry.unread).append(reader)
    return list(out.values())


__all__ = [
    "KIND", "SEARCH_TYPE", "DocumentError", "create", "detail_path", "drafts_query",
    "get_visible", "issue", "issued_query", "mark_read", "may_edit", "may_issue",
    "on_decided", "own_prefix", "prefix_for", "receipts", "received_query",
    "recipient_choices", "recipient_officers", "set_prefix", "submit", "unread_count",
    "update_draft", "visible",
]
