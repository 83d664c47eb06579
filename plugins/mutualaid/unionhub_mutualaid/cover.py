"""What a member is covered by: coverage rows of voluntary programs and, for a Jingka holder in
good standing, the dues-funded programs (二次报销, 非工伤综合) that cover them automatically."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.identity.models import Member

from . import plans
from .adjudication import check_enrollment
from .decide import member_facts
from .models import MutualaidCoverage, MutualaidPlan, PlanStatus
from .rules import PROGRAM_CODES, PROGRAM_NAMES

COVER_STATUS_LABELS = {"active": "保障中", "pending_payment": "待单位缴费", "dues": "会费保障",
                       "ended": "已到期", "upcoming": "未起保"}


@dataclass(frozen=True)
class CoverLine:
    program: str
    name: str
    plan_year: int
    start: date
    end: date
    shares: int
    tier: str | None
    waiting_until: date | None
    fee: Decimal
    status: str  # a key of COVER_STATUS_LABELS
    unit: str | None

    @property
    def status_label(self) -> str:
        return COVER_STATUS_LABELS[self.status]


def _status(base: str, start: date, end: date, today: date) -> str:
    if base != "active" and base != "dues":
        return base
    if today > end:
        return "ended"
    if today < start:
        return "upcoming"
    return base


def member_cover(session: Session, member: Member, today: date | None = None) -> list[CoverLine]:
    """The member's cover in plan years that have not ended more than a year ago."""
    today = today or date.today()
    horizon = date(today.year - 1, 1, 1)
    lines: list[CoverLine] = []
    rows = session.scalars(
        select(MutualaidCoverage).where(MutualaidCoverage.member_id == member.id,
                                        MutualaidCoverage.end >= horizon))
    for c in rows:
        lines.append(CoverLine(c.program, PROGRAM_NAMES.get(c.program, c.program), c.plan_year,
                               c.start, c.end, c.shares, c.tier, c.waiting_until, c.fee,
                               _status(c.status, c.start, c.end, today), c.unit.name))
    facts = member_facts(session, member)
    dues = session.scalars(select(MutualaidPlan).where(
        MutualaidPlan.status == PlanStatus.ACTIVE, MutualaidPlan.funding == "dues",
        MutualaidPlan.term_end >= today, MutualaidPlan.term_start <= today))
    for plan in dues:
        rules = plans.rules_of(plan)
        if check_enrollment(rules, facts, 1, on=max(today, rules.term.start)).ok:
            lines.append(CoverLine(plan.program, rules.display_name, plan.plan_year,
                                   plan.term_start, plan.term_end, 1, None, None,
                                   Decimal("0.00"), "dues", None))
    order = {code: i for i, code in enumerate(PROGRAM_CODES)}
    lines.sort(key=lambda line: (-line.plan_year, order.get(line.program, 99)))
    return lines
