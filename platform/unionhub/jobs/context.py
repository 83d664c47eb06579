"""What a running job sees: its parameters and a way to report progress."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import update

from unionhub.db import utcnow
from unionhub.jobs.models import Job


class JobCancelled(Exception):
    """Raised inside a job when someone cancelled it; the job stops cleanly."""


@dataclass
class JobContext:
    app: Flask
    job_id: int
    kind: str
    params: dict[str, Any]
    owner_id: int | None
    min_interval: float = 0.5
    _last: float = field(default=0.0, repr=False)
    counts: dict[str, Any] = field(default_factory=dict)

    def progress(self, done: int, total: int | None = None, message: str | None = None,
                 *, force: bool = False) -> None:
        """Record progress in its own short transaction (at most every ``min_interval`` s),
        so the UI and the CLI see it while the job's own transaction is still open."""
        now = time.monotonic()
        if not force and now - self._last < self.min_interval:
            return
        self._last = now
        values: dict[str, Any] = {"done": done, "heartbeat_at": utcnow(),
                                  "counts": dict(self.counts)}
        if total is not None:
            values["total"] = total
        if message is not None:
            values["message"] = message[:300]
        with self.app.extensions["db"].engine.begin() as conn:
            status = conn.execute(
                update(Job).where(Job.id == self.job_id).values(**values)
                .returning(Job.status)
            ).scalar()
        if status == "cancelled":
            raise JobCancelled(self.job_id)
