"""Background jobs of the search service, for the core's ``unionhub_jobs`` and
``unionhub_beat`` hooks: apply the queue every few seconds; rebuild on demand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from unionhub.jobs.context import JobContext
from unionhub.jobs.types import BeatEntry, JobSpec


def run_queue(ctx: JobContext) -> Mapping[str, Any]:
    """Apply queued index updates. Another writer holding the lock is not an error: the
    entries stay queued for the next run."""
    from unionhub.search.queue import process_queue

    run = process_queue(ctx.app, batch=int(ctx.app.config.get("SEARCH_QUEUE_BATCH", 500)))
    return {"acquired": run.acquired, "processed": run.processed, "upserted": run.upserted,
            "deleted": run.deleted, "failed": run.failed}


def run_rebuild(ctx: JobContext) -> Mapping[str, Any]:
    """Rebuild the index (params: ``doc_types``, optional) with progress in the job row."""
    from unionhub.search.service import rebuild

    total = {"n": 0}
    done = {"n": 0}

    def on_total(n: int) -> None:
        total["n"] = n
        ctx.progress(0, n, force=True)

    def step(n: int) -> None:
        done["n"] += n
        ctx.progress(done["n"], total["n"] or None)

    doc_types = ctx.params.get("doc_types") or None
    written = rebuild(ctx.app, doc_types, progress=step, on_total=on_total)
    ctx.progress(written, total["n"] or written, force=True)
    return {"written": written}


SEARCH_JOBS = [
    JobSpec("search_queue", "应用搜索索引更新", run_queue, max_attempts=1),
    JobSpec("search_rebuild", "重建搜索索引", run_rebuild, permission="core.settings.manage",
            max_attempts=1),
]
#: The queue is applied every 10 s (override with BEAT_OVERRIDES["search_queue"]).
SEARCH_BEAT = [BeatEntry("search_queue", "search_queue", every=10)]
