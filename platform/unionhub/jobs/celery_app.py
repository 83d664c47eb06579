"""The one Celery app. Tasks run inside the Flask app context and refuse to run while
their plugin is disabled; jobs carry their plugin's name in their row."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task
from flask import Flask

log = logging.getLogger(__name__)
#: One task runs every job: a worker that has not loaded a plugin (disabled when it
#: started) still receives its jobs and records the refusal instead of dropping them.
RUN_JOB = "unionhub.run_job"


class PluginTask(Task):  # type: ignore[misc]
    """Base of every UnionHub task: runs in the Flask app context and refuses to run while
    its plugin is disabled."""

    abstract = True
    plugin: str = "core"
    flask_app: Flask

    def refused(self, *args: Any, **kwargs: Any) -> Any:
        """What a refused call returns (job tasks record the refusal on the job)."""
        return {"refused": f"plugin {self.plugin} disabled"}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        ext = self.flask_app.extensions["unionhub"]
        if self.plugin != "core" and not ext.state.enabled(self.plugin):
            log.warning("task %s refused: plugin %s is disabled", self.name, self.plugin)
            return self.refused(*args, **kwargs)
        with self.flask_app.app_context():
            return super().__call__(*args, **kwargs)


def make_celery(app: Flask) -> Celery:
    from unionhub.jobs.service import registry, run_job
    from unionhub.jobs.transport import submit_beat

    celery = Celery("unionhub", broker=app.config.get("BROKER_URL") or "memory://",
                    set_as_current=False)
    celery.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # A job is claimed with a conditional UPDATE, so redelivery after a crash is safe.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        timezone="Asia/Shanghai",
        task_default_queue="default",
        **(app.config.get("CELERY") or {}),
    )

    def bind(name: str, fn: Any) -> None:
        base = type(f"Task_{name}", (PluginTask,), {"plugin": "core", "flask_app": app})
        celery.task(name=name, base=base, shared=False)(fn)

    def run(job_id: int) -> str:
        # The job row carries its plugin; run_job refuses (and records) a disabled one.
        return run_job(app, job_id)

    def beat(key: str) -> int | None:
        return submit_beat(app, key)

    bind(RUN_JOB, run)
    bind("unionhub.beat", beat)
    celery.conf.beat_schedule = {
        key: {"task": "unionhub.beat", "schedule": entry.every, "args": [key]}
        for key, (_plugin, entry) in registry(app).beat.items()
    }
    return celery
