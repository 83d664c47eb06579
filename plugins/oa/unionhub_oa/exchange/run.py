"""The data-exchange run (数据交换): one period's member/Jingka file, as one tracked job.

Steps (``OaRun.steps``, shown on the run page while the job works):

1. 接收文件 — :func:`create_run` registers the upload as a core import batch (handler
   ``core.members``, params ``{"oa_run": run id}``) and submits the job's ``stage`` phase;
2. 校验与预览 — the core stages and reviews the file: preview counts and rejected rows;
3. 审批确认 — an approval through ``unionhub_approval_start`` (kind ``oa.exchange_run``) when
   the run asks for one, else an officer's 确认应用 (or nothing, for ``auto_apply``);
4. 应用变更 — the job's ``apply`` phase: the core applies the batch in one transaction, and
   every plugin reacts inside it (mutual aid; this plugin records :class:`OaRunMember`);
5. 互助核算 — ``unionhub_oa.accounting.compute.compute`` for the run's plan year;
6. 通知会员 — one notification batch per kind of change (``run-<id>-<kind>``), queued in the
   outbox; the core's dispatcher delivers it.

Each step's state is committed in its own short transaction, so the page shows progress
while the job runs. A failure marks the run failed with the error; a failed apply leaves the
import batch ready (the core's behaviour), so :func:`retry` submits the apply phase again —
it skips what is already done (an applied batch is not applied twice; notification batches
are idempotent by key).

Every state change that may race (a double click, an approval decided twice, a job delivered
twice) is a conditional ``UPDATE … WHERE state = …`` checking the row count.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from unionhub import db
from unionhub.db import utcnow
from unionhub.i18n import _
from unionhub.identity.models import Account
from unionhub.imports.models import BatchStatus, ImportBatch
from unionhub.orgs.models import Org

from .models import WORKING, MemberKind, OaRun, OaRunMember, RunState

JOB_KEY = "exchange_run"
JOB_KIND = f"oa.{JOB_KEY}"
APPROVAL_KIND = "oa.exchange_run"
IMPORT_HANDLER = "core.members"
PERMISSION = "oa.exchange.run"
ALLOWED_SUFFIXES = (".csv", ".xlsx")
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MIN_YEAR, MAX_YEAR = 2000, 2100

STEPS: tuple[tuple[str, str], ...] = (
    ("upload", "接收文件"),
    ("stage", "校验与预览"),
    ("approval", "审批确认"),
    ("apply", "应用变更"),
    ("accounting", "互助核算"),
    ("notify", "通知会员"),
)
ENDED = ("done", "failed", "rejected", "skipped")
STEP_STATE_LABELS = {"todo": "未开始", "running": "进行中", "waiting": "等待确认",
                     "done": "完成", "skipped": "跳过", "failed": "失败", "rejected": "已驳回"}
#: The preview counts shown on the run page, in order.
PREVIEW_LABELS = {"new": "新会员", "changed": "信息变更", "cards_replaced": "补卡换号",
                  "card_status": "卡状态变更", "left": "退会转出", "rejected": "错误行"}
APPLIED_LABELS = {"created": "已新增", "updated": "已更新", "cards_replaced": "补卡换号",
                  "card_status": "卡状态变更"}
ACCOUNTING_LABELS = {"headcount": "人数", "shares": "份数", "due": "应缴（元）",
                     "billed": "已开缴费单（元）", "received": "已收（元）",
                     "difference": "差额（元）"}

Progress = Callable[..., None]


class RunError(ValueError):
    """A run that cannot be created or moved on; the message is for the officer."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _quiet(*_args: Any, **_kwargs: Any) -> None:
    return None


# --- steps --------------------------------------------------------------------------------


def new_steps(now: datetime) -> list[dict[str, Any]]:
    out = [{"key": key, "label": label, "state": "todo", "started_at": None,
            "finished_at": None, "seconds": None, "counts": {}, "note": "", "by": ""}
           for key, label in STEPS]
    out[0].update(state="done", started_at=now.isoformat(), finished_at=now.isoformat(),
                  seconds=0.0)
    return out


