"""Member groups and their members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from unionhub.db import Base, UTCDateTime, utcnow


class MemberGroup(Base):
    """A named group of members (e.g. ``model_worker`` 劳动模范); plugins refer to it by id."""

    __tablename__ = "member_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberGroupMember(Base):
    """One member in one group (the primary key makes membership a set)."""

    __tablename__ = "member_group_member"
    __table_args__ = (Index("ix_member_group_member_member", "member_id", "group_id"),)

    group_id: Mapped[int] = mapped_column(
        ForeignKey("member_group.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
