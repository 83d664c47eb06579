"""The worker hotline (职工热线): asking, routing, assignment, answers, publication, the
service-level clock and escalation.

Transactions belong to the caller: every function here works in the session's open
transaction and never commits; after :class:`HotlineError` the caller rolls back (nothing
was written before the refusal, but the rule stays simple). A state change is one conditional
``UPDATE … WHERE state IN (…)`` — two officers answering at once cannot both succeed — followed
by one appended :class:`~.models.PortalHotlineEvent`.

Scope: a question belongs to the org it is addressed to; officers see and act on it when they
hold the permission on that org (``scope_filter`` on ``Org.path``, joined through
``org_id``), so every list and every single-question look-up is one SQL statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from unionhub.access.models import RoleGrant
from unionhub.access.service import roles_with, scope_filter
from unionhub.db import utcnow
from unionhub.i18n import _
from unionhub.identity.models import Account, Member, MemberStatus
from unionhub.identity.numbers import mask_name
from unionhub.orgs.models import Org, OrgLevel

from . import redact as redaction
from . import sla
from .models import (
    ANSWER_MAX,
    BODY_MAX,
    NOTE_MAX,
    OPEN_STATES,
    SUBJECT_MAX,
    HotlineEventKind,
    HotlineState,
    PortalHotlineEvent,
    PortalHotlineQuestion,
)

ASK = "portal.hotline.ask"
ANSWER = "portal.hotline.answer"
MANAGE = "portal.hotline.manage"
DOC_TYPE = "portal.hotline"
ANSWERED_TYPE = "portal.hotline_answered"
ASSIGNED_TYPE = "portal.hotline_assigned"
ESCALATED_TYPE = "portal.hotline_escalated"
BODY_MIN = 5
#: Questions one member may ask within 24 hours (a guard against floods, not a quota).
ASK_PER_DAY = 10
ESCALATE_BATCH = 200
ANONYMOUS_LABEL = "匿名职工"
Q = PortalHotlineQuestion
E = PortalHotlineEvent

CATEGORIES: dict[str, str] = {
    "contract": "劳动合同",
    "wages": "工资报酬",
    "hours": "工时与休假",
    "social_insurance": "社会保险",
    "injury": "工伤认定",
    "protection": "劳动保护",
    "dispute": "劳动争议",
    "mutual_aid": "互助保障",
    "jingka": "京卡服务",
    "other": "其他",
}
STATE_LABELS: dict[str, str] = {
    HotlineState.NEW: "待受理",
    HotlineState.ASSIGNED: "办理中",
    HotlineState.ANSWERED: "已答复",
    HotlineState.PUBLISHED: "已答复并公开",
    HotlineState.CLOSED: "已办结",
}
EVENT_LABELS: dict[str, str] = {
    HotlineEventKind.ASKED: "提问",
    HotlineEventKind.ASSIGNED: "分派",
    HotlineEventKind.REASSIGNED: "改派",
    HotlineEventKind.ANSWERED: "答复",
    HotlineEventKind.PUBLISHED: "公开问答",
    HotlineEventKind.CLOSED: "办结",
    HotlineEventKind.ESCALATED: "超时督办",
    HotlineEventKind.RATED: "评价",
}
RATING_LABELS = {5: "非常满意", 4: "满意", 3: "一般", 2: "不满意", 1: "非常不满意"}
#: Back-office queue tabs: key → (label, states; None = every state).
QUEUE_TABS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "open": ("待答复", tuple(OPEN_STATES)),
    "mine": ("分派给我", tuple(OPEN_STATES)),
    "answered": ("已答复待公开", (HotlineState.ANSWERED,)),
    "published": ("已公开", (HotlineState.PUBLISHED,)),
    "closed": ("已办结", (HotlineState.CLOSED,)),
    "all": ("全部", None),
}


class HotlineError(Exception):
    """A refusal with a reason an officer or member understands (``str(exc)``); ``errors``
    maps form fields to messages when the input itself is wrong."""

    def __init__(self, reason: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or {}


# --- helpers ----------------------------------------------------------------------------------


def _clean(raw: object) -> str:
    return raw.strip() if isinstance(raw, str) else ""


def _text_error(value: str, label: str, *, required: bool = True, low: int = 0,
                high: int) -> str | None:
    """The message for a bad text field, or None."""
    if "\x00" in value:
        return _("%(field)s不能包含空字符", field=_(label))
    if not value:
        return _("请填写%(field)s", field=_(label)) if required else None
    if len(value) < low:
        return _("%(field)s至少 %(n)s 个字，请说明具体情况", field=_(label), n=low)
    if len(value) > high:
        return _("%(field)s不能超过 %(n)s 个字（现有 %(len)s 个字）", field=_(label), n=high,
                 len=len(value))
    return None


def category_label(code: str) -> str:
    return CATEGORIES.get(code, code)


def public_asker(question: PortalHotlineQuestion) -> str:
    """How the public sees the asker: "匿名职工", or the masked name ("张*")."""
    if question.anonymous or question.member is None:
        return _(ANONYMOUS_LABEL)
    return mask_name(question.member.name)


def short(text: str, limit: int = 20) -> str:
    """WeChat template fields hold at most 20 characters."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _event(session: Session, question_id: int, kind: str, actor_id: int | None,
           now: datetime, note: str | None = None, **detail: Any) -> PortalHotlineEvent:
    event = E(question_id=question_id, kind=kind, actor_id=actor_id, at=now,
              note=(note or None) and note[:NOTE_MAX], detail=detail)
    session.add(event)
    return event


