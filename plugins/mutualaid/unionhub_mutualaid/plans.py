"""Plan years in the database: which rules apply, editing them, seeding the eight programs.

A plan year's rules live in ``mutualaid_plan.rules`` (see :mod:`.rules` for the format). An edit
of a plan year that already has claims never changes it in place: the old row is marked
superseded and a new version is written, so every decided claim keeps the rules it was decided
under (``mutualaid_claim.plan_id``).
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from unionhub.audit import service as audit

from .models import MutualaidClaim, MutualaidPlan, PlanStatus
from .rules import PROGRAM_CODES, Funding, PlanRules, RulesError, demo_rules, validate_rules_dict


@lru_cache(maxsize=256)
def _parse(text: str) -> PlanRules:
    return PlanRules.from_dict(json.loads(text))


def rules_of(plan: MutualaidPlan) -> PlanRules:
    """The parsed rules of ``plan`` (parsed once per distinct rules text)."""
    return _parse(json.dumps(plan.rules, sort_keys=True, ensure_ascii=False))


def current(session: Session, program: str, plan_year: int) -> MutualaidPlan | None:
    """The active version of ``program``'s plan year ``plan_year``."""
    return session.scalar(
        select(MutualaidPlan)
        .where(MutualaidPlan.program == program, MutualaidPlan.plan_year == plan_year,
               MutualaidPlan.status == PlanStatus.ACTIVE)
        .order_by(MutualaidPlan.version.desc()).limit(1))


def covering(session: Session, program: str, on: date) -> MutualaidPlan | None:
    """The active plan of ``program`` whose term contains ``on`` (ZDJB terms span years)."""
    return session.scalar(
        select(MutualaidPlan)
        .where(MutualaidPlan.program == program, MutualaidPlan.status == PlanStatus.ACTIVE,
               MutualaidPlan.term_start <= on, MutualaidPlan.term_end >= on)
        .order_by(MutualaidPlan.plan_year.desc(), MutualaidPlan.version.desc()).limit(1))


def active_plans(session: Session, year: int | None = None) -> list[MutualaidPlan]:
    """Active plans, newest plan year first, in program order (``year``: only that year)."""
    stmt = select(MutualaidPlan).where(MutualaidPlan.status == PlanStatus.ACTIVE)
    if year is not None:
        stmt = stmt.where(MutualaidPlan.plan_year == year)
    plans = list(session.scalars(stmt))
    order = {code: i for i, code in enumerate(PROGRAM_CODES)}
    plans.sort(key=lambda p: (-p.plan_year, order.get(p.program, 99), -p.version))
    return plans


def has_claims(session: Session, plan: MutualaidPlan) -> bool:
    return bool(session.scalar(select(exists().where(MutualaidClaim.plan_id == plan.id))))


def create(session: Session, rules: PlanRules, *, actor: Any = None) -> MutualaidPlan:
    """Store a new plan year (version 1, or the next version when one exists)."""
    latest = session.scalar(
        select(MutualaidPlan.version)
        .where(MutualaidPlan.program == rules.program, MutualaidPlan.plan_year == rules.plan_year)
        .order_by(MutualaidPlan.version.desc()).limit(1))
    version = (latest or 0) + 1
    data = rules.to_dict()
    data["version"] = version
    plan = MutualaidPlan(program=rules.program, plan_year=rules.plan_year, version=version,
                         status=PlanStatus.ACTIVE, rules=data, term_start=rules.term.start,
                         term_end=rules.term.end, funding=rules.funding.kind.value,
                         created_by=getattr(actor, "id", None))
    session.add(plan)
    session.flush()
    return plan


def update(session: Session, plan: MutualaidPlan, data: dict[str, Any], *,
           actor: Any = None) -> MutualaidPlan:
    """Apply edited rules (a dict in the :meth:`PlanRules.to_dict` format).

    Raises :class:`RulesError` listing every problem. The program and plan year cannot change.
    Returns the plan now in force: ``plan`` itself, or a new version when ``plan`` has claims.
    """
    problems = validate_rules_dict(data)
    if problems:
        raise RulesError(problems)
    rules = PlanRules.from_dict(data)
    if (rules.program, rules.plan_year) != (plan.program, plan.plan_year):
        raise RulesError([f"program/plan_year: 不能修改（{plan.program} {plan.plan_year}）"])
    if plan.status != PlanStatus.ACTIVE:
        raise RulesError(["status: 该版本已被新版本取代，不能修改"])
    before = plan.version
    if has_claims(session, plan):
        # conditional: of two officers saving at once, one supersedes, the other is told
        done = session.execute(
            sql_update(MutualaidPlan)
            .where(MutualaidPlan.id == plan.id, MutualaidPlan.status == PlanStatus.ACTIVE)
            .values(status=PlanStatus.SUPERSEDED).execution_options(synchronize_session=False))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise RulesError(["status: 该版本刚被他人修改，请刷新后重试"])
        session.refresh(plan)
        target = create(session, rules, actor=actor)
    else:
        stored = rules.to_dict()
        stored["version"] = plan.version
        plan.rules = stored
        plan.term_start, plan.term_end = rules.term.start, rules.term.end
        plan.funding = rules.funding.kind.value
        target = plan
    audit.record("mutualaid.plan.update", target_type="mutualaid_plan", target_id=target.id,
                 details={"program": plan.program, "plan_year": plan.plan_year,
                          "from_version": before, "version": target.version,
                          "new_version": target is not plan},
                 actor=actor, session=session)
    return target


def is_dues_funded(plan: MutualaidPlan) -> bool:
    return plan.funding == Funding.DUES.value


def seed(session: Session, years: tuple[int, ...]) -> list[MutualaidPlan]:
    """Create the eight programs' plan years that do not exist yet (demo and first run)."""
    made = []
    for year in years:
        for rules in demo_rules(year).values():
            if current(session, rules.program, rules.plan_year) is None:
                made.append(create(session, rules))
    return made
