"""The data-exchange run's tables.

A run (:class:`OaRun`) is one period's member/Jingka file going through the core import
(stage → preview → optional approval → apply), the plugins' reactions, the accounting and
the notification of every affected worker. ``steps`` is the run's own timeline (what the run
page shows while the job works); ``result`` is what it ended with. :class:`OaRunMember`
records which members the run touched, and how — the audience of its notifications and of
campaigns ("members touched by a run").
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from unionhub.db import Base, UTCDateTime, utcnow


class RunState(StrEnum):
    UPLOADED = "uploaded"
    STAGING = "staging"
    PREVIEW = "preview"
    AWAITING_APPROVAL = "awaiting_approval"
    APPLYING = "applying"
    ACCOUNTING = "accounting"
    NOTIFYING = "notifying"
    DONE = "done"
    FAILED = "failed"
    REJECTED = "rejected"
    DISCARDED = "discarded"


RUN_STATE_LABELS = {
    "uploaded": "已上传", "staging": "校验中", "preview": "待确认", "awaiting_approval": "审批中",
    "applying": "应用中", "accounting": "核算中", "notifying": "通知中", "done": "已完成",
    "failed": "失败", "rejected": "已驳回", "discarded": "已放弃",
}
#: States in which the run's job is (or is about to be) working: the page refreshes itself.
WORKING = ("uploaded", "staging", "applying", "accounting", "notifying")
#: States the run never leaves.
FINAL = ("done", "rejected", "discarded")
#: Badge classes of the core CSS per state.
RUN_STATE_BADGES = {"done": "ok", "failed": "left", "rejected": "left", "discarded": "closed"}


class MemberKind(StrEnum):
    NEW = "new"
    LEFT = "left"
    CARD_REPLACED = "card_replaced"


MEMBER_KIND_LABELS = {"new": "新入会", "left": "退会/转出", "card_replaced": "补卡换号"}


class OaRun(Base):
    __tablename__ = "oa_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The period the federation's file covers, ``YYYY-MM``.
    period: Mapped[str] = mapped_column(String(16))
    plan_year: Mapped[int] = mapped_column(Integer)
    #: The importing officer's top org (where they hold ``oa.exchange.run``).
    org_id: Mapped[int] = mapped_column(ForeignKey("org.id", ondelete="RESTRICT"), index=True)
    org_path: Mapped[str] = mapped_column(String(512), index=True)
    state: Mapped[str] = mapped_column(String(24), default=RunState.UPLOADED)
    require_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Apply straight after the preview, without a confirmation (demo and benchmark).
    auto_apply: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The approval engine's reference while (and after) the run waits for sign-off.
    approval_ref: Mapped[str | None] = mapped_column(String(64))
    import_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batch.id", ondelete="SET NULL"), index=True)
    #: The job working on the run now (or last).
    job_id: Mapped[int | None] = mapped_column(Integer)
    #: ``[{key, label, state, started_at, finished_at, seconds, counts, note}]``
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    accounting_snapshot_id: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def state_label(self) -> str:
        return RUN_STATE_LABELS.get(self.state, self.state)

    @property
    def badge(self) -> str:
        return RUN_STATE_BADGES.get(self.state, "")

    @property
    def working(self) -> bool:
        return self.state in WORKING

    def step(self, key: str) -> dict[str, Any] | None:
        return next((st for st in self.steps or () if st.get("key") == key), None)


class OaRunMember(Base):
    """A member a run touched: a new member, one who left (or transferred out), or one whose
    Jingka was replaced by a new number."""

    __tablename__ = "oa_run_member"

    run_id: Mapped[int] = mapped_column(ForeignKey("oa_run.id", ondelete="CASCADE"),
                                        primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"),
                                           primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)


MODELS = (OaRun, OaRunMember)
