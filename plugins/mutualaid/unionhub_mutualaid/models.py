"""The plugin's shared tables: plans, coverage, fee statements, claims, the ledger, payouts.

Money is stored as whole fen in a ``BIGINT`` (:class:`Fen`): exact on every database, summed
by SQL without float or per-dialect decimal quirks, and read back as ``Decimal`` 元.

Feature modules own further tables (claim files and history, settlement records, payout
batches …) in their own modules; every table is named ``mutualaid_*``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from unionhub.db import Base, UTCDateTime, utcnow
from unionhub.identity.models import Member
from unionhub.money import Fen
from unionhub.orgs.models import Org


class PlanStatus(StrEnum):
    ACTIVE = "active"
    SUPERSEDED = "superseded"  # an edit of a plan year with claims made a new version


class MutualaidPlan(Base):
    """One program's rules for one plan year, one row per version (rules as JSON)."""

    __tablename__ = "mutualaid_plan"
    __table_args__ = (UniqueConstraint("program", "plan_year", "version",
                                       name="uq_mutualaid_plan_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program: Mapped[str] = mapped_column(String(8), index=True)
    plan_year: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default=PlanStatus.ACTIVE)
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    term_start: Mapped[date] = mapped_column(Date)
    term_end: Mapped[date] = mapped_column(Date)
    funding: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))


class CoverageStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"  # voluntary program: the unit has not paid yet
    ACTIVE = "active"


