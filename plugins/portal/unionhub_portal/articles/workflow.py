"""An article's life: draft → submitted (pending) → published (or scheduled: ``published_at`` in
the future) → offline → published again; a reviewer may send a pending article back to draft
with a note.

Editors (:data:`~.service.EDIT`) submit and withdraw; publishing, rejecting and taking offline
need :data:`~.service.PUBLISH` over the article's owner org. An article marked ``needs_signoff``
is signed off through the approval hook (:mod:`unionhub.approvals`) when an approval engine is
enabled: submitting starts the engine's request, the article waits in ``pending`` with
``approval_ref`` and is frozen until :func:`on_approval_decided` hears the outcome; without an
engine the in-portal review applies.

Each transition is one conditional ``UPDATE … WHERE state IN (…) AND revision = :seen``: two
officers acting at once cannot both move the article, and nobody publishes a revision they have
not seen. Publishing and taking offline are written to the core audit log; every transition
queues the article for search.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from unionhub import approvals, db
from unionhub.audit import service as audit
from unionhub.contrib import ApprovalDecision, ApprovalRequest
from unionhub.db import utcnow
from unionhub.i18n import _
from unionhub.identity.models import Account
from unionhub.orgs.models import Org
from unionhub.web.formatting import local_time

from ..models import ArticleState, PortalArticle, PortalSection
from .service import (
    DOC,
    EDIT,
    PUBLISH,
    STATE_LABELS,
    ArticleError,
    StaleError,
    may,
    touch_search,
)

DRAFT, PENDING = ArticleState.DRAFT, ArticleState.PENDING
PUBLISHED, OFFLINE = ArticleState.PUBLISHED, ArticleState.OFFLINE

#: Button labels of the actions, in the order the edit page shows them.
ACTION_LABELS = {"submit": "提交审核", "withdraw": "撤回", "publish": "发布",
                 "schedule": "定时发布", "reject": "退回修改", "offline": "下线",
                 "republish": "重新发布"}
MAX_NOTE = 500


def signing_off(article: PortalArticle) -> bool:
    """An approval engine's request is running for the article."""
    return article.state == PENDING and bool(article.approval_ref)


def available(session: Session, account: Any, article: PortalArticle) -> list[str]:
    """The actions ``account`` may take on ``article`` now (the edit page's buttons)."""
    publisher = may(session, account, article, PUBLISH)
    state, out = article.state, []
    if state in (DRAFT, OFFLINE):
        out.append("submit")
    if state == PENDING and not article.approval_ref:
        out.append("withdraw")
        if publisher:
            out += ["publish", "schedule", "reject"]
    if state == DRAFT and publisher and not article.needs_signoff:
        out += ["publish", "schedule"]
    if state == PUBLISHED and publisher:
        out.append("offline")
    if state == OFFLINE and publisher and not article.needs_signoff:
        out.append("republish")
    return [a for a in ACTION_LABELS if a in out]


def _owner_path(session: Session, article: PortalArticle) -> str | None:
    return session.scalar(select(Org.path).where(Org.id == article.owner_org_id))


def _move(session: Session, article: PortalArticle, from_states: Sequence[str],
          seen: int | None, *extra: ColumnElement[bool], **values: Any) -> None:
    """Move ``article`` with one conditional UPDATE; refuses (data unchanged) when another
    officer moved or saved it first."""
    stmt = (update(PortalArticle)
            .where(PortalArticle.id == article.id, PortalArticle.state.in_(from_states), *extra)
            .values(**values).execution_options(synchronize_session=False))
    if seen is not None:
        stmt = stmt.where(PortalArticle.revision == seen)
    moved = session.execute(stmt).rowcount  # type: ignore[attr-defined]
    session.refresh(article)
    if moved != 1:
        if seen is not None and article.revision != seen:
            raise StaleError(article.revision)
        raise ArticleError({"state": _("文章状态已被他人改变（现为“%(state)s”），请刷新后再操作",
                                       state=_(_state_label(article.state)))})
    touch_search(session, [article.id])


def _state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def _need(session: Session, account: Any, article: PortalArticle, action: str) -> None:
    if action not in available(session, account, article):
        raise ArticleError({"state": _("当前不能对这篇文章执行“%(action)s”",
                                       action=_(ACTION_LABELS[action]))})


def _audit(session: Session, action: str, article: PortalArticle, actor: Any,
           **details: Any) -> None:
    audit.record(f"portal.article.{action}", target_type="portal_article", target_id=article.id,
                 org_path=_owner_path(session, article), actor=actor, session=session,
                 details={"title": article.title, "revision": article.revision, **details})


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def submit(session: Session, account: Any, article: PortalArticle, seen: int) -> str | None:
    """Submit for review; with ``needs_signoff`` ask the approval engine first. Returns the
    engine's reference (None: the in-portal review applies)."""
    _need(session, account, article, "submit")
    ref = None
    if article.needs_signoff:
        section = session.get(PortalSection, article.section_id)
        owner = session.get(Org, article.owner_org_id)
        ref = approvals.start(ApprovalRequest(
            DOC, article.id, article.title, article.owner_org_id, getattr(account, "id", None),
            url=f"/portal/admin/articles/{article.id}/preview",
            fields={"栏目": section.name if section else "",
                    "发布单位": owner.name if owner else "",
                    "摘要": article.summary or "", "版本": str(article.revision)}))
    _move(session, article, (DRAFT, OFFLINE), seen, state=PENDING, approval_ref=ref,
          review_note=None, updated_by=getattr(account, "id", None))
    if ref:
        _audit(session, "signoff", article, account, ref=ref)
    return ref


