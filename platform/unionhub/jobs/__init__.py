"""Background jobs: ``JobSpec``/``BeatEntry`` for plugins, ``submit`` to start one.

See :mod:`unionhub.jobs.service` for the guarantees and :mod:`unionhub.jobs.transport` for
how jobs reach a worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from unionhub.jobs.types import BeatEntry, JobSpec

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["BeatEntry", "JobSpec", "init_app", "submit"]


def submit(*args: Any, **kwargs: Any) -> Any:
    from unionhub.jobs.service import submit as _submit

    return _submit(*args, **kwargs)


def init_app(app: Flask) -> None:
    """Build the job registry, the transport and (always) the Celery app, so a worker
    process and a web process agree on task names."""
    from unionhub.jobs.celery_app import make_celery
    from unionhub.jobs.service import JobRegistry
    from unionhub.jobs.transport import make_transport

    app.extensions["jobs"] = JobRegistry.build(app)
    app.extensions["celery"] = make_celery(app)
    app.extensions["jobs_transport"] = make_transport(app)
