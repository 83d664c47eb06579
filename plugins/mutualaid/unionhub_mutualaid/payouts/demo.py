"""Demo data: one bank batch from the approved claims' payouts, most lines returned paid and a
couple refused by the bank (payee needed). Runs after the claims demo. A batch held for sign-off
(an approval engine enabled and the total at or above the threshold) is left waiting."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.orgs.models import Org

from ..models import MutualaidPayout, PayoutStatus
from . import batches, returns

FAILURES = ("账户状态异常（已挂失）", "户名与卡号不符")


def seed(session: Session, ctx: Any) -> None:
    pending = session.scalar(select(MutualaidPayout.id).where(
        MutualaidPayout.status == PayoutStatus.PENDING, MutualaidPayout.source == "claim"))
    root = session.scalar(select(Org.path).where(Org.parent_id.is_(None)).order_by(Org.id))
    if pending is None or root is None:
        return
    result = batches.create_batch(session, org_path=root, scope=MutualaidPayout.source == "claim")
    if result.batch is None:
        return
    lines_out = getattr(ctx, "lines", None)
    if not result.batch.sendable:  # held for sign-off: no bank file, no return file yet
        if isinstance(lines_out, list):
            lines_out.append(f"互助代发批次 {result.batch.batch_no}：待审批"
                             f"（{result.batch.approval_ref}）")
        return
    lines = batches.lines_of(session, result.batch)
    failing = {ln.id: FAILURES[i % len(FAILURES)]
               for i, ln in enumerate(lines[-2:] if len(lines) > 4 else [])}
    report = returns.simulate(session, lines, failing)
    session.flush()
    if isinstance(lines_out, list):
        lines_out.append(f"互助代发批次 {result.batch.batch_no}：{report.paid} 笔到账，"
                         f"{report.failed} 笔待补充收款信息")
