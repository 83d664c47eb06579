"""Tables of the payouts feature: bank batches (批量代发), their lines, the return files
(回盘文件) received, and the payee checks (收款人核验) made before money is sent.

A batch and its lines are written once when the batch is generated; afterwards only the
bank's result columns of a line (``status``, ``bank_serial``, ``failure``, ``processed_at``)
and the batch's ``status`` change — a sent batch is never edited, failed payouts go into a
new batch with a new reference.

A batch whose total reaches ``mutualaid.signoff_threshold`` is held (``awaiting_signoff``,
with the approval engine's ``approval_ref``) until it is signed off: approved, it becomes
``generated``; rejected, it is void for ever (``rejected``, its lines ``void``, its payouts
pending again for a later batch) — see :mod:`.signoff`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from unionhub.db import Base, UTCDateTime, utcnow
from unionhub.identity.models import JingkaCard
from unionhub.money import Fen

from ..models import MutualaidPayout


class BatchStatus(StrEnum):
    AWAITING_SIGNOFF = "awaiting_signoff"  # held until the approval engine decides
    GENERATED = "generated"  # bank file produced, waiting for the return file
    RETURNED = "returned"  # every line has the bank's result
    REJECTED = "rejected"  # sign-off refused: void, never sent, its payouts re-queued


class LineStatus(StrEnum):
    SENT = "sent"
    PAID = "paid"
    FAILED = "failed"
    VOID = "void"  # its batch's sign-off was refused: never sent, never paid


#: the batches whose bank file may be produced and whose lines take a return file's results
SENDABLE = (BatchStatus.GENERATED, BatchStatus.RETURNED)

BATCH_STATUS_LABELS = {"awaiting_signoff": "待审批", "generated": "已生成，待回盘",
                       "returned": "已回盘", "rejected": "审批未通过"}
LINE_STATUS_LABELS = {"sent": "已发送", "paid": "成功", "failed": "失败", "void": "已作废"}


class MutualaidPayoutBatch(Base):
    """One bank batch (批量代发文件); ``count``/``total`` are the file header's figures."""

    __tablename__ = "mutualaid_payout_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_no: Mapped[str] = mapped_column(String(32), unique=True)
    #: the org subtree the batch was drawn from (officers' scope filters use it)
    org_path: Mapped[str] = mapped_column(String(512), index=True)
    program: Mapped[str | None] = mapped_column(String(8))
    count: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.GENERATED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the approval engine's reference when the batch was held for sign-off
    approval_ref: Mapped[str | None] = mapped_column(String(64))

    @property
    def status_label(self) -> str:
        return BATCH_STATUS_LABELS.get(self.status, self.status)

    @property
    def sendable(self) -> bool:
        """Whether the bank file may be downloaded (not held, not void)."""
        return self.status in SENDABLE


class MutualaidPayoutLine(Base):
    """One payment in a batch: a snapshot of the payee at generation time (the card that was
    active then, the name, the amount) and a reference unique for ever (业务参考号)."""

    __tablename__ = "mutualaid_payout_line"
    __table_args__ = (
        UniqueConstraint("batch_id", "seq", name="uq_mutualaid_payout_line_seq"),
        UniqueConstraint("batch_id", "payout_id", name="uq_mutualaid_payout_line_payout"),
        Index("ix_mutualaid_payout_line_payout", "payout_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("mutualaid_payout_batch.id", ondelete="RESTRICT"))
    payout_id: Mapped[int] = mapped_column(
        ForeignKey("mutualaid_payout.id", ondelete="RESTRICT"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("jingka_card.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(Fen)
    summary: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(16), default=LineStatus.SENT)
    bank_serial: Mapped[str | None] = mapped_column(String(64))
    failure: Mapped[str | None] = mapped_column(String(200))
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    card: Mapped[JingkaCard] = relationship(lazy="joined")
    payout: Mapped[MutualaidPayout] = relationship()

    @property
    def status_label(self) -> str:
        return LINE_STATUS_LABELS.get(self.status, self.status)


class MutualaidPayoutReturn(Base):
    """One return file received (回盘文件) and what applying it did (the report)."""

    __tablename__ = "mutualaid_payout_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    org_path: Mapped[str] = mapped_column(String(512), index=True)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    paid: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    unknown: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))


class MutualaidPayeeCheck(Base):
    """One payee verification (收款人核验) and its outcome: the success rate is counted here."""

    __tablename__ = "mutualaid_payee_check"
    __table_args__ = (Index("ix_mutualaid_payee_check_path", "org_path", "checked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payout_id: Mapped[int] = mapped_column(
        ForeignKey("mutualaid_payout.id", ondelete="CASCADE"), index=True)
    org_path: Mapped[str] = mapped_column(String(512))
    ok: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(200))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))


MODELS: tuple[type, ...] = (MutualaidPayoutBatch, MutualaidPayoutLine, MutualaidPayoutReturn,
                            MutualaidPayeeCheck)

#: what the member sees for each payout status
PAYOUT_STATUS_LABELS = {"pending": "待发放", "batched": "发放中", "paid": "已到账",
                        "payee_needed": "待补充收款信息"}