def withdraw(session: Session, account: Any, article: PortalArticle, seen: int) -> None:
    """Take a submitted article back to draft (not while a sign-off runs)."""
    _need(session, account, article, "withdraw")
    _move(session, article, (PENDING,), seen, PortalArticle.approval_ref.is_(None), state=DRAFT,
          updated_by=getattr(account, "id", None))


def publish(session: Session, account: Any, article: PortalArticle, seen: int,
            at: datetime | None = None) -> datetime:
    """Publish now — or at ``at`` (in the future: scheduled), or at the publication time the
    article already has (kept, so a future one schedules it). Returns when it goes live."""
    action = "schedule" if at is not None else (
        "republish" if article.state == OFFLINE else "publish")
    _need(session, account, article, action)
    now = utcnow()
    if at is not None and at <= now:
        raise ArticleError({"publish_at": _("定时发布的时间应晚于现在")})
    live_from = at or article.published_at or now
    if article.expires_at is not None and article.expires_at <= max(live_from, now):
        raise ArticleError({"state": _("下线时间已过或早于发布时间，请先修改下线时间")})
    _move(session, article, (PENDING, DRAFT, OFFLINE), seen,
          PortalArticle.approval_ref.is_(None) | (PortalArticle.state != PENDING),
          state=PUBLISHED, published_at=live_from, review_note=None,
          updated_by=getattr(account, "id", None))
    _audit(session, "publish", article, account, published_at=_iso(live_from),
           scheduled=live_from > now)
    return live_from


def reject(session: Session, account: Any, article: PortalArticle, seen: int, note: str) -> None:
    """Send a pending article back to draft with the reviewer's note (required)."""
    _need(session, account, article, "reject")
    note = (note or "").strip()
    if not note:
        raise ArticleError({"note": _("退回时请填写修改意见")})
    if len(note) > MAX_NOTE:
        raise ArticleError({"note": _("修改意见不能超过 %(n)s 个字", n=MAX_NOTE)})
    _move(session, article, (PENDING,), seen, PortalArticle.approval_ref.is_(None),
          state=DRAFT, review_note=note, updated_by=getattr(account, "id", None))
    _audit(session, "reject", article, account, note=note)


def take_offline(session: Session, account: Any, article: PortalArticle, seen: int) -> None:
    """Take a published (or scheduled) article down."""
    _need(session, account, article, "offline")
    _move(session, article, (PUBLISHED,), seen, state=OFFLINE,
          updated_by=getattr(account, "id", None))
    _audit(session, "offline", article, account)


def perform(session: Session, account: Any, article: PortalArticle, action: str, seen: int,
            *, note: str = "", at: datetime | None = None) -> str:
    """Run the edit page's ``action``; returns the message to show."""
    if action == "submit":
        ref = submit(session, account, article, seen)
        return _("已提交签批（%(ref)s），签批通过后自动发布", ref=ref) if ref \
            else _("已提交审核")
    if action == "withdraw":
        withdraw(session, account, article, seen)
        return _("已撤回为草稿")
    if action in ("publish", "republish", "schedule"):
        if action == "schedule" and at is None:
            raise ArticleError({"publish_at": _("请填写定时发布的时间")})
        live_from = publish(session, account, article, seen, at if action == "schedule" else None)
        if live_from > utcnow():
            return _("已定时发布，将于 %(at)s 上线", at=local_time(live_from))
        return _("已发布")
    if action == "reject":
        reject(session, account, article, seen, note)
        return _("已退回修改")
    if action == "offline":
        take_offline(session, account, article, seen)
        return _("已下线")
    raise ArticleError({"state": _("未知的操作")})


# -- the approval hook -----------------------------------------------------------------------


def on_approval_decided(decision: ApprovalDecision) -> None:
    """``unionhub_approval_decided`` for the portal: an approved article is published (at its
    publication time if it has one, so a future one is scheduled); a rejected one goes back to
    draft with the approver's opinion. Decisions for other kinds, unknown articles or articles
    no longer waiting under ``decision.ref`` change nothing."""
    if decision.kind != DOC:
        return
    try:
        article_id = int(decision.subject_id)
    except (TypeError, ValueError):
        return
    session = db.session()
    article = session.get(PortalArticle, article_id)
    if article is None or not signing_off(article) or article.approval_ref != decision.ref:
        return
    actor = session.get(Account, decision.by_id) if decision.by_id else None
    waiting = PortalArticle.approval_ref == decision.ref
    try:
        if decision.approved:
            live_from = article.published_at or utcnow()
            _move(session, article, (PENDING,), None, waiting, state=PUBLISHED,
                  published_at=live_from, review_note=None)
            _audit(session, "publish", article, actor, published_at=_iso(live_from),
                   signoff=decision.ref, scheduled=live_from > utcnow())
        else:
            note = (decision.opinion or "").strip()[:MAX_NOTE] or _("签批未通过")
            _move(session, article, (PENDING,), None, waiting, state=DRAFT, review_note=note)
            _audit(session, "signoff_rejected", article, actor, signoff=decision.ref, note=note)
    except ArticleError:
        return  # decided meanwhile by another delivery of the same decision


__all__ = ["ACTION_LABELS", "EDIT", "PUBLISH", "available", "on_approval_decided", "perform",
           "publish", "reject", "signing_off", "submit", "take_offline", "withdraw"]