def set_step(run: OaRun, key: str, state: str, *, counts: Mapping[str, Any] | None = None,
             note: str | None = None, by: str | None = None) -> None:
    """Move step ``key`` to ``state``, timing it from running to an end state. ``note`` is a
    fixed phrase (translated when shown), ``by`` who acted (an approver's name and opinion)."""
    now = utcnow()
    steps = [dict(st) for st in run.steps or ()]
    for st in steps:
        if st["key"] != key:
            continue
        if state == "running":
            st.update(started_at=now.isoformat(), finished_at=None, seconds=None)
        elif state in ENDED:
            started = st.get("started_at") or now.isoformat()
            st.update(started_at=started, finished_at=now.isoformat(), seconds=round(
                (now - datetime.fromisoformat(started)).total_seconds(), 3))
        st["state"] = state
        if counts is not None:
            st["counts"] = dict(counts)
        if note is not None:
            st["note"] = note
        if by is not None:
            st["by"] = by
    run.steps = steps


# --- creating a run -----------------------------------------------------------------------


def top_org(session: Session, account: Account) -> Org | None:
    """The highest org where ``account`` may run the data exchange (its run's scope)."""
    from unionhub.access.models import RoleGrant
    from unionhub.access.service import roles_with

    return session.scalar(
        select(Org).join(RoleGrant, RoleGrant.org_id == Org.id)
        .where(RoleGrant.account_id == account.id,
               RoleGrant.role.in_(roles_with(PERMISSION, session)))
        .order_by(Org.depth, Org.id).limit(1))


def check_inputs(period: str, plan_year: Any, filename: str) -> tuple[str, int]:
    """The period and plan year as stored, or :class:`RunError` naming the field."""
    period = (period or "").strip()
    if not PERIOD_RE.match(period):
        raise RunError(_("期间须为“年-月”，如 2026-11"), "period")
    try:
        year = int(str(plan_year).strip())
    except ValueError:
        raise RunError(_("参保年度须为四位年份"), "plan_year") from None
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise RunError(_("参保年度须为四位年份"), "plan_year")
    if Path(filename or "").suffix.lower() not in ALLOWED_SUFFIXES:
        raise RunError(_("只支持 CSV 或 XLSX 文件"), "file")
    return period, year


def create_run(session: Session, app: Flask, account: Account, *, period: str, plan_year: int,
               path: Path, filename: str, require_approval: bool = False,
               auto_apply: bool = False) -> OaRun:
    """Register the file as a run and its core import batch, and submit the stage phase
    (dispatched when the caller commits)."""
    from unionhub.audit import service as audit
    from unionhub.imports import engine
    from unionhub.jobs import submit

    period, year = check_inputs(period, plan_year, filename)
    org = top_org(session, account)
    if org is None:
        raise RunError(_("您没有运行数据交换的权限"))
    now = utcnow()
    run = OaRun(period=period, plan_year=year, org_id=org.id, org_path=org.path,
                state=RunState.UPLOADED, require_approval=bool(require_approval),
                auto_apply=bool(auto_apply), steps=new_steps(now), result={},
                created_by=account.id, created_at=now)
    session.add(run)
    session.flush()
    batch = engine.create_batch(session, app, IMPORT_HANDLER, path, filename, account.id,
                                params={"oa_run": run.id})
    run.import_batch_id = batch.id
    set_step(run, "upload", "done", counts={"bytes": batch.size}, by=account.display_name)
    job = submit(JOB_KIND, {"run_id": run.id, "phase": "stage"}, session=session,
                 owner_id=account.id, org_id=org.id)
    run.job_id = job.id
    audit.record("oa.exchange.run.create", target_type="oa_run", target_id=run.id,
                 org_path=org.path, details={"period": period, "plan_year": year,
                                             "file": batch.filename, "import": batch.id},
                 actor=account, session=session)
    return run


# --- officer actions ----------------------------------------------------------------------