class MutualaidCoverage(Base):
    """A member's cover in one program and plan year (one row: no double enrollment, even
    through another unit after a job change)."""

    __tablename__ = "mutualaid_coverage"
    __table_args__ = (
        UniqueConstraint("member_id", "program", "plan_year",
                         name="uq_mutualaid_coverage_member_program_year"),
        Index("ix_mutualaid_coverage_unit", "unit_org_id", "program", "plan_year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="RESTRICT"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("mutualaid_plan.id", ondelete="RESTRICT"))
    program: Mapped[str] = mapped_column(String(8))
    plan_year: Mapped[int] = mapped_column(Integer)
    unit_org_id: Mapped[int] = mapped_column(ForeignKey("org.id", ondelete="RESTRICT"))
    shares: Mapped[int] = mapped_column(Integer, default=1)
    tier: Mapped[str | None] = mapped_column(String(16))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    first_enrolled: Mapped[date | None] = mapped_column(Date)  # start of continuous cover
    waiting_until: Mapped[date | None] = mapped_column(Date)  # last day of the waiting period
    fee: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))
    status: Mapped[str] = mapped_column(String(20), default=CoverageStatus.PENDING_PAYMENT)
    source: Mapped[str] = mapped_column(String(16), default="online")  # online | import
    import_id: Mapped[int | None] = mapped_column(Integer)
    fee_statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("mutualaid_fee_statement.id", ondelete="SET NULL"), index=True)
    enrolled_by: Mapped[int | None] = mapped_column(ForeignKey("account.id",
                                                               ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(lazy="joined")
    unit: Mapped[Org] = relationship(lazy="joined")
    plan: Mapped[MutualaidPlan] = relationship()


class FeeStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"


class MutualaidFeeStatement(Base):
    """What a unit owes for one program and plan year (缴费通知单), and what it paid."""

    __tablename__ = "mutualaid_fee_statement"
    __table_args__ = (UniqueConstraint("unit_org_id", "program", "plan_year",
                                       name="uq_mutualaid_fee_statement_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_org_id: Mapped[int] = mapped_column(ForeignKey("org.id", ondelete="RESTRICT"))
    plan_id: Mapped[int] = mapped_column(ForeignKey("mutualaid_plan.id", ondelete="RESTRICT"))
    program: Mapped[str] = mapped_column(String(8))
    plan_year: Mapped[int] = mapped_column(Integer)
    headcount: Mapped[int] = mapped_column(Integer, default=0)
    shares: Mapped[int] = mapped_column(Integer, default=0)
    amount_due: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))
    amount_paid: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))
    paid_on: Mapped[date | None] = mapped_column(Date)
    payment_ref: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=FeeStatus.OPEN)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("account.id",
                                                               ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    unit: Mapped[Org] = relationship(lazy="joined")


class ClaimStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for the centre's review
    RETURNED = "returned"  # materials missing: back to the member / clerk
    APPROVED = "approved"  # amount fixed, payout queued
    REJECTED = "rejected"
    PAID = "paid"  # money on the card
    DECIDING = "deciding"  # only inside the approving transaction: never seen committed


class ClaimSource(StrEnum):
    MEMBER = "member"  # the member online
    CLERK = "clerk"  # the unit's agent clerk
    SETTLEMENT = "settlement"  # fast claim from the medical-insurance settlement data


class MutualaidClaim(Base):
    """A claim for one benefit of one program; the decision is kept with its explanation."""

    __tablename__ = "mutualaid_claim"
    __table_args__ = (
        Index("ix_mutualaid_claim_member", "member_id", "program", "plan_year"),
        Index("ix_mutualaid_claim_status", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="RESTRICT"))
    #: the member's org path when submitted: officers' scope filters use it
    org_path: Mapped[str] = mapped_column(String(512), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("mutualaid_plan.id", ondelete="RESTRICT"),
                                         index=True)
    program: Mapped[str] = mapped_column(String(8))
    plan_year: Mapped[int] = mapped_column(Integer)
    coverage_id: Mapped[int | None] = mapped_column(
        ForeignKey("mutualaid_coverage.id", ondelete="RESTRICT"))
    benefit: Mapped[str | None] = mapped_column(String(32))
    cause: Mapped[str] = mapped_column(String(16), default="illness")
    event_date: Mapped[date] = mapped_column(Date)
    event_end: Mapped[date | None] = mapped_column(Date)
    stays: Mapped[list[list[str]]] = mapped_column(JSON, default=list)  # [[admit, discharge]]
    hospital: Mapped[str | None] = mapped_column(String(200))
    total_amount: Mapped[Decimal | None] = mapped_column(Fen)
    out_of_pocket: Mapped[Decimal | None] = mapped_column(Fen)
    already_reimbursed: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))
    diagnoses: Mapped[list[str]] = mapped_column(JSON, default=list)  # ICD-10 codes
    diagnosis_text: Mapped[str | None] = mapped_column(String(200))
    disability_grade: Mapped[int | None] = mapped_column(Integer)
    child_name: Mapped[str | None] = mapped_column(String(100))
    child_birth_date: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(String(2000))
    source: Mapped[str] = mapped_column(String(16), default=ClaimSource.MEMBER)
    settlement_serial: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=ClaimStatus.SUBMITTED)
    submitted_on: Mapped[date] = mapped_column(Date)
    #: materials complete: the 10-working-day service level counts from here
    complete_on: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    decision: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    amount: Mapped[Decimal | None] = mapped_column(Fen)  # the approved amount
    reason_code: Mapped[str | None] = mapped_column(String(32))  # review outcome code
    review_note: Mapped[str | None] = mapped_column(String(1000))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("account.id",
                                                                ondelete="SET NULL"))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("account.id",
                                                               ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    member: Mapped[Member] = relationship(lazy="joined")
    plan: Mapped[MutualaidPlan] = relationship()
    coverage: Mapped[MutualaidCoverage | None] = relationship()


class MutualaidLedger(Base):
    """Running totals of one member in one program and plan year (see
    ``adjudication.LedgerState``). ``version`` makes every update conditional: two approvals
    decided against the same version cannot both land."""

    __tablename__ = "mutualaid_ledger"
    __table_args__ = (UniqueConstraint("member_id", "program", "plan_year",
                                       name="uq_mutualaid_ledger_member_program_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="RESTRICT"))
    program: Mapped[str] = mapped_column(String(8))
    plan_year: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=0)
    paid: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))
    groups: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # cap group → 元
    allowance_days: Mapped[int] = mapped_column(Integer, default=0)
    deductible_used: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))
    stays: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    diseases: Mapped[list[str]] = mapped_column(JSON, default=list)
    cover_ended: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PayoutStatus(StrEnum):
    PENDING = "pending"  # approved, waiting for a batch
    PAYEE_NEEDED = "payee_needed"  # payee verification failed / bank refused: data needed
    BATCHED = "batched"  # in a batch sent to the bank
    PAID = "paid"


