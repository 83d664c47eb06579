"""The approval engine's tables.

A workflow (流程) has versions; a version's ``definition`` (JSON, checked by
:func:`unionhub_oa.workflow.definition.parse`) lists the form fields and the steps. A request
(审批单) keeps the version it started with. Each active step has tasks (one per approver);
every action lands in the append-only trail. ``OaRequest.lock`` is SQLAlchemy's version
counter: two approvers acting at the same moment both bump it, and the slower one's flush
fails (optimistic locking), so only one of them changes the request.
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


class OaWorkflow(Base):
    """A kind of request: ``kind`` is what it signs off (``oa.general``, ``oa.document``,
    ``oa.exchange_run``, or another plugin's ``portal.article``…); one enabled workflow per
    kind is used for requests coming through ``unionhub_approval_start``."""

    __tablename__ = "oa_workflow"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(100), index=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The version new requests start with.
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OaWorkflowVersion(Base):
    """One version of a workflow's definition; never edited once a request uses it (an edit
    makes a new version)."""

    __tablename__ = "oa_workflow_version"
    __table_args__ = (UniqueConstraint("workflow_id", "version",
                                       name="uq_oa_workflow_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("oa_workflow.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id",
                                                              ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RequestState(StrEnum):
    RUNNING = "running"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


REQUEST_STATE_LABELS = {"running": "审批中", "approved": "已通过", "rejected": "已驳回",
                        "withdrawn": "已撤回"}


class OaRequest(Base):
    """One request going through a workflow version."""

    __tablename__ = "oa_request"
    __table_args__ = (Index("ix_oa_request_initiator", "initiator_id", "created_at"),
                      Index("ix_oa_request_subject", "kind", "subject_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("oa_workflow_version.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(100))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    #: The initiating org (approvers are resolved relative to it) and its path (scoping).
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id", ondelete="RESTRICT"), index=True)
    org_path: Mapped[str] = mapped_column(String(512), index=True)
    initiator_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(String(300), default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=RequestState.RUNNING, index=True)
    #: Index into the version's steps of the active step (None when ended).
    step: Mapped[int | None] = mapped_column(Integer)
    #: Bumped each time a step is (re)activated: tasks of an older round are history.
    round: Mapped[int] = mapped_column(Integer, default=0)
    #: True once any approver acted (then the initiator can no longer withdraw).
    touched: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The decision not yet delivered to its owning plugin (disabled at the time).
    undelivered: Mapped[bool] = mapped_column(Boolean, default=False)
    lock: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": lock}

    @property
    def ref(self) -> str:
        """What ``unionhub_approval_start`` returns for this request."""
        return f"oa-{self.id}"

    @property
    def state_label(self) -> str:
        return REQUEST_STATE_LABELS.get(self.state, self.state)


class TaskState(StrEnum):
    WAITING = "waiting"  # sequential mode: not this approver's turn yet
    PENDING = "pending"  # to do (待办)
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"  # sent the request back to an earlier step
    TRANSFERRED = "transferred"  # handed over for good (转办)
    DELEGATED = "delegated"  # lent to someone; comes back to pending when they answer
    ANSWERED = "answered"  # a delegate's answer (the delegator decides)
    CANCELLED = "cancelled"  # the step or request ended without this approver


TASK_STATE_LABELS = {"waiting": "等待中", "pending": "待处理", "approved": "同意",
                     "rejected": "不同意", "returned": "退回", "transferred": "已转办",
                     "delegated": "已委托", "answered": "已回复", "cancelled": "无需处理"}


class OaTask(Base):
    """One approver's part in one round of one step."""

    __tablename__ = "oa_task"
    __table_args__ = (Index("ix_oa_task_assignee", "assignee_id", "state"),
                      Index("ix_oa_task_request", "request_id", "round"),
                      Index("ix_oa_task_due", "state", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("oa_request.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    #: Order within a sequential step (0, 1, …); 0 for the other modes.
    seq: Mapped[int] = mapped_column(Integer, default=0)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    #: The org whose officer this approver is (escalation goes to its parent).
    org_id: Mapped[int | None] = mapped_column(ForeignKey("org.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default=TaskState.PENDING)
    #: A delegate's task points at the delegator's (which comes back when this is answered).
    delegated_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("oa_task.id", ondelete="SET NULL"))
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"))  # 加签 / 转办 / 上报 by whom
    opinion: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def state_label(self) -> str:
        return TASK_STATE_LABELS.get(self.state, self.state)


ACTION_LABELS = {
    "start": "发起", "approve": "同意", "reject": "不同意", "return": "退回", "withdraw": "撤回",
    "transfer": "转办", "delegate": "委托", "answer": "委托回复", "add_signer": "加签",
    "cc": "抄送", "comment": "评论", "attach": "上传附件", "remind": "超时提醒",
    "escalate": "超时上报", "step": "进入环节", "finish": "结束",
}


class OaAction(Base):
    """The append-only trail of a request: never updated or deleted by the application."""

    __tablename__ = "oa_action"
    __table_args__ = (Index("ix_oa_action_request", "request_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("oa_request.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(16))
    step: Mapped[int | None] = mapped_column(Integer)
    opinion: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)


class OaCc(Base):
    """A request copied to an account (抄送): it appears in their CC inbox."""

    __tablename__ = "oa_cc"
    __table_args__ = (UniqueConstraint("request_id", "account_id", name="uq_oa_cc"),
                      Index("ix_oa_cc_account", "account_id", "read_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("oa_request.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OaAttachment(Base):
    """A file attached to a request or a document (``owner`` is ``request`` or
    ``document``); stored under ``instance/oa/files/<sha256[:2]>/<sha256>``."""

    __tablename__ = "oa_attachment"
    __table_args__ = (Index("ix_oa_attachment_owner", "owner", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("account.id",
                                                               ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


MODELS = (OaWorkflow, OaWorkflowVersion, OaRequest, OaTask, OaAction, OaCc, OaAttachment)
