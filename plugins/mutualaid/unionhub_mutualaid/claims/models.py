"""The claims feature's own tables: uploaded materials and the claim history.

Files themselves live outside the web root (``instance_path/mutualaid/claims/<claim id>/``);
the row keeps the random stored name, the checked content type and who uploaded it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from unionhub.db import Base, UTCDateTime, utcnow

from .. import models as _shared  # noqa: F401  (mutualaid_claim, referenced below)


class MutualaidClaimFile(Base):
    """One uploaded material (a photo or PDF) of a claim."""

    __tablename__ = "mutualaid_claim_file"
    __table_args__ = (Index("ix_mutualaid_claim_file_claim", "claim_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("mutualaid_claim.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # checklist code, or "other"
    original_name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MutualaidClaimEvent(Base):
    """One step in a claim's history (submitted, returned, resubmitted, approved …)."""

    __tablename__ = "mutualaid_claim_event"
    __table_args__ = (Index("ix_mutualaid_claim_event_claim", "claim_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(
        ForeignKey("mutualaid_claim.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    actor_name: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(24))
    note: Mapped[str | None] = mapped_column(String(1000))


MODELS: tuple[type, ...] = (MutualaidClaimFile, MutualaidClaimEvent)