def _transition(session: Session, run: OaRun, from_states: tuple[str, ...], to: str) -> bool:
    taken = session.execute(
        update(OaRun).where(OaRun.id == run.id, OaRun.state.in_(from_states))
        .values(state=to).execution_options(synchronize_session=False)).rowcount
    if taken:
        run.state = to
    return bool(taken)


def _submit_apply(session: Session, run: OaRun, owner_id: int | None) -> None:
    from unionhub.jobs import submit

    job = submit(JOB_KIND, {"run_id": run.id, "phase": "apply"}, session=session,
                 owner_id=owner_id, org_id=run.org_id)
    run.job_id = job.id


def confirm(session: Session, run: OaRun, account: Account | None) -> None:
    """An officer's 确认应用 of a previewed run (no approval engine took it)."""
    from unionhub.audit import service as audit

    if not _transition(session, run, (RunState.PREVIEW,), RunState.APPLYING):
        raise RunError(_("该运行不在待确认状态"))
    set_step(run, "approval", "done", note="已确认应用",
             by=account.display_name if account is not None else "")
    _submit_apply(session, run, account.id if account is not None else run.created_by)
    audit.record("oa.exchange.run.confirm", target_type="oa_run", target_id=run.id,
                 org_path=run.org_path, details={"period": run.period}, actor=account,
                 session=session)


DISCARDABLE = (RunState.PREVIEW, RunState.AWAITING_APPROVAL, RunState.FAILED)


def can_discard(session: Session, run: OaRun) -> bool:
    batch = session.get(ImportBatch, run.import_batch_id) if run.import_batch_id else None
    return run.state in DISCARDABLE and (batch is None or batch.status in (
        BatchStatus.READY, BatchStatus.FAILED))


def discard(session: Session, app: Flask, run: OaRun, account: Account | None) -> None:
    """放弃: nothing of the file is applied; the staged rows are dropped."""
    from unionhub.audit import service as audit
    from unionhub.imports import engine

    if not can_discard(session, run) or not _transition(session, run, DISCARDABLE,
                                                        RunState.DISCARDED):
        raise RunError(_("该运行不能放弃"))
    batch = session.get(ImportBatch, run.import_batch_id) if run.import_batch_id else None
    if batch is not None:
        engine.discard(session, app, batch)
    run.finished_at = utcnow()
    audit.record("oa.exchange.run.discard", target_type="oa_run", target_id=run.id,
                 org_path=run.org_path, details={"period": run.period}, actor=account,
                 session=session)


def can_retry(session: Session, run: OaRun) -> bool:
    """A failed run that was cleared to apply (confirmed, approved or automatic) and whose
    batch is still ready (a failed apply rolls back) or already applied (a later step
    failed) goes on from the apply phase; one that failed before must be uploaded again."""
    if run.state != RunState.FAILED or not run.import_batch_id:
        return False
    batch = session.get(ImportBatch, run.import_batch_id)
    cleared = (run.step("approval") or {}).get("state") in ("done", "skipped")
    return cleared and batch is not None and batch.status in (BatchStatus.READY,
                                                             BatchStatus.APPLIED)


def retry(session: Session, run: OaRun, account: Account | None) -> None:
    if not can_retry(session, run) or not _transition(session, run, (RunState.FAILED,),
                                                      RunState.APPLYING):
        raise RunError(_("该运行无法重试，请重新上传文件"))
    run.error = None
    run.finished_at = None
    _submit_apply(session, run, account.id if account is not None else run.created_by)


def reconcile(session: Session, run: OaRun) -> bool:
    """A run still marked working whose job ended without moving it on — cancelled before
    it started, or interrupted by a worker that died — is failed (with the job's error), so
    that the officer sees it and may retry. Returns whether the run changed."""
    from unionhub.jobs.models import Job, JobStatus

    if run.state not in WORKING or run.job_id is None:
        return False
    job = session.get(Job, run.job_id)
    if job is None or job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        return False
    if not _transition(session, run, WORKING, RunState.FAILED):
        return False
    cancelled = job.status == JobStatus.CANCELLED
    run.error = job.error or (CANCELLED if cancelled else INTERRUPTED)
    run.finished_at = utcnow()
    for st in run.steps or ():
        if st.get("state") == "running":
            set_step(run, st["key"], "failed")
    return True


