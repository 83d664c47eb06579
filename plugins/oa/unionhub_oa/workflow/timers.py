"""The approval timers (job ``oa.approval_timers``, on beat every five minutes).

- **Remind** once (``reminded_at``) each pending task due within ``oa.remind_before_hours``.
- **Escalate** once (``escalated_at``) each overdue pending task: it is handed (TRANSFERRED) to
  an active officer holding the step's role at the parent of the task's org — walking up, and
  at the top the city admins — with a new deadline. A delegate's task is not escalated (its
  delegator's task waits for it), nor a task when nobody above can take it.
- **Redeliver** decisions whose owning plugin was not listening when the request ended.

Each escalation bumps the request like an approver's action and runs in its own savepoint: a
race with an approver acting at that moment loses cleanly (that task is left alone) and the
run goes on. Running twice changes nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from unionhub.db import utcnow
from unionhub.orgs.models import Org
from unionhub.web.formatting import local_time

from . import engine, notices, resolve
from .models import OaAction, OaRequest, OaTask, RequestState, TaskState

BATCH = 500


@contextmanager
def _savepoint(s: Session) -> Iterator[None]:
    """A real savepoint on SQLite too (the sqlite3 driver opens its transaction lazily, so a
    SAVEPOINT after nothing but reads would start — and its release commit — the
    transaction)."""
    conn = s.connection()
    if conn.dialect.name == "sqlite":
        raw = conn.connection.dbapi_connection
        if raw is not None and not getattr(raw, "in_transaction", True):
            conn.exec_driver_sql("BEGIN")
    with s.begin_nested():
        yield


def _remind_before() -> timedelta:
    from unionhub.settings import service as settings

    try:
        hours = int(settings.get("oa.remind_before_hours") or 0)
    except (KeyError, TypeError, ValueError):
        hours = 4
    return timedelta(hours=max(hours, 0))


def remind(s: Session, now: datetime) -> int:
    """Remind the assignees of pending tasks falling due within the reminder window."""
    soon = now + _remind_before()
    tasks = list(s.scalars(select(OaTask).where(
        OaTask.state == TaskState.PENDING, OaTask.due_at.is_not(None), OaTask.due_at > now,
        OaTask.due_at <= soon, OaTask.reminded_at.is_(None)).order_by(OaTask.id).limit(BATCH)))
    done = 0
    for task in tasks:
        claimed = s.execute(update(OaTask).where(
            OaTask.id == task.id, OaTask.state == TaskState.PENDING,
            OaTask.reminded_at.is_(None)).values(reminded_at=now)
            .execution_options(synchronize_session="fetch"))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        request = s.get(OaRequest, task.request_id)
        if request is None:
            continue
        defn = engine.definition_of(s, request)
        step = defn.steps[task.step]
        due = local_time(task.due_at)
        s.add(OaAction(request_id=request.id, actor_id=None, action="remind", step=task.step,
                       details={"task": task.id, "assignee": _name(s, task.assignee_id),
                                "due_at": task.due_at.isoformat() if task.due_at else None},
                       at=now))
        notices.send(s, notices.REMIND, [task.assignee_id],
                     {**engine._context(s, request, step), "due": due}, f"task:{task.id}")
        done += 1
    s.flush()
    return done


def _name(s: Session, account_id: int | None) -> str:
    return engine._names(s, [account_id]).get(account_id or 0, "")


def _busy(s: Session, task: OaTask) -> set[int]:
    """Accounts already holding an open task in the task's step and round."""
    return set(s.scalars(select(OaTask.assignee_id).where(
        OaTask.request_id == task.request_id, OaTask.round == task.round,
        OaTask.step == task.step, OaTask.state.in_(engine.OPEN))))


def _above(s: Session, request: OaRequest, task: OaTask, role: str | None
           ) -> resolve.Resolved:
    """Who takes an overdue task: the step's role at the parent of the task's org (walking
    up), else — or for named approvers — the city admins; never someone already on it."""
    busy = _busy(s, task)
    origin = s.get(Org, request.org_id)
    assert origin is not None
    org = s.get(Org, task.org_id) if task.org_id else None
    if role and org is not None and org.parent_id is not None:
        parent = s.get(Org, org.parent_id)
        assert parent is not None
        found = resolve.walk_up(s, role, parent, busy)
        if found.accounts:
            return found
    return resolve.city_admins(s, origin, busy)


