"""Critical-illness screening tables: one flag per (member, catalogue disease), and the visits
officers record against it.

A flag is a screening signal for the member's own union (condolence visit, secondary aid),
never a claim decision. Diagnoses are shown only on the screening pages; ``org_path`` is the
member's org path and the only thing the officers' scope filter looks at.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from unionhub.db import Base, UTCDateTime, utcnow
from unionhub.identity.models import Member
from unionhub.money import Fen


class FlagStatus(StrEnum):
    NEW = "new"  # nobody has visited yet
    VISITED = "visited"  # at least one visit recorded
    CLOSED = "closed"  # the officer closed it (no further follow-up)


FLAG_STATUS_LABELS: dict[str, str] = {
    FlagStatus.NEW: "待走访",
    FlagStatus.VISITED: "已走访",
    FlagStatus.CLOSED: "已关闭",
}


class MutualaidScreeningFlag(Base):
    """A member whose settlement data showed a catalogue disease (once per disease)."""

    __tablename__ = "mutualaid_screening_flag"
    __table_args__ = (
        UniqueConstraint("member_id", "disease_code", name="uq_mutualaid_screening_flag_disease"),
        Index("ix_mutualaid_screening_flag_scope", "org_path", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="RESTRICT"))
    #: the member's org path (refreshed when the disease is seen again): officers' scope
    org_path: Mapped[str] = mapped_column(String(512))
    disease_code: Mapped[str] = mapped_column(String(64))  # catalogue entry code
    disease_name: Mapped[str] = mapped_column(String(100))
    #: program and catalogue version the entry came from, e.g. "ZDJB 2026.1"
    catalogue_version: Mapped[str] = mapped_column(String(40))
    diagnosis_code: Mapped[str] = mapped_column(String(40))  # the ICD-10 code that matched
    first_settlement_id: Mapped[int | None] = mapped_column(
        ForeignKey("mutualaid_settlement.id", ondelete="SET NULL"))
    first_settled_on: Mapped[date] = mapped_column(Date)
    hospital: Mapped[str | None] = mapped_column(String(200))
    last_seen: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=FlagStatus.NEW)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(lazy="joined")
    visits: Mapped[list[MutualaidScreeningVisit]] = relationship(
        back_populates="flag", order_by="MutualaidScreeningVisit.visited_on.desc()")

    @property
    def status_label(self) -> str:
        return FLAG_STATUS_LABELS.get(self.status, self.status)


class MutualaidScreeningVisit(Base):
    """A condolence visit, with the secondary aid handed over (0 when none)."""

    __tablename__ = "mutualaid_screening_visit"
    __table_args__ = (
        CheckConstraint("aid_amount >= 0", name="aid_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flag_id: Mapped[int] = mapped_column(
        ForeignKey("mutualaid_screening_flag.id", ondelete="RESTRICT"), index=True)
    visited_on: Mapped[date] = mapped_column(Date)
    visitor: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(1000))
    aid_amount: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    flag: Mapped[MutualaidScreeningFlag] = relationship(back_populates="visits")


MODELS: tuple[type, ...] = (MutualaidScreeningFlag, MutualaidScreeningVisit)