def on_decided(session: Session, decision: Any) -> None:
    """The approval engine's decision on a run (idempotent: a decision for a run that no
    longer waits under ``decision.ref`` changes nothing). Approved: the apply phase is
    submitted; rejected: the run ends and its import batch is discarded."""
    from unionhub.imports import engine

    try:
        run = session.get(OaRun, int(decision.subject_id))
    except (TypeError, ValueError):
        return
    if run is None or (run.approval_ref and run.approval_ref != decision.ref):
        return
    who = ""
    if decision.by_id:
        acc = session.get(Account, decision.by_id)
        who = acc.display_name if acc is not None else ""
    opinion = (decision.opinion or "").strip()
    if decision.approved:
        if not _transition(session, run, (RunState.AWAITING_APPROVAL,), RunState.APPLYING):
            return
        set_step(run, "approval", "done", note="审批通过",
                 by=" ".join(p for p in (who, opinion) if p))
        _submit_apply(session, run, run.created_by)
        return
    if not _transition(session, run, (RunState.AWAITING_APPROVAL,), RunState.REJECTED):
        return
    set_step(run, "approval", "rejected", note="审批驳回",
             by=" ".join(p for p in (who, opinion) if p))
    batch = session.get(ImportBatch, run.import_batch_id) if run.import_batch_id else None
    if batch is not None and batch.status in (BatchStatus.READY, BatchStatus.FAILED):
        engine.discard(session, current_app._get_current_object(),  # type: ignore[attr-defined]
                       batch)
    run.finished_at = utcnow()


# --- the job ------------------------------------------------------------------------------


def exchange_job(ctx: Any) -> dict[str, Any]:
    """The job ``oa.exchange_run``: params ``{"run_id", "phase": "stage" | "apply"}``."""
    return run_phase(ctx.app, int(ctx.params["run_id"]), str(ctx.params.get("phase")),
                     ctx.progress)


def run_phase(app: Flask, run_id: int, phase: str, progress: Progress = _quiet
              ) -> dict[str, Any]:
    if phase == "stage":
        return _stage_phase(app, run_id, progress)
    if phase == "apply":
        return _apply_phase(app, run_id, progress)
    raise RunError(f"unknown phase {phase!r}")


def _fail(s: Session, run_id: int, step: str, message: str) -> None:
    s.rollback()
    run = s.get(OaRun, run_id)
    if run is None:
        return
    run.state = RunState.FAILED
    run.error = message[:2000]
    run.finished_at = utcnow()
    if (run.step(step) or {}).get("state") == "running":
        set_step(run, step, "failed")
    s.commit()


CANCELLED = "任务已取消"
INTERRUPTED = "任务中断"


def _error(exc: BaseException) -> str:
    """The run's error: our own and the import's messages as they are (they are for the
    officer), others with their class (they are bugs or outages, for whoever fixes them)."""
    from unionhub.imports.engine import ImportError_
    from unionhub.jobs.context import JobCancelled

    if isinstance(exc, JobCancelled):
        return CANCELLED
    if isinstance(exc, RunError | ImportError_):
        return str(exc)
    return f"{exc.__class__.__name__}: {exc}"


