"""The worker hotline's tables (``portal_hotline_*``): questions and their append-only trail.

A question is addressed to one org (by default the asker's grassroots union); officers holding
``portal.hotline.answer`` on that org see it (scope filter on ``Org.path`` through ``org_id``).
Its life: ``new`` → ``assigned`` (an officer of the right org) → ``answered`` (the member is
notified) → ``published`` (a redacted copy is shown publicly) or ``closed``. ``due_at`` is the
service-level deadline (working hours after ``asked_at``); ``escalated_at`` is set once, by the
escalation job, when an open question passes it.

Every change appends a :class:`PortalHotlineEvent` (never updated or deleted). Published text
lives in its own columns (``public_*``): the member's words and the officer's answer stay as
they were, and only the redacted copy an officer approved is ever shown to the public.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from unionhub.db import Base, UTCDateTime, utcnow
from unionhub.identity.models import Account, Member
from unionhub.orgs.models import Org

SUBJECT_MAX = 80
BODY_MAX = 2000
ANSWER_MAX = 5000
NOTE_MAX = 500


class HotlineState(StrEnum):
    NEW = "new"  # asked, nobody assigned yet
    ASSIGNED = "assigned"  # an officer is responsible
    ANSWERED = "answered"  # answered; the member was notified
    PUBLISHED = "published"  # the redacted Q&A is public
    CLOSED = "closed"  # done without (or withdrawn from) publication


#: States in which a question still waits for an answer (the service-level clock runs).
OPEN_STATES = (HotlineState.NEW, HotlineState.ASSIGNED)


class HotlineEventKind(StrEnum):
    ASKED = "asked"
    ASSIGNED = "assigned"
    REASSIGNED = "reassigned"
    ANSWERED = "answered"
    PUBLISHED = "published"
    CLOSED = "closed"
    ESCALATED = "escalated"
    RATED = "rated"


class PortalHotlineQuestion(Base):
    """One question to the worker hotline (职工热线)."""

    __tablename__ = "portal_hotline_question"
    __table_args__ = (
        Index("ix_portal_hotline_question_state_due", "state", "due_at"),
        Index("ix_portal_hotline_question_org_state", "org_id", "state"),
        Index("ix_portal_hotline_question_public", "state", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The asking member and account (SET NULL: the question outlives a deleted account).
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("member.id", ondelete="SET NULL"), index=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    #: The union the question is addressed to (its officers answer it).
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id", ondelete="RESTRICT"))
    category: Mapped[str] = mapped_column(String(24))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    body: Mapped[str] = mapped_column(Text)
    #: Shown to the public as "匿名职工" when published (officers always see the asker).
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Where it was asked: pc, mobile or app.
    channel: Mapped[str] = mapped_column(String(8), default="pc")
    state: Mapped[str] = mapped_column(String(12), default=HotlineState.NEW)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The service-level deadline: ``portal.hotline_answer_hours`` working hours after asking.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Set once by the escalation job when the question was still open past ``due_at``.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    #: The redacted copy shown to the public (an officer edited it from the redaction).
    public_subject: Mapped[str | None] = mapped_column(String(SUBJECT_MAX))
    public_question: Mapped[str | None] = mapped_column(Text)
    public_answer: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The member's satisfaction with the answer, 1–5 (optional).
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    member: Mapped[Member | None] = relationship(foreign_keys=[member_id])
    org: Mapped[Org] = relationship(foreign_keys=[org_id])
    assignee: Mapped[Account | None] = relationship(foreign_keys=[assignee_id])
    answerer: Mapped[Account | None] = relationship(foreign_keys=[answered_by])

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class PortalHotlineEvent(Base):
    """One step in a question's trail (append-only)."""

    __tablename__ = "portal_hotline_event"
    __table_args__ = (Index("ix_portal_hotline_event_question", "question_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("portal_hotline_question.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    #: Who did it (NULL: the system, e.g. the escalation job).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX))
    #: e.g. ``{"assignee_id": 7}``, ``{"notified": 3}``.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[Account | None] = relationship(foreign_keys=[actor_id])


MODELS = (PortalHotlineQuestion, PortalHotlineEvent)
