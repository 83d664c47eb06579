"""Payee verification (收款人核验) before money is sent to a member's Jingka.

A payout can only go to the bank when the member has a name, a resident ID, has not left the
union and holds an ACTIVE Jingka card. Anything else puts the payout aside as
``payee_needed`` with a Chinese reason the officer (and the member) can act on; once the
member's data is fixed in the core (card replaced, name corrected) an officer marks it ready
again and it goes into a new batch.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, exists, func, insert, literal, null, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from unionhub.audit import service as audit
from unionhub.db import utcnow
from unionhub.identity.models import CardStatus, JingkaCard, Member, MemberStatus

from ..models import MutualaidPayout, PayoutStatus
from .models import MutualaidPayeeCheck

NO_NAME = "会员姓名缺失"
NO_ID = "会员身份证号缺失"
LEFT = "会员已退会"
NO_CARD = "会员没有正常状态的京卡（请办理补卡或登记新卡）"


def reason_for(*, name: str | None, has_id_number: bool, status: str, has_card: bool
               ) -> str | None:
    """The verification rule on plain facts (shared by :func:`verify` and batch generation,
    which reads the facts of many payouts in one query)."""
    if not (name or "").strip():
        return NO_NAME
    if not has_id_number:
        return NO_ID
    if status == MemberStatus.LEFT:
        return LEFT
    if not has_card:
        return NO_CARD
    return None


def reason_sql() -> ColumnElement[str | None]:
    """:func:`reason_for` as a SQL expression over ``member`` (NULL = payable), for checking
    a whole quarter's payees in one statement. A test holds the two to the same answers."""
    has_card = exists().where(JingkaCard.member_id == Member.id,
                              JingkaCard.status == CardStatus.ACTIVE)
    return case(
        (func.trim(func.coalesce(Member.name, "")) == "", literal(NO_NAME)),
        (or_(func.coalesce(Member.id_number_enc, "") == "",
             func.coalesce(Member.id_number_hash, "") == ""), literal(NO_ID)),
        (Member.status == MemberStatus.LEFT.value, literal(LEFT)),
        (~has_card, literal(NO_CARD)),
        else_=null())


def active_card(session: Session, member: Member) -> JingkaCard | None:
    """The member's current ACTIVE card, read from the database (not a stale relationship)."""
    return session.scalar(select(JingkaCard).where(
        JingkaCard.member_id == member.id, JingkaCard.status == CardStatus.ACTIVE))


def verify(session: Session, member: Member) -> str | None:
    """None when ``member`` can be paid, else the reason (Chinese) why not."""
    return reason_for(name=member.name,
                      has_id_number=bool(member.id_number_enc and member.id_number_hash),
                      status=member.status, has_card=active_card(session, member) is not None)


def needs_payee(session: Session, payout: MutualaidPayout, reason: str) -> bool:
    """Set a pending payout aside as ``payee_needed`` with ``reason``.

    Conditional on the payout still being pending: True when this call moved it.
    """
    result = session.execute(
        update(MutualaidPayout)
        .where(MutualaidPayout.id == payout.id,
               MutualaidPayout.status == PayoutStatus.PENDING)
        .values(status=PayoutStatus.PAYEE_NEEDED, failure=reason[:200], updated_at=utcnow())
        .execution_options(synchronize_session=False))
    moved = result.rowcount == 1  # type: ignore[attr-defined]
    session.refresh(payout)
    return moved


def record_checks(session: Session, checks: list[dict[str, Any]]) -> None:
    """Keep verification outcomes (payout_id, org_path, ok, reason[, checked_by]) for the
    success rate (:func:`.stats.verification_rate`)."""
    if not checks:
        return
    now = utcnow()
    session.execute(insert(MutualaidPayeeCheck.__table__), [
        {"checked_by": None, "checked_at": now, **c} for c in checks])


class NotReady(RuntimeError):
    """The payout cannot go back to the queue (verification failed or someone acted first)."""


def mark_ready(session: Session, payout: MutualaidPayout, actor: Any = None) -> None:
    """收款信息已补充: verify the member again and, when they can be paid, put the payout back
    in the queue (payee_needed → pending) for a NEW batch. Raises :class:`NotReady`."""
    reason = verify(session, payout.member)
    record_checks(session, [{"payout_id": payout.id, "org_path": payout.org_path,
                             "ok": reason is None, "reason": reason,
                             "checked_by": getattr(actor, "id", None)}])
    if reason is not None:
        session.execute(update(MutualaidPayout).where(
            MutualaidPayout.id == payout.id,
            MutualaidPayout.status == PayoutStatus.PAYEE_NEEDED).values(
            failure=reason[:200], updated_at=utcnow()).execution_options(
            synchronize_session=False))
        session.refresh(payout)
        raise NotReady(f"收款人核验未通过：{reason}")
    result = session.execute(
        update(MutualaidPayout)
        .where(MutualaidPayout.id == payout.id,
               MutualaidPayout.status == PayoutStatus.PAYEE_NEEDED)
        .values(status=PayoutStatus.PENDING, failure=None, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(payout)
        raise NotReady("该笔发放状态已变化，请刷新后重试")
    session.refresh(payout)
    audit.record("mutualaid.payout.ready", target_type="mutualaid_payout", target_id=payout.id,
                 org_path=payout.org_path, actor=actor, session=session,
                 details={"amount": str(payout.amount)})