def _stage_phase(app: Flask, run_id: int, progress: Progress) -> dict[str, Any]:
    from unionhub.imports import engine

    s = db.session()
    run = s.get(OaRun, run_id)
    if run is None or not _transition(s, run, (RunState.UPLOADED,), RunState.STAGING):
        s.rollback()
        return {"skipped": run.state if run is not None else "missing"}
    set_step(run, "stage", "running")
    s.commit()
    batch_id = run.import_batch_id
    try:
        if batch_id is None:
            raise RunError(_("导入批次已不存在"))
        out = engine.stage(app, batch_id, progress)
    except Exception as exc:
        _fail(s, run_id, "stage", _error(exc))
        raise
    s.expire_all()
    batch = s.get(ImportBatch, batch_id)
    run = s.get(OaRun, run_id)
    assert run is not None
    if batch is None or batch.status != BatchStatus.READY:
        reason = out.get("rejected_file") or (batch.error if batch is not None else None)
        _fail(s, run_id, "stage", reason or _("文件校验失败"))
        return {"run_id": run_id, "state": RunState.FAILED, "error": reason}
    preview = {"rows": batch.rows, **batch.preview}
    set_step(run, "stage", "done", counts=preview)
    progress(batch.rows, batch.rows, _("预览已生成"), force=True)
    if run.require_approval:
        return _ask_approval(s, run, batch)
    if run.auto_apply:
        set_step(run, "approval", "skipped", note="自动应用")
        run.state = RunState.APPLYING
        s.commit()
        return {"preview": preview, **_apply_phase(app, run_id, progress)}
    run.state = RunState.PREVIEW
    set_step(run, "approval", "waiting", note="请核对预览后确认应用")
    s.commit()
    return {"run_id": run_id, "state": run.state, "preview": preview}


def _ask_approval(s: Session, run: OaRun, batch: ImportBatch) -> dict[str, Any]:
    """Ask the approval engine. The run waits before the engine is asked: an engine that
    decides at once (a workflow whose steps all skip) finds it waiting."""
    from unionhub import approvals
    from unionhub.contrib import ApprovalRequest

    p = batch.preview
    request = ApprovalRequest(
        APPROVAL_KIND, run.id, f"数据交换 {run.period}", run.org_id, run.created_by,
        url=f"/oa/runs/{run.id}",
        fields={"新会员": str(p.get("new", 0)), "退会/转出": str(p.get("left", 0)),
                "补卡换号": str(p.get("cards_replaced", 0)),
                "错误行": str(p.get("rejected", 0))})
    run.state = RunState.AWAITING_APPROVAL
    set_step(run, "approval", "running", note="已提交审批")
    s.flush()
    try:
        ref = approvals.start(request)
    except Exception as exc:
        _fail(s, run.id, "approval", _error(exc))
        raise
    if ref is None:
        if run.state == RunState.AWAITING_APPROVAL:
            run.state = RunState.PREVIEW
            set_step(run, "approval", "waiting", note="未配置审批流程，请核对预览后确认应用")
    else:
        run.approval_ref = ref
    s.commit()
    return {"run_id": run.id, "state": run.state, "approval_ref": ref}


def _apply_phase(app: Flask, run_id: int, progress: Progress) -> dict[str, Any]:
    from unionhub.imports import engine

    s = db.session()
    run = s.get(OaRun, run_id)
    if run is None or run.state != RunState.APPLYING:
        s.rollback()
        return {"skipped": run.state if run is not None else "missing"}
    batch = s.get(ImportBatch, run.import_batch_id) if run.import_batch_id else None
    if batch is None:
        _fail(s, run_id, "apply", _("导入批次已不存在"))
        return {"run_id": run_id, "state": RunState.FAILED}
    batch_id = batch.id
    if batch.status != BatchStatus.APPLIED:  # a retry after a later step skips this one
        set_step(run, "apply", "running")
        s.commit()
        try:
            engine.apply(app, batch_id, progress)
        except Exception as exc:
            _fail(s, run_id, "apply", _error(exc))
            raise
        s.expire_all()
        run = s.get(OaRun, run_id)
        batch = s.get(ImportBatch, batch_id)
        assert run is not None and batch is not None
        applied = {k: v for k, v in (batch.applied or {}).items() if k != "reactions"}
        set_step(run, "apply", "done", counts=applied)
    reactions = list((batch.applied or {}).get("reactions", []))

    run.state = RunState.ACCOUNTING
    set_step(run, "accounting", "running")
    s.commit()
    progress(0, 2, _("互助核算"), force=True)
    try:
        accounting = _accounting(s, run)
        set_step(run, "accounting", "done", counts=accounting.get("totals", {}))
        run.state = RunState.NOTIFYING
        set_step(run, "notify", "running")
        s.commit()
    except Exception as exc:
        _fail(s, run_id, "accounting", _error(exc))
        raise
    progress(1, 2, _("通知会员"), force=True)
    try:
        notified = notify_members(s, run)
        run.result = {
            "preview": dict((run.step("stage") or {}).get("counts") or {}),
            "applied": {k: v for k, v in (batch.applied or {}).items() if k != "reactions"},
            "reactions": reactions, "accounting": accounting, "notify": notified,
            "members": member_counts(s, run.id)}
        set_step(run, "notify", "done",
                 counts={kind: n["members"] for kind, n in notified.items()})
        run.state = RunState.DONE
        run.error = None
        run.finished_at = utcnow()
        s.commit()
    except Exception as exc:
        _fail(s, run_id, "notify", _error(exc))
        raise
    progress(2, 2, _("完成"), force=True)
    return {"run_id": run_id, "state": RunState.DONE, "seconds": step_seconds(run)}


