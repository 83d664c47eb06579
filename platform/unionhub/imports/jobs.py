"""The core's import jobs: stage (validate + preview) and apply."""

from __future__ import annotations

from typing import Any

from unionhub.imports import engine
from unionhub.jobs.context import JobContext
from unionhub.jobs.types import JobSpec


def stage_job(ctx: JobContext) -> dict[str, Any]:
    return engine.stage(ctx.app, int(ctx.params["batch_id"]), ctx.progress)


def apply_job(ctx: JobContext) -> dict[str, Any]:
    return dict(engine.apply(ctx.app, int(ctx.params["batch_id"]), ctx.progress))


JOBS = [
    # A crash mid-way leaves the batch in its previous state; staging restarts from the top.
    JobSpec("import_stage", "校验导入文件", stage_job, max_attempts=1),
    JobSpec("import_apply", "导入数据", apply_job, max_attempts=1),
]
