"""The dispatcher as a background job, and the beat that restarts it every minute.

A run works for at most ``dispatch_seconds`` and then submits its successor while work
remains, so no job holds a worker for long and a cancelled or crashed run loses nothing
(the state is in the outbox). At most ``dispatch_concurrency`` runs work at once: a run
started while that many are busy returns at once; a run that finds a large backlog and a
free slot starts one more. When every channel is throttled the chain stops, and the beat
(every 60 s) resumes it in the next quota window.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unionhub.jobs.context import JobContext
from unionhub.jobs.types import BeatEntry, JobSpec
from unionhub.notify.service import DISPATCH_JOB

DISPATCH_KEY = DISPATCH_JOB.split(".", 1)[1]


def _running(ctx: JobContext) -> int:
    from unionhub.jobs.models import Job, JobStatus
    from unionhub.notify import clock

    fresh = clock.now() - timedelta(minutes=5)
    with Session(ctx.app.extensions["db"].engine) as s:
        return int(s.scalar(select(func.count()).select_from(Job).where(
            Job.kind == DISPATCH_JOB, Job.status == JobStatus.RUNNING,
            Job.heartbeat_at >= fresh)) or 0)


def _submit(ctx: JobContext, dedup: str) -> None:
    from unionhub.jobs import service as jobs

    s = ctx.app.extensions["db"].factory()
    try:
        jobs.submit(DISPATCH_JOB, dict(ctx.params), session=s, dedup_key=dedup)
        s.commit()
    except IntegrityError:
        s.rollback()  # someone submitted it first
    finally:
        s.close()


def run_dispatch(ctx: JobContext) -> dict[str, Any]:
    from unionhub.notify.dispatch import dispatch, due_work
    from unionhub.notify.settings import read

    concurrency = max(1, int(read("dispatch_concurrency") or 1))
    batch = int(read("dispatch_batch_size") or 100)
    running = _running(ctx)
    if running > concurrency:
        return {"skipped": f"{running - 1} dispatchers already running"}
    backlog = due_work(ctx.app)
    if not backlog:
        return {"sent": 0}
    if running < concurrency and backlog > 2 * batch:
        _submit(ctx, f"notify:fan:{ctx.job_id}")

    def progress(counts: Counter[str]) -> None:
        ctx.counts = dict(counts)
        ctx.progress(counts.get("sent", 0), None, f"已发送 {counts.get('sent', 0)} 条")

    seconds = ctx.params.get("seconds")
    counts, more = dispatch(ctx.app, seconds=float(seconds) if seconds else None,
                            on_progress=progress)
    ctx.counts = dict(counts)
    ctx.progress(counts.get("sent", 0), None, force=True)
    if more and due_work(ctx.app):
        _submit(ctx, f"notify:next:{ctx.job_id}")
    return dict(counts)


NOTIFY_JOBS = [JobSpec(DISPATCH_KEY, "发送通知", run_dispatch, max_attempts=5)]
NOTIFY_BEAT = [BeatEntry(DISPATCH_KEY, DISPATCH_KEY, every=60)]