def _accounting(s: Session, run: OaRun) -> dict[str, Any]:
    """Compute the plan year's accounting for the run (import lazily: a separate feature)."""
    try:
        from unionhub_oa.accounting.compute import compute
    except ImportError as exc:
        raise RunError(_("互助核算模块不可用：%(e)s", e=str(exc))) from exc
    snapshot = compute(s, run.plan_year, run_id=run.id, by_id=run.created_by)
    s.flush()
    run.accounting_snapshot_id = snapshot.id
    return {"snapshot_id": snapshot.id, "totals": dict(snapshot.totals or {})}


def member_counts(s: Session, run_id: int) -> dict[str, int]:
    rows = s.execute(select(OaRunMember.kind, func.count()).where(OaRunMember.run_id == run_id)
                     .group_by(OaRunMember.kind)).all()
    return {kind: int(n) for kind, n in rows}


def notify_members(s: Session, run: OaRun) -> dict[str, dict[str, int]]:
    """Queue one batch per kind of change for the run's members (idempotent by batch key:
    running it again queues nothing new)."""
    from unionhub import notify
    from unionhub.web.formatting import local_time

    from .notices import TYPE_KEY, context

    org = s.get(Org, run.org_id)
    org_name = org.name if org is not None else ""
    day = local_time(run.created_at or utcnow(), "%Y-%m-%d")
    counts = member_counts(s, run.id)
    out: dict[str, dict[str, int]] = {}
    for kind in MemberKind:
        n = counts.get(kind.value, 0)
        if not n:
            continue
        members = select(OaRunMember.member_id).where(OaRunMember.run_id == run.id,
                                                      OaRunMember.kind == kind.value)
        batch = notify.send(s, TYPE_KEY, members,
                            context(kind.value, period=run.period, org=org_name, date=day),
                            batch_key=f"run-{run.id}-{kind.value}", created_by=run.created_by)
        out[kind.value] = {"batch_id": batch.id, "members": n}
    return out


def step_seconds(run: OaRun) -> dict[str, float]:
    return {st["key"]: float(st["seconds"]) for st in run.steps or ()
            if st.get("seconds") is not None}


# --- in-process ---------------------------------------------------------------------------


def run_inline(app: Flask, run_id: int) -> OaRun:
    """Run the run's pending job in this process (the stage phase; it goes on to apply for
    ``auto_apply`` runs), then — when it stopped at the preview — confirm and run the apply
    phase. The same code as the job (``unionhub.jobs.service.run_job``); a job another
    worker already took is left to it. The run and its batch must be committed."""
    from unionhub.jobs import service as jobs

    with app.app_context():
        run = db.session().get(OaRun, run_id)
        if run is None:
            raise RunError(f"run {run_id} not found")
        job_id = run.job_id
    if job_id is not None:
        jobs.run_job(app, job_id)
    with app.app_context():
        s = db.session()
        run = s.get(OaRun, run_id)
        assert run is not None
        if run.state != RunState.PREVIEW:
            return run
        creator = s.get(Account, run.created_by) if run.created_by else None
        confirm(s, run, creator)
        s.commit()
        job_id = run.job_id
    assert job_id is not None
    jobs.run_job(app, job_id)
    with app.app_context():
        run = db.session().get(OaRun, run_id)
        assert run is not None
        return run