def escalate_one(s: Session, task: OaTask, now: datetime) -> bool:
    """Escalate one overdue task (in the caller's savepoint); False when it was not (taken
    meanwhile, or nobody above)."""
    request = engine._lock_request(s, task.request_id, None)
    s.refresh(task)
    if request.state != RequestState.RUNNING or task.state != TaskState.PENDING \
            or task.escalated_at is not None or task.round != request.round:
        return False
    defn = engine.definition_of(s, request)
    step = defn.steps[task.step]
    role = step.approvers.role if step.approvers.by == "role" else None
    found = _above(s, request, task, role)
    if not found.accounts:
        s.execute(update(OaTask).where(OaTask.id == task.id).values(escalated_at=now)
                  .execution_options(synchronize_session="fetch"))
        s.add(OaAction(request_id=request.id, actor_id=None, action="escalate", step=task.step,
                       details={"task": task.id, "from": _name(s, task.assignee_id),
                                "to": None}, at=now))
        return False
    to_id, org_id = found.accounts[0]
    claimed = s.execute(update(OaTask).where(
        OaTask.id == task.id, OaTask.state == TaskState.PENDING,
        OaTask.escalated_at.is_(None)).values(state=TaskState.TRANSFERRED, escalated_at=now)
        .execution_options(synchronize_session="fetch"))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    new = OaTask(request_id=request.id, step=task.step, round=task.round, seq=task.seq,
                 assignee_id=to_id, org_id=org_id, state=TaskState.PENDING,
                 due_at=engine._due(step, now), created_at=now)
    s.add(new)
    s.flush()
    s.add(OaAction(request_id=request.id, actor_id=None, action="escalate", step=task.step,
                   details={"task": task.id, "new_task": new.id,
                            "from": _name(s, task.assignee_id), "to": _name(s, to_id),
                            **found.details()}, at=now))
    engine._notify_todo(s, request, step, [new])
    s.flush()
    return True


def escalate(s: Session, now: datetime) -> int:
    overdue = list(s.scalars(select(OaTask.id).where(
        OaTask.state == TaskState.PENDING, OaTask.due_at.is_not(None), OaTask.due_at <= now,
        OaTask.escalated_at.is_(None), OaTask.delegated_from_id.is_(None))
        .order_by(OaTask.due_at, OaTask.id).limit(BATCH)))
    done = 0
    for task_id in overdue:
        try:
            with _savepoint(s):
                task = s.get(OaTask, task_id)
                if task is not None and escalate_one(s, task, now):
                    done += 1
        except (StaleDataError, engine.Conflict, engine.EngineError):
            continue  # an approver acted at that moment, or nobody can take it: next run
    return done


def redeliver(s: Session) -> int:
    """Report again the decisions their owning plugin did not hear."""
    requests = list(s.scalars(select(OaRequest).where(
        OaRequest.undelivered.is_(True), OaRequest.state != RequestState.RUNNING)
        .order_by(OaRequest.id).limit(BATCH)))
    done = 0
    for request in requests:
        last = s.scalars(select(OaAction).where(
            OaAction.request_id == request.id, OaAction.action == "finish")
            .order_by(OaAction.id.desc()).limit(1)).first()
        approved = request.state == RequestState.APPROVED
        if engine.deliver(s, request, approved, last.actor_id if last else None,
                          last.opinion if last else None):
            done += 1
    s.flush()
    return done


def run_timers(s: Session, now: datetime | None = None) -> dict[str, int]:
    """One pass of the timers (writes; the caller commits)."""
    now = now or utcnow()
    return {"reminded": remind(s, now), "escalated": escalate(s, now),
            "redelivered": redeliver(s)}


def timers_job(ctx: Any) -> dict[str, Any]:
    """Job ``oa.approval_timers``."""
    from unionhub import db

    s = db.session()
    result = run_timers(s)
    s.commit()
    if ctx is not None:
        ctx.counts.update(result)
    return result


__all__ = ["escalate", "escalate_one", "redeliver", "remind", "run_timers", "timers_job"]
