"""The automatic accounting's tables: one snapshot per computation, its rows per org and item.

A snapshot keeps the figures of one plan year as they were when computed (a data-exchange run
computes one after applying its file; an officer may compute one at any time). Rows are kept
at three levels: ``unit`` (the unit's own line, as the plugins gave it), ``district`` (the
district or industry union at depth 1 above the unit, its whole subtree rolled up — or, for
a unit that sits directly under the city, the unit itself, marked ``direct``) and ``city``
(the root). Each level therefore adds up to the city's totals, to the fen. ``org_path`` is
the row's org path at computation time: officers see the rows in their subtree, filtered in
SQL.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from unionhub.db import Base, UTCDateTime, utcnow
from unionhub.money import Fen


class Level(StrEnum):
    CITY = "city"
    DISTRICT = "district"  # district or industry union (depth 1)
    UNIT = "unit"


LEVEL_LABELS = {Level.CITY: "市总", Level.DISTRICT: "区县与产业工会", Level.UNIT: "基层单位"}
LEVELS: tuple[Level, ...] = (Level.CITY, Level.DISTRICT, Level.UNIT)
#: How a ``direct`` row of the district level is labelled: a unit directly under the city,
#: or the city's own lines.
DIRECT_LABEL = "（市直属）"
ROOT_LABEL = "（市总本级）"


class OaAccountingSnapshot(Base):
    """One computation of a plan year's accounting. ``totals`` are the city-level sums:
    ``headcount``, ``shares`` (ints) and ``due``, ``billed``, ``received``, ``difference``
    (due − received) as strings with two places."""

    __tablename__ = "oa_accounting_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_year: Mapped[int] = mapped_column(Integer, index=True)
    #: the data-exchange run that computed it (no FK: that table belongs to another feature)
    run_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    totals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OaAccountingRow(Base):
    """One org's figures for one item (a mutual-aid program) at one level of a snapshot."""

    __tablename__ = "oa_accounting_row"
    __table_args__ = (Index("ix_oa_accounting_row_level", "snapshot_id", "level", "org_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("oa_accounting_snapshot.id", ondelete="CASCADE"))
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id", ondelete="RESTRICT"))
    org_path: Mapped[str] = mapped_column(String(512))
    level: Mapped[str] = mapped_column(String(16))
    item: Mapped[str] = mapped_column(String(32))
    item_label: Mapped[str] = mapped_column(String(100))
    headcount: Mapped[int] = mapped_column(Integer, default=0)
    shares: Mapped[int] = mapped_column(Integer, default=0)
    due: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))
    billed: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))
    received: Mapped[Decimal] = mapped_column(Fen, default=Decimal("0.00"))
    #: A district-level row of an org that is no district or industry union (a unit directly
    #: under the city, or the city's own lines): it stands at that level so the level adds
    #: up to the city; shown as （市直属）.
    direct: Mapped[bool] = mapped_column(Boolean, default=False)


MODELS: tuple[type, ...] = (OaAccountingSnapshot, OaAccountingRow)
