"""Notification tables.

``notify_batch`` is one send (a campaign, or one event) with its rendered message;
``notify_outbox`` holds one row per (batch, member, channel) — the unique key is what makes a
send exactly-once — and the row's state machine is the dispatcher's only memory, so sending
survives restarts and quota windows. ``notification`` is the member's in-site inbox.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from unionhub.db import Base, UTCDateTime, utcnow


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    FALLBACK = "fallback"  # not deliverable on this channel; a row for the fallback exists
    DEFERRED = "deferred"  # waits for next_attempt_at (quota window, back-off)


OUTBOX_STATUS_LABELS = {"pending": "排队中", "sending": "发送中", "sent": "已发送",
                        "failed": "失败", "fallback": "已转短信", "deferred": "延后发送"}
#: Rows the dispatcher may claim (when due).
CLAIMABLE = (OutboxStatus.PENDING, OutboxStatus.DEFERRED)


class BindingStatus(StrEnum):
    ACTIVE = "active"
    UNFOLLOWED = "unfollowed"  # WeChat 43004 or an unsubscribe event
    INVALID = "invalid"  # WeChat 40003


class NotifyBatch(Base):
    __tablename__ = "notify_batch"
    __table_args__ = (UniqueConstraint("type_key", "key", name="uq_notify_batch_type_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type_key: Mapped[str] = mapped_column(String(100))
    #: The caller's idempotency key: sending the same (type, key) again adds only new rows.
    key: Mapped[str] = mapped_column(String(200))
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotifyOutbox(Base):
    __tablename__ = "notify_outbox"
    __table_args__ = (
        UniqueConstraint("batch_id", "member_id", "channel", name="uq_notify_outbox_once"),
        Index("ix_notify_outbox_due", "channel", "status", "next_attempt_at", "id"),
        Index("ix_notify_outbox_msgid", "msgid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("notify_batch.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Which dispatcher run holds the row while "sending" (its results apply only to it).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    msgid: Mapped[str | None] = mapped_column(String(64))
    receipt: Mapped[str | None] = mapped_column(String(64))
    receipt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(300))
    fallback_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("notify_outbox.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def status_label(self) -> str:
        return OUTBOX_STATUS_LABELS.get(self.status, self.status)


class Notification(Base):
    """The in-site inbox: written in the sending transaction, once per (batch, member)."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("batch_id", "member_id", name="uq_notification_once"),
        Index("ix_notification_member_unread", "member_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    batch_id: Mapped[int] = mapped_column(ForeignKey("notify_batch.id", ondelete="CASCADE"))
    type_key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotifyPreference(Base):
    """A member's explicit choice for one (type, channel); no row means the type's default."""

    __tablename__ = "notify_preference"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    type_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class NotifyBinding(Base):
    """A member's address on a channel that is not in the member record: the WeChat openid
    (bound through the card check and OAuth) or an e-mail address."""

    __tablename__ = "notify_binding"
    __table_args__ = (
        UniqueConstraint("member_id", "channel", name="uq_notify_binding_member"),
        UniqueConstraint("channel", "address", name="uq_notify_binding_address"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=BindingStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class NotifyReceipt(Base):
    """A WeChat delivery receipt whose msgid matched no outbox row yet (it arrived before the
    sender recorded the msgid, or the sender crashed before recording it)."""

    __tablename__ = "notify_receipt"

    msgid: Mapped[str] = mapped_column(String(64), primary_key=True)
    openid: Mapped[str | None] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NotifyQuota(Base):
    """Messages reserved per channel and quota window, shared by every worker."""

    __tablename__ = "notify_quota"

    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)  # "minute" | "day"
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


class NotifyState(Base):
    """Small shared state with an expiry: the one WeChat access token, channel stops after a
    quota error, one-time binding state tokens."""

    __tablename__ = "notify_state"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


MODELS = (NotifyBatch, NotifyOutbox, Notification, NotifyPreference, NotifyBinding,
          NotifyReceipt, NotifyQuota, NotifyState)
