"""二次报销 (ECBX): quarterly batches computed from the settlement records.

Free to every Jingka holder (dues-funded): for each member with settlement records in the
quarter, the basis is Σ 个人自付一 of the quarter's records (corrections are already in the
rows: a correction overwrites its record), and the entitlement follows the ECBX plan of the
quarter's year — the benefit ``secondary``: a deductible per plan year, a ratio, caps and the
lifetime cap.

**Why the engine, per member, and not set-based SQL.** The amounts come from
:func:`adjudication.adjudicate` with a :class:`ClaimInput` (basis as out of pocket) and an
in-memory :class:`LedgerState` built from this feature's own lines. The rules are
configurable per plan year (deductible per year or per event, ratio, per-event / annual /
lifetime caps, eligibility, rounding at the very end); re-stating them in SQL would be a
second implementation that drifts from the engine the claims use, and the explanation of
a disputed amount would no longer be the engine's. The expensive parts stay set-based:
one ``GROUP BY`` for the bases, one scan of the year's lines, one query for the member
facts; the engine runs at ~30,000 decisions/s, so a quarter of a million-record file
(a few hundred thousand members) takes seconds of Python. Payouts go through
:func:`payables.queue` and :func:`payouts.payee.verify` per paid line (the contract of the
payout feature); only lines with an amount owed reach that loop.

**Re-runs never pay twice.** Each run writes, per member whose quarter changed, a line with
the quarter's whole ``entitled`` amount as of now and ``amount`` = entitled − what earlier
runs of the quarter already owed (never negative: nothing is clawed back). A member whose
basis, entitlement and deductible consumption are those of their latest line of the quarter
gets no line, so a second run without new data writes nothing (and no batch). The ledger of
a quarter's computation is made of the member's *other* quarters: the year's deductible
consumed by their latest lines, what they owed this year and over all years; so the
lifetime cap holds over all runs. A line's payout is unique per (source, source_id).

**Runs of one quarter are serialised** before anything is read: on PostgreSQL a transaction
advisory lock of the quarter, then (every database) the run's batch row is inserted and
flushed — unique (quarter, run_no) — before the priors are loaded. A second run started
meanwhile waits for the first to commit and then sees its lines (owing nothing new), or, if
it slipped past the lock (another database), fails on the unique key with a clear message.
A run that finds nothing new removes its batch row again (no batch is written).

**The same bill never pays more than its out of pocket across programs.** A 住院医疗 (ZYYL)
fast claim (``settlement_serial`` ``ZYYL:<serial>``) reimburses the 个人自付一 of one settlement
record, and ECBX reimburses the Σ 个人自付一 of the quarter's records. Per member, the
approved or paid fast-claim amounts of the quarter's records (each capped at its record's
个人自付一; one grouped query) are passed to the engine as ``already_reimbursed``, so with
``net_of_other_payments`` ECBX pays on what remains. Order assumption: fast claims are made
by the import's follow-up job and decided within the service level, and ECBX runs quarterly
afterwards. A fast claim approved *after* an ECBX run lowers the quarter's entitlement in
the next run only (nothing is clawed back); the claims' decision does not see ECBX lines.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, exists, func, insert, literal, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unionhub.audit import service as audit
from unionhub.db import UTCDateTime, utcnow
from unionhub.identity.models import CardStatus, JingkaCard, Member, MemberStatus
from unionhub.money import ZERO, money_sum
from unionhub.orgs.models import Org

from .. import payables, plans
from ..adjudication import (
    ClaimInput,
    Coverage,
    LedgerState,
    MemberFacts,
    Reason,
    adjudicate,
)
from ..models import (
    ClaimSource,
    ClaimStatus,
    MutualaidClaim,
    MutualaidPayout,
    MutualaidSettlement,
    PayoutStatus,
)
from .models import MutualaidEcbxBatch, MutualaidEcbxLine

PROGRAM = "ECBX"
#: The program whose fast claims reimburse the same 个人自付一 (``<program>:<serial>``).
FAST_PROGRAM = "ZYYL"
BENEFIT = "secondary"
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
#: reasons that mean "not a Jingka holder / member": no line at all
INELIGIBLE = frozenset({Reason.NOT_A_MEMBER, Reason.NO_JINGKA, Reason.AGE, Reason.SEX})


class EcbxError(ValueError):
    """A quarter that cannot be run (bad quarter, no plan); message for the user."""


def parse_quarter(text: str) -> tuple[int, int]:
    m = _QUARTER.match((text or "").strip())
    if not m:
        raise EcbxError(f"季度「{text}」格式应为 2026Q1")
    return int(m[1]), int(m[2])


def quarter_end(year: int, q: int) -> date:
    first_next = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return first_next - timedelta(days=1)


@dataclass
class _Prior:
    """The member's earlier lines, as needed for one quarter's computation."""

    last_basis: Decimal | None = None
    last_entitled: Decimal | None = None
    last_deductible: Decimal | None = None
    paid_quarter: Decimal = ZERO
    paid_year_other: Decimal = ZERO
    paid_life_other: Decimal = ZERO
    deductible_other: Decimal = ZERO


def _priors(session: Session, quarter: str, year: int, members: Any) -> dict[int, _Prior]:
    L = MutualaidEcbxLine
    out: dict[int, _Prior] = defaultdict(_Prior)
    latest_other: dict[tuple[int, str], tuple[int, Decimal]] = {}
    rows = session.execute(
        select(L.id, L.member_id, L.quarter, L.plan_year, L.basis, L.entitled,
               L.deductible_used, L.amount)
        .where(L.member_id.in_(members)).order_by(L.id))
    for lid, mid, q, py, basis, entitled, ded, amount in rows:
        p = out[mid]
        if q == quarter:
            p.last_basis, p.last_entitled, p.last_deductible = basis, entitled, ded
            p.paid_quarter += amount
            continue
        p.paid_life_other += amount
        if py == year:
            p.paid_year_other += amount
            latest_other[(mid, q)] = (lid, ded)  # ordered by id: the last one wins
    for (mid, _q), (_lid, ded) in latest_other.items():
        out[mid].deductible_other += ded
    return out


def _facts(session: Session, members: Any) -> dict[int, MemberFacts]:
    """Membership and Jingka as of now. A lost card (挂失) still makes a Jingka holder: the
    member is entitled, and the payee check sets the payout aside until the new card."""
    holder = exists().where(JingkaCard.member_id == Member.id,
                            JingkaCard.status.in_((CardStatus.ACTIVE, CardStatus.LOST)))
    rows = session.execute(select(Member.id, Member.sex, Member.birth_date, Member.status,
                                  holder).where(Member.id.in_(members)))
    return {mid: MemberFacts(sex=sex, birth_date=birth,
                             membership_active=status == MemberStatus.ACTIVE,
                             has_active_jingka=bool(card))
            for mid, sex, birth, status, card in rows}


def _reimbursed(session: Session, quarter: str) -> dict[int, Decimal]:
    """Per member: what ZYYL fast claims approved or paid on the quarter's records, each
    capped at its record's 个人自付一 (one grouped query)."""
    S, C = MutualaidSettlement, MutualaidClaim
    capped = case((C.amount > S.self_pay_1, S.self_pay_1), else_=C.amount)
    rows = session.execute(
        select(S.member_id, money_sum(capped))
        .join(C, and_(C.settlement_serial == literal(f"{FAST_PROGRAM}:") + S.serial,
                      C.member_id == S.member_id))
        .where(S.quarter == quarter, S.member_id.is_not(None),
               C.source == ClaimSource.SETTLEMENT, C.program == FAST_PROGRAM,
               C.status.in_((ClaimStatus.APPROVED, ClaimStatus.PAID)),
               C.amount.is_not(None))
        .group_by(S.member_id)).all()
    return {mid: amount for mid, amount in rows if amount}


