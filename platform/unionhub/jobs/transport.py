"""How a committed job reaches a worker.

* :class:`CeleryTransport` (``BROKER_URL`` set): the job id goes to Celery; separate
  ``celery worker`` processes run it and one ``celery beat`` submits periodic jobs.
* :class:`EmbeddedTransport` (the default): no server to install. A runner thread in the
  web process runs pending jobs off the request, polls the table for jobs submitted by
  other processes (the CLI) and fires beat entries. Pending rows survive a restart and are
  picked up again by :func:`unionhub.jobs.service.recover`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any, Protocol

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from unionhub.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)


class Transport(Protocol):
    def send(self, job_id: int, kind: str) -> None: ...


class CeleryTransport:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def send(self, job_id: int, kind: str) -> None:
        from unionhub.jobs.celery_app import RUN_JOB
        from unionhub.jobs.service import registry

        _plugin, spec = registry(self.app).specs[kind]
        self.app.extensions["celery"].send_task(RUN_JOB, args=[job_id], queue=spec.queue)


def submit_beat(app: Flask, key: str, now: float | None = None) -> int | None:
    """Submit the job of beat entry ``key`` for the current time slot, once across every
    process (the slot is the job's dedup key)."""
    from unionhub.jobs.service import registry, submit

    _plugin, entry = registry(app).beat[key]
    slot = int((now or time.time()) // entry.every)
    with app.app_context():
        s = app.extensions["db"].factory()
        try:
            job = submit(entry.job, entry.params, session=s, dedup_key=f"beat:{key}:{slot}")
            s.commit()
            return job.id
        except IntegrityError:
            s.rollback()  # another process submitted this slot first
            return None
        finally:
            s.close()


class EmbeddedTransport:
    """Runs jobs in a daemon thread of this process (one at a time, in order)."""

    POLL_SECONDS = 2.0

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.queue: queue.Queue[int] = queue.Queue()
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()
        self.last_beat: dict[str, float] = {}

    def send(self, job_id: int, kind: str) -> None:
        self.queue.put(job_id)

    def start(self) -> None:
        if self.thread is not None:
            return
        self.thread = threading.Thread(target=self._loop, name="unionhub-jobs", daemon=True)
        self.thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        self.queue.put(0)
        if self.thread is not None:
            self.thread.join(timeout)
            self.thread = None

    def _loop(self) -> None:
        from unionhub.jobs.service import recover, run_job

        recover(self.app)
        while not self.stopping.is_set():
            try:
                job_id = self.queue.get(timeout=self.POLL_SECONDS)
            except queue.Empty:
                job_id = None
            try:
                if job_id:
                    run_job(self.app, job_id)
                else:
                    self._poll()
                self._beat()
            except Exception:  # the runner must survive any one job
                log.exception("embedded job runner")

    def _poll(self) -> None:
        from unionhub.jobs.service import run_job

        with self.app.extensions["db"].factory() as s:
            ids = list(s.scalars(select(Job.id).where(Job.status == JobStatus.PENDING)
                                 .order_by(Job.id).limit(20)))
        for jid in ids:
            if self.stopping.is_set():
                return
            run_job(self.app, jid)

    def _beat(self) -> None:
        from unionhub.jobs.service import registry

        now = time.time()
        for key, (_plugin, entry) in registry(self.app).beat.items():
            if now - self.last_beat.get(key, 0.0) >= entry.every:
                self.last_beat[key] = now
                submit_beat(self.app, key, now)

    def drain(self, timeout: float = 30.0) -> None:
        """Run everything queued now, in the calling thread (CLI and tests)."""
        from unionhub.jobs.service import run_job

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                job_id = self.queue.get_nowait()
            except queue.Empty:
                return
            if job_id:
                run_job(self.app, job_id)


def make_transport(app: Flask) -> Any:
    return CeleryTransport(app) if app.config.get("BROKER_URL") else EmbeddedTransport(app)
