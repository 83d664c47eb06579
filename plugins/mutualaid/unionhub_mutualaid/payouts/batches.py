"""Bank batches (批量代发): pending payouts claimed exactly once into a batch.

Generation reads the pending payouts of a subtree (optionally one program) together with each
member's CURRENT active card in one query, verifies the payee, sets aside those who cannot be
paid (``payee_needed``), then claims the rest with a conditional, set-based update::

    UPDATE mutualaid_payout SET status = 'batched', attempts = attempts + 1
    WHERE id IN (…) AND status = 'pending' RETURNING id

Only the ids returned become lines, so two officers generating at the same moment never put a
payout in two batches (the second update finds the rows no longer pending). Each line keeps a
snapshot (card, name, amount, 摘要) and a reference unique for ever; the batch is never edited
afterwards — a failed line's payout goes into a new batch with a new reference.

A batch whose total reaches ``mutualaid.signoff_threshold`` is handed to an approval engine
when one is enabled (:mod:`.signoff`) and held (``awaiting_signoff``) until it is signed off.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import uuid4

from sqlalchemy import ColumnElement, and_, insert, select, true, update
from sqlalchemy.orm import Session

from unionhub.access.models import RoleGrant
from unionhub.access.service import roles_with
from unionhub.audit import service as audit
from unionhub.db import utcnow
from unionhub.identity.models import CardStatus, JingkaCard, Member
from unionhub.money import ZERO
from unionhub.orgs.models import Org

from ..models import MutualaidPayout, PayoutStatus
from . import payee, signoff
from .models import LineStatus, MutualaidPayoutBatch, MutualaidPayoutLine

PERMISSION = "mutualaid.payouts.manage"
CHUNK = 500


@dataclass
class BatchResult:
    """What a generation did: the batch (None when nothing could be claimed) and the payouts
    set aside for payee data, as (payout id, reason)."""

    batch: MutualaidPayoutBatch | None
    set_aside: list[tuple[int, str]] = field(default_factory=list)
    skipped: int = 0  # claimed by someone else between the read and the update


def manage_orgs(session: Session, account: Any) -> list[Org]:
    """Orgs where ``account`` holds the payouts permission (the subtrees it may batch)."""
    if account is None:
        return []
    return list(session.scalars(
        select(Org).join(RoleGrant, RoleGrant.org_id == Org.id)
        .where(RoleGrant.account_id == account.id,
               RoleGrant.role.in_(roles_with(PERMISSION, session)))
        .distinct().order_by(Org.path)))


def _chunks(ids: Sequence[int], size: int = CHUNK) -> list[Sequence[int]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def reference(batch_no: str, seq: int) -> str:
    """业务参考号: unique for ever because batch numbers are."""
    return f"MA{batch_no}{seq:06d}"


def create_batch(session: Session, *, org_path: str, actor: Any = None,
                 scope: ColumnElement[bool] | None = None, program: str | None = None,
                 limit: int | None = None, now: datetime | None = None) -> BatchResult:
    """Claim the pending payouts under ``org_path`` (and ``scope``, the officer's SQL scope)
    into a new batch. The caller commits."""
    now = now or utcnow()
    cond: list[ColumnElement[bool]] = [
        MutualaidPayout.status == PayoutStatus.PENDING,
        MutualaidPayout.org_path.like(org_path + "%"),
        scope if scope is not None else true(),
    ]
    if program:
        cond.append(MutualaidPayout.program == program)
    stmt = (select(MutualaidPayout.id, MutualaidPayout.org_path, MutualaidPayout.amount,
                   MutualaidPayout.summary, Member.id, Member.name, Member.id_number_enc,
                   Member.status, JingkaCard.id)
            .join(Member, Member.id == MutualaidPayout.member_id)
            .outerjoin(JingkaCard, and_(JingkaCard.member_id == Member.id,
                                        JingkaCard.status == CardStatus.ACTIVE))
            .where(*cond).order_by(MutualaidPayout.id))
    if limit:
        stmt = stmt.limit(limit)
    rows = session.execute(stmt).all()

    good: dict[int, dict[str, Any]] = {}
    bad: dict[str, list[int]] = defaultdict(list)
    checks: list[dict[str, Any]] = []
    for pid, path, amount, summary, member_id, name, id_enc, status, card_id in rows:
        reason = payee.reason_for(name=name, has_id_number=bool(id_enc), status=status,
                                  has_card=card_id is not None)
        checks.append({"payout_id": pid, "org_path": path, "ok": reason is None,
                       "reason": reason, "checked_by": getattr(actor, "id", None)})
        if reason is None:
            good[pid] = {"payout_id": pid, "member_id": member_id, "card_id": card_id,
                         "name": name.strip(), "amount": amount, "summary": summary}
        else:
            bad[reason].append(pid)
    payee.record_checks(session, checks)

    result = BatchResult(None)
    for reason, ids in bad.items():
        for chunk in _chunks(ids):
            moved = session.execute(
                update(MutualaidPayout)
                .where(MutualaidPayout.id.in_(chunk),
                       MutualaidPayout.status == PayoutStatus.PENDING)
                .values(status=PayoutStatus.PAYEE_NEEDED, failure=reason[:200],
                        updated_at=now)
                .returning(MutualaidPayout.id)
                .execution_options(synchronize_session=False)).scalars().all()
            result.set_aside.extend((pid, reason) for pid in moved)

    claimed: set[int] = set()
    for chunk in _chunks(sorted(good)):
        claimed.update(session.execute(
            update(MutualaidPayout)
            .where(MutualaidPayout.id.in_(chunk),
                   MutualaidPayout.status == PayoutStatus.PENDING)
            .values(status=PayoutStatus.BATCHED, attempts=MutualaidPayout.attempts + 1,
                    failure=None, updated_at=now)
            .returning(MutualaidPayout.id)
            .execution_options(synchronize_session=False)).scalars().all())
    result.skipped = len(good) - len(claimed)
    if not claimed:
        return result

    batch = MutualaidPayoutBatch(batch_no=uuid4().hex, org_path=org_path, program=program,
                                 count=0, total=ZERO, status="generated", created_at=now,
                                 created_by=getattr(actor, "id", None))
    session.add(batch)
    session.flush()
    batch.batch_no = f"{now:%Y%m%d}{batch.id:06d}"
    lines = []
    total = Decimal("0.00")
    for seq, pid in enumerate(sorted(claimed), start=1):
        line = good[pid]
        total += line["amount"]
        lines.append({**line, "batch_id": batch.id, "seq": seq,
                      "reference": reference(batch.batch_no, seq), "status": LineStatus.SENT})
    for chunk in _chunks(lines, 1000):  # type: ignore[arg-type]
        session.execute(insert(MutualaidPayoutLine), list(chunk))
    batch.count, batch.total = len(lines), total
    session.flush()
    audit.record("mutualaid.payout.batch_create", target_type="mutualaid_payout_batch",
                 target_id=batch.batch_no, org_path=org_path, actor=actor, session=session,
                 details={"count": batch.count, "total": str(total), "program": program,
                          "set_aside": len(result.set_aside)})
    signoff.request(session, batch, actor)  # large batches wait for sign-off (or not)
    result.batch = batch
    return result


def lines_of(session: Session, batch: MutualaidPayoutBatch) -> list[MutualaidPayoutLine]:
    return list(session.scalars(select(MutualaidPayoutLine).where(
        MutualaidPayoutLine.batch_id == batch.id).order_by(MutualaidPayoutLine.seq)))