def _transition(session: Session, question: PortalHotlineQuestion, states: Sequence[str],
                values: dict[str, Any], *, extra: ColumnElement[bool] | None = None) -> bool:
    """``UPDATE`` the question when it is still in one of ``states``; True when it was."""
    cond = and_(Q.id == question.id, Q.state.in_([str(s) for s in states]))
    if extra is not None:
        cond = and_(cond, extra)
    result = session.execute(update(Q).where(cond).values(**values)
                             .execution_options(synchronize_session=False))
    session.refresh(question)
    return result.rowcount == 1  # type: ignore[attr-defined]


def _enqueue(session: Session, question_id: int) -> None:
    from unionhub.search.queue import enqueue

    enqueue(session, DOC_TYPE, [question_id])


# --- routing ----------------------------------------------------------------------------------


def _active_member(account: Any) -> Member:
    member = getattr(account, "member", None)
    if member is None or member.status != MemberStatus.ACTIVE:
        raise HotlineError(_("只有在册的工会会员可以向职工热线提问"))
    return member  # type: ignore[no-any-return]


def address_options(session: Session, member: Member) -> list[Org]:
    """The unions a member may address: their grassroots union (the default, first) and the
    unions above it, nearest first. A branch (分会) answers through its grassroots union."""
    ids = member.org.ancestor_ids
    orgs = {o.id: o for o in session.scalars(select(Org).where(Org.id.in_(ids)))}
    chain = [orgs[i] for i in reversed(ids) if i in orgs]  # the member's org first
    start = next((k for k, o in enumerate(chain) if o.level == OrgLevel.GRASSROOTS), None)
    if start is None:  # no grassroots union above: the member's own org is the nearest
        start = next((k for k, o in enumerate(chain) if o.level != OrgLevel.BRANCH), 0)
    return chain[start:]


