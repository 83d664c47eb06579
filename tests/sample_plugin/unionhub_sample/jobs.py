from __future__ import annotations

import time
from typing import Any

from unionhub.jobs.context import JobContext


def count(ctx: JobContext) -> dict[str, Any]:
    """Counts to ``n``, reporting progress; ``sleep`` slows it, ``fail`` makes it fail."""
    n = int(ctx.params.get("n", 5))
    for i in range(n):
        time.sleep(float(ctx.params.get("sleep", 0)))
        ctx.counts["counted"] = i + 1
        ctx.progress(i + 1, n, message=f"{i + 1}/{n}", force=True)
    if ctx.params.get("fail"):
        raise RuntimeError("asked to fail")
    return {"counted": n}
