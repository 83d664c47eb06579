"""What plugins contribute to the job service (light: imported at start-up)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unionhub.jobs.context import JobContext


@dataclass(frozen=True)
class JobSpec:
    """A kind of background job. ``run(ctx)`` does the work inside the app context and
    returns a JSON-able result (or None). It must be safe to run again after a crash: the
    service never runs one job twice at the same time, but a job interrupted by a crash is
    retried up to ``max_attempts`` times."""

    key: str
    label: str
    run: Callable[[JobContext], Mapping[str, Any] | None]
    permission: str | None = None
    queue: str = "default"
    max_attempts: int = 3


@dataclass(frozen=True)
class BeatEntry:
    """Submit job ``job`` every ``every`` seconds. Overridable per deployment with config
    ``BEAT_OVERRIDES = {"<plugin>.<key>": {"every": 600}}`` or ``{"enabled": false}``."""

    key: str
    job: str
    every: float
    params: Mapping[str, Any] = field(default_factory=dict)
