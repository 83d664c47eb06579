"""Sign-off of large bank batches (代发批次审批) through an approval engine.

When a generated batch's total reaches the setting ``mutualaid.signoff_threshold`` (元; 0
turns sign-off off), :func:`request` asks an approval engine (``unionhub.approvals.start`` —
the OA plugin when enabled; this plugin never imports it). If an engine takes the request the
batch is held: status ``awaiting_signoff`` with the engine's ``approval_ref``; its bank file
cannot be produced and no return file applies to it. If no engine answers, nothing changes
(the batch is ``generated`` as before).

:func:`approval_decided` (``unionhub_approval_decided``) hears the outcome, idempotently —
only a batch still ``awaiting_signoff`` under ``decision.ref`` moves, with a conditional
update:

* approved → ``generated``: the bank file may be downloaded;
* rejected → the batch is void for ever (``rejected``): its lines become ``void`` (never sent,
  never paid; their references are never reused) and its payouts go back to ``pending`` with
  ``attempts`` decremented, through one conditional ``UPDATE … WHERE status = 'batched' AND id
  IN (the batch's lines)``, so a later batch claims each of them exactly once.

Everything runs in the caller's transaction (``db.session()``); nothing here commits.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from unionhub import approvals, db
from unionhub.audit import service as audit
from unionhub.contrib import ApprovalDecision, ApprovalRequest
from unionhub.db import utcnow
from unionhub.identity.models import Account
from unionhub.orgs.models import Org

from ..models import MutualaidPayout, PayoutStatus
from ..rules import PROGRAM_NAMES
from .models import BatchStatus, LineStatus, MutualaidPayoutBatch, MutualaidPayoutLine

KIND = "mutualaid.payout_batch"
SETTING = "mutualaid.signoff_threshold"
TARGET = "mutualaid_payout_batch"


def threshold() -> Decimal:
    """The total (元) from which a batch needs sign-off; ``0`` means never."""
    from unionhub.settings import service as settings

    try:
        value = Decimal(str(settings.get(SETTING)))
    except (InvalidOperation, ValueError):
        return Decimal("0.00")
    return max(value, Decimal("0.00"))


def needs_signoff(total: Decimal) -> bool:
    limit = threshold()
    return limit > 0 and total >= limit


def batch_url(batch: MutualaidPayoutBatch) -> str:
    """The batch page (where an approver reads what is signed off)."""
    return f"/mutualaid/payouts/batches/{batch.id}"


def _org_id(session: Session, org_path: str) -> int | None:
    """The org whose subtree the batch was drawn from (the top of its ``org_path``)."""
    org_id = session.scalar(select(Org.id).where(Org.path == org_path))
    if org_id is not None:
        return org_id
    tail = org_path.strip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def request(session: Session, batch: MutualaidPayoutBatch, actor: Any = None) -> str | None:
    """Ask an approval engine to sign ``batch`` off when its total reaches the threshold.
    Returns the engine's reference (the batch is then held) or ``None`` (unchanged)."""
    if batch.status != BatchStatus.GENERATED or not needs_signoff(batch.total):
        return None
    ref = approvals.start(ApprovalRequest(
        KIND, batch.id, f"代发批次 {batch.batch_no}", _org_id(session, batch.org_path),
        getattr(actor, "id", None), url=batch_url(batch),
        fields={"批次号": batch.batch_no, "笔数": str(batch.count),
                "总金额": f"{batch.total}元",
                "项目": PROGRAM_NAMES.get(batch.program, batch.program) if batch.program
                else "全部项目"}))
    if ref is None:
        return None
    batch.status = BatchStatus.AWAITING_SIGNOFF
    batch.approval_ref = ref
    session.flush()
    audit.record("mutualaid.payout.batch_signoff", target_type=TARGET,
                 target_id=batch.batch_no, org_path=batch.org_path, actor=actor,
                 session=session, details={"ref": ref, "count": batch.count,
                                           "total": str(batch.total),
                                           "threshold": str(threshold())})
    return ref


def approval_decided(decision: ApprovalDecision) -> None:
    """``unionhub_approval_decided`` for payout batches (see the module docstring). Other
    kinds, unknown batches and batches no longer waiting under ``decision.ref`` are ignored."""
    if decision.kind != KIND:
        return
    try:
        batch_id = int(decision.subject_id)
    except (TypeError, ValueError):
        return
    session = db.session()
    waiting = (MutualaidPayoutBatch.id == batch_id,
               MutualaidPayoutBatch.status == BatchStatus.AWAITING_SIGNOFF,
               MutualaidPayoutBatch.approval_ref == decision.ref)
    batch = session.scalar(select(MutualaidPayoutBatch).where(*waiting)
                           .execution_options(populate_existing=True))
    if batch is None:
        return
    actor = session.get(Account, decision.by_id) if decision.by_id else None
    status = BatchStatus.GENERATED if decision.approved else BatchStatus.REJECTED
    moved = session.execute(
        update(MutualaidPayoutBatch).where(*waiting).values(status=status)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    if moved != 1:  # another delivery of the same decision got there first
        return
    session.refresh(batch)
    opinion = (decision.opinion or "").strip()
    if decision.approved:
        audit.record("mutualaid.payout.batch_signoff_approved", target_type=TARGET,
                     target_id=batch.batch_no, org_path=batch.org_path, actor=actor,
                     session=session, details={"ref": decision.ref, "opinion": opinion[:200]})
        return
    _void(session, batch, decision.ref, opinion, actor)


def _void(session: Session, batch: MutualaidPayoutBatch, ref: str, opinion: str,
          actor: Any) -> None:
    """The rejected batch's payouts back to pending (each once), its lines void."""
    now = utcnow()
    lines = (select(MutualaidPayoutLine.payout_id)
             .where(MutualaidPayoutLine.batch_id == batch.id,
                    MutualaidPayoutLine.status == LineStatus.SENT))
    requeued = session.execute(
        update(MutualaidPayout)
        .where(MutualaidPayout.status == PayoutStatus.BATCHED,
               MutualaidPayout.id.in_(lines.scalar_subquery()))
        .values(status=PayoutStatus.PENDING, attempts=MutualaidPayout.attempts - 1,
                updated_at=now)
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    voided = session.execute(
        update(MutualaidPayoutLine)
        .where(MutualaidPayoutLine.batch_id == batch.id,
               MutualaidPayoutLine.status == LineStatus.SENT)
        .values(status=LineStatus.VOID, processed_at=now,
                failure=(f"审批未通过：{opinion}" if opinion else "审批未通过")[:200])
        .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    audit.record("mutualaid.payout.batch_signoff_rejected", target_type=TARGET,
                 target_id=batch.batch_no, org_path=batch.org_path, actor=actor,
                 session=session, details={"ref": ref, "opinion": opinion[:200],
                                           "lines_void": voided, "payouts_requeued": requeued,
                                           "count": batch.count, "total": str(batch.total)})


__all__ = ["KIND", "SETTING", "approval_decided", "batch_url", "needs_signoff", "request",
           "threshold"]
