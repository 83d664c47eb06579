"""Adjudication against the database: engine inputs from rows, decisions applied exactly once.

:func:`evaluate` runs the pure engine (:mod:`.adjudication`) for a stored claim and keeps the
explained decision on the claim; it changes nothing else. :func:`approve` decides again against
the member's current ledger and applies the ledger delta with a conditional update::

    UPDATE mutualaid_ledger SET version = version + 1, paid = … WHERE id = :id AND version = :base

When another approval landed first (no row matched) it reads the ledger again, re-decides and
retries, so two approvals at the same moment never both consume the same remaining cap. The
claim's own status change is conditional too (``WHERE status = 'submitted'``): a claim is
approved once, and its payout row is unique per claim (:mod:`.payables`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from unionhub.audit import service as audit
from unionhub.db import utcnow
from unionhub.identity.models import CardStatus, JingkaCard, Member, MemberStatus
from unionhub.money import ZERO, money_sum

from . import payables, plans
from .adjudication import (
    REASON_LABELS,
    ClaimInput,
    Coverage,
    Decision,
    LedgerDelta,
    LedgerState,
    MemberFacts,
    Reason,
    Status,
    adjudicate,
)
from .models import (
    ClaimStatus,
    CoverageStatus,
    MutualaidClaim,
    MutualaidCoverage,
    MutualaidLedger,
    MutualaidPlan,
)
from .rules import PlanRules
from .stays import Stay

MAX_RETRIES = 20


class ClaimConflict(RuntimeError):
    """The claim is no longer in the state the action needs (someone else acted first)."""


# -- inputs from rows ---------------------------------------------------------------------------


def facts_of(session: Session, members: Sequence[Member]) -> dict[int, MemberFacts]:
    """What the engine needs to know about each member (membership, an ACTIVE Jingka), with
    one query for the cards per 900 members."""
    ids = [m.id for m in members]
    carded: set[int] = set()
    for part in range(0, len(ids), 900):
        carded.update(session.scalars(select(JingkaCard.member_id).where(
            JingkaCard.member_id.in_(ids[part:part + 900]),
            JingkaCard.status == CardStatus.ACTIVE)))
    return {m.id: MemberFacts(sex=m.sex, birth_date=m.birth_date,  # type: ignore[arg-type]
                              membership_active=m.status == MemberStatus.ACTIVE,
                              has_active_jingka=m.id in carded) for m in members}


def member_facts(session: Session, member: Member) -> MemberFacts:
    return facts_of(session, [member])[member.id]


def coverage_of(session: Session, plan: MutualaidPlan, rules: PlanRules, member_id: int,
                row: MutualaidCoverage | None = None) -> Coverage | None:
    """The member's cover under ``plan``: the coverage row (voluntary programs), or the plan
    term itself for a dues-funded program (every eligible Jingka holder is covered)."""
    if row is None:
        row = session.scalar(select(MutualaidCoverage).where(
            MutualaidCoverage.member_id == member_id, MutualaidCoverage.program == plan.program,
            MutualaidCoverage.plan_year == plan.plan_year))
    if row is not None:
        return Coverage(member_id=str(member_id), program=plan.program,
                        plan_year=plan.plan_year, shares=row.shares, start=row.start,
                        end=row.end, first_enrolled=row.first_enrolled,
                        paid=row.status == CoverageStatus.ACTIVE, tier=row.tier)
    if plans.is_dues_funded(plan):
        return Coverage(member_id=str(member_id), program=plan.program,
                        plan_year=plan.plan_year, shares=1, start=rules.term.start,
                        end=rules.term.end)
    return None


def claim_input(claim: MutualaidClaim) -> ClaimInput:
    return ClaimInput(
        program=claim.program, submitted_on=claim.submitted_on, event_date=claim.event_date,
        benefit=claim.benefit, cause=claim.cause, event_end=claim.event_end,
        stays=tuple(Stay(date.fromisoformat(a), date.fromisoformat(b)) for a, b in claim.stays),
        total_amount=claim.total_amount, out_of_pocket=claim.out_of_pocket,
        already_reimbursed=claim.already_reimbursed or ZERO,
        diagnoses=tuple(claim.diagnoses or ()), disability_grade=claim.disability_grade,
        child_birth_date=claim.child_birth_date, claim_id=claim.number)


def ledger_row(session: Session, member_id: int, program: str, plan_year: int,
               *, create: bool = False) -> MutualaidLedger | None:
    stmt = select(MutualaidLedger).where(
        MutualaidLedger.member_id == member_id, MutualaidLedger.program == program,
        MutualaidLedger.plan_year == plan_year)
    row = session.scalar(stmt.execution_options(populate_existing=True))
    if row is None and create:
        payables.insert_ignore(session, MutualaidLedger.__table__, {
            "member_id": member_id, "program": program, "plan_year": plan_year, "version": 0,
            "paid": 0, "groups": {}, "allowance_days": 0, "deductible_used": 0, "stays": [],
            "diseases": [], "cover_ended": False, "updated_at": utcnow()})
        row = session.scalar(stmt.execution_options(populate_existing=True))
    return row


def ledger_state(session: Session, member_id: int, program: str, plan_year: int,
                 row: MutualaidLedger | None = None) -> LedgerState:
    lifetime_before = session.scalar(
        select(money_sum(MutualaidLedger.paid)).where(
            MutualaidLedger.member_id == member_id, MutualaidLedger.program == program,
            MutualaidLedger.plan_year != plan_year)) or ZERO
    return _state_of(row, lifetime_before)


@dataclass(frozen=True)
class Inputs:
    rules: PlanRules
    coverage: Coverage | None
    member: MemberFacts
    claim: ClaimInput


def inputs(session: Session, claim: MutualaidClaim) -> Inputs:
    plan = session.get(MutualaidPlan, claim.plan_id)
    assert plan is not None
    rules = plans.rules_of(plan)
    coverage = coverage_of(session, plan, rules, claim.member_id,
                           session.get(MutualaidCoverage, claim.coverage_id)
                           if claim.coverage_id else None)
    return Inputs(rules, coverage, member_facts(session, claim.member), claim_input(claim))


def not_enrolled(rules: PlanRules, claim: ClaimInput) -> Decision:
    label = REASON_LABELS[Reason.NOT_ENROLLED]
    return Decision(
        status=Status.REJECTED, amount=ZERO, reasons=(Reason.NOT_ENROLLED,),
        explanation=(
            f"{rules.display_name}（{rules.program}）{rules.plan_year} 年度：本人未参加该项目",
            f"核定赔付金额 0.00 元，不予赔付（{label}）"),
        delta=LedgerDelta(), program=rules.program, benefit=claim.benefit,
        rules_version=rules.version)


def _decide(session: Session, claim: MutualaidClaim, ledger: LedgerState) -> Decision:
    i = inputs(session, claim)
    if i.coverage is None:
        return not_enrolled(i.rules, i.claim)
    return adjudicate(i.rules, i.coverage, i.member, i.claim, ledger)


def _store(claim: MutualaidClaim, decision: Decision) -> None:
    claim.decision = {**decision.to_dict(), "decided_on": date.today().isoformat()}


# -- actions -------------------------------------------------------------------------------------


def evaluate(session: Session, claim: MutualaidClaim) -> Decision:
    """Automatic adjudication: decide against the current ledger and keep the explanation on
    the claim (what the reviewer sees). The ledger is not touched."""
    state = ledger_state(session, claim.member_id, claim.program, claim.plan_year,
                         ledger_row(session, claim.member_id, claim.program, claim.plan_year))
    decision = _decide(session, claim, state)
    _store(claim, decision)
    return decision


def evaluate_many(session: Session, claims: Sequence[MutualaidClaim]) -> list[Decision]:
    """:func:`evaluate` for many claims at once (automatic adjudication of a queue, fast
    claims of a settlement import): plans, coverage, member facts and ledgers are read with one
    query each per chunk, the engine runs in memory and the decisions are written back with
    one executemany. Nothing but ``mutualaid_claim.decision`` changes.
    """
    out: list[Decision] = []
    for start in range(0, len(claims), 5_000):
        out += _evaluate_chunk(session, claims[start:start + 5_000])
    return out


def _evaluate_chunk(session: Session, claims: Sequence[MutualaidClaim]) -> list[Decision]:
    member_ids = {c.member_id for c in claims}
    plan_rows = {p.id: p for p in session.scalars(select(MutualaidPlan).where(
        MutualaidPlan.id.in_({c.plan_id for c in claims})))}
    rules = {pid: plans.rules_of(p) for pid, p in plan_rows.items()}
    coverages = {(c.member_id, c.program, c.plan_year): c for c in session.scalars(
        select(MutualaidCoverage).where(MutualaidCoverage.member_id.in_(member_ids)))}
    facts = facts_of(session, list({c.member_id: c.member for c in claims}.values()))
    ledgers: dict[tuple[int, str, int], MutualaidLedger] = {}
    lifetime: dict[tuple[int, str], Decimal] = {}
    for row in session.scalars(select(MutualaidLedger).where(
            MutualaidLedger.member_id.in_(member_ids))):
        ledgers[(row.member_id, row.program, row.plan_year)] = row
        key = (row.member_id, row.program)
        lifetime[key] = lifetime.get(key, ZERO) + row.paid
    decisions: list[Decision] = []
    updates: list[dict[str, Any]] = []
    today = date.today().isoformat()
    for claim in claims:
        plan, plan_rules = plan_rows[claim.plan_id], rules[claim.plan_id]
        coverage = coverage_of(session, plan, plan_rules, claim.member_id,
                               coverages.get((claim.member_id, claim.program, claim.plan_year)))
        ci = claim_input(claim)
        if coverage is None and not plans.is_dues_funded(plan):
            decision = not_enrolled(plan_rules, ci)
        else:
            assert coverage is not None
            row = ledgers.get((claim.member_id, claim.program, claim.plan_year))
            before = lifetime.get((claim.member_id, claim.program), ZERO)
            state = _state_of(row, before - (row.paid if row else ZERO))
            decision = adjudicate(plan_rules, coverage, facts[claim.member_id], ci, state)
        decisions.append(decision)
        updates.append({"id": claim.id, "decision": {**decision.to_dict(), "decided_on": today}})
    session.execute(update(MutualaidClaim), updates)
    return decisions


def _state_of(row: MutualaidLedger | None, lifetime_before: Decimal) -> LedgerState:
    if row is None:
        return LedgerState(paid_lifetime=lifetime_before)
    return LedgerState(
        paid_this_year=row.paid, paid_lifetime=lifetime_before + row.paid,
        group_paid_this_year={k: Decimal(v) for k, v in (row.groups or {}).items()},
        allowance_days_used=row.allowance_days, deductible_used=row.deductible_used,
        stays=tuple(Stay(date.fromisoformat(a), date.fromisoformat(b)) for a, b in row.stays),
        diseases_paid=frozenset(row.diseases or ()), cover_ended=row.cover_ended,
        version=row.version)


def _apply_delta(session: Session, row: MutualaidLedger, state: LedgerState,
                 delta: LedgerDelta) -> bool:
    """Add ``delta`` to the ledger row when it is still at ``delta.base_version``."""
    new = state.apply(delta)
    values: dict[str, Any] = {
        "version": MutualaidLedger.version + 1,
        "paid": new.paid_this_year,
        "groups": {k: str(v) for k, v in new.group_paid_this_year.items()},
        "allowance_days": new.allowance_days_used,
        "deductible_used": new.deductible_used,
        "stays": [[s.admitted.isoformat(), s.discharged.isoformat()] for s in new.stays],
        "diseases": sorted(new.diseases_paid),
        "cover_ended": new.cover_ended,
        "updated_at": utcnow(),
    }
    result = session.execute(
        update(MutualaidLedger)
        .where(MutualaidLedger.id == row.id, MutualaidLedger.version == delta.base_version)
        .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1  # type: ignore[attr-defined]


def settle_decision(session: Session, claim: MutualaidClaim) -> Decision:
    """Decide ``claim`` against the live ledger and book the delta, retrying on conflicts."""
    for _ in range(MAX_RETRIES):
        row = ledger_row(session, claim.member_id, claim.program, claim.plan_year, create=True)
        assert row is not None
        state = ledger_state(session, claim.member_id, claim.program, claim.plan_year, row)
        decision = _decide(session, claim, state)
        if decision.delta.is_empty or _apply_delta(session, row, state, decision.delta):
            return decision
    raise ClaimConflict("账目频繁变动，请稍后重试")


def _transition(session: Session, claim: MutualaidClaim, allowed: tuple[str, ...],
                **values: Any) -> None:
    result = session.execute(
        update(MutualaidClaim)
        .where(MutualaidClaim.id == claim.id, MutualaidClaim.status.in_(allowed))
        .values(**values, updated_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ClaimConflict("该理赔已被他人处理")
    session.refresh(claim)


def approve(session: Session, claim: MutualaidClaim, actor: Any = None, *,
            note: str | None = None, now: datetime | None = None) -> Decision:
    """Approve a submitted claim: book the decision in the ledger, fix the amount and queue
    the payout. A decision of 0 rejects the claim with the engine's reasons instead."""
    now = now or utcnow()
    _transition(session, claim, (ClaimStatus.SUBMITTED,), status=ClaimStatus.DECIDING)
    decision = settle_decision(session, claim)
    _store(claim, decision)
    approved = decision.amount > 0
    claim.status = ClaimStatus.APPROVED if approved else ClaimStatus.REJECTED
    claim.amount = decision.amount
    claim.reason_code = None if approved else decision.reasons[0].value
    claim.review_note = note
    claim.reviewed_by = getattr(actor, "id", None)
    claim.decided_at = now
    if approved:
        payables.queue(session, member=claim.member, source="claim", source_id=claim.id,
                       program=claim.program, amount=decision.amount,
                       summary=payables.summary(claim.program))
    audit.record("mutualaid.claim.approve" if approved else "mutualaid.claim.reject",
                 target_type="mutualaid_claim", target_id=claim.number,
                 org_path=claim.org_path, actor=actor, session=session,
                 details={"amount": str(decision.amount),
                          "reasons": [r.value for r in decision.reasons]})
    return decision