class PayoutSource(StrEnum):
    CLAIM = "claim"
    ECBX = "ecbx"  # a quarterly 二次报销 line


class MutualaidPayout(Base):
    """One approved amount owed to a member. ``(source, source_id)`` is unique: whatever is
    re-run or re-imported, an approved amount becomes one payout, paid once."""

    __tablename__ = "mutualaid_payout"
    __table_args__ = (
        UniqueConstraint("source", "source_id", name="uq_mutualaid_payout_source"),
        Index("ix_mutualaid_payout_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="RESTRICT"),
                                           index=True)
    org_path: Mapped[str] = mapped_column(String(512), index=True)
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int] = mapped_column(Integer)
    program: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(Fen)
    summary: Mapped[str] = mapped_column(String(60))  # 摘要, e.g. 互助金-住院医疗
    status: Mapped[str] = mapped_column(String(16), default=PayoutStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # batches it was sent in
    failure: Mapped[str | None] = mapped_column(String(200))  # the bank's last reason
    paid_on: Mapped[date | None] = mapped_column(Date)
    paid_first_batch: Mapped[bool | None] = mapped_column(Boolean)  # for the direct-pay rate
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    member: Mapped[Member] = relationship(lazy="joined")


class MutualaidSettlement(Base):
    """One medical-insurance settlement record (医保结算数据), keyed by 结算流水号.

    A correction (same serial, later 结算日期) overwrites the row and bumps ``revision``; records
    of people who are not members keep ``member_id`` NULL (counted, set aside). Diagnoses are
    visible only through the screening pages (officers of the member's own union).
    """

    __tablename__ = "mutualaid_settlement"
    __table_args__ = (
        Index("ix_mutualaid_settlement_member", "member_id", "settled_on"),
        Index("ix_mutualaid_settlement_quarter", "quarter", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)  # 结算流水号
    member_id: Mapped[int | None] = mapped_column(ForeignKey("member.id", ondelete="RESTRICT"))
    id_hash: Mapped[str] = mapped_column(String(64))  # keyed hash of the 身份证号
    name: Mapped[str] = mapped_column(String(100))
    visit_type: Mapped[str] = mapped_column(String(16))  # outpatient | inpatient
    hospital: Mapped[str] = mapped_column(String(200))
    settled_on: Mapped[date] = mapped_column(Date)
    quarter: Mapped[str] = mapped_column(String(7))  # "2026Q1", from settled_on
    admitted_on: Mapped[date | None] = mapped_column(Date)
    discharged_on: Mapped[date | None] = mapped_column(Date)
    total: Mapped[Decimal] = mapped_column(Fen)  # 医疗费总额
    pooled: Mapped[Decimal] = mapped_column(Fen)  # 统筹支付
    large: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))  # 大额支付
    self_pay_1: Mapped[Decimal] = mapped_column(Fen)  # 个人自付一
    self_pay_2: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))  # 个人自付二
    self_funded: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))  # 个人自费
    diagnosis_codes: Mapped[str | None] = mapped_column(String(200))  # ICD-10, ";"-separated
    diagnosis_names: Mapped[str | None] = mapped_column(String(300))
    revision: Mapped[int] = mapped_column(Integer, default=1)  # corrections applied + 1
    import_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


MODELS: tuple[type, ...] = (MutualaidPlan, MutualaidFeeStatement, MutualaidCoverage,
                            MutualaidClaim, MutualaidLedger, MutualaidPayout,
                            MutualaidSettlement)
