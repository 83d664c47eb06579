"""Mutual aid's side of the core's member data exchange (:mod:`unionhub.exchange`).

* :func:`members_changed` — what an applied member/Jingka import means for mutual aid, all
  set-based over the import's SELECTs of member ids:

  - **cards replaced before payout**: a payout waiting as ``payee_needed`` because of the card
    (no ACTIVE Jingka, or the bank refused the old card — ``银行退回：…``) goes back to
    ``pending`` when the member now passes payee verification, so the next bank batch
    snapshots the NEW card. Payouts set aside for another reason (name or ID number missing,
    left the union) stay: a new card does not fix them. Each move is verified (a payee check
    row) and audited. Pending payouts of those members are counted: they will be paid to the
    new card.
  - **new members**: counted as covered by the current dues-funded programs (二次报销,
    非工伤综合 …) when active with an active card — such cover has no rows to write.
  - **left members**: their current voluntary cover continues to the end of its term and fees
    are not refunded (nothing is deleted); their dues-funded cover ends with membership.

* :func:`accounting_lines` — per unit and program of a plan year: headcount, shares, fees due
  (from coverage rows), billed and received (from fee statements), in one ``GROUP BY`` over a
  ``UNION ALL`` of both tables; dues-funded programs count the members their plan covered at
  some time during its term (:func:`dues_headcount`), so a past year's figures do not drift
  with today's membership.
* :func:`audiences` — "members covered by a program" for the OA plugin's campaigns.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    String,
    and_,
    distinct,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from unionhub import db
from unionhub.audit.models import AuditLog
from unionhub.contrib import AccountingLine, AudienceSource, ChangeReaction, MemberChanges
from unionhub.db import utcnow
from unionhub.identity.models import CardStatus, JingkaCard, Member, MemberStatus
from unionhub.money import money_sum
from unionhub.web.formatting import SHANGHAI

from .models import (
    MutualaidCoverage,
    MutualaidFeeStatement,
    MutualaidPayout,
    MutualaidPlan,
    PayoutStatus,
    PlanStatus,
)
from .payouts import payee
from .payouts.models import MutualaidPayeeCheck
from .rules import PROGRAM_CODES, PROGRAM_NAMES, Funding

LABEL = "互助保障"
COUNT_LABELS = {
    "payouts_rerouted": "待补收款信息的发放改发新卡",
    "payouts_to_new_card": "换卡会员待发放（将发放到新卡）",
    "dues_covered_new": "新会员纳入会费保障项目",
    "left_cover_continues": "退会会员自愿项目保障延续至期满（项）",
    "dues_cover_ended": "退会会员会费保障项目终止",
}
#: the prefix :mod:`.payouts.returns` gives a bank's refusal
BANK_REFUSED = "银行退回："


def _today() -> date:
    return date.today()


def _active_card() -> Any:
    return exists().where(JingkaCard.member_id == Member.id,
                          JingkaCard.status == CardStatus.ACTIVE)


def _current_dues_plans(session: Session, on: date) -> int:
    """How many dues-funded programs cover their holders on ``on``."""
    return session.scalar(select(func.count(distinct(MutualaidPlan.program))).where(
        MutualaidPlan.status == PlanStatus.ACTIVE, MutualaidPlan.funding == Funding.DUES.value,
        MutualaidPlan.term_start <= on, MutualaidPlan.term_end >= on)) or 0


# -- cards replaced --------------------------------------------------------------------------


def _reroute(session: Session, changes: MemberChanges) -> tuple[int, int]:
    """payee_needed → pending for card-caused failures of members whose card was replaced
    and who now pass verification; returns (moved, pending for those members)."""
    now = utcnow()
    card_caused = or_(MutualaidPayout.failure == payee.NO_CARD,
                      MutualaidPayout.failure.startswith(BANK_REFUSED))
    movable = and_(MutualaidPayout.status == PayoutStatus.PAYEE_NEEDED,
                   MutualaidPayout.member_id.in_(changes.cards_replaced), card_caused)
    verified = select(MutualaidPayout.id).join(Member, Member.id == MutualaidPayout.member_id)\
        .where(movable, payee.reason_sql().is_(None))
    moving = session.execute(
        select(MutualaidPayout.id, MutualaidPayout.org_path, MutualaidPayout.amount,
               MutualaidPayout.failure)
        .where(MutualaidPayout.id.in_(verified.scalar_subquery()))).all()
    moved = 0
    if moving:
        # the verification and the audit trail, written before the rows change (same WHERE)
        session.execute(insert(MutualaidPayeeCheck).from_select(
            ["payout_id", "org_path", "ok", "reason", "checked_at", "checked_by"],
            select(MutualaidPayout.id, MutualaidPayout.org_path, literal(True),
                   literal(None, String), literal(now, MutualaidPayeeCheck.checked_at.type),
                   literal(changes.owner_id, Integer))
            .where(MutualaidPayout.id.in_(verified.scalar_subquery()))))
        session.execute(insert(AuditLog).from_select(
            ["at", "actor_id", "actor_name", "action", "target_type", "target_id", "org_path",
             "details"],
            select(literal(now, AuditLog.at.type), literal(changes.owner_id, Integer),
                   literal("import"), literal("mutualaid.payout.rerouted"),
                   literal("mutualaid_payout"), func.cast(MutualaidPayout.id, String),
                   MutualaidPayout.org_path,
                   literal({"import": changes.import_id, "reason": "card_replaced"}, JSON))
            .where(MutualaidPayout.id.in_(verified.scalar_subquery()))))
        moved = session.execute(
            update(MutualaidPayout)
            .where(MutualaidPayout.id.in_(verified.scalar_subquery()),
                   MutualaidPayout.status == PayoutStatus.PAYEE_NEEDED)
            .values(status=PayoutStatus.PENDING.value, failure=None, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    pending = session.scalar(select(func.count(MutualaidPayout.id)).where(
        MutualaidPayout.status == PayoutStatus.PENDING,
        MutualaidPayout.member_id.in_(changes.cards_replaced))) or 0
    return moved, pending


def members_changed(changes: MemberChanges) -> ChangeReaction | None:
    """React to an applied member import (see the module docstring); ``None`` when nothing
    concerns mutual aid. Writes through the import's session (``changes.session``)."""
    s = changes.session
    today = _today()
    counts: dict[str, int] = {}
    moved, pending = _reroute(s, changes)
    if moved or pending:
        counts["payouts_rerouted"] = moved
        counts["payouts_to_new_card"] = pending
    dues = _current_dues_plans(s, today)
    if dues:
        covered = s.scalar(select(func.count(Member.id)).where(
            Member.id.in_(changes.new), Member.status == MemberStatus.ACTIVE,
            _active_card())) or 0
        if covered:
            counts["dues_covered_new"] = covered
    continuing = s.scalar(select(func.count(MutualaidCoverage.id)).where(
        MutualaidCoverage.member_id.in_(changes.left), MutualaidCoverage.end >= today)) or 0
    if continuing:
        counts["left_cover_continues"] = continuing
    if dues:
        ended = s.scalar(select(func.count(Member.id)).where(
            Member.id.in_(changes.left), Member.status != MemberStatus.ACTIVE)) or 0
        if ended:
            counts["dues_cover_ended"] = ended
    if not counts:
        return None
    return ChangeReaction(LABEL, counts, {k: COUNT_LABELS[k] for k in counts})