def validate_question(category: str, subject: str, body: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if category not in CATEGORIES:
        errors["category"] = _("请选择问题类别")
    if why := _text_error(subject, "标题", high=SUBJECT_MAX):
        errors["subject"] = why
    if why := _text_error(body, "问题描述", low=BODY_MIN, high=BODY_MAX):
        errors["body"] = why
    return errors


def ask(session: Session, account: Any, *, category: object, subject: object, body: object,
        anonymous: bool = False, org_id: int | None = None, channel: str = "pc",
        now: datetime | None = None, hours: int | None = None) -> PortalHotlineQuestion:
    """Record a member's question, addressed to ``org_id`` (one of :func:`address_options`;
    default the grassroots union), due ``portal.hotline_answer_hours`` working hours later
    (``hours`` overrides it, for the demo). Raises :class:`HotlineError` (with ``errors`` for
    bad fields)."""
    now = now or utcnow()
    member = _active_member(account)
    category_s, subject_s, body_s = _clean(category), _clean(subject), _clean(body)
    errors = validate_question(category_s, subject_s, body_s)
    options = address_options(session, member)
    org = options[0] if options else member.org
    if org_id is not None:
        chosen = next((o for o in options if o.id == org_id), None)
        if chosen is None:
            errors["org_id"] = _("请选择您所在的工会或其上级工会")
        else:
            org = chosen
    if errors:
        raise HotlineError(_("请修改下面标出的内容后重新提交"), errors)
    recent = session.scalar(select(func.count()).select_from(Q).where(
        Q.member_id == member.id, Q.asked_at > now - timedelta(days=1),
        Q.asked_at <= now)) or 0
    if recent >= ASK_PER_DAY:
        raise HotlineError(_("24 小时内最多提问 %(n)s 次，请稍后再提问或拨打 12351 职工热线",
                             n=ASK_PER_DAY))
    question = Q(member_id=member.id, account_id=account.id, org_id=org.id,
                 category=category_s, subject=subject_s, body=body_s, anonymous=bool(anonymous),
                 channel=channel if channel in ("pc", "mobile", "app") else "pc",
                 state=HotlineState.NEW, asked_at=now, due_at=sla.due_at(now, hours),
                 created_at=now, updated_at=now)
    session.add(question)
    session.flush()
    _event(session, question.id, HotlineEventKind.ASKED, account.id, now, org=org.name)
    return question


# --- scope ------------------------------------------------------------------------------------


def scoped(account: Any, permission: str = ANSWER) -> Select[tuple[PortalHotlineQuestion]]:
    """Questions addressed to orgs where ``account`` holds ``permission`` (add filters)."""
    return (select(Q).join(Org, Org.id == Q.org_id)
            .where(scope_filter(account, permission, Org.path)))


def scoped_question(session: Session, account: Any, question_id: int,
                    permission: str = ANSWER) -> PortalHotlineQuestion | None:
    return session.scalar(scoped(account, permission).where(Q.id == question_id))


def officers_for(session: Session, org: Org) -> Select[tuple[Account]]:
    """Active accounts that may answer questions addressed to ``org``: a role carrying
    ``portal.hotline.answer`` granted at ``org`` or one of its ancestors."""
    grant_org = aliased(Org)
    covered = exists(
        select(literal(1)).select_from(RoleGrant)
        .join(grant_org, grant_org.id == RoleGrant.org_id)
        .where(RoleGrant.account_id == Account.id,
               RoleGrant.role.in_(roles_with(ANSWER, session)),
               literal(org.path).like(grant_org.path.concat("%"))))
    return (select(Account).where(Account.is_active.is_(True), covered)
            .order_by(Account.display_name, Account.id))


def eligible_officers(session: Session, org: Org) -> list[Account]:
    return list(session.scalars(officers_for(session, org)))


# --- officers' actions ------------------------------------------------------------------------


def assign(session: Session, question: PortalHotlineQuestion, assignee_id: int | None,
           actor: Any, *, note: str | None = None, now: datetime | None = None,
           notify: bool = True) -> PortalHotlineEvent:
    """Make ``assignee_id`` (an officer who may answer for the question's org) responsible.
    The caller has checked that ``actor`` holds ``portal.hotline.manage`` on the question."""
    now = now or utcnow()
    if question.state not in OPEN_STATES:
        raise HotlineError(_("该问题已答复或已办结，不能再分派"))
    if assignee_id is None:
        raise HotlineError(_("请选择承办干部"), {"assignee_id": _("请选择承办干部")})
    if assignee_id == question.assignee_id:
        msg = _("该问题已分派给这位干部")
        raise HotlineError(msg, {"assignee_id": msg})
    ok = session.scalar(select(exists(
        officers_for(session, question.org).where(Account.id == assignee_id)
        .with_only_columns(Account.id))))
    if not ok:
        msg = _("只能分派给负责%(org)s热线的干部", org=question.org.name)
        raise HotlineError(msg, {"assignee_id": msg})
    previous = question.assignee_id
    old = (Q.assignee_id.is_(None) if previous is None else Q.assignee_id == previous)
    if not _transition(session, question, OPEN_STATES,
                       {"state": HotlineState.ASSIGNED, "assignee_id": assignee_id,
                        "updated_at": now}, extra=old):
        raise HotlineError(_("该问题刚刚被他人处理，请刷新后再试"))
    kind = HotlineEventKind.ASSIGNED if previous is None else HotlineEventKind.REASSIGNED
    event = _event(session, question.id, kind, getattr(actor, "id", None), now, _clean(note),
                   assignee_id=assignee_id, previous_id=previous)
    session.flush()
    if notify:
        from unionhub.notify import send

        assignee = select(Account.member_id).where(Account.id == assignee_id,
                                                   Account.member_id.is_not(None))
        send(session, ASSIGNED_TYPE, assignee, _officer_context(question),
             f"hotline_assigned:{question.id}:{event.id}")
    return event


def _officer_context(question: PortalHotlineQuestion) -> dict[str, Any]:
    return {"question_id": question.id, "subject": question.subject,
            "subject_short": short(question.subject), "org": question.org.name,
            "org_short": short(question.org.name), "category": category_label(question.category),
            "due": sla_text(question.due_at)}


def sla_text(moment: datetime | None) -> str:
    return moment.astimezone(sla.CHINA).strftime("%Y-%m-%d %H:%M") if moment else ""


def answer(session: Session, question: PortalHotlineQuestion, actor: Any, text: object, *,
           now: datetime | None = None, notify: bool = True) -> PortalHotlineEvent:
    """Answer an open question; the member is notified (in-site inbox, WeChat template
    ``portal.wechat_template_hotline``, …). The caller has checked ``portal.hotline.answer``
    on the question's org."""
    now = now or utcnow()
    body = _clean(text)
    if why := _text_error(body, "答复内容", low=BODY_MIN, high=ANSWER_MAX):
        raise HotlineError(why, {"answer": why})
    if question.state not in OPEN_STATES:
        raise HotlineError(_("该问题已经答复或办结"))
    actor_id = getattr(actor, "id", None)
    if not _transition(session, question, OPEN_STATES,
                       {"state": HotlineState.ANSWERED, "answer": body, "answered_at": now,
                        "answered_by": actor_id, "updated_at": now}):
        raise HotlineError(_("该问题刚刚被他人答复，请刷新后查看"))
    late = now > question.due_at
    event = _event(session, question.id, HotlineEventKind.ANSWERED, actor_id, now,
                   late=late)
    if notify and question.member_id is not None:
        from unionhub.notify import send

        send(session, ANSWERED_TYPE, [question.member_id],
             {"question_id": question.id, "subject": question.subject,
              "subject_short": short(question.subject), "org": question.org.name,
              "org_short": short(question.org.name), "answered": sla_text(now)},
             f"hotline_answered:{question.id}")
    return event


@dataclass(frozen=True)
class PublishDraft:
    """What the publish form starts from: the redacted question and answer."""

    subject: str
    question: str
    answer: str
    counts: dict[str, int]


def publish_draft(question: PortalHotlineQuestion) -> PublishDraft:
    """The redacted copy an officer edits before publishing (the published text when the Q&A
    is already public)."""
    if question.state == HotlineState.PUBLISHED and question.public_question:
        return PublishDraft(question.public_subject or "", question.public_question,
                            question.public_answer or "", {})
    names = (question.member.name,) if question.member is not None else ()
    counts: dict[str, int] = {}
    parts = []
    for text in (question.subject, question.body, question.answer or ""):
        r = redaction.redact_text(text, names)
        parts.append(r.text)
        for k, v in r.counts.items():
            counts[k] = counts.get(k, 0) + v
    return PublishDraft(parts[0][:SUBJECT_MAX], parts[1], parts[2], counts)


REDACTION_KINDS = {"id": "身份证号", "card": "卡号", "mobile": "手机号", "phone": "电话号码",
                   "email": "邮箱", "name": "提问人姓名"}


def publish(session: Session, question: PortalHotlineQuestion, actor: Any, *, subject: object,
            question_text: object, answer_text: object, confirmed: bool = False,
            now: datetime | None = None) -> PortalHotlineEvent:
    """Publish (or re-publish after editing) an answered question's redacted copy. The text
    is checked once more: what still looks like personal data is refused unless the officer
    ``confirmed`` it is public information (a union's own phone number, say)."""
    now = now or utcnow()
    if question.state not in (HotlineState.ANSWERED, HotlineState.PUBLISHED):
        raise HotlineError(_("只有已答复的问题可以公开"))
    values = {"public_subject": _clean(subject), "public_question": _clean(question_text),
              "public_answer": _clean(answer_text)}
    errors: dict[str, str] = {}
    for key, label, low, high in (("public_subject", "公开标题", 0, SUBJECT_MAX),
                                  ("public_question", "公开的问题", BODY_MIN, BODY_MAX),
                                  ("public_answer", "公开的答复", BODY_MIN, ANSWER_MAX)):
        if why := _text_error(values[key], label, low=low, high=high):
            errors[key] = why
    if errors:
        raise HotlineError(_("请修改下面标出的内容后重新提交"), errors)
    if not confirmed:
        names = (question.member.name,) if question.member is not None else ()
        found: dict[str, int] = {}
        for key, text in values.items():
            for kind, n in redaction.redact_text(text, names).counts.items():
                found[kind] = found.get(kind, 0) + n
                errors[key] = _("仍含疑似个人信息，请删除或勾选确认")
        if found:
            kinds = "、".join(_(REDACTION_KINDS[k]) for k in REDACTION_KINDS if k in found)
            raise HotlineError(_("公开内容中仍有疑似个人信息（%(kinds)s），请删除；如确属公开信息"
                                 "（如工会的办公电话），请勾选确认后再公开", kinds=kinds), errors)
    republish = question.state == HotlineState.PUBLISHED
    if not _transition(session, question, (HotlineState.ANSWERED, HotlineState.PUBLISHED),
                       {**values, "state": HotlineState.PUBLISHED,
                        "published_at": func.coalesce(Q.published_at, now),
                        "published_by": getattr(actor, "id", None), "updated_at": now}):
        raise HotlineError(_("该问题状态刚刚发生变化，请刷新后再试"))
    event = _event(session, question.id, HotlineEventKind.PUBLISHED, getattr(actor, "id", None),
                   now, edited=republish)
    _enqueue(session, question.id)
    from unionhub.audit.service import record

    record("portal.hotline_publish", target_type="portal_hotline_question",
           target_id=question.id, org_path=question.org.path,
           details={"republish": republish}, actor=actor, session=session)
    return event


def close(session: Session, question: PortalHotlineQuestion, actor: Any, note: object, *,
          now: datetime | None = None) -> PortalHotlineEvent:
    """Close a question: done without publication, a duplicate or not a hotline matter (a
    note is required then), or withdrawn from the public list."""
    now = now or utcnow()
    text = _clean(note)
    if question.state == HotlineState.CLOSED:
        raise HotlineError(_("该问题已办结"))
    if why := _text_error(text, "办结说明", required=question.state in OPEN_STATES,
                          high=NOTE_MAX):
        raise HotlineError(why, {"note": why})
    was = question.state
    if not _transition(session, question, [s for s in HotlineState if s != HotlineState.CLOSED],
                       {"state": HotlineState.CLOSED, "closed_at": now, "updated_at": now}):
        raise HotlineError(_("该问题状态刚刚发生变化，请刷新后再试"))
    event = _event(session, question.id, HotlineEventKind.CLOSED, getattr(actor, "id", None),
                   now, text, previous=was)
    if was == HotlineState.PUBLISHED:
        _enqueue(session, question.id)
        from unionhub.audit.service import record

        record("portal.hotline_withdraw", target_type="portal_hotline_question",
               target_id=question.id, org_path=question.org.path, actor=actor, session=session)
    return event


def rate(session: Session, question: PortalHotlineQuestion, account: Any, rating: object,
         note: object = "", *, now: datetime | None = None) -> PortalHotlineEvent:
    """The asker rates the answer (1–5, may change it later)."""
    now = now or utcnow()
    member = getattr(account, "member", None)
    if member is None or question.member_id != member.id:
        raise HotlineError(_("只能评价自己的提问"))
    if question.answer is None:
        raise HotlineError(_("问题答复后才能评价"))
    try:
        value = int(str(rating).strip())
    except ValueError:
        value = 0
    if value not in RATING_LABELS:
        raise HotlineError(_("请选择满意度（1–5 星）"), {"rating": _("请选择满意度（1–5 星）")})
    text = _clean(note)
    if why := _text_error(text, "评价说明", required=False, high=200):
        raise HotlineError(why, {"rating_note": why})
    question.rating, question.rating_note, question.updated_at = value, text or None, now
    return _event(session, question.id, HotlineEventKind.RATED, account.id, now, text,
                  rating=value)


# --- the service-level clock -------------------------------------------------------------------


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    return and_(Q.state.in_([str(s) for s in OPEN_STATES]), Q.due_at < now)


def escalation_recipients(session: Session, org: Org) -> Select[Any]:
    """Member ids of the officers told about an overdue question of ``org``: those answering
    for the org itself (a grant at it) and the managers of the org and of its parent (grants
    of a role carrying ``portal.hotline.manage`` there). Officer accounts without a member
    record cannot receive notifications and drop out."""
    answer_roles = roles_with(ANSWER, session)
    manage_roles = roles_with(MANAGE, session)
    at_org = and_(RoleGrant.org_id == org.id,
                  RoleGrant.role.in_(sorted({*answer_roles, *manage_roles})))
    clause = at_org
    if org.parent_id is not None:
        clause = or_(at_org, and_(RoleGrant.org_id == org.parent_id,
                                  RoleGrant.role.in_(manage_roles)))
    return (select(Account.member_id).join(RoleGrant, RoleGrant.account_id == Account.id)
            .where(clause, Account.is_active.is_(True), Account.member_id.is_not(None)))


def escalate_overdue(session: Session, now: datetime | None = None) -> int:
    """Escalate every open question past its deadline that was not escalated yet: mark it,
    append an ``escalated`` event and notify the officers of :func:`escalation_recipients`
    plus the assignee. Returns how many were escalated; the caller commits.

    Each question is escalated once, however many runs overlap: a batch is picked with
    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (a concurrent run takes other rows instead of
    waiting, so two runs never deadlock), and the conditional ``UPDATE … WHERE escalated_at
    IS NULL`` decides — a question another run escalated meanwhile is not returned again.
    """
    from unionhub.notify import send
    from unionhub.notify.service import kick

    now = now or utcnow()
    total = notified = 0
    while True:
        picked = list(session.scalars(
            select(Q.id).where(overdue_clause(now), Q.escalated_at.is_(None))
            .order_by(Q.id).limit(ESCALATE_BATCH).with_for_update(skip_locked=True)))
        if not picked:
            break
        ids = list(session.scalars(
            update(Q).where(Q.id.in_(picked), Q.escalated_at.is_(None), overdue_clause(now))
            .values(escalated_at=now).returning(Q.id)
            .execution_options(synchronize_session=False)))
        for question in session.scalars(select(Q).where(Q.id.in_(ids)).order_by(Q.id)
                                        .execution_options(populate_existing=True)):
            audience = escalation_recipients(session, question.org)
            if question.assignee_id is not None:
                audience = audience.union(select(Account.member_id).where(
                    Account.id == question.assignee_id, Account.member_id.is_not(None)))
            recipients = sorted({m for m in session.scalars(audience) if m is not None})
            context = {**_officer_context(question),
                       "late": lateness_text(question.due_at, now)}
            if recipients:
                send(session, ESCALATED_TYPE, recipients, context,
                     f"hotline_escalated:{question.id}", dispatch=False)
                notified += 1
            _event(session, question.id, HotlineEventKind.ESCALATED, None, now,
                   notified=len(recipients), due_at=question.due_at.isoformat())
        session.flush()
        total += len(ids)
        if len(picked) < ESCALATE_BATCH:
            break
    if notified:
        kick(session)
    return total


def lateness_text(due: datetime, now: datetime) -> str:
    """"超时 1 个工作日 3 小时" style text (working time past the deadline)."""
    days, hours, minutes = sla.lateness(due, now)
    parts = []
    if days:
        parts.append(_("%(n)s 个工作日", n=days))
    if hours:
        parts.append(_("%(n)s 小时", n=hours))
    if minutes and not days:
        parts.append(_("%(n)s 分钟", n=minutes))
    return " ".join(parts) or _("不足 1 分钟（非工作时间）")


# --- queries ------------------------------------------------------------------------------------


def queue(account: Any, tab: str, *, category: str | None = None, text: str | None = None
          ) -> Select[tuple[PortalHotlineQuestion]]:
    """The back-office queue of ``account`` in one tab: open questions soonest due first,
    the others latest first."""
    stmt = scoped(account, ANSWER)
    _label, states = QUEUE_TABS.get(tab, QUEUE_TABS["open"])
    if states is not None:
        stmt = stmt.where(Q.state.in_([str(s) for s in states]))
    if tab == "mine":
        stmt = stmt.where(Q.assignee_id == account.id)
    if category in CATEGORIES:
        stmt = stmt.where(Q.category == category)
    if text:
        like = f"%{_escape_like(text)}%"
        stmt = stmt.where(or_(Q.subject.like(like, escape="\\"), Q.body.like(like, escape="\\")))
    if tab in ("open", "mine"):
        return stmt.order_by(Q.due_at, Q.id)
    return stmt.order_by(Q.asked_at.desc(), Q.id.desc())


def overdue(account: Any, now: datetime) -> Select[tuple[PortalHotlineQuestion]]:
    """Open questions past their deadline in ``account``'s managing scope, most late first."""
    return scoped(account, MANAGE).where(overdue_clause(now)).order_by(Q.due_at, Q.id)


@dataclass(frozen=True)
class Counts:
    new: int
    open: int
    overdue: int
    mine: int
    due_soon: int


def counts(session: Session, account: Any, now: datetime) -> Counts:
    """For the officer dashboard, in one query over ``account``'s answering scope."""
    open_ = Q.state.in_([str(s) for s in OPEN_STATES])
    soon = sla.add_working_hours(now, 4)
    row = session.execute(
        select(func.count().filter(Q.state == HotlineState.NEW),
               func.count().filter(open_),
               func.count().filter(overdue_clause(now)),
               func.count().filter(and_(open_, Q.assignee_id == account.id)),
               func.count().filter(and_(open_, Q.due_at >= now, Q.due_at < soon)))
        .select_from(Q).join(Org, Org.id == Q.org_id)
        .where(scope_filter(account, ANSWER, Org.path))).one()
    return Counts(*(int(v or 0) for v in row))


def my_questions(member_id: int) -> Select[tuple[PortalHotlineQuestion]]:
    return select(Q).where(Q.member_id == member_id).order_by(Q.asked_at.desc(), Q.id.desc())


def own_question(session: Session, member_id: int, question_id: int
                 ) -> PortalHotlineQuestion | None:
    return session.scalar(select(Q).where(Q.id == question_id, Q.member_id == member_id))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def published(category: str | None = None, text: str | None = None
              ) -> Select[tuple[PortalHotlineQuestion]]:
    """Published Q&As, latest first (only the redacted ``public_*`` text is searched)."""
    stmt = select(Q).where(Q.state == HotlineState.PUBLISHED)
    if category in CATEGORIES:
        stmt = stmt.where(Q.category == category)
    if text:
        like = f"%{_escape_like(text[:50])}%"
        stmt = stmt.where(or_(Q.public_subject.like(like, escape="\\"),
                              Q.public_question.like(like, escape="\\"),
                              Q.public_answer.like(like, escape="\\")))
    return stmt.order_by(Q.published_at.desc(), Q.id.desc())


def published_question(session: Session, question_id: int) -> PortalHotlineQuestion | None:
    return session.scalar(select(Q).where(Q.id == question_id,
                                          Q.state == HotlineState.PUBLISHED))


def events_of(session: Session, question_id: int) -> list[PortalHotlineEvent]:
    return list(session.scalars(select(E).where(E.question_id == question_id).order_by(E.id)))


def member_summary(session: Session, member_id: int) -> tuple[int, int, list[Any]]:
    """(questions asked, answers not yet read… i.e. answered, latest three) for the panel."""
    total, answered = session.execute(
        select(func.count(), func.count().filter(Q.answer.is_not(None)))
        .select_from(Q).where(Q.member_id == member_id)).one()
    latest = list(session.scalars(my_questions(member_id).limit(3)))
    return int(total or 0), int(answered or 0), latest


__all__ = [
    "ANSWER", "ASK", "CATEGORIES", "EVENT_LABELS", "MANAGE", "QUEUE_TABS", "RATING_LABELS",
    "STATE_LABELS", "Counts", "HotlineError", "PublishDraft", "address_options", "answer",
    "ask", "assign", "category_label", "close", "counts", "eligible_officers",
    "escalate_overdue", "escalation_recipients", "events_of", "lateness_text", "my_questions",
    "officers_for", "overdue", "own_question", "public_asker", "publish", "publish_draft",
    "published", "published_question", "queue", "rate", "scoped", "scoped_question",
]
