"""The settlement feature's own tables: the import staging table and the 二次报销 (ECBX)
quarterly batches and their lines.

The settlement records themselves live in the shared ``mutualaid_settlement`` table
(:class:`unionhub_mutualaid.models.MutualaidSettlement`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from unionhub.db import Base, UTCDateTime, utcnow
from unionhub.identity.models import Member
from unionhub.money import Fen

from ..models import MutualaidPayout

# The staging table of the 医保结算数据 import. No primary key or index (like the core's
# member stage): a million rows load at COPY speed, and every query over it is a scan of
# one batch's rows joined to indexed tables. Amounts are whole fen (what the shared table
# stores), so INSERT … SELECT copies them without conversion.
stage = Table(
    "mutualaid_settlement_stage",
    Base.metadata,
    Column("import_id", Integer, nullable=False),
    Column("line", Integer, nullable=False),
    Column("serial", String(64), nullable=False),
    Column("id_hash", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("visit_type", String(16), nullable=False),
    Column("hospital", String(200), nullable=False),
    Column("settled_on", Date, nullable=False),
    Column("quarter", String(7), nullable=False),
    Column("admitted_on", Date),
    Column("discharged_on", Date),
    Column("total", BigInteger, nullable=False),
    Column("pooled", BigInteger, nullable=False),
    Column("large", BigInteger, nullable=False),
    Column("self_pay_1", BigInteger, nullable=False),
    Column("self_pay_2", BigInteger, nullable=False),
    Column("self_funded", BigInteger, nullable=False),
    Column("diagnosis_codes", String(200)),
    Column("diagnosis_names", String(300)),
    # Filled by review/apply:
    Column("member_id", Integer),
    Column("existing_id", Integer),  # the stored record with the same serial
    Column("existing_on", Date),  # its 结算日期
)


class MutualaidEcbxBatch(Base):
    """One run of the 二次报销 of one quarter (a quarter may be run again after corrections:
    ``run_no`` 1, 2, …; the unique (quarter, run_no) also stops two concurrent runs)."""

    __tablename__ = "mutualaid_ecbx_batch"
    __table_args__ = (UniqueConstraint("quarter", "run_no", name="uq_mutualaid_ecbx_batch_run"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[str] = mapped_column(String(7))
    plan_year: Mapped[int] = mapped_column(Integer)
    plan_id: Mapped[int] = mapped_column(ForeignKey("mutualaid_plan.id", ondelete="RESTRICT"))
    run_no: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id",
                                                              ondelete="SET NULL"))
    members: Mapped[int] = mapped_column(Integer, default=0)  # members with records
    ineligible: Mapped[int] = mapped_column(Integer, default=0)  # no membership / Jingka
    unchanged: Mapped[int] = mapped_column(Integer, default=0)  # nothing new since last run
    lines: Mapped[int] = mapped_column(Integer, default=0)  # lines written by this run
    paid_lines: Mapped[int] = mapped_column(Integer, default=0)  # lines with amount > 0
    total: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))  # Σ amount
    verified_ok: Mapped[int] = mapped_column(Integer, default=0)
    verified_failed: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def verification_rate(self) -> Decimal | None:
        """Share of paid lines whose payee verified (None when nothing was paid)."""
        checked = self.verified_ok + self.verified_failed
        if not checked:
            return None
        return (Decimal(self.verified_ok) * 100 / checked).quantize(Decimal("0.1"))


class MutualaidEcbxLine(Base):
    """A member's 二次报销 of one quarter as computed by one run.

    ``entitled`` is the quarter's whole entitlement as of this run, ``amount`` what this run
    owes on top of the earlier runs of the quarter (never negative: nothing is clawed back),
    ``deductible_used`` the part of the year's deductible this quarter consumed.
    """

    __tablename__ = "mutualaid_ecbx_line"
    __table_args__ = (
        UniqueConstraint("batch_id", "member_id", name="uq_mutualaid_ecbx_line_member"),
        Index("ix_mutualaid_ecbx_line_member", "member_id", "quarter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("mutualaid_ecbx_batch.id",
                                                     ondelete="RESTRICT"))
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="RESTRICT"))
    quarter: Mapped[str] = mapped_column(String(7))
    plan_year: Mapped[int] = mapped_column(Integer)
    basis: Mapped[Decimal] = mapped_column(Fen)  # Σ 个人自付一 of the quarter
    deductible_used: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))
    entitled: Mapped[Decimal] = mapped_column(Fen)
    amount: Mapped[Decimal] = mapped_column(Fen)  # this run's delta
    payout_id: Mapped[int | None] = mapped_column(
        ForeignKey("mutualaid_payout.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(lazy="joined")
    payout: Mapped[MutualaidPayout | None] = relationship()


def settled_quarter(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


MODELS: tuple[type, ...] = (MutualaidEcbxBatch, MutualaidEcbxLine)