# -- accounting ------------------------------------------------------------------------------


def dues_headcount(session: Session, term_start: date, term_end: date) -> list[tuple[int, int]]:
    """``(org id, members)`` covered by a dues-funded plan whose term runs from
    ``term_start`` to ``term_end``: the members who were union members with a Jingka at some
    time during the term, by their (current) org. In SQL:

    * membership overlaps the term: joined on or before its end (no date: a member from
      before) and left on or after its start — or not left at all (still active, no leaving
      date). A member recorded as gone without a leaving date is not counted: nothing shows
      they belonged during the term.
    * a card during the term: one that is active now, or whose status changed (lost,
      replaced, closed) on or after the term's first day (Beijing time) — it was valid when
      the term began or later. A card stopped before the term does not count. When a card
      was issued is not used: ``issued_on`` is the day the system registered it, often long
      after the member got it.

    So a past year's head count changes only when those past facts are corrected, not when
    members join, leave or replace cards today."""
    start_utc = datetime.combine(term_start, time(), SHANGHAI).astimezone(UTC)
    card_in_term = exists().where(
        JingkaCard.member_id == Member.id,
        or_(JingkaCard.status == CardStatus.ACTIVE, JingkaCard.status_changed_at >= start_utc))
    member_in_term = and_(
        or_(Member.joined_on.is_(None), Member.joined_on <= term_end),
        or_(Member.left_on >= term_start,
            and_(Member.left_on.is_(None), Member.status == MemberStatus.ACTIVE)))
    rows = session.execute(
        select(Member.org_id, func.count(Member.id))
        .where(member_in_term, card_in_term)
        .group_by(Member.org_id)).all()
    return [(int(org_id), int(n)) for org_id, n in rows]



