"""Submitting and running jobs.

A job is a row in ``job`` first; the transport only carries its id. Production sends the id
to Celery after the submitting transaction commits; the embedded default wakes an
in-process runner that reads pending rows. Either way a claim is one conditional UPDATE
(pending → running), so a message delivered twice runs the job once.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from unionhub.db import utcnow
from unionhub.jobs.context import JobCancelled, JobContext
from unionhub.jobs.models import Job, JobStatus
from unionhub.jobs.types import BeatEntry, JobSpec

log = logging.getLogger(__name__)
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


class JobError(RuntimeError):
    pass


@dataclass
class JobRegistry:
    specs: dict[str, tuple[str, JobSpec]]
    beat: dict[str, tuple[str, BeatEntry]]

    @classmethod
    def build(cls, app: Flask) -> JobRegistry:
        from unionhub.plugins.discovery import PluginError

        services = app.extensions["unionhub"].registries.services
        specs: dict[str, tuple[str, JobSpec]] = {}
        for plugin, spec in services.get("unionhub_jobs", []):
            if not isinstance(spec, JobSpec):
                raise PluginError(f"插件 {plugin}: unionhub_jobs must return JobSpec")
            kind = f"{plugin}.{spec.key}"
            if kind in specs:
                raise PluginError(f"插件 {plugin}: duplicate job {kind}")
            specs[kind] = (plugin, spec)
        beat: dict[str, tuple[str, BeatEntry]] = {}
        overrides: Mapping[str, Mapping[str, Any]] = app.config.get("BEAT_OVERRIDES") or {}
        for plugin, entry in services.get("unionhub_beat", []):
            if not isinstance(entry, BeatEntry):
                raise PluginError(f"插件 {plugin}: unionhub_beat must return BeatEntry")
            key = f"{plugin}.{entry.key}"
            job = entry.job if entry.job in specs else f"{plugin}.{entry.job}"
            if job not in specs:
                raise PluginError(f"插件 {plugin}: beat entry {key} names unknown job {job}")
            o = overrides.get(key, {})
            if o.get("enabled", True) is False:
                continue
            beat[key] = (plugin, BeatEntry(key, job, float(o.get("every", entry.every)),
                                           dict(entry.params)))
        return cls(specs, beat)


def registry(app: Flask | None = None) -> JobRegistry:
    return (app or current_app).extensions["jobs"]


def submit(kind: str, params: Mapping[str, Any] | None = None, *, session: Session,
           owner_id: int | None = None, org_id: int | None = None,
           dedup_key: str | None = None) -> Job:
    """Create a pending job in ``session``; it is dispatched when that session commits
    (never before, so the worker always sees the committed row and what it refers to)."""
    reg = registry()
    if kind not in reg.specs:
        raise JobError(f"unknown job kind {kind}")
    plugin, _spec = reg.specs[kind]
    if dedup_key is not None:
        existing = session.scalar(select(Job).where(Job.dedup_key == dedup_key))
        if existing is not None:
            return existing  # a concurrent duplicate fails on the unique key instead
    job = Job(kind=kind, plugin=plugin, params=dict(params or {}), owner_id=owner_id,
              org_id=org_id, dedup_key=dedup_key, status=JobStatus.PENDING, counts={})
    session.add(job)
    session.flush()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    _dispatch_after_commit(session, app, job.id, kind)
    return job


def _dispatch_after_commit(session: Session, app: Flask, job_id: int, kind: str) -> None:
    pending: list[tuple[int, str]] = session.info.setdefault("unionhub_jobs_to_dispatch", [])
    pending.append((job_id, kind))
    if session.info.get("unionhub_jobs_listener"):
        return
    session.info["unionhub_jobs_listener"] = True

    def after_commit(sess: Session) -> None:
        for jid, kind in list(sess.info.pop("unionhub_jobs_to_dispatch", [])):
            dispatch(app, jid, kind)

    def after_rollback(sess: Session, _transaction: object) -> None:
        sess.info.pop("unionhub_jobs_to_dispatch", None)

    event.listen(session, "after_commit", after_commit)
    event.listen(session, "after_soft_rollback", after_rollback)


def dispatch(app: Flask, job_id: int, kind: str) -> None:
    """Hand a committed job to the transport (Celery, or the embedded runner)."""
    app.extensions["jobs_transport"].send(job_id, kind)


def claim(app: Flask, job_id: int) -> Job | None:
    """pending → running, once. Returns the claimed job or None (taken, done, cancelled)."""
    engine = app.extensions["db"].engine
    now = utcnow()
    with engine.begin() as conn:
        claimed = conn.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.PENDING)
            .values(status=JobStatus.RUNNING, started_at=now, heartbeat_at=now,
                    worker=WORKER_NAME, attempts=Job.attempts + 1)
        ).rowcount
    if not claimed:
        return None
    with app.extensions["db"].factory() as s:
        return s.get(Job, job_id)


def _finish(app: Flask, job_id: int, **values: Any) -> None:
    with app.extensions["db"].engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(finished_at=utcnow(), **values))


def run_job(app: Flask, job_id: int) -> str:
    """Run one job to completion in this process; returns its final status."""
    job = claim(app, job_id)
    if job is None:
        return "skipped"
    state = app.extensions["unionhub"].state
    reg = registry(app)
    entry = reg.specs.get(job.kind)
    if entry is None or (job.plugin != "core" and not state.enabled(job.plugin)):
        _finish(app, job_id, status=JobStatus.FAILED,
                error=f"插件 {job.plugin} 未启用或任务 {job.kind} 不存在，任务被拒绝")
        return JobStatus.FAILED
    _plugin, spec = entry
    ctx = JobContext(app=app, job_id=job.id, kind=job.kind, params=dict(job.params or {}),
                     owner_id=job.owner_id)
    try:
        with app.app_context():
            result = spec.run(ctx)
    except JobCancelled:
        _finish(app, job_id, status=JobStatus.CANCELLED, counts=ctx.counts)
        return JobStatus.CANCELLED
    except Exception as exc:
        log.exception("job %s (%s) failed", job_id, job.kind)
        _finish(app, job_id, status=JobStatus.FAILED, counts=ctx.counts,
                error=f"{exc.__class__.__name__}: {exc}"[:2000],
                message=traceback.format_exception_only(exc)[-1][:300])
        return JobStatus.FAILED
    values: dict[str, Any] = {"status": JobStatus.SUCCEEDED, "counts": ctx.counts,
                              "result": dict(result or {})}
    with app.extensions["db"].factory() as s:
        current = s.get(Job, job_id)
        if current is not None and current.total is not None:
            values["done"] = current.total
    _finish(app, job_id, **values)
    return JobStatus.SUCCEEDED


def cancel(session: Session, job: Job) -> bool:
    """Cancel a pending or running job; a running job stops at its next progress report."""
    n = session.execute(
        update(Job).where(Job.id == job.id,
                          Job.status.in_((JobStatus.PENDING, JobStatus.RUNNING)))
        .values(status=JobStatus.CANCELLED, finished_at=utcnow())
    ).rowcount  # type: ignore[attr-defined]
    return bool(n)


def recover(app: Flask, stale_after: timedelta = timedelta(minutes=10),
            pending_older_than: timedelta | None = None) -> list[int]:
    """After a restart or a crashed worker: running jobs whose heartbeat stopped go back to
    pending (or fail after their attempts); pending jobs (all, or those waiting longer than
    ``pending_older_than``) are dispatched again. Re-dispatching is safe: claims are
    exactly-once."""
    reg = registry(app)
    cutoff = utcnow() - stale_after
    with app.extensions["db"].factory() as s:
        stale = s.scalars(select(Job).where(
            Job.status == JobStatus.RUNNING,
            or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cutoff))).all()
        for job in stale:
            spec = reg.specs.get(job.kind)
            if spec is not None and job.attempts < spec[1].max_attempts:
                job.status = JobStatus.PENDING
            else:
                job.status = JobStatus.FAILED
                job.error = "任务中断且已达到最大重试次数"
                job.finished_at = utcnow()
        s.commit()
        waiting = select(Job.id, Job.kind).where(Job.status == JobStatus.PENDING)
        if pending_older_than is not None:
            waiting = waiting.where(Job.created_at < utcnow() - pending_older_than)
        pending = s.execute(waiting.order_by(Job.id)).all()
    for jid, kind in pending:
        dispatch(app, jid, kind)
    return [jid for jid, _kind in pending]


def recover_job(ctx: JobContext) -> dict[str, Any]:
    """The periodic safety net under Celery (the embedded runner recovers at start)."""
    ids = recover(ctx.app, pending_older_than=timedelta(minutes=10))
    return {"redispatched": len(ids)}


CORE_JOBS = [JobSpec("recover_jobs", "恢复中断的任务", recover_job, max_attempts=1)]
CORE_BEAT = [BeatEntry("recover_jobs", "recover_jobs", every=300)]