def _lock_key(quarter: str) -> int:
    """A stable signed 64-bit key of the quarter for ``pg_advisory_xact_lock``."""
    digest = hashlib.blake2b(f"mutualaid.ecbx:{quarter}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _start_run(session: Session, quarter: str, year: int, plan_id: int,
               actor_id: int | None) -> MutualaidEcbxBatch:
    """Serialise the runs of ``quarter`` (see the module docstring): lock, then the batch row,
    flushed before anything of the computation is read."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": _lock_key(quarter)})
    run_no = (session.scalar(select(func.max(MutualaidEcbxBatch.run_no))
                             .where(MutualaidEcbxBatch.quarter == quarter)) or 0) + 1
    batch = MutualaidEcbxBatch(quarter=quarter, plan_year=year, plan_id=plan_id, run_no=run_no,
                               created_by=actor_id, members=0, ineligible=0, unchanged=0,
                               lines=0, paid_lines=0, total=ZERO, verified_ok=0,
                               verified_failed=0)
    try:
        with session.begin_nested():
            session.add(batch)
            session.flush()
    except IntegrityError:
        raise EcbxError(f"{quarter} 的二次报销正由另一次计算进行中，请待其完成后再试") from None
    return batch


def run_quarter(session: Session, quarter: str, *, actor_id: int | None = None,
                progress: Callable[..., None] | None = None) -> MutualaidEcbxBatch | None:
    """Compute and queue the 二次报销 of ``quarter``; None when nothing changed since the
    last run (no batch is written). The caller commits."""
    year, q = parse_quarter(quarter)
    plan = plans.current(session, PROGRAM, year)
    if plan is None:
        raise EcbxError(f"{year} 年度没有二次报销方案")
    rules = plans.rules_of(plan)
    if rules.benefit(BENEFIT) is None:
        raise EcbxError(f"{year} 年度二次报销方案没有「{BENEFIT}」保障责任")
    event = min(quarter_end(year, q), rules.term.end)
    start = max(rules.term.start, date(year, 3 * q - 2, 1))
    if start > event:
        raise EcbxError(f"{year} 年度二次报销方案的保障期不包含 {quarter}")
    report = progress or (lambda *a, **k: None)
    batch = _start_run(session, quarter, year, plan.id, actor_id)
    if session.get_bind().dialect.name == "sqlite":
        # This transaction now holds SQLite's only write lock: progress written from another
        # connection would wait for it (as in the import engine's apply).
        report = _quiet
    S = MutualaidSettlement
    in_quarter = (select(S.member_id).where(S.quarter == quarter, S.member_id.is_not(None))
                  .distinct().scalar_subquery())
    bases = session.execute(
        select(S.member_id, money_sum(S.self_pay_1))
        .where(S.quarter == quarter, S.member_id.is_not(None)).group_by(S.member_id)).all()
    report(0, len(bases), "计算报销金额", force=True)
    priors = _priors(session, quarter, year, in_quarter)
    facts = _facts(session, in_quarter)
    reimbursed = _reimbursed(session, quarter)
    term = (rules.term.start, rules.term.end)

    lines: list[dict[str, Any]] = []
    ineligible = unchanged = 0
    for mid, basis in bases:
        prior = priors.get(mid, _Prior())
        member = facts[mid]
        decision = adjudicate(
            rules, Coverage(str(mid), PROGRAM, year, 1, *term), member,
            ClaimInput(program=PROGRAM, benefit=BENEFIT, event_date=start, event_end=event,
                       submitted_on=event, out_of_pocket=basis,
                       already_reimbursed=min(reimbursed.get(mid, ZERO), basis)),
            LedgerState(paid_this_year=prior.paid_year_other,
                        paid_lifetime=prior.paid_life_other,
                        deductible_used=prior.deductible_other))
        if INELIGIBLE.intersection(decision.reasons):
            ineligible += 1
            continue
        entitled, used = decision.amount, decision.delta.deductible_used
        if (prior.last_basis, prior.last_entitled, prior.last_deductible) == (
                basis, entitled, used):
            unchanged += 1
            continue
        owed = entitled - prior.paid_quarter
        lines.append({"member_id": mid, "quarter": quarter, "plan_year": year, "basis": basis,
                      "deductible_used": used, "entitled": entitled,
                      "amount": owed if owed > 0 else ZERO})
    if not lines:
        session.delete(batch)  # nothing new: no batch (the run_no is free again)
        session.flush()
        report(len(bases), len(bases), "没有新的报销数据", force=True)
        return None

    batch.members, batch.ineligible = len(bases), ineligible
    batch.unchanged, batch.lines = unchanged, len(lines)
    for line in lines:
        line["batch_id"] = batch.id
    L = MutualaidEcbxLine.__table__
    session.execute(insert(L), lines)
    paid = [line for line in lines if line["amount"] > 0]
    report(0, len(paid), "核验收款人并生成待发放记录", force=True)
    ok, failed = _queue_payouts(session, batch.id)
    _link_payouts(session, batch.id)
    batch.paid_lines = len(paid)
    batch.total = sum((line["amount"] for line in paid), ZERO)
    batch.verified_ok, batch.verified_failed = ok, failed
    session.flush()
    audit.record("mutualaid.ecbx.run", target_type="mutualaid_ecbx_batch", target_id=batch.id,
                 details={"quarter": quarter, "run_no": batch.run_no, "lines": len(lines),
                          "paid_lines": len(paid), "total": str(batch.total),
                          "verified_ok": ok, "verified_failed": failed},
                 actor=None if actor_id is None else _account(session, actor_id),
                 session=session)
    return batch


def _quiet(*_args: Any, **_kwargs: Any) -> None:
    return None


def _account(session: Session, account_id: int) -> Any:
    from unionhub.identity.models import Account

    return session.get(Account, account_id)


def _queue_payouts(session: Session, batch_id: int) -> tuple[int, int]:
    """One payout per paid line of the batch, in one ``INSERT … SELECT``: the payee rule runs
    in the same statement (:func:`payouts.payee.reason_sql`), failures wait as payee-needed
    with the reason, and every check is kept for the verification rate. Returns (ok, failed).
    """
    from ..payouts.models import MutualaidPayeeCheck
    from ..payouts.payee import reason_sql

    L, P = MutualaidEcbxLine.__table__, MutualaidPayout.__table__
    now = literal(utcnow(), UTCDateTime())
    reason = reason_sql()
    rows = (
        select(L.c.member_id, Org.path, literal("ecbx"), L.c.id, literal(PROGRAM),
               L.c.amount, literal(payables.summary(PROGRAM)),
               case((reason.is_(None), literal(PayoutStatus.PENDING.value)),
                    else_=literal(PayoutStatus.PAYEE_NEEDED.value)),
               reason, literal(0), now, now)
        .select_from(L).join(Member, Member.id == L.c.member_id)
        .join(Org, Org.id == Member.org_id)
        .where(L.c.batch_id == batch_id, L.c.amount > 0))
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(upsert(P).from_select(
        ["member_id", "org_path", "source", "source_id", "program", "amount", "summary",
         "status", "failure", "attempts", "created_at", "updated_at"], rows)
        .on_conflict_do_nothing())
    mine = select(P.c.id, P.c.org_path, P.c.failure).join(
        L, and_(P.c.source == "ecbx", P.c.source_id == L.c.id)).where(L.c.batch_id == batch_id)
    checks = mine.subquery()
    session.execute(insert(MutualaidPayeeCheck.__table__).from_select(
        ["payout_id", "org_path", "ok", "reason", "checked_at"],
        select(checks.c.id, checks.c.org_path, checks.c.failure.is_(None), checks.c.failure,
               now).where(checks.c.id.is_not(None))))
    ok, failed = session.execute(select(
        func.count(checks.c.id).filter(checks.c.failure.is_(None)),
        func.count(checks.c.id).filter(checks.c.failure.is_not(None)))).one()
    return int(ok), int(failed)


def _link_payouts(session: Session, batch_id: int) -> None:
    """Each paid line points at its payout (payout.source_id is the line id): one statement."""
    L, P = MutualaidEcbxLine.__table__, MutualaidPayout.__table__
    # UPDATE … FROM (a join), not a correlated subquery: in the transaction that just filled
    # the payouts the planner has no statistics and would scan them once per line.
    session.execute(
        update(L).where(L.c.batch_id == batch_id, P.c.source == "ecbx", P.c.source_id == L.c.id)
        .values(payout_id=P.c.id))


def ecbx_job(ctx: Any) -> dict[str, Any]:
    """Job ``mutualaid.ecbx_quarter`` (params ``{"quarter": "2026Q1"}``)."""
    from unionhub import db

    s = db.session()
    batch = run_quarter(s, str(ctx.params["quarter"]), actor_id=ctx.owner_id,
                        progress=ctx.progress)
    s.commit()
    if batch is None:
        result: dict[str, Any] = {"lines": 0}
    else:
        result = {"batch_id": batch.id, "run_no": batch.run_no, "lines": batch.lines,
                  "paid_lines": batch.paid_lines, "total": str(batch.total),
                  "verified_ok": batch.verified_ok, "verified_failed": batch.verified_failed}
    ctx.counts.update({k: v for k, v in result.items() if isinstance(v, int)})
    return result