def accounting_lines(plan_year: int) -> list[AccountingLine]:
    """Every unit's figures per program for ``plan_year`` (see the module docstring)."""
    s = db.session()
    cov, st = MutualaidCoverage, MutualaidFeeStatement
    zero = literal(0, BigInteger)
    both = union_all(
        select(cov.unit_org_id.label("unit"), cov.program.label("program"),
               cov.member_id.label("member_id"), cov.shares.label("shares"),
               cov.fee.label("due"), zero.label("billed"), zero.label("received"))
        .where(cov.plan_year == plan_year),
        select(st.unit_org_id, st.program, literal(None, Integer), zero, zero, st.amount_due,
               st.amount_paid)
        .where(st.plan_year == plan_year),
    ).subquery()
    rows = s.execute(
        select(both.c.unit, both.c.program, func.count(distinct(both.c.member_id)),
               func.coalesce(func.sum(both.c.shares), 0), money_sum(both.c.due),
               money_sum(both.c.billed), money_sum(both.c.received))
        .group_by(both.c.unit, both.c.program)).all()
    lines = [AccountingLine(unit, program, PROGRAM_NAMES.get(program, program), int(heads),
                            int(shares), due, billed, received)
             for unit, program, heads, shares, due, billed, received in rows]
    # each dues-funded program's term (one active plan per program and year; should there be
    # more, the span of their terms)
    terms = s.execute(
        select(MutualaidPlan.program, func.min(MutualaidPlan.term_start),
               func.max(MutualaidPlan.term_end))
        .where(MutualaidPlan.plan_year == plan_year, MutualaidPlan.status == PlanStatus.ACTIVE,
               MutualaidPlan.funding == Funding.DUES.value)
        .group_by(MutualaidPlan.program)).all()
    held: dict[tuple[date, date], list[tuple[int, int]]] = {}
    zero_money = Decimal("0.00")
    for program, start, end in terms:
        if (start, end) not in held:
            held[(start, end)] = dues_headcount(s, start, end)
        lines.extend(AccountingLine(org_id, program, PROGRAM_NAMES.get(program, program),
                                    n, 0, zero_money, zero_money, zero_money)
                     for org_id, n in held[(start, end)])
    order = {code: i for i, code in enumerate(PROGRAM_CODES)}
    lines.sort(key=lambda ln: (ln.unit_org_id, order.get(ln.item, 99), ln.item))
    return lines


# -- audiences -------------------------------------------------------------------------------


def _program_choices(session: Session) -> list[tuple[str, str]]:
    year = _today().year
    codes = set(session.scalars(select(MutualaidCoverage.program).distinct().where(
        MutualaidCoverage.plan_year.in_((year, year - 1)))))
    order = {code: i for i, code in enumerate(PROGRAM_CODES)}
    return [(code, PROGRAM_NAMES.get(code, code))
            for code in sorted(codes, key=lambda c: (order.get(c, 99), c))]


def _program_members(session: Session, code: str) -> Any:
    """Members covered by ``code`` in its latest plan year with coverage rows."""
    latest = select(func.max(MutualaidCoverage.plan_year)).where(
        MutualaidCoverage.program == code).scalar_subquery()
    return select(MutualaidCoverage.member_id).where(MutualaidCoverage.program == code,
                                                     MutualaidCoverage.plan_year == latest)


def audiences() -> list[AudienceSource]:
    return [AudienceSource("program", "参加互助项目的会员", _program_choices, _program_members)]


__all__ = ["COUNT_LABELS", "LABEL", "accounting_lines", "audiences", "dues_headcount",
           "members_changed"]
