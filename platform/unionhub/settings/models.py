"""Admin-edited setting values (the schema lives in code, see ``unionhub_settings``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from unionhub.db import Base, UTCDateTime, utcnow


class SettingValue(Base):
    __tablename__ = "setting"
    __table_args__ = (UniqueConstraint("key", "org_id", name="uq_setting_key_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("org.id", ondelete="CASCADE"))
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
