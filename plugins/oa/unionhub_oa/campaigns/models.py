"""Notification campaigns (通知群发): message templates and campaigns.

A campaign belongs to the sending officer's org (``org_path`` scopes the lists) and keeps
its own copy of the text, so editing or deleting a template never changes what was sent.
Sending is once: the state moves ``draft`` → ``queued`` in one conditional UPDATE, and the
notification batch key ``campaign-<id>`` makes the outbox exactly-once per member and channel.
``queued`` becomes ``sent`` when nothing of the batch is left to deliver.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from unionhub.db import Base, UTCDateTime, utcnow


class CampaignState(StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"  # the batch is in the outbox; delivery under way
    SENT = "sent"  # nothing left to deliver (sent, failed or fallen back)


CAMPAIGN_STATE_LABELS = {"draft": "草稿", "queued": "发送中", "sent": "已发送"}


class OaMessageTemplate(Base):
    """Reusable text for campaigns. ``org_id`` None: available to every officer; else to the
    officers of that org's subtree and of the orgs above it."""

    __tablename__ = "oa_message_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    sms: Mapped[str] = mapped_column(String(300), default="")
    org_id: Mapped[int | None] = mapped_column(ForeignKey("org.id", ondelete="CASCADE"),
                                               index=True)
    org_path: Mapped[str | None] = mapped_column(String(512), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id",
                                                              ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OaCampaign(Base):
    """One notification campaign; ``channels`` are the external channels chosen (the inbox is
    always on); ``recipients`` is how many members the batch reached (the inbox rows)."""

    __tablename__ = "oa_campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id", ondelete="RESTRICT"), index=True)
    org_path: Mapped[str] = mapped_column(String(512), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    sms: Mapped[str] = mapped_column(String(300), default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    audience_key: Mapped[str] = mapped_column(String(100))
    audience_value: Mapped[str] = mapped_column(String(100))
    audience_label: Mapped[str] = mapped_column(String(300), default="")
    channels: Mapped[list[Any]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), default=CampaignState.DRAFT)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    notify_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("notify_batch.id", ondelete="SET NULL"))
    #: The compose form's one-time key: a double-submitted form finds its campaign again.
    form_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id",
                                                              ondelete="SET NULL"))
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def state_label(self) -> str:
        return CAMPAIGN_STATE_LABELS.get(self.state, self.state)


MODELS = (OaMessageTemplate, OaCampaign)
