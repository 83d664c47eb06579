"""Throughput of the adjudication engine: ``python -m unionhub_mutualaid._bench_adjudication``.

Adjudicates a deterministic mix of claims over all eight demo programs for 20,000 members, keeping
each member's ledger in memory and applying every delta (so caps, day caps, per-year deductibles
and one-payout-ends-cover are exercised), and prints claims/s. The inputs are built before the
clock starts: the figure is the engine alone (the plugin's ``bench/mutualaid.py`` measures the
database side).
"""

from __future__ import annotations

import random
import sys
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from .adjudication import (
    EMPTY_LEDGER,
    ClaimInput,
    Coverage,
    Decision,
    LedgerState,
    MemberFacts,
    adjudicate,
)
from .rules import Cause, PlanRules, Sex, demo_rules
from .stays import Stay

Case = tuple[PlanRules, Coverage, MemberFacts, ClaimInput]

_DIAGNOSES = {
    "ZDJB": ("C34.9", "I21.0", "N18.500", "J18.9", "C44.3"),
    "NGTJ": ("C50.9", "D05.1", "C53.0", "N83.2"),
}


def build_cases(n: int, members: int = 20_000, seed: int = 2026) -> list[Case]:
    """``n`` claims spread over ``members`` members and the eight demo programs."""
    rng = random.Random(seed)
    rules = demo_rules(2026)
    programs = list(rules)
    people = [
        MemberFacts(
            sex=Sex.FEMALE if i % 2 else Sex.MALE,
            birth_date=date(1966 + i % 40, 1 + i % 12, 1 + i % 28),
            membership_active=i % 97 != 0,
            has_active_jingka=i % 89 != 0,
        )
        for i in range(members)
    ]
    year_start = date(2026, 1, 1)
    cases: list[Case] = []
    for k in range(n):
        who = rng.randrange(members)
        code = programs[k % len(programs)]
        plan = rules[code]
        tier = "50" if plan.tiers else None
        coverage = Coverage(
            member_id=str(who),
            program=code,
            plan_year=2026,
            shares=min(plan.shares.max_shares, 1 + who % 4),
            start=plan.term.start,
            end=plan.term.end,
            first_enrolled=date(2025, 1, 1) if who % 3 else None,
            tier=tier,
        )
        event = year_start + timedelta(days=rng.randrange(330))
        stay_days = rng.randrange(0, 25)
        stays = (Stay(event, event + timedelta(days=stay_days)),)
        if rng.random() < 0.2:
            second = event + timedelta(days=stay_days)
            stays += (Stay(second, second + timedelta(days=rng.randrange(1, 10))),)
        oop = Decimal(rng.randrange(0, 6_000_000)) / 100
        cause = Cause.ACCIDENT if code in ("YWSH", "ZNYW", "FGSZH") else Cause.ILLNESS
        benefit = None
        grade = None
        if code in ("YWSH", "ZNYW", "FGSZH"):
            benefit = rng.choice(
                {"YWSH": ("death", "disability", "allowance", "allowance"),
                 "ZNYW": ("medical", "medical", "disability", "death"),
                 "FGSZH": ("property", "disability", "death")}[code]
            )  # fmt: skip
            grade = rng.randrange(1, 11)
        claim = ClaimInput(
            program=code,
            submitted_on=event + timedelta(days=rng.randrange(30, 420)),
            event_date=event,
            benefit=benefit,
            cause=cause,
            stays=stays if code in ("ZYJT", "ZYYL") or benefit == "allowance" else (),
            total_amount=oop * 2,
            out_of_pocket=oop,
            diagnoses=(rng.choice(_DIAGNOSES[code]),) if code in _DIAGNOSES else (),
            disability_grade=grade,
            child_birth_date=date(2015, 6, 1) if code == "ZNYW" else None,
        )
        cases.append((plan, coverage, people[who], claim))
    return cases


def run(cases: list[Case]) -> tuple[float, Counter[str], Decimal]:
    """Adjudicate every case, applying deltas; returns (seconds, status counts, total paid)."""
    ledgers: dict[tuple[str, str], LedgerState] = {}
    statuses: Counter[str] = Counter()
    paid = Decimal("0.00")
    started = time.perf_counter()
    for plan, coverage, member, claim in cases:
        key = (coverage.member_id, plan.program)
        ledger = ledgers.get(key, EMPTY_LEDGER)
        decision: Decision = adjudicate(plan, coverage, member, claim, ledger)
        if not decision.delta.is_empty:
            ledgers[key] = ledger.apply(decision.delta)
        statuses[decision.status.value] += 1
        paid += decision.amount
    return time.perf_counter() - started, statuses, paid


def main(argv: list[str] | None = None) -> float:
    args = sys.argv[1:] if argv is None else argv
    n = int(args[0]) if args else 100_000
    cases = build_cases(n)
    seconds, statuses, paid = run(cases)
    rate = n / seconds
    print(f"adjudicated {n:,} claims in {seconds:.2f} s: {rate:,.0f} claims/s (target >= 2,000)")
    print("statuses: " + ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items())))
    print(f"total approved: {paid:,} 元")
    return rate


if __name__ == "__main__":
    main()
