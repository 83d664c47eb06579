"""Admin-entered calendar data: single-day overrides and per-year completeness.

``workday_override`` holds one row per date that differs from (or is missing in) the
``chinese-calendar`` package: ``kind`` is ``"holiday"`` (a day off, e.g. 春节) or
``"workday"`` (a make-up working day, 调休上班). ``workday_year`` records that an admin has
entered a whole year (``complete``), which is what makes a year the package does not cover
"known" — see :mod:`unionhub.workdays.service`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from unionhub.db import Base, UTCDateTime, utcnow

HOLIDAY = "holiday"
WORKDAY = "workday"
KINDS = (HOLIDAY, WORKDAY)
KIND_LABELS = {HOLIDAY: "放假", WORKDAY: "调休上班"}


class WorkdayOverride(Base):
    __tablename__ = "workday_override"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The calendar date (named ``day`` so it does not shadow :class:`datetime.date`).
    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


class WorkdayYear(Base):
    __tablename__ = "workday_year"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
