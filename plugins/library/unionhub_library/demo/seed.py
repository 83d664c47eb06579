"""``unionhub demo`` for the library: a catalogue of a few hundred books in every 中图法 class
(:mod:`.books`), a year of reading by the demo's members (:mod:`.history`), and the covers'
thumbnails made before the command ends.

The thumbnails are background jobs queued by ingest. ``unionhub demo`` runs no job runner
(``unionhub serve`` starts one, and would make them a few seconds after it starts); so the
demo commits and runs its own thumbnail jobs here, through the job service, so that the
first page shown already has them. Jobs run exactly once (a claim is a conditional update),
so nothing is made twice.
"""

from __future__ import annotations

import random
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from unionhub.db import utcnow

from ..models import LibraryBook
from .books import add_books
from .history import seed_history
from .writer import plan_books

#: Books in the demo catalogue.
BOOKS = 300


def seed(session: Session, ctx: Any, *, books: int = BOOKS) -> None:
    """Seed the catalogue and its reading history (skipped when the library has books)."""
    if session.scalar(select(LibraryBook.id).limit(1)) is not None:
        ctx.lines.append("数字图书馆：已有图书，未导入演示图书")
        return
    rng = random.Random(ctx.rng.getrandbits(64))
    now = utcnow()
    added = add_books(session, ctx, rng, plan_books(rng, books), now)
    counts = seed_history(session, ctx, rng, added, now)
    session.commit()
    made = run_thumbnail_jobs(session)
    lent = sum(1 for b in added if b.licence == "lent")
    ctx.lines.append(
        f"数字图书馆：{len(added)} 种图书（其中借阅 {lent} 种），{made} 张封面缩略图，"
        f"{counts.readers} 位读者的 {counts.reads} 条阅读记录，在借 {counts.loans_active} 册、"
        f"预约 {counts.holds} 人；访问 /library/")


def run_thumbnail_jobs(session: Session) -> int:
    """Run the pending thumbnail jobs now, in this process; returns how many succeeded."""
    from unionhub.jobs import service as jobs
    from unionhub.jobs.models import Job, JobStatus

    from ..catalogue.covers import THUMB_JOB

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    ids = list(session.scalars(select(Job.id).where(
        Job.kind == THUMB_JOB, Job.status == JobStatus.PENDING).order_by(Job.id)))
    session.commit()  # nothing held open while the jobs write
    return sum(1 for job_id in ids if jobs.run_job(app, job_id) == JobStatus.SUCCEEDED)
